// Waiting times, load, assignment candidates, polling and the realtime hook of the supervisor view.
import { describe, expect, it, vi } from 'vitest'
import type { SupervisorAgent, TeamQueue, WaitingConversation } from '../../api/settings2-types'
import {
  applyPresence,
  assignCandidates,
  barPercent,
  formatWait,
  isAvailable,
  liveLongestWait,
  loadLevel,
  loadPercent,
  queueKey,
  queueTotals,
  queuedMs,
  sortAgents,
  sortQueues,
  statusTagType,
  teamLabels,
  teamNameMap,
  waitLevel,
  waitedMs,
} from './supervisor'
import { Poller, type PollerTimers } from './poller'
import {
  subscribeOverviewEvents,
  subscribePresence,
  type OverviewEventSource,
  type PresenceSource,
} from './overview-events'

const agent = (id: number, name: string, over: Partial<SupervisorAgent> = {}): SupervisorAgent => ({
  id,
  name,
  status: 'online',
  chosen_status: 'online',
  load: 0,
  capacity: 5,
  skills: [],
  teams: [],
  inboxes: [],
  ...over,
})

const conversation = (over: Partial<WaitingConversation> = {}): WaitingConversation => ({
  id: 1,
  contact: { id: 7, name: '张**', vip: false },
  inbox: { id: 2, name: '官网', channel: 'api' },
  team_id: 3,
  assignee: null,
  status: 'open',
  priority: 'normal',
  waiting_since: 1_000_000,
  queued_at: 1_010_000,
  alert: null,
  queue: { position: 1, estimated_wait_ms: 0 },
  last_message: null,
  created_at: 900_000,
  ...over,
})

describe('formatWait', () => {
  it('shows minutes and seconds, and hours when there are any', () => {
    expect(formatWait(0)).toBe('0:00')
    expect(formatWait(5_400)).toBe('0:05')
    expect(formatWait(754_000)).toBe('12:34')
    expect(formatWait(3_723_000)).toBe('1:02:03')
    expect(formatWait(30 * 3_600_000)).toBe('30:00:00')
  })

  it('shows nothing negative or broken', () => {
    expect(formatWait(-5_000)).toBe('0:00')
    expect(formatWait(null)).toBe('0:00')
    expect(formatWait(Number.NaN)).toBe('0:00')
  })
})

describe('live waiting times', () => {
  const queue: TeamQueue = { id: 1, name: 'A', queued: 2, longest_wait_ms: 60_000, online_agents: 1 }

  it('keeps ticking from the fetched value while someone waits', () => {
    expect(liveLongestWait(queue, 10_000, 10_000)).toBe(60_000)
    expect(liveLongestWait(queue, 10_000, 15_000)).toBe(65_000)
    expect(liveLongestWait({ ...queue, queued: 0, longest_wait_ms: 60_000 }, 10_000, 15_000)).toBe(0)
    expect(liveLongestWait(queue, 10_000, 9_000)).toBe(60_000)
  })

  it("counts the customer's wait from waiting_since", () => {
    expect(waitedMs(conversation(), 1_030_000)).toBe(30_000)
    expect(waitedMs(conversation(), 900_000)).toBe(0)
    expect(waitedMs(conversation({ waiting_since: null }), 2_000_000)).toBe(0)
  })

  it("counts the queue wait from queued_at, as the queues' longest wait does, else from waiting_since", () => {
    expect(queuedMs(conversation(), 1_030_000)).toBe(20_000)
    expect(queuedMs(conversation({ queued_at: null }), 1_030_000)).toBe(30_000)
    expect(queuedMs(conversation({ queued_at: null, waiting_since: null }), 1_030_000)).toBe(0)
    expect(queuedMs(conversation(), 1_000_000)).toBe(0)
  })
})

describe('ordering and urgency', () => {
  it('colours waits from 5 and 15 minutes', () => {
    expect(waitLevel(299_999)).toBe('normal')
    expect(waitLevel(300_000)).toBe('warning')
    expect(waitLevel(900_000)).toBe('danger')
  })

  it('puts the fullest queues and the available, busiest agents first', () => {
    const q = (id: number, queued: number, wait: number): TeamQueue => ({
      id,
      name: `t${id}`,
      queued,
      longest_wait_ms: wait,
      online_agents: 0,
    })
    expect(sortQueues([q(1, 0, 0), q(2, 3, 10), q(3, 3, 50)]).map((t) => t.id)).toEqual([3, 2, 1])
    const none: TeamQueue = { id: null, name: '', queued: 0, longest_wait_ms: 0, online_agents: 2 }
    expect(sortQueues([none, q(1, 0, 0)]).map((t) => t.id)).toEqual([1, null])
    expect(sortQueues([q(1, 0, 0), { ...none, queued: 1 }]).map((t) => t.id)).toEqual([null, 1])
    const agents = [
      agent(1, 'Off', { status: 'offline' }),
      agent(2, 'Light', { load: 1 }),
      agent(3, 'Heavy', { load: 4 }),
      agent(4, 'Away', { status: 'away' }),
    ]
    expect(sortAgents(agents).map((a) => a.id)).toEqual([3, 2, 4, 1])
  })
})

