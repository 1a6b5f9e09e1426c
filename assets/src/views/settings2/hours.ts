/**
 * Business hours of an inbox: the form the weekly editor works on, its mapping to and from
 * `settings.hours`, and the checks the server makes (mirrored so the administrator sees the
 * problem next to the field before saving).
 *
 * Times are minutes after local midnight; a range is `[start, end)` with `0 ≤ start < end ≤ 1440`
 * (so `24:00` closes at midnight). Days are Monday first. Ranges of a day may touch but not
 * overlap. Holidays close a whole day; 调休 workdays open a weekend day with the hours of a
 * normal working day. Dates are `YYYY-MM-DD` in the inbox's own time zone.
 */
import type { BusinessHours, TimeRange } from '../../api/settings2-types'

export const MINUTES_PER_DAY = 1440
export const DAYS_PER_WEEK = 7
/** UTC−12:00 … UTC+14:00, the offsets in use anywhere. */
export const MIN_UTC_OFFSET = -720
export const MAX_UTC_OFFSET = 840
/** China Standard Time, the default of a new schedule. */
export const DEFAULT_UTC_OFFSET = 480

/** One editable range; minutes after midnight. */
export interface RangeRow {
  start: number
  end: number
}

/** What the hours tab edits. */
export interface HoursForm {
  /** No schedule at all (`hours: null`): the inbox is always open. */
  alwaysOpen: boolean
  utcOffsetMinutes: number
  /** Seven days, Monday first. */
  weekly: RangeRow[][]
  holidays: string[]
  workdays: string[]
}

/** Monday to Friday 09:00–18:00, weekend closed, China time. */
export function defaultHoursForm(alwaysOpen = true): HoursForm {
  const workday = (): RangeRow[] => [{ start: 540, end: 1080 }]
  return {
    alwaysOpen,
    utcOffsetMinutes: DEFAULT_UTC_OFFSET,
    weekly: [workday(), workday(), workday(), workday(), workday(), [], []],
    holidays: [],
    workdays: [],
  }
}

function isRange(value: unknown): value is TimeRange {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number'
  )
}

function dateStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((d): d is string => typeof d === 'string') : []
}

/** The form for stored hours; `null`/absent hours mean "always open" (with a default schedule ready). */
export function hoursToForm(hours: BusinessHours | null | undefined): HoursForm {
  if (hours === null || hours === undefined || typeof hours !== 'object') return defaultHoursForm(true)
  const weekly: RangeRow[][] = []
  for (let day = 0; day < DAYS_PER_WEEK; day += 1) {
    const ranges = Array.isArray(hours.weekly) ? hours.weekly[day] : undefined
    weekly.push(
      Array.isArray(ranges) ? ranges.filter(isRange).map(([start, end]) => ({ start, end })) : [],
    )
  }
  return {
    alwaysOpen: false,
    utcOffsetMinutes:
      typeof hours.utc_offset_minutes === 'number' ? hours.utc_offset_minutes : DEFAULT_UTC_OFFSET,
    weekly,
    holidays: dateStrings(hours.holidays),
    workdays: dateStrings(hours.workdays),
  }
}

/**
 * `settings.hours` for the form, normalised: each day's ranges sorted by start, dates sorted and
 * without repeats. `null` when the inbox is always open.
 */
export function formToHours(form: HoursForm): BusinessHours | null {
  if (form.alwaysOpen) return null
  return {
    utc_offset_minutes: form.utcOffsetMinutes,
    weekly: form.weekly.map((day) =>
      [...day]
        .sort((a, b) => a.start - b.start || a.end - b.end)
        .map((r): TimeRange => [r.start, r.end]),
    ),
    holidays: normaliseDates(form.holidays),
    workdays: normaliseDates(form.workdays),
  }
}

/** Sorted, trimmed, without repeats or empties. */
export function normaliseDates(dates: readonly string[]): string[] {
  return [...new Set(dates.map((d) => d.trim()).filter((d) => d.length > 0))].sort()
}

// --- clock text --------------------------------------------------------------------------------

/** `540` → `09:00`; `1440` → `24:00`. */
export function minutesToClock(minutes: number): string {
  const m = Math.max(0, Math.min(MINUTES_PER_DAY, Math.round(minutes)))
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** `09:00` → `540`, `24:00` → `1440`; `null` for anything else. */
export function clockToMinutes(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim())
  if (match === null) return null
  const hours = Number(match[1])
  const minutes = Number(match[2])
  if (minutes > 59) return null
  const total = hours * 60 + minutes
  return total <= MINUTES_PER_DAY ? total : null
}

/**
 * The choices of a start or end select: every `step` minutes from `00:00` to `24:00`, plus the
 * values already stored that fall between steps (so loading never changes a time).
 */
export function timeChoices(step: number, keep: readonly number[] = []): number[] {
  const set = new Set<number>()
  for (let m = 0; m <= MINUTES_PER_DAY; m += step) set.add(m)
  for (const m of keep) if (Number.isInteger(m) && m >= 0 && m <= MINUTES_PER_DAY) set.add(m)
  return [...set].sort((a, b) => a - b)
}

/** `480` → `UTC+08:00`, `-210` → `UTC-03:30`, `0` → `UTC+00:00`. */
export function formatUtcOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** Every offset in quarter hours from UTC−12:00 to UTC+14:00 (plus `keep` when off-grid). */
export function utcOffsetChoices(keep?: number): number[] {
  const out: number[] = []
  for (let m = MIN_UTC_OFFSET; m <= MAX_UTC_OFFSET; m += 15) out.push(m)
  if (keep !== undefined && !out.includes(keep)) out.push(keep)
  return out.sort((a, b) => a - b)
}

// --- editing helpers ---------------------------------------------------------------------------

