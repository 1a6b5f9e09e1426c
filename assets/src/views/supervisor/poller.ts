/**
 * Runs a refresh now and then every `intervalMs` after the previous one finished, and again soon
 * when asked ({@link Poller.trigger}, e.g. on a realtime event).
 *
 * - Never two refreshes at the same time: a trigger during a refresh runs one more right after
 *   it, however many triggers arrived.
 * - A busy floor sends many events a second; a triggered refresh starts at least `minGapMs` after
 *   the previous one started, so the server sees at most one overview request per gap.
 * - A refresh that throws does not stop the polling (the refresh shows its own error).
 */

export interface PollerTimers {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

const browserTimers: PollerTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export class Poller {
  private timer: unknown = null
  private running = false
  private again = false
  private active = false
  private lastStart = -Infinity

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly minGapMs = 1000,
    private readonly timers: PollerTimers = browserTimers,
  ) {}

  /** Starts polling (refreshing at once). Starting twice does nothing. */
  start(): void {
    if (this.active) return
    this.active = true
    if (this.running) this.again = true
    else void this.run()
  }

  /** Stops polling; a refresh under way finishes but schedules nothing. */
  stop(): void {
    this.active = false
    this.again = false
    this.clear()
  }

  /** Refreshes soon: after the one under way, and no sooner than the minimum gap. */
  trigger(): void {
    if (!this.active) return
    if (this.running) {
      this.again = true
      return
    }
    this.schedule(this.gapLeft())
  }

  private gapLeft(): number {
    return Math.max(0, this.lastStart + this.minGapMs - this.timers.now())
  }

  private clear(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(delay: number): void {
    this.clear()
    if (delay <= 0) {
      void this.run()
      return
    }
    this.timer = this.timers.setTimeout(() => {
      this.timer = null
      void this.run()
    }, delay)
  }

  private async run(): Promise<void> {
    this.running = true
    this.lastStart = this.timers.now()
    try {
      await this.refresh()
    } catch {
      // The refresh reports its own errors; polling goes on.
    } finally {
      this.running = false
    }
    if (!this.active) return
    if (this.again) {
      this.again = false
      this.schedule(this.gapLeft())
      return
    }
    this.schedule(this.intervalMs)
  }
}
