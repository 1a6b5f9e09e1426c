/**
 * The client side of the idle timeout.
 *
 * The server ends a session after `idle_timeout_secs` without requests. A screen left alone must
 * not keep showing customer data until someone clicks, so the tab watches for user input and API
 * answers; when neither happened for the timeout plus a grace second, it asks the server (which by
 * then has ended the session and answers 401, sending the tab to sign-in). The timer never keeps
 * a session alive on its own: it asks once per quiet period, only after the server's own limit.
 */

/** Grace added to the server's timeout so the server has certainly expired the session. */
export const IDLE_GRACE_MS = 1_000

/** DOM events that count as the user being there. */
export const ACTIVITY_EVENTS = [
  'pointerdown',
  'pointermove',
  'keydown',
  'wheel',
  'touchstart',
  'scroll',
] as const

export interface TimerHost {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const browserHost: TimerHost = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Calls `onIdle` once when `poke()` has not been called for `timeoutMs`. Pokes are cheap (they
 * only record the time), so they can follow every mouse move; the timer re-arms itself for the
 * remaining time when it wakes early. After firing it stays quiet until `start()` again.
 */
export class IdleTimer {
  private timeoutMs = 0
  private last = 0
  private handle: unknown = null
  private running = false

  constructor(
    private readonly onIdle: () => void,
    private readonly host: TimerHost = browserHost,
  ) {}

  /** (Re)starts watching with a new timeout; counts as activity. */
  start(timeoutMs: number): void {
    this.stop()
    this.timeoutMs = Math.max(0, timeoutMs)
    this.last = this.host.now()
    this.running = true
    this.arm(this.timeoutMs)
  }

  /** Stops watching (signed out). */
  stop(): void {
    if (this.handle !== null) this.host.clearTimeout(this.handle)
    this.handle = null
    this.running = false
  }

  /** Records activity. */
  poke(): void {
    if (this.running) this.last = this.host.now()
  }

  get isRunning(): boolean {
    return this.running
  }

  private arm(ms: number): void {
    this.handle = this.host.setTimeout(() => this.wake(), ms)
  }

  private wake(): void {
    this.handle = null
    if (!this.running) return
    const quiet = this.host.now() - this.last
    if (quiet < this.timeoutMs) {
      this.arm(this.timeoutMs - quiet)
      return
    }
    this.running = false
    this.onIdle()
  }
}

/** The client timeout for a server timeout in seconds; `null` when the server gave none. */
export function idleTimeoutMs(idleTimeoutSecs: number | undefined | null): number | null {
  if (typeof idleTimeoutSecs !== 'number' || !Number.isFinite(idleTimeoutSecs) || idleTimeoutSecs <= 0) {
    return null
  }
  return idleTimeoutSecs * 1000 + IDLE_GRACE_MS
}

/** Calls `onActivity` on user input anywhere in the window; returns the function that stops it. */
export function listenForActivity(target: Window, onActivity: () => void): () => void {
  const options: AddEventListenerOptions = { capture: true, passive: true }
  for (const name of ACTIVITY_EVENTS) target.addEventListener(name, onActivity, options)
  return () => {
    for (const name of ACTIVITY_EVENTS) target.removeEventListener(name, onActivity, options)
  }
}