/**
 * A range to add to a day: right after its last range (one hour, when the day has room), else
 * 09:00–18:00 on an empty day.
 */
export function nextRange(day: readonly RangeRow[]): RangeRow {
  const last = day.reduce<number>((end, r) => Math.max(end, r.end), 0)
  if (day.length === 0) return { start: 540, end: 1080 }
  if (last >= MINUTES_PER_DAY) return { start: 0, end: 60 }
  return { start: last, end: Math.min(MINUTES_PER_DAY, last + 60) }
}

/** The week with `from`'s ranges copied onto each day in `to` (a copy; the form is not changed). */
export function copyDay(weekly: readonly RangeRow[][], from: number, to: readonly number[]): RangeRow[][] {
  const source = weekly[from] ?? []
  return weekly.map((day, index) =>
    to.includes(index) && index !== from ? source.map((r) => ({ ...r })) : day.map((r) => ({ ...r })),
  )
}

// --- validation --------------------------------------------------------------------------------

/** What is wrong; the hours tab shows each next to its field. */
export type HoursProblemCode =
  /** A time outside 00:00–24:00 or not a whole minute. */
  | 'range'
  /** Start not before end. */
  | 'order'
  /** Two ranges of one day overlap. */
  | 'overlap'
  /** Not a real `YYYY-MM-DD` date. */
  | 'date'
  /** The same date both a holiday and a 调休 workday. */
  | 'both'
  /** A 调休 workday that is not a Saturday or Sunday. */
  | 'weekend'
  /** More dates than the server keeps in one list. */
  | 'too_many'
  /** UTC offset outside −12:00…+14:00 or not whole minutes. */
  | 'offset'
  /** Not seven days. */
  | 'days'

export interface HoursProblem {
  code: HoursProblemCode
  field: 'utc_offset' | 'weekly' | 'holidays' | 'workdays'
  /** Day index (Monday = 0) for `weekly`. */
  day?: number
  /** Range index within the day, or the offending date. */
  index?: number
  date?: string
}

/** Most dates in `holidays` or in `workdays` (server). */
export const MAX_DATES = 1000

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(text: string): boolean {
  const match = DATE.exec(text)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (month < 1 || month > 12 || day < 1) return false
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return day <= days
}

/** True for a valid `YYYY-MM-DD` date that falls on a Saturday or Sunday. */
export function isWeekend(text: string): boolean {
  if (!isIsoDate(text)) return false
  const [year, month, day] = text.split('-').map(Number)
  const weekday = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1)).getUTCDay()
  return weekday === 0 || weekday === 6
}

/**
 * Dates typed or pasted as one text (commas, spaces, semicolons, 、 or new lines between them):
 * the valid ones normalised and sorted, and the pieces that are not dates. `2026/10/1` is read
 * as `2026-10-01`.
 */
export function parseDateList(text: string): { dates: string[]; invalid: string[] } {
  const dates: string[] = []
  const invalid: string[] = []
  for (const piece of text.split(/[\s,;，；、]+/)) {
    if (piece.length === 0) continue
    const match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(piece)
    const iso =
      match === null
        ? piece
        : `${match[1]}-${(match[2] ?? '').padStart(2, '0')}-${(match[3] ?? '').padStart(2, '0')}`
    if (isIsoDate(iso)) dates.push(iso)
    else invalid.push(piece)
  }
  return { dates: normaliseDates(dates), invalid }
}

/** Every problem of the hours form (none when always open). */
export function validateHours(form: HoursForm): HoursProblem[] {
  if (form.alwaysOpen) return []
  const problems: HoursProblem[] = []
  const offset = form.utcOffsetMinutes
  if (!Number.isInteger(offset) || offset < MIN_UTC_OFFSET || offset > MAX_UTC_OFFSET) {
    problems.push({ code: 'offset', field: 'utc_offset' })
  }
  if (form.weekly.length !== DAYS_PER_WEEK) problems.push({ code: 'days', field: 'weekly' })
  form.weekly.forEach((ranges, day) => {
    ranges.forEach((r, index) => {
      const whole = Number.isInteger(r.start) && Number.isInteger(r.end)
      if (!whole || r.start < 0 || r.end > MINUTES_PER_DAY || r.start > MINUTES_PER_DAY || r.end < 0) {
        problems.push({ code: 'range', field: 'weekly', day, index })
      } else if (r.start >= r.end) {
        problems.push({ code: 'order', field: 'weekly', day, index })
      }
    })
    const ordered = ranges
      .map((r, index) => ({ ...r, index }))
      .filter((r) => r.start < r.end)
      .sort((a, b) => a.start - b.start)
    for (let i = 1; i < ordered.length; i += 1) {
      const previous = ordered[i - 1]
      const current = ordered[i]
      if (previous !== undefined && current !== undefined && current.start < previous.end) {
        problems.push({ code: 'overlap', field: 'weekly', day, index: current.index })
      }
    }
  })
  for (const field of ['holidays', 'workdays'] as const) {
    if (normaliseDates(form[field]).length > MAX_DATES) problems.push({ code: 'too_many', field })
    for (const date of form[field]) {
      if (!isIsoDate(date)) problems.push({ code: 'date', field, date })
    }
  }
  const holidays = new Set(form.holidays)
  for (const date of form.workdays) {
    if (!isIsoDate(date)) continue
    if (!isWeekend(date)) problems.push({ code: 'weekend', field: 'workdays', date })
    if (holidays.has(date)) problems.push({ code: 'both', field: 'workdays', date })
  }
  return problems
}

/** The problems of one day, for the weekly editor's row. */
export function dayProblems(problems: readonly HoursProblem[], day: number): HoursProblem[] {
  return problems.filter((p) => p.field === 'weekly' && p.day === day)
}
