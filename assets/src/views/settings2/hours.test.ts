// Business hours: mapping, normalisation and the checks the server makes.
import { describe, expect, it } from 'vitest'
import {
  clockToMinutes,
  copyDay,
  defaultHoursForm,
  formToHours,
  formatUtcOffset,
  hoursToForm,
  isIsoDate,
  minutesToClock,
  nextRange,
  parseDateList,
  timeChoices,
  utcOffsetChoices,
  validateHours,
  type HoursForm,
} from './hours'

const week = (day: Array<[number, number]>): Array<Array<[number, number]>> => [day, day, day, day, day, [], []]

describe('hours ⇄ form', () => {
  it('reads the contract example and writes it back unchanged', () => {
    const hours = {
      utc_offset_minutes: 480,
      weekly: week([[540, 1080]]),
      holidays: ['2026-10-01'],
      workdays: ['2026-10-11'],
    }
    const form = hoursToForm(hours)
    expect(form.alwaysOpen).toBe(false)
    expect(form.weekly[0]).toEqual([{ start: 540, end: 1080 }])
    expect(form.weekly[6]).toEqual([])
    expect(formToHours(form)).toEqual(hours)
  })

  it('treats missing hours as always open, and always open as null', () => {
    expect(hoursToForm(null).alwaysOpen).toBe(true)
    expect(hoursToForm(undefined).alwaysOpen).toBe(true)
    expect(formToHours(defaultHoursForm(true))).toBeNull()
  })

  it('fills short or broken stored weeks with closed days', () => {
    const form = hoursToForm({
      utc_offset_minutes: 60,
      weekly: [[[0, 60]], [[1, 2, 3]]] as unknown as Array<Array<[number, number]>>,
      holidays: ['2026-01-01', 5] as unknown as string[],
      workdays: [],
    })
    expect(form.weekly).toHaveLength(7)
    expect(form.weekly[1]).toEqual([])
    expect(form.holidays).toEqual(['2026-01-01'])
  })

  it('normalises: ranges sorted per day, dates sorted without repeats', () => {
    const form: HoursForm = {
      ...defaultHoursForm(false),
      weekly: [[{ start: 780, end: 1080 }, { start: 540, end: 720 }], [], [], [], [], [], []],
      holidays: ['2026-10-02', '2026-10-01', '2026-10-02', ' '],
    }
    const hours = formToHours(form)
    expect(hours?.weekly[0]).toEqual([
      [540, 720],
      [780, 1080],
    ])
    expect(hours?.holidays).toEqual(['2026-10-01', '2026-10-02'])
  })
})

describe('clock text and choices', () => {
  it('converts minutes and clock text both ways, 24:00 included', () => {
    expect(minutesToClock(0)).toBe('00:00')
    expect(minutesToClock(545)).toBe('09:05')
    expect(minutesToClock(1440)).toBe('24:00')
    expect(clockToMinutes('9:30')).toBe(570)
    expect(clockToMinutes('24:00')).toBe(1440)
    expect(clockToMinutes('24:01')).toBeNull()
    expect(clockToMinutes('12:60')).toBeNull()
    expect(clockToMinutes('noon')).toBeNull()
  })

  it('offers every step and keeps off-grid stored values', () => {
    const choices = timeChoices(30, [545])
    expect(choices[0]).toBe(0)
    expect(choices.at(-1)).toBe(1440)
    expect(choices).toContain(545)
    expect(choices).toHaveLength(49 + 1)
  })

  it('writes UTC offsets and offers the quarter hours', () => {
    expect(formatUtcOffset(480)).toBe('UTC+08:00')
    expect(formatUtcOffset(-210)).toBe('UTC-03:30')
    expect(formatUtcOffset(0)).toBe('UTC+00:00')
    const choices = utcOffsetChoices()
    expect(choices[0]).toBe(-720)
    expect(choices.at(-1)).toBe(840)
    expect(choices).toContain(345)
    expect(utcOffsetChoices(333)).toContain(333)
  })
})

describe('editing helpers', () => {
  it('adds a range after the last one, or office hours on an empty day', () => {
    expect(nextRange([])).toEqual({ start: 540, end: 1080 })
    expect(nextRange([{ start: 540, end: 720 }])).toEqual({ start: 720, end: 780 })
    expect(nextRange([{ start: 1200, end: 1420 }])).toEqual({ start: 1420, end: 1440 })
  })

  it('copies one day onto others without sharing rows', () => {
    const form = defaultHoursForm(false)
    const copied = copyDay(form.weekly, 0, [5, 6])
    expect(copied[5]).toEqual([{ start: 540, end: 1080 }])
    expect(copied[6]).toEqual([{ start: 540, end: 1080 }])
    expect(copied[5]?.[0]).not.toBe(form.weekly[0]?.[0])
    expect(form.weekly[5]).toEqual([])
  })
})

