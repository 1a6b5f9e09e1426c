// When the "my teams" and "all" tabs refresh quietly: every 30 s for agents who do not receive
// colleagues' activity, never overlapping, skipped while paused, caught up on wake, and never
// after stop.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { QUIET_REFRESH_MS, createQuietRefresh, needsQuietRefresh } from './quiet-refresh'

describe('needsQuietRefresh', () => {
  const agent = new Set(['conversations:read', 'conversations:all'])
  const supervisor = new Set(['conversations:read', 'conversations:all', 'conversations:assign'])

  it('refreshes the teams and all tabs of agents without conversations:assign', () => {
    expect(needsQuietRefresh('teams', agent)).toBe(true)
    expect(needsQuietRefresh('all', agent)).toBe(true)
    expect(needsQuietRefresh('mine', agent)).toBe(false)
    expect(needsQuietRefresh('unassigned', agent)).toBe(false)
    for (const view of ['mine', 'unassigned', 'teams', 'all'] as const) {
      expect(needsQuietRefresh(view, supervisor)).toBe(false)
    }
  })
})

describe('createQuietRefresh', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** A refresh that settles when the test says so. */
  function controlled() {
    const settle: Array<() => void> = []
    const refresh = vi.fn(
      () =>
        new Promise<void>((resolve) => {
          settle.push(resolve)
        }),
    )
    return { refresh, settleAll: () => settle.splice(0).forEach((f) => f()) }
  }

  it('runs every 30 seconds once started, and not before', async () => {
    const refresh = vi.fn(() => Promise.resolve())
    const timer = createQuietRefresh({ refresh, paused: () => false })
    expect(QUIET_REFRESH_MS).toBe(30_000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(refresh).not.toHaveBeenCalled()
    timer.start()
    expect(timer.running).toBe(true)
    await vi.advanceTimersByTimeAsync(29_999)
    expect(refresh).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(refresh).toHaveBeenCalledTimes(3)
    timer.stop()
  })

  it('waits for a slow refresh before counting the next interval', async () => {
    const { refresh, settleAll } = controlled()
    const timer = createQuietRefresh({ refresh, paused: () => false })
    timer.start()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(90_000)
    expect(refresh).toHaveBeenCalledTimes(1)
    settleAll()
    await vi.advanceTimersByTimeAsync(29_999)
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(refresh).toHaveBeenCalledTimes(2)
    timer.stop()
  })

  it('skips rounds while paused and catches up on wake', async () => {
    const refresh = vi.fn(() => Promise.resolve())
    let paused = true
    const timer = createQuietRefresh({ refresh, paused: () => paused })
    timer.start()
    timer.wake() // nothing skipped yet
    await vi.advanceTimersByTimeAsync(60_000)
    expect(refresh).not.toHaveBeenCalled()
    timer.wake() // still paused
    expect(refresh).not.toHaveBeenCalled()
    paused = false
    timer.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(refresh).toHaveBeenCalledTimes(1)
    timer.wake() // caught up: nothing more
    await vi.advanceTimersByTimeAsync(0)
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(refresh).toHaveBeenCalledTimes(2)
    timer.stop()
  })

  it('resumes on the next round when the pause ends without a wake', async () => {
    const refresh = vi.fn(() => Promise.resolve())
    let paused = true
    const timer = createQuietRefresh({ refresh, paused: () => paused })
    timer.start()
    await vi.advanceTimersByTimeAsync(30_000)
    paused = false
    await vi.advanceTimersByTimeAsync(29_999)
    expect(refresh).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(refresh).toHaveBeenCalledTimes(1)
    timer.stop()
  })

  it('keeps going after a failed refresh', async () => {
    const refresh = vi.fn(() => Promise.reject(new Error('offline')))
    const timer = createQuietRefresh({ refresh, paused: () => false })
    timer.start()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(refresh).toHaveBeenCalledTimes(2)
    timer.stop()
  })

  it('stops for good, also with a refresh in flight, and restarts from a full interval', async () => {
    const { refresh, settleAll } = controlled()
    const timer = createQuietRefresh({ refresh, paused: () => false })
    timer.start()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(refresh).toHaveBeenCalledTimes(1)
    timer.stop()
    expect(timer.running).toBe(false)
    settleAll()
    timer.wake()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)

    timer.start()
    await vi.advanceTimersByTimeAsync(20_000)
    timer.start() // a filter change within the tab: the interval counts again
    await vi.advanceTimersByTimeAsync(20_000)
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(refresh).toHaveBeenCalledTimes(2)
    timer.stop()
    settleAll()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not overlap a round of an earlier start still in flight', async () => {
    const { refresh, settleAll } = controlled()
    const timer = createQuietRefresh({ refresh, paused: () => false })
    timer.start()
    await vi.advanceTimersByTimeAsync(30_000)
    timer.start()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(refresh).toHaveBeenCalledTimes(1) // skipped: the first is still loading
    settleAll()
    await vi.advanceTimersByTimeAsync(0)
    timer.wake() // the skipped round, now
    await vi.advanceTimersByTimeAsync(0)
    expect(refresh).toHaveBeenCalledTimes(2)
    timer.stop()
    settleAll()
  })
})
