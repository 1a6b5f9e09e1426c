/**
 * Waits and thresholds are seconds on the wire; administrators think in seconds, minutes, hours
 * or days. A stored value is shown in the largest unit it is a whole number of (300 s → 5 min),
 * and the value typed in a unit becomes whole seconds again.
 */

export const DURATION_UNITS = ['seconds', 'minutes', 'hours', 'days'] as const
export type DurationUnit = (typeof DURATION_UNITS)[number]

export const UNIT_SECONDS: Record<DurationUnit, number> = {
  seconds: 1,
  minutes: 60,
  hours: 3600,
  days: 86_400,
}

export interface SplitDuration {
  value: number
  unit: DurationUnit
}

/**
 * `secs` as a whole number of the largest unit that divides it; 0 (and anything not a
 * non-negative number) shows as 0 `fallbackUnit`.
 */
export function splitDuration(secs: number, fallbackUnit: DurationUnit = 'minutes'): SplitDuration {
  if (!Number.isFinite(secs) || secs <= 0) return { value: 0, unit: fallbackUnit }
  for (const unit of [...DURATION_UNITS].reverse()) {
    const size = UNIT_SECONDS[unit]
    if (secs % size === 0) return { value: secs / size, unit }
  }
  return { value: secs, unit: 'seconds' }
}

/** Whole seconds for `value` of `unit` (an empty input counts as 0). */
export function joinDuration(value: number | null | undefined, unit: DurationUnit): number {
  const v = typeof value === 'number' && Number.isFinite(value) ? value : 0
  return Math.round(v * UNIT_SECONDS[unit])
}

/** The largest value of `unit` within `maxSecs`. */
export function maxInUnit(maxSecs: number, unit: DurationUnit): number {
  return Math.floor(maxSecs / UNIT_SECONDS[unit])
}