describe('dates', () => {
  it('accepts real YYYY-MM-DD dates only', () => {
    expect(isIsoDate('2026-10-01')).toBe(true)
    expect(isIsoDate('2028-02-29')).toBe(true)
    expect(isIsoDate('2026-02-29')).toBe(false)
    expect(isIsoDate('2026-13-01')).toBe(false)
    expect(isIsoDate('2026-1-01')).toBe(false)
    expect(isIsoDate('2026-10-01T00:00')).toBe(false)
  })

  it('reads a pasted list in the usual separators and writings', () => {
    expect(parseDateList('2026-10-03, 2026/10/1；2026.10.2、 x 2026-02-30\n2026-10-01')).toEqual({
      dates: ['2026-10-01', '2026-10-02', '2026-10-03'],
      invalid: ['x', '2026-02-30'],
    })
    expect(parseDateList('  ')).toEqual({ dates: [], invalid: [] })
  })
})

describe('validateHours', () => {
  const form = (over: Partial<HoursForm>): HoursForm => ({ ...defaultHoursForm(false), ...over })
  const day0 = (...ranges: Array<[number, number]>): HoursForm['weekly'] => [
    ranges.map(([start, end]) => ({ start, end })),
    [],
    [],
    [],
    [],
    [],
    [],
  ]

  it('accepts the defaults, touching ranges and a full day', () => {
    expect(validateHours(defaultHoursForm(false))).toEqual([])
    expect(validateHours(form({ weekly: day0([0, 720], [720, 1440]) }))).toEqual([])
    expect(validateHours(form({ alwaysOpen: true, weekly: day0([5, 1]) }))).toEqual([])
  })

  it('refuses times outside 0..1440 and start not before end', () => {
    expect(validateHours(form({ weekly: day0([-1, 60]) }))).toEqual([
      { code: 'range', field: 'weekly', day: 0, index: 0 },
    ])
    expect(validateHours(form({ weekly: day0([0, 1441]) }))[0]?.code).toBe('range')
    expect(validateHours(form({ weekly: day0([0.5, 60]) }))[0]?.code).toBe('range')
    expect(validateHours(form({ weekly: day0([600, 600]) }))).toEqual([
      { code: 'order', field: 'weekly', day: 0, index: 0 },
    ])
    expect(validateHours(form({ weekly: day0([700, 600]) }))[0]?.code).toBe('order')
  })

  it('finds overlaps whatever the order of the rows', () => {
    expect(validateHours(form({ weekly: day0([780, 1080], [540, 800]) }))).toEqual([
      { code: 'overlap', field: 'weekly', day: 0, index: 0 },
    ])
    expect(validateHours(form({ weekly: day0([540, 1080], [600, 700]) }))).toEqual([
      { code: 'overlap', field: 'weekly', day: 0, index: 1 },
    ])
  })

  it('checks the offset, the dates, and a date both closed and open', () => {
    expect(validateHours(form({ utcOffsetMinutes: 900 }))).toEqual([{ code: 'offset', field: 'utc_offset' }])
    expect(validateHours(form({ holidays: ['2026-10-32'], workdays: ['10/11'] }))).toEqual([
      { code: 'date', field: 'holidays', date: '2026-10-32' },
      { code: 'date', field: 'workdays', date: '10/11' },
    ])
    expect(validateHours(form({ holidays: ['2026-10-03'], workdays: ['2026-10-03'] }))).toEqual([
      { code: 'both', field: 'workdays', date: '2026-10-03' },
    ])
  })

  it('takes 调休 workdays on Saturdays and Sundays only, like the server', () => {
    // 2026-10-10 is a Saturday, 2026-10-11 a Sunday, 2026-10-12 a Monday.
    expect(validateHours(form({ workdays: ['2026-10-10', '2026-10-11'] }))).toEqual([])
    expect(validateHours(form({ workdays: ['2026-10-12'] }))).toEqual([
      { code: 'weekend', field: 'workdays', date: '2026-10-12' },
    ])
  })

  it('keeps at most 1000 dates per list', () => {
    const days = Array.from({ length: 1001 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10))
    expect(validateHours(form({ holidays: days }))).toEqual([{ code: 'too_many', field: 'holidays' }])
  })

  it('needs seven days', () => {
    expect(validateHours(form({ weekly: [[]] }))).toEqual([{ code: 'days', field: 'weekly' }])
  })
})
