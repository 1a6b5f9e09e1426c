import { describe, expect, it } from 'vitest'
import type { MessageView } from '../../api/workspace-types'
import {
  applyTyping,
  cleanLabels,
  conversationActions,
  pruneTyping,
  snoozeUntil,
  typingIn,
  undeliveredReply,
  type TypingState,
} from './conversation-model'

const agent = new Set(['conversations:read', 'conversations:reply'])
const supervisor = new Set([...agent, 'conversations:assign'])

describe('conversation actions', () => {
  it('lets an agent claim only an unassigned conversation and transfer only their own', () => {
    const queued = conversationActions({ status: 'open', assignee: null }, 1, agent)
    expect(queued.claim).toBe(true)
    expect(queued.transfer).toBe(false)
    const someoneElses = conversationActions({ status: 'open', assignee: { id: 2, name: 'B' } }, 1, agent)
    expect(someoneElses.claim).toBe(false)
    expect(someoneElses.transfer).toBe(false)
    expect(someoneElses.assign).toBe(false)
    const mine = conversationActions({ status: 'open', assignee: { id: 1, name: 'A' } }, 1, agent)
    expect(mine.transfer).toBe(true)
    expect(mine.resolve).toBe(true)
    expect(mine.reopen).toBe(false)
  })

  it('gives supervisors transfer and assign of anyone’s conversation', () => {
    const a = conversationActions({ status: 'open', assignee: { id: 2, name: 'B' } }, 1, supervisor)
    expect(a.transfer).toBe(true)
    expect(a.assign).toBe(true)
  })

  it('offers reopen instead of resolve on a resolved conversation', () => {
    const a = conversationActions({ status: 'resolved', assignee: { id: 1, name: 'A' } }, 1, supervisor)
    expect(a.resolve).toBe(false)
    expect(a.reopen).toBe(true)
    expect(a.transfer).toBe(false)
    expect(a.assign).toBe(false)
  })

  it('gives readers nothing', () => {
    const a = conversationActions({ status: 'open', assignee: null }, 1, new Set(['conversations:read']))
    expect(Object.values(a).every((v) => v === false)).toBe(true)
  })
})

function msg(id: number, patch: Partial<MessageView>): MessageView {
  return {
    id,
    conversation_id: 1,
    direction: 'outgoing',
    kind: 'text',
    body: 'x',
    content: null,
    attachments: [],
    sender: { type: 'agent', id: 1, name: 'A' },
    delivery: 'sent',
    failure_reason: null,
    recalled: false,
    mentions: [],
    created_at: id,
    ...patch,
  }
}

describe('undelivered reply', () => {
  it('is the latest reply when it failed', () => {
    const failed = msg(2, { delivery: 'failed', failure_reason: '48h window closed' })
    expect(undeliveredReply([msg(1, {}), failed, msg(3, { direction: 'incoming', delivery: null })])).toBe(failed)
  })

  it('is nothing once a later reply went out, or with no replies', () => {
    expect(undeliveredReply([msg(1, { delivery: 'failed' }), msg(2, { delivery: 'delivered' })])).toBeNull()
    expect(undeliveredReply([msg(1, { direction: 'incoming', delivery: null })])).toBeNull()
    expect(undeliveredReply([msg(1, { delivery: 'failed' }), msg(2, { direction: 'note', delivery: null })])).not.toBeNull()
  })
})

describe('typing', () => {
  it('tracks the customer and other agents, not me, and expires', () => {
    let s: TypingState = new Map()
    s = applyTyping(s, { conversation_id: 5, who: 'contact', typing: true }, 0, 1)
    s = applyTyping(s, { conversation_id: 5, who: 7, typing: true }, 0, 1)
    s = applyTyping(s, { conversation_id: 5, who: 1, typing: true }, 0, 1)
    s = applyTyping(s, { conversation_id: 6, who: 8, typing: true }, 0, 1)
    expect(typingIn(s, 5, 1000)).toEqual(['contact', 7])
    s = applyTyping(s, { conversation_id: 5, who: 'contact', typing: false }, 1000, 1)
    expect(typingIn(s, 5, 1000)).toEqual([7])
    expect(typingIn(s, 5, 60_000)).toEqual([])
    expect(pruneTyping(s, 60_000).size).toBe(0)
  })
})

describe('snooze presets', () => {
  it('snoozes to tomorrow and next Monday at nine', () => {
    const wednesday = new Date(2026, 2, 4, 15, 30).getTime()
    expect(new Date(snoozeUntil('tomorrow', wednesday))).toEqual(new Date(2026, 2, 5, 9, 0))
    expect(new Date(snoozeUntil('nextWeek', wednesday))).toEqual(new Date(2026, 2, 9, 9, 0))
    const sunday = new Date(2026, 2, 8, 10, 0).getTime()
    expect(new Date(snoozeUntil('nextWeek', sunday))).toEqual(new Date(2026, 2, 9, 9, 0))
    expect(snoozeUntil('oneHour', 0)).toBe(3_600_000)
  })
})

describe('labels', () => {
  it('trims, dedupes and flags what the server refuses', () => {
    expect(cleanLabels([' 账单 ', '账单', 'vip'])).toEqual({ labels: ['账单', 'vip'], valid: true })
    expect(cleanLabels(['', 'a']).valid).toBe(false)
    expect(cleanLabels(['x'.repeat(41)]).valid).toBe(false)
  })
})

describe('presence events', () => {
  it('reads the agent view, and refuses payloads that are not one', async () => {
    const { presenceAgent } = await import('../../api/workspace-types')
    const full = {
      id: 4,
      name: '李四',
      status: 'online',
      chosen_status: 'online',
      load: 2,
      capacity: 5,
      skills: ['loans'],
      teams: [1],
      inboxes: [3],
    }
    expect(presenceAgent(full)).toEqual(full)
    // An older server without `inboxes`: the lists default to empty.
    const withoutInboxes: Record<string, unknown> = { ...full }
    delete withoutInboxes.inboxes
    expect(presenceAgent(withoutInboxes)?.inboxes).toEqual([])
    expect(presenceAgent({ user_id: 7 })).toBeNull()
    expect(presenceAgent({ ...full, load: '2' })).toBeNull()
    expect(presenceAgent({ ...full, status: 'sleeping' })).toBeNull()
    expect(presenceAgent(null)).toBeNull()
  })
})
