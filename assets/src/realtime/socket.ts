/**
 * The realtime connection of the workspace: one WebSocket to `/api/v1/ws` that delivers the
 * server's numbered events (`docs/workspace-api.md`, "Realtime") to typed subscribers.
 *
 * Resuming without losing or repeating an event:
 * - The server numbers every event (`seq`) and starts each connection with
 *   `{"type":"hello","seq":S,"epoch":E}`: S is the number the connection continues after (the
 *   newest event for a fresh connection, the client's `since` for a resumed one). Events ready
 *   at the same moment share one frame, a JSON array in sequence order.
 * - The client remembers the highest `seq` it delivered and reconnects with `?since=…&epoch=…`;
 *   the server then sends every event after `since` again. Only the very first hello (nothing
 *   delivered yet) and a resync set the position to the hello's S.
 * - Any event numbered at or below the position is a duplicate and dropped, so a replay that
 *   overlaps what was already delivered is harmless.
 * - When `since` is too old or the epoch differs (server restarted), the server sends
 *   `{"type":"resync"}`: subscribers reload their lists ({@link RealtimeSocket.onResync}) and
 *   the position continues from the hello's S. The client does the same by itself when it sees
 *   a different epoch in the hello, once per connection.
 *
 * The connection is re-opened after any close with exponential backoff (1 s doubling to 30 s,
 * ±20 % jitter so a restarted server is not hit by every tab at once), reset by a hello. A ping
 * goes out every 25 s; a connection silent for 60 s is treated as dead and re-opened.
 *
 * Everything the browser provides (WebSocket, timers, randomness) is injected, so the tests drive
 * the protocol with a fake socket and a fake clock.
 */
import { buildQuery } from '../api/client'
import type { Id } from '../api/types'
import {
  REALTIME_EVENT_TYPES,
  type RealtimeEventMap,
  type RealtimeEventType,
} from '../api/workspace-types'

export const BACKOFF_MIN_MS = 1_000
export const BACKOFF_MAX_MS = 30_000
export const BACKOFF_JITTER = 0.2
export const PING_INTERVAL_MS = 25_000
/** No frame at all for this long (pongs included) means the connection is dead. */
export const SILENCE_LIMIT_MS = 60_000

/** Reconnect delay before attempt `attempt` (0-based); `random` in [0, 1). */
export function backoffDelay(attempt: number, random: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt))
  const jittered = base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random)
  return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)))
}

