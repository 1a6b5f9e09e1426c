/**
 * Durations as the workspace shows them: how long a customer has been waiting, the queue's
 * estimated wait. The two largest units only ("1h 5m", "3m 20s", "2d 4h"): precise enough to
 * act on, short enough for a list row. Unit words come from the locale messages.
 */

export interface DurationUnits {
  days: (n: number) => string
  hours: (n: number) => string
  minutes: (n: number) => string
  seconds: (n: number) => string
}

export interface DurationParts {
  days: number
  hours: number
  minutes: number
  seconds: number
}

/** Whole days, hours, minutes and seconds of `ms` (negative counts as zero). */
export function durationParts(ms: number): DurationParts {
  const total = Math.max(0, Math.floor(ms / 1000))
  return {
    days: Math.floor(total / 86_400),
    hours: Math.floor((total % 86_400) / 3_600),
    minutes: Math.floor((total % 3_600) / 60),
    seconds: total % 60,
  }
}

/** `2d 4h`, `1h 5m`, `3m 20s`, `45s`, `0s` (zero second units are left out: `1h`, `2m`). */
export function formatDuration(ms: number, units: DurationUnits): string {
  const p = durationParts(ms)
  const order: Array<[number, (n: number) => string]> = [
    [p.days, units.days],
    [p.hours, units.hours],
    [p.minutes, units.minutes],
    [p.seconds, units.seconds],
  ]
  const first = order.findIndex(([n]) => n > 0)
  if (first === -1) return units.seconds(0)
  const [n1, u1] = order[first]!
  const second = order[first + 1]
  const parts = [u1(n1)]
  if (second !== undefined && second[0] > 0) parts.push(second[1](second[0]))
  return parts.join(' ')
}

/** How long the customer has been waiting at `now`; `null` when nobody waits. */
export function waitingMs(waitingSince: number | null, now: number): number | null {
  return waitingSince === null ? null : Math.max(0, now - waitingSince)
}

/** Severity of a wait for colouring: over 5 min `warning`, over 15 min `danger`. */
export function waitingLevel(ms: number | null): 'none' | 'normal' | 'warning' | 'danger' {
  if (ms === null) return 'none'
  if (ms >= 15 * 60_000) return 'danger'
  if (ms >= 5 * 60_000) return 'warning'
  return 'normal'
}
