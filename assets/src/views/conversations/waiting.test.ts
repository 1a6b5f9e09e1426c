// Waiting times: two largest units, live from a clock value.
import { describe, expect, it } from 'vitest'
import { durationParts, formatDuration, waitingLevel, waitingMs, type DurationUnits } from './waiting'

const EN: DurationUnits = {
  days: (n) => `${n}d`,
  hours: (n) => `${n}h`,
  minutes: (n) => `${n}m`,
  seconds: (n) => `${n}s`,
}
const ZH: DurationUnits = {
  days: (n) => `${n}天`,
  hours: (n) => `${n}小时`,
  minutes: (n) => `${n}分`,
  seconds: (n) => `${n}秒`,
}

describe('waiting time', () => {
  it('splits into units', () => {
    expect(durationParts(90_061_000)).toEqual({ days: 1, hours: 1, minutes: 1, seconds: 1 })
    expect(durationParts(-5)).toEqual({ days: 0, hours: 0, minutes: 0, seconds: 0 })
  })

  it('shows the two largest units', () => {
    expect(formatDuration(0, EN)).toBe('0s')
    expect(formatDuration(999, EN)).toBe('0s')
    expect(formatDuration(45_000, EN)).toBe('45s')
    expect(formatDuration(200_000, EN)).toBe('3m 20s')
    expect(formatDuration(120_000, EN)).toBe('2m')
    expect(formatDuration(3_900_000, EN)).toBe('1h 5m')
    expect(formatDuration(3_600_000 + 30_000, EN)).toBe('1h')
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59_000, EN)).toBe('2d 4h')
    expect(formatDuration(3_900_000, ZH)).toBe('1小时 5分')
  })

  it('counts from waiting_since to now', () => {
    expect(waitingMs(null, 10)).toBeNull()
    expect(waitingMs(1_000, 61_000)).toBe(60_000)
    expect(waitingMs(5_000, 1_000)).toBe(0)
    expect(waitingLevel(null)).toBe('none')
    expect(waitingLevel(60_000)).toBe('normal')
    expect(waitingLevel(5 * 60_000)).toBe('warning')
    expect(waitingLevel(20 * 60_000)).toBe('danger')
  })
})