describe('status and load', () => {
  it('colours the four statuses', () => {
    expect(statusTagType('online')).toBe('success')
    expect(statusTagType('busy')).toBe('warning')
    expect(statusTagType('away')).toBe('primary')
    expect(statusTagType('offline')).toBe('info')
    expect(statusTagType('something-new')).toBe('info')
  })

  it('turns load and capacity into a percentage and a level', () => {
    expect(loadPercent(0, 5)).toBe(0)
    expect(loadPercent(2, 5)).toBe(40)
    expect(loadPercent(7, 5)).toBe(100)
    expect(loadPercent(1, 0)).toBe(100)
    expect(loadPercent(0, 0)).toBe(0)
    expect(loadLevel(2, 5)).toBe('ok')
    expect(loadLevel(4, 5)).toBe('high')
    expect(loadLevel(5, 5)).toBe('full')
    expect(loadLevel(0, 0)).toBe('ok')
    expect(loadLevel(1, 0)).toBe('full')
  })

  it('scales queue bars to the longest and keeps small ones visible', () => {
    expect(barPercent(0, 10)).toBe(0)
    expect(barPercent(10, 10)).toBe(100)
    expect(barPercent(5, 10)).toBe(50)
    expect(barPercent(1, 1000)).toBe(2)
    expect(barPercent(3, 0)).toBe(0)
  })

  it('adds up the queues', () => {
    expect(
      queueTotals([
        { id: 1, name: 'a', queued: 2, longest_wait_ms: 0, online_agents: 3 },
        { id: 2, name: 'b', queued: 5, longest_wait_ms: 0, online_agents: 1 },
      ]),
    ).toEqual({ queued: 7, online: 4 })
  })

  it('names teams from the queues, keys the team-less queue, and marks available agents', () => {
    const names = teamNameMap([
      { id: 3, name: '贷款', queued: 0, longest_wait_ms: 0, online_agents: 0 },
      { id: null, name: '', queued: 1, longest_wait_ms: 0, online_agents: 0 },
    ])
    expect([...names.entries()]).toEqual([[3, '贷款']])
    expect(teamLabels([3, 9], names)).toEqual(['贷款', '#9'])
    expect(queueKey({ id: null, name: '', queued: 0, longest_wait_ms: 0, online_agents: 0 })).toBe('none')
    expect(queueKey({ id: 3, name: '贷款', queued: 0, longest_wait_ms: 0, online_agents: 0 })).toBe('3')
    expect(isAvailable(agent(1, 'a', { load: 4 }))).toBe(true)
    expect(isAvailable(agent(1, 'a', { load: 5 }))).toBe(false)
    expect(isAvailable(agent(1, 'a', { status: 'busy' }))).toBe(false)
  })
})

describe('applyPresence', () => {
  it("replaces the agent with the event's view, or adds a new agent", () => {
    const list = [agent(1, 'a'), agent(2, 'b', { load: 1 })]
    const updated = applyPresence(list, agent(2, 'b', { load: 3, status: 'busy' }))
    expect(updated.map((a) => [a.id, a.load, a.status])).toEqual([
      [1, 0, 'online'],
      [2, 3, 'busy'],
    ])
    expect(list[1]?.load).toBe(1)
    expect(applyPresence(list, agent(5, 'new')).map((a) => a.id)).toEqual([1, 2, 5])
  })
})

describe('assignCandidates', () => {
  it('puts the conversation team first, then online, then the least loaded, and skips the assignee', () => {
    const agents = [
      agent(1, 'Busy in team', { status: 'busy', teams: [3] }),
      agent(2, 'Online other team', { teams: [4] }),
      agent(3, 'Online in team, loaded', { load: 4, teams: [3] }),
      agent(4, 'Online in team, free', { load: 1, teams: [3] }),
      agent(5, 'Offline in team', { status: 'offline', teams: [3] }),
      agent(6, 'Current assignee', { teams: [3] }),
    ]
    const ids = assignCandidates(agents, conversation({ assignee: { id: 6, name: 'x' } })).map((a) => a.id)
    expect(ids).toEqual([4, 3, 1, 5, 2])
  })
})

