// The client idle timer: fires once after the timeout without activity, never earlier.
import { describe, expect, it } from 'vitest'
import { IDLE_GRACE_MS, IdleTimer, idleTimeoutMs, type TimerHost } from './idle'

/** A hand-driven clock and timer queue. */
class FakeHost implements TimerHost {
  time = 0
  private next = 1
  private timers = new Map<number, { at: number; run: () => void }>()

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++
    this.timers.set(id, { at: this.time + ms, run: callback })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }

  /** Moves the clock forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0]
      if (due === undefined) break
      this.timers.delete(due[0])
      this.time = due[1].at
      due[1].run()
    }
    this.time = end
  }

  get pending(): number {
    return this.timers.size
  }
}

describe('IdleTimer', () => {
  it('fires once after the timeout without activity', () => {
    const host = new FakeHost()
    let fired = 0
    const timer = new IdleTimer(() => (fired += 1), host)
    timer.start(4000)
    host.advance(3999)
    expect(fired).toBe(0)
    host.advance(1)
    expect(fired).toBe(1)
    expect(timer.isRunning).toBe(false)
    host.advance(60_000)
    expect(fired).toBe(1)
  })

  it('counts the timeout from the last activity', () => {
    const host = new FakeHost()
    let fired = 0
    const timer = new IdleTimer(() => (fired += 1), host)
    timer.start(4000)
    host.advance(3000)
    timer.poke()
    host.advance(3000)
    expect(fired).toBe(0)
    timer.poke()
    host.advance(3999)
    expect(fired).toBe(0)
    host.advance(1)
    expect(fired).toBe(1)
  })

  it('keeps one timer however often it is poked', () => {
    const host = new FakeHost()
    const timer = new IdleTimer(() => undefined, host)
    timer.start(4000)
    for (let i = 0; i < 100; i += 1) {
      host.advance(10)
      timer.poke()
    }
    expect(host.pending).toBe(1)
  })

  it('stops and restarts', () => {
    const host = new FakeHost()
    let fired = 0
    const timer = new IdleTimer(() => (fired += 1), host)
    timer.start(1000)
    timer.stop()
    host.advance(5000)
    expect(fired).toBe(0)
    expect(host.pending).toBe(0)
    timer.poke() // ignored while stopped
    timer.start(1000)
    host.advance(1000)
    expect(fired).toBe(1)
  })

  it('waits the server timeout plus a grace second', () => {
    expect(idleTimeoutMs(3)).toBe(3000 + IDLE_GRACE_MS)
    expect(idleTimeoutMs(900)).toBe(901_000)
    expect(idleTimeoutMs(0)).toBeNull()
    expect(idleTimeoutMs(undefined)).toBeNull()
    expect(idleTimeoutMs(Number.NaN)).toBeNull()
  })
})
