// The realtime socket against a fake WebSocket and a fake clock: resuming after a disconnect
// delivers every event exactly once, resync, backoff, heartbeat, typing throttle.
import { beforeEach, describe, expect, it } from 'vitest'
import {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  PING_INTERVAL_MS,
  RealtimeSocket,
  TYPING_IDLE_MS,
  TYPING_REPEAT_MS,
  TypingThrottle,
  backoffDelay,
  socketBaseUrl,
  socketUrl,
  type SocketClock,
  type SocketHandlers,
} from './socket'

class FakeClock implements SocketClock {
  time = 0
  rand = 0.5
  private timers = new Map<number, { at: number; fn: () => void; every: number | null }>()
  private next = 1

  now(): number {
    return this.time
  }
  random(): number {
    return this.rand
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++
    this.timers.set(id, { at: this.time + ms, fn, every: null })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++
    this.timers.set(id, { at: this.time + ms, fn, every: ms })
    return id
  }
  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number)
  }
  /** Runs every timer due within `ms`, in time order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      let dueId: number | null = null
      let dueAt = Infinity
      for (const [id, t] of this.timers) {
        if (t.at <= end && t.at < dueAt) {
          dueAt = t.at
          dueId = id
        }
      }
      if (dueId === null) break
      const timer = this.timers.get(dueId)!
      this.time = timer.at
      if (timer.every === null) this.timers.delete(dueId)
      else timer.at += timer.every
      timer.fn()
    }
    this.time = end
  }
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time)
  }
}

class FakeServerSocket {
  sent: unknown[] = []
  closed = false
  constructor(
    readonly url: string,
    readonly handlers: SocketHandlers,
  ) {}
  open(): void {
    this.handlers.open()
  }
  frame(value: unknown): void {
    this.handlers.message(JSON.stringify(value))
  }
  drop(code = 1006): void {
    this.handlers.close(code)
  }
}

let clock: FakeClock
let sockets: FakeServerSocket[]

function makeSocket(): RealtimeSocket {
  return new RealtimeSocket({
    baseUrl: 'wss://atrium.example/api/v1/ws',
    clock,
    createSocket: (url, handlers) => {
      const s = new FakeServerSocket(url, handlers)
      sockets.push(s)
      return {
        send: (text) => s.sent.push(JSON.parse(text)),
        close: () => {
          s.closed = true
        },
      }
    },
  })
}

function last(): FakeServerSocket {
  const s = sockets[sockets.length - 1]
  if (s === undefined) throw new Error('no socket')
  return s
}

const message = (id: number): unknown => ({ id, conversation_id: 1, body: `m${id}` })

beforeEach(() => {
  clock = new FakeClock()
  sockets = []
})

describe('socket addresses', () => {
  it('follows the page scheme and host', () => {
    expect(socketBaseUrl({ protocol: 'https:', host: 'cs.bank.local' })).toBe('wss://cs.bank.local/api/v1/ws')
    expect(socketBaseUrl({ protocol: 'http:', host: '10.0.0.5:8080' })).toBe('ws://10.0.0.5:8080/api/v1/ws')
  })

  it('adds the resume parameters once a position is known', () => {
    expect(socketUrl('ws://h/api/v1/ws', null, null)).toBe('ws://h/api/v1/ws')
    expect(socketUrl('ws://h/api/v1/ws', 42, 'e1')).toBe('ws://h/api/v1/ws?since=42&epoch=e1')
  })
})

describe('resuming after a disconnect', () => {
  it('delivers every event exactly once across a reconnect with replay', () => {
    const socket = makeSocket()
    const got: number[] = []
    socket.on('message.created', (data) => got.push(data.id))
    socket.start()

    last().open()
    last().frame({ type: 'hello', seq: 10, epoch: 'e1' })
    expect(socket.state).toBe('open')
    last().frame({ seq: 11, type: 'message.created', data: message(1) })
    last().frame({ seq: 12, type: 'message.created', data: message(2) })
    last().drop()
    expect(socket.state).toBe('waiting')

    clock.advance(BACKOFF_MIN_MS * 1.2)
    expect(sockets).toHaveLength(2)
    expect(last().url).toBe('wss://atrium.example/api/v1/ws?since=12&epoch=e1')
    last().open()
    // The server is at 15 now and replays everything after `since` (13..15) after the hello;
    // a server that overlaps (re-sends 12) must not cause a duplicate.
    last().frame({ type: 'hello', seq: 15, epoch: 'e1' })
    last().frame({ seq: 12, type: 'message.created', data: message(2) })
    last().frame({ seq: 13, type: 'message.created', data: message(3) })
    last().frame({ seq: 14, type: 'message.created', data: message(4) })
    last().frame({ seq: 15, type: 'message.created', data: message(5) })
    last().frame({ seq: 16, type: 'message.created', data: message(6) })

    expect(got).toEqual([1, 2, 3, 4, 5, 6])
    expect(socket.lastSeq).toBe(16)
  })

  it('starts from the first hello without replaying history', () => {
    const socket = makeSocket()
    const got: number[] = []
    socket.on('message.created', (data) => got.push(data.id))
    socket.start()
    expect(last().url).toBe('wss://atrium.example/api/v1/ws')
    last().open()
    last().frame({ type: 'hello', seq: 100, epoch: 'e1' })
    last().frame({ seq: 101, type: 'message.created', data: message(1) })
    expect(got).toEqual([1])
    expect(socket.lastSeq).toBe(101)
  })

  it('dispatches only to subscribers of the type, and stops after unsubscribing', () => {
    const socket = makeSocket()
    const typing: unknown[] = []
    const off = socket.on('typing', (data) => typing.push(data))
    socket.start()
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    last().frame({ seq: 2, type: 'typing', data: { conversation_id: 1, who: 'contact', typing: true } })
    last().frame({ seq: 3, type: 'unknown.kind', data: {} })
    off()
    last().frame({ seq: 4, type: 'typing', data: { conversation_id: 1, who: 'contact', typing: false } })
    expect(typing).toEqual([{ conversation_id: 1, who: 'contact', typing: true }])
    expect(socket.lastSeq).toBe(4)
  })

  it('delivers the events of a batch frame (a JSON array) in order', () => {
    const socket = makeSocket()
    const got: number[] = []
    socket.on('message.created', (data) => got.push(data.id))
    socket.start()
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    last().frame([
      { seq: 2, type: 'message.created', data: message(1) },
      { seq: 3, type: 'message.created', data: message(2) },
      { seq: 3, type: 'message.created', data: message(2) },
    ])
    last().handlers.message('[{"seq":4,"type":"message.created","data":' + JSON.stringify(message(3)) + '}, 7, null]')
    expect(got).toEqual([1, 2, 3])
    expect(socket.lastSeq).toBe(4)
  })

  it('ignores frames that are not JSON objects', () => {
    const socket = makeSocket()
    socket.start()
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    last().handlers.message('not json')
    last().handlers.message('42')
    expect(socket.lastSeq).toBe(1)
  })
})

describe('resync', () => {
  it('asks subscribers to reload and continues from the hello when the server says so', () => {
    const socket = makeSocket()
    const got: number[] = []
    let resyncs = 0
    socket.on('message.created', (data) => got.push(data.id))
    socket.onResync(() => (resyncs += 1))
    socket.start()
    last().frame({ type: 'hello', seq: 10, epoch: 'e1' })
    last().drop()
    clock.advance(BACKOFF_MAX_MS)

    last().frame({ type: 'hello', seq: 5000, epoch: 'e1' })
    last().frame({ type: 'resync' })
    expect(resyncs).toBe(1)
    expect(socket.lastSeq).toBe(5000)
    last().frame({ seq: 4999, type: 'message.created', data: message(1) })
    last().frame({ seq: 5001, type: 'message.created', data: message(2) })
    expect(got).toEqual([2])
  })

  it('resyncs once when the epoch changed (server restarted), even if the server also says so', () => {
    const socket = makeSocket()
    let resyncs = 0
    socket.onResync(() => (resyncs += 1))
    socket.start()
    last().frame({ type: 'hello', seq: 900, epoch: 'before' })
    last().drop()
    clock.advance(BACKOFF_MAX_MS)
    expect(last().url).toContain('since=900&epoch=before')
    last().frame({ type: 'hello', seq: 3, epoch: 'after' })
    last().frame({ type: 'resync' })
    expect(resyncs).toBe(1)
    expect(socket.lastSeq).toBe(3)
    expect(socket.epoch).toBe('after')
  })

  it('lets waiters load once the connection is live, or after a timeout', async () => {
    const socket = makeSocket()
    socket.start()
    let ready = false
    const waiting = socket.ready(3_000).then(() => (ready = true))
    await Promise.resolve()
    expect(ready).toBe(false)
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    await waiting
    expect(ready).toBe(true)

    const other = makeSocket()
    other.start()
    let late = false
    const timedOut = other.ready(3_000).then(() => (late = true))
    clock.advance(3_000)
    await timedOut
    expect(late).toBe(true)
  })
})

describe('backoff', () => {
  it('doubles from 1 s to 30 s with ±20 % jitter', () => {
    expect(backoffDelay(0, 0.5)).toBe(1_000)
    expect(backoffDelay(1, 0.5)).toBe(2_000)
    expect(backoffDelay(4, 0.5)).toBe(16_000)
    expect(backoffDelay(5, 0.5)).toBe(30_000)
    expect(backoffDelay(20, 0.5)).toBe(30_000)
    expect(backoffDelay(3, 0)).toBe(6_400)
    expect(backoffDelay(3, 0.999)).toBeLessThanOrEqual(9_600)
    // Never below the minimum nor above the maximum, whatever the jitter.
    expect(backoffDelay(0, 0)).toBe(BACKOFF_MIN_MS)
    expect(backoffDelay(10, 0.999)).toBe(BACKOFF_MAX_MS)
  })

  it('waits longer after each failed attempt and resets after a hello', () => {
    const socket = makeSocket()
    socket.start()
    const delays: number[] = []
    for (let i = 0; i < 7; i += 1) {
      last().drop()
      delays.push(Math.max(...clock.pending()))
      clock.advance(delays[delays.length - 1]!)
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
    expect(sockets).toHaveLength(8)

    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    last().drop()
    expect(clock.pending()).toEqual([1_000])
  })

  it('does not reconnect after stop, and reconnects at once when asked', () => {
    const socket = makeSocket()
    socket.start()
    last().drop()
    socket.reconnectNow()
    expect(sockets).toHaveLength(2)
    socket.stop()
    expect(last().closed).toBe(true)
    expect(clock.pending()).toEqual([])
    expect(socket.state).toBe('stopped')
  })

  it('ignores callbacks of an abandoned connection', () => {
    const socket = makeSocket()
    const got: number[] = []
    socket.on('message.created', (d) => got.push(d.id))
    socket.start()
    const first = last()
    first.frame({ type: 'hello', seq: 1, epoch: 'e' })
    first.drop()
    clock.advance(BACKOFF_MIN_MS)
    first.frame({ seq: 2, type: 'message.created', data: message(9) })
    first.drop()
    expect(got).toEqual([])
    expect(sockets).toHaveLength(2)
  })
})

describe('heartbeat', () => {
  it('pings every 25 s and reconnects a connection silent for a minute', () => {
    const socket = makeSocket()
    socket.start()
    last().open()
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    clock.advance(PING_INTERVAL_MS)
    expect(last().sent).toEqual([{ type: 'ping' }])
    last().frame({ type: 'pong' })
    clock.advance(PING_INTERVAL_MS)
    expect(last().sent).toHaveLength(2)
    clock.advance(PING_INTERVAL_MS * 2)
    // 75 s after the pong: the third tick sees the silence and drops the connection.
    expect(sockets[0]!.closed).toBe(true)
    expect(socket.state).toBe('waiting')
  })

  it('tells the server the conversation shown, again on every new connection', () => {
    const socket = makeSocket()
    socket.start()
    socket.watch(5)
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    socket.watch(6)
    socket.watch(6)
    expect(last().sent).toEqual([
      { type: 'watch', conversation_id: 5 },
      { type: 'unwatch', conversation_id: 5 },
      { type: 'watch', conversation_id: 6 },
    ])
    last().drop()
    clock.advance(BACKOFF_MIN_MS * 1.2)
    last().open()
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    socket.watch(null)
    expect(last().sent).toEqual([
      { type: 'watch', conversation_id: 6 },
      { type: 'unwatch', conversation_id: 6 },
    ])
  })

  it('sends typing frames only while open', () => {
    const socket = makeSocket()
    socket.start()
    socket.sendTyping(1, true)
    last().frame({ type: 'hello', seq: 1, epoch: 'e' })
    socket.sendTyping(1, true)
    expect(last().sent).toEqual([{ type: 'typing', conversation_id: 1, typing: true }])
  })
})

describe('typing throttle', () => {
  it('sends true at most every 3 s and false after 5 s without input', () => {
    const sent: Array<[number, boolean]> = []
    const throttle = new TypingThrottle((id, typing) => sent.push([id, typing]), clock)
    throttle.input(1)
    clock.advance(1_000)
    throttle.input(1)
    clock.advance(TYPING_REPEAT_MS)
    throttle.input(1)
    expect(sent).toEqual([
      [1, true],
      [1, true],
    ])
    clock.advance(TYPING_IDLE_MS)
    expect(sent).toEqual([
      [1, true],
      [1, true],
      [1, false],
    ])
  })

  it('stops the previous conversation when the agent switches, and on send', () => {
    const sent: Array<[number, boolean]> = []
    const throttle = new TypingThrottle((id, typing) => sent.push([id, typing]), clock)
    throttle.input(1)
    throttle.input(2)
    throttle.stop()
    throttle.stop()
    expect(sent).toEqual([
      [1, true],
      [1, false],
      [2, true],
      [2, false],
    ])
  })
})
