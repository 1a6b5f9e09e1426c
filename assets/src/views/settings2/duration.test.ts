// Seconds on the wire ⇄ a value and a unit in the form.
import { describe, expect, it } from 'vitest'
import { joinDuration, maxInUnit, splitDuration } from './duration'

describe('durations', () => {
  it('shows a stored value in the largest whole unit', () => {
    expect(splitDuration(300)).toEqual({ value: 5, unit: 'minutes' })
    expect(splitDuration(90)).toEqual({ value: 90, unit: 'seconds' })
    expect(splitDuration(7200)).toEqual({ value: 2, unit: 'hours' })
    expect(splitDuration(604_800)).toEqual({ value: 7, unit: 'days' })
    expect(splitDuration(0)).toEqual({ value: 0, unit: 'minutes' })
    expect(splitDuration(0, 'seconds')).toEqual({ value: 0, unit: 'seconds' })
    expect(splitDuration(Number.NaN)).toEqual({ value: 0, unit: 'minutes' })
  })

  it('turns a typed value back into whole seconds', () => {
    expect(joinDuration(5, 'minutes')).toBe(300)
    expect(joinDuration(1.5, 'hours')).toBe(5400)
    expect(joinDuration(null, 'days')).toBe(0)
    expect(joinDuration(undefined, 'seconds')).toBe(0)
    expect(maxInUnit(604_800, 'hours')).toBe(168)
    expect(maxInUnit(604_800, 'seconds')).toBe(604_800)
  })
})