/** `ws://host/api/v1/ws` or `wss://…` for the page's own origin. */
export function socketBaseUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}/api/v1/ws`
}

/** The address to connect to: resume parameters only once a position is known. */
export function socketUrl(base: string, since: number | null, epoch: string | null): string {
  if (since === null) return base
  return `${base}${buildQuery({ since, epoch })}`
}

// --- what the socket needs from its environment ----------------------------------------------

export interface SocketHandlers {
  open(): void
  message(text: string): void
  close(code: number): void
}

/** One open (or opening) connection. `close()` never calls the `close` handler back. */
export interface SocketConnection {
  send(text: string): void
  close(): void
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketConnection

export interface SocketClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  setInterval(callback: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
  random(): number
}

/** The browser's WebSocket behind {@link SocketFactory}. */
export const browserSocketFactory: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url)
  ws.onopen = () => handlers.open()
  ws.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') handlers.message(event.data)
  }
  ws.onclose = (event: CloseEvent) => handlers.close(event.code)
  return {
    send(text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(text)
    },
    close() {
      ws.onopen = null
      ws.onmessage = null
      ws.onclose = null
      ws.close()
    },
  }
}

export const browserClock: SocketClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (callback, ms) => globalThis.setInterval(callback, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
  random: () => Math.random(),
}

// --- the socket ----------------------------------------------------------------------------

/** `idle` before start, `connecting`, `open` (hello received), `waiting` to reconnect, `stopped`. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped'

type EventHandler<K extends RealtimeEventType> = (data: RealtimeEventMap[K], seq: number) => void

interface Frame {
  type?: unknown
  seq?: unknown
  epoch?: unknown
  data?: unknown
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(REALTIME_EVENT_TYPES)

export interface RealtimeSocketOptions {
  /** Address without the resume parameters, e.g. {@link socketBaseUrl}(location). */
  baseUrl: string
  createSocket?: SocketFactory
  clock?: SocketClock
}

export class RealtimeSocket {
  /** Highest `seq` delivered (or skipped to by a resync); `null` before the first hello. */
  lastSeq: number | null = null
  /** The server's epoch from the last hello. */
  epoch: string | null = null
  state: ConnectionState = 'idle'

  private readonly baseUrl: string
  private readonly createSocket: SocketFactory
  private readonly clock: SocketClock
  private conn: SocketConnection | null = null
  /** Increases with every connection, so callbacks of an abandoned one are ignored. */
  private generation = 0
  private attempt = 0
  private reconnectTimer: unknown = null
  private pingTimer: unknown = null
  private lastFrameAt = 0
  private helloSeq: number | null = null
  private resyncedThisConnection = false
  private readonly handlers = new Map<string, Set<(data: unknown, seq: number) => void>>()
  private readonly resyncHandlers = new Set<() => void>()
  private readonly stateHandlers = new Set<(state: ConnectionState) => void>()
  private readyWaiters: Array<() => void> = []

  constructor(options: RealtimeSocketOptions) {
    this.baseUrl = options.baseUrl
    this.createSocket = options.createSocket ?? browserSocketFactory
    this.clock = options.clock ?? browserClock
  }

  /** Opens the connection (again after {@link stop}). */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return
    this.attempt = 0
    this.connect()
  }

  /** Closes the connection for good (signed out, left the workspace). */
  stop(): void {
    this.generation += 1
    this.clearTimers()
    this.conn?.close()
    this.conn = null
    this.setState('stopped')
    this.flushReadyWaiters()
  }

  /** Reconnects at once instead of waiting for the backoff (the browser came back online). */
  reconnectNow(): void {
    if (this.state !== 'waiting') return
    this.attempt = 0
    this.connect()
  }

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<K extends RealtimeEventType>(type: K, handler: EventHandler<K>): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) {
      set = new Set()
      this.handlers.set(type, set)
    }
    const h = handler as (data: unknown, seq: number) => void
    set.add(h)
    return () => set.delete(h)
  }

  /** Called when events may have been missed: reload lists and the open conversation. */
  onResync(handler: () => void): () => void {
    this.resyncHandlers.add(handler)
    return () => this.resyncHandlers.delete(handler)
  }

  onState(handler: (state: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler)
    return () => this.stateHandlers.delete(handler)
  }

  /**
   * Resolves once a hello has been received (the connection is live), or after `timeoutMs`
   * (the server cannot be reached: the caller loads anyway), or when stopped.
   */
  ready(timeoutMs = 3_000): Promise<void> {
    if (this.state === 'open' || this.state === 'stopped') return Promise.resolve()
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done)
        resolve()
      }, timeoutMs)
      const done = (): void => {
        this.clock.clearTimeout(handle)
        resolve()
      }
      this.readyWaiters.push(done)
    })
  }

  /** The conversation the agent has open (its activity is sent even when someone else holds it). */
  private watched: Id | null = null

  /**
   * Says which conversation the agent shows (`null`: none). The server then sends its activity
   * (messages, delivery, typing) even when it is assigned to someone else; a new connection is
   * told again at its hello.
   */
  watch(conversationId: Id | null): void {
    if (conversationId === this.watched) return
    if (this.watched !== null) this.send({ type: 'unwatch', conversation_id: this.watched })
    this.watched = conversationId
    if (conversationId !== null) this.send({ type: 'watch', conversation_id: conversationId })
  }

  /** Tells the server whether the agent is typing in a conversation (see {@link TypingThrottle}). */
  sendTyping(conversationId: Id, typing: boolean): void {
    this.send({ type: 'typing', conversation_id: conversationId, typing })
  }

  private send(frame: object): void {
    if (this.state === 'open') this.conn?.send(JSON.stringify(frame))
  }

  private connect(): void {
    this.clearTimers()
    this.conn?.close()
    const generation = ++this.generation
    this.helloSeq = null
    this.resyncedThisConnection = false
    this.setState('connecting')
    const url = socketUrl(this.baseUrl, this.lastSeq, this.epoch)
    try {
      this.conn = this.createSocket(url, {
        open: () => {
          if (generation !== this.generation) return
          this.lastFrameAt = this.clock.now()
          this.pingTimer = this.clock.setInterval(() => this.heartbeat(), PING_INTERVAL_MS)
        },
        message: (text) => {
          if (generation === this.generation) this.receive(text)
        },
        close: () => {
          if (generation === this.generation) this.closed()
        },
      })
    } catch {
      // An invalid address or a browser refusing the socket: retry like any other close.
      this.conn = null
      this.closed()
    }
  }

  private heartbeat(): void {
    if (this.clock.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
      this.conn?.close()
      this.closed()
      return
    }
    this.conn?.send(JSON.stringify({ type: 'ping' }))
  }

  private closed(): void {
    this.generation += 1
    this.clearTimers()
    this.conn = null
    if (this.state === 'stopped') return
    const delay = backoffDelay(this.attempt, this.clock.random())
    this.attempt += 1
    this.setState('waiting')
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null
      this.connect()
    }, delay)
  }

  private receive(text: string): void {
    this.lastFrameAt = this.clock.now()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return
    }
    // Events ready at the same moment arrive as one frame: a JSON array, in sequence order.
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      if (typeof item === 'object' && item !== null) this.receiveFrame(item as Frame)
    }
  }

  private receiveFrame(frame: Frame): void {
    switch (frame.type) {
      case 'hello':
        this.hello(frame)
        return
      case 'resync':
        if (this.helloSeq !== null && !this.resyncedThisConnection) this.resync(this.helloSeq)
        return
      case 'pong':
        return
      default:
        this.event(frame)
    }
  }

  private hello(frame: Frame): void {
    if (typeof frame.seq !== 'number') return
    const epoch = typeof frame.epoch === 'string' ? frame.epoch : null
    this.helloSeq = frame.seq
    const restarted = this.epoch !== null && epoch !== null && epoch !== this.epoch
    this.epoch = epoch
    this.attempt = 0
    if (restarted) {
      this.resync(frame.seq)
    } else if (this.lastSeq === null) {
      // First connection: nothing delivered yet, the lists are loaded from now on.
      this.lastSeq = frame.seq
    }
    this.setState('open')
    if (this.watched !== null) this.send({ type: 'watch', conversation_id: this.watched })
    this.flushReadyWaiters()
  }

  private resync(seq: number): void {
    this.resyncedThisConnection = true
    this.lastSeq = seq
    for (const handler of [...this.resyncHandlers]) handler()
  }

  private event(frame: Frame): void {
    if (typeof frame.seq !== 'number' || typeof frame.type !== 'string') return
    if (this.lastSeq !== null && frame.seq <= this.lastSeq) return // already delivered
    this.lastSeq = frame.seq
    if (!KNOWN_TYPES.has(frame.type)) return
    const set = this.handlers.get(frame.type)
    if (set === undefined) return
    for (const handler of [...set]) handler(frame.data, frame.seq)
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const handler of [...this.stateHandlers]) handler(state)
  }

  private flushReadyWaiters(): void {
    const waiters = this.readyWaiters
    this.readyWaiters = []
    for (const done of waiters) done()
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) this.clock.clearTimeout(this.reconnectTimer)
    if (this.pingTimer !== null) this.clock.clearInterval(this.pingTimer)
    this.reconnectTimer = null
    this.pingTimer = null
  }
}

// --- typing --------------------------------------------------------------------------------

export const TYPING_REPEAT_MS = 3_000
export const TYPING_IDLE_MS = 5_000

/**
 * Turns keystrokes into few typing frames: `typing: true` at most every 3 s while the agent
 * types, `typing: false` 5 s after the last keystroke, on send, or when the agent switches to
 * another conversation.
 */
export class TypingThrottle {
  private conversationId: Id | null = null
  private lastSentAt = -Infinity
  private idleTimer: unknown = null

  constructor(
    private readonly send: (conversationId: Id, typing: boolean) => void,
    private readonly clock: Pick<SocketClock, 'now' | 'setTimeout' | 'clearTimeout'> = browserClock,
  ) {}

  /** The agent typed in `conversationId`. */
  input(conversationId: Id): void {
    if (this.conversationId !== null && this.conversationId !== conversationId) this.stop()
    const now = this.clock.now()
    if (this.conversationId === null || now - this.lastSentAt >= TYPING_REPEAT_MS) {
      this.send(conversationId, true)
      this.lastSentAt = now
    }
    this.conversationId = conversationId
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer)
    this.idleTimer = this.clock.setTimeout(() => this.stop(), TYPING_IDLE_MS)
  }

  /** The agent stopped (sent, cleared, left): tells the server once. */
  stop(): void {
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer)
    this.idleTimer = null
    if (this.conversationId !== null) this.send(this.conversationId, false)
    this.conversationId = null
    this.lastSentAt = -Infinity
  }
}