/** Timers and a clock the test moves by hand. */
function manualTimers(): PollerTimers & { advance(ms: number): void; pending(): number } {
  let now = 0
  let queue: Array<{ fn: () => void; handle: number; at: number }> = []
  let next = 1
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const handle = next++
      queue.push({ fn, handle, at: now + ms })
      return handle
    },
    clearTimeout(handle) {
      queue = queue.filter((t) => t.handle !== handle)
    },
    advance(ms) {
      now += ms
      const due = queue.filter((t) => t.at <= now)
      queue = queue.filter((t) => t.at > now)
      for (const t of due) t.fn()
    },
    pending: () => queue.length,
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve()
}

describe('Poller', () => {
  it('refreshes at once, then after each interval, and stops', async () => {
    const timers = manualTimers()
    const refresh = vi.fn(async () => undefined)
    const poller = new Poller(refresh, 5000, 1000, timers)
    poller.start()
    await flush()
    expect(refresh).toHaveBeenCalledTimes(1)
    timers.advance(4999)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(1)
    timers.advance(1)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
    poller.stop()
    expect(timers.pending()).toBe(0)
    poller.trigger()
    timers.advance(10_000)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
  })

  it('runs one more refresh after triggers that arrive during one, never two at once', async () => {
    const timers = manualTimers()
    let release: () => void = () => undefined
    let concurrent = 0
    let maxConcurrent = 0
    const refresh = vi.fn(
      () =>
        new Promise<void>((resolve) => {
          concurrent += 1
          maxConcurrent = Math.max(maxConcurrent, concurrent)
          release = () => {
            concurrent -= 1
            resolve()
          }
        }),
    )
    const poller = new Poller(refresh, 5000, 1000, timers)
    poller.start()
    poller.trigger()
    poller.trigger()
    poller.trigger()
    timers.advance(1500)
    release()
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
    release()
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
    expect(maxConcurrent).toBe(1)
    expect(timers.pending()).toBe(1)
  })

  it('spaces triggered refreshes by the minimum gap and restarts the interval', async () => {
    const timers = manualTimers()
    const refresh = vi.fn(async () => undefined)
    const poller = new Poller(refresh, 5000, 1000, timers)
    poller.start()
    await flush()
    timers.advance(200)
    poller.trigger()
    poller.trigger()
    await flush()
    expect(refresh).toHaveBeenCalledTimes(1)
    timers.advance(800)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
    timers.advance(4999)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
    timers.advance(1)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(3)
  })

  it('keeps polling after a failed refresh', async () => {
    const timers = manualTimers()
    const refresh = vi.fn(async () => {
      throw new Error('offline')
    })
    const poller = new Poller(refresh, 5000, 1000, timers)
    poller.start()
    await flush()
    timers.advance(5000)
    await flush()
    expect(refresh).toHaveBeenCalledTimes(2)
  })
})

describe('subscribeOverviewEvents', () => {
  it('refreshes on presence, conversation and alert events and on resync, until unsubscribed', () => {
    const handlers = new Map<string, Set<() => void>>()
    const add = (type: string, h: () => void): (() => void) => {
      const set = handlers.get(type) ?? new Set()
      set.add(h)
      handlers.set(type, set)
      return () => set.delete(h)
    }
    const source: OverviewEventSource = { on: add, onResync: (h) => add('resync', h) }
    const onChange = vi.fn()
    const stop = subscribeOverviewEvents(source, onChange)
    for (const type of ['presence', 'conversation.updated', 'conversation.created', 'alert', 'resync']) {
      for (const h of handlers.get(type) ?? []) h()
    }
    expect(onChange).toHaveBeenCalledTimes(5)
    stop()
    expect([...handlers.values()].every((set) => set.size === 0)).toBe(true)
  })

  it('does nothing without a socket', () => {
    expect(() => subscribeOverviewEvents(null, () => undefined)()).not.toThrow()
    expect(() => subscribePresence(null, () => undefined, () => undefined)()).not.toThrow()
  })
})

describe('subscribePresence', () => {
  it("hands over each event's agent view, skips broken payloads, and reports resyncs", () => {
    const presence = new Set<(data: unknown) => void>()
    const resync = new Set<() => void>()
    const source: PresenceSource = {
      on: (_type, h) => {
        presence.add(h)
        return () => presence.delete(h)
      },
      onResync: (h) => {
        resync.add(h)
        return () => resync.delete(h)
      },
    }
    const onAgent = vi.fn()
    const onResync = vi.fn()
    const stop = subscribePresence(source, onAgent, onResync)
    const view = agent(4, '李四', { load: 2, inboxes: [3] })
    for (const h of presence) {
      h(view)
      h({ user_id: 4 })
    }
    for (const h of resync) h()
    expect(onAgent).toHaveBeenCalledTimes(1)
    expect(onAgent).toHaveBeenCalledWith(view)
    expect(onResync).toHaveBeenCalledTimes(1)
    stop()
    expect(presence.size + resync.size).toBe(0)
  })
})
