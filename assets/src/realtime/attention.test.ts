// What rings: new queued conversations, assignments to me (once), mentions of me, and reply-time
// alerts of my or queued conversations (once per change).
import { describe, expect, it } from 'vitest'
import type { ConversationEventData } from '../api/workspace-types'
import {
  AlertMemory,
  AssignmentMemory,
  attentionForAlert,
  attentionForConversation,
  attentionForMention,
} from './attention'

const ME = 4

function event(
  id: number,
  assignee: number | null,
  status: ConversationEventData['status'] = 'open',
  alert: ConversationEventData['alert'] = null,
): ConversationEventData {
  return {
    id,
    cursor: '',
    contact: { id: 1, name: '张**', vip: false },
    inbox: { id: 1, name: 'web', channel: 'web' },
    team_id: null,
    assignee: assignee === null ? null : { id: assignee, name: 'x' },
    status,
    priority: 'normal',
    labels: [],
    waiting_since: null,
    last_activity_at: 0,
    last_message: null,
    alert,
    queue: null,
    queued_at: null,
    snoozed_until: null,
    created_at: 0,
    updated_at: 0,
  }
}

describe('attention', () => {
  it('rings for a new conversation in the queue and for one routed to me', () => {
    const memory = new AssignmentMemory()
    const alerts = new AlertMemory()
    expect(attentionForConversation('conversation.created', event(1, null), ME, memory, alerts)).toEqual({
      kind: 'new_conversation',
      conversationId: 1,
    })
    expect(attentionForConversation('conversation.created', event(2, ME), ME, memory, alerts)?.kind).toBe('assigned')
    expect(attentionForConversation('conversation.created', event(3, 9), ME, memory, alerts)).toBeNull()
  })

  it('rings once when a conversation becomes mine, not on later updates', () => {
    const memory = new AssignmentMemory()
    const alerts = new AlertMemory()
    const updated = (e: ConversationEventData) => attentionForConversation('conversation.updated', e, ME, memory, alerts)
    memory.remember([{ id: 5, assignee: { id: ME } }])
    expect(updated(event(5, ME))).toBeNull()
    expect(updated(event(6, null))).toBeNull()
    expect(updated(event(6, ME))?.kind).toBe('assigned')
    expect(updated(event(6, ME))).toBeNull()
    expect(updated(event(7, ME))?.kind).toBe('assigned')
  })

  it('rings once when a conversation of mine goes overdue, not on later updates', () => {
    const memory = new AssignmentMemory()
    const alerts = new AlertMemory()
    const updated = (e: ConversationEventData) => attentionForConversation('conversation.updated', e, ME, memory, alerts)
    const seed = [event(5, ME)]
    memory.remember(seed)
    alerts.remember(seed)
    expect(updated(event(5, ME))).toBeNull()
    expect(updated(event(5, ME, 'open', 'first_response'))).toEqual({ kind: 'overdue', conversationId: 5 })
    expect(updated(event(5, ME, 'open', 'first_response'))).toBeNull()
    // Answered (the alert clears), then the customer waits too long again.
    expect(updated(event(5, ME))).toBeNull()
    expect(updated(event(5, ME, 'open', 'next_response'))?.kind).toBe('overdue')
    expect(updated(event(5, ME, 'open', 'next_response'))).toBeNull()
  })

  it('rings for an overdue conversation waiting in my queue, not for a colleague\'s', () => {
    const alerts = new AlertMemory()
    alerts.remember([event(1, null), event(2, 9)])
    expect(attentionForAlert(event(1, null, 'open', 'first_response'), ME, alerts)?.kind).toBe('overdue')
    expect(attentionForAlert(event(2, 9, 'open', 'first_response'), ME, alerts)).toBeNull()
    // Taken by me while overdue: the alert was already seen (the assignment rings instead).
    const memory = new AssignmentMemory()
    memory.remember([event(1, null)])
    expect(
      attentionForConversation('conversation.updated', event(1, ME, 'open', 'first_response'), ME, memory, alerts),
    ).toEqual({ kind: 'assigned', conversationId: 1 })
    // A colleague's alert seen before it became mine does not ring either.
    memory.remember([event(2, 9)])
    expect(
      attentionForConversation('conversation.updated', event(2, ME, 'open', 'first_response'), ME, memory, alerts)?.kind,
    ).toBe('assigned')
    expect(
      attentionForConversation('conversation.updated', event(2, ME, 'open', 'first_response'), ME, memory, alerts),
    ).toBeNull()
  })

  it('rings for an alert never seen, and not for closed conversations', () => {
    const alerts = new AlertMemory()
    expect(attentionForAlert(event(3, ME, 'open', 'next_response'), ME, alerts)?.kind).toBe('overdue')
    expect(attentionForAlert(event(4, null, 'resolved', 'first_response'), ME, alerts)).toBeNull()
    expect(attentionForAlert(event(5, null, 'snoozed', 'first_response'), ME, alerts)).toBeNull()
    expect(attentionForAlert(event(6, null), ME, alerts)).toBeNull()
  })

  it('rings once for an assignment that arrives overdue', () => {
    const memory = new AssignmentMemory()
    const alerts = new AlertMemory()
    const data = event(8, ME, 'open', 'first_response')
    expect(attentionForConversation('conversation.updated', data, ME, memory, alerts)?.kind).toBe('assigned')
    expect(attentionForConversation('conversation.updated', data, ME, memory, alerts)).toBeNull()
    // A new conversation routed straight to the queue while overdue is announced as new.
    const queued = event(9, null, 'open', 'first_response')
    expect(attentionForConversation('conversation.created', queued, ME, memory, alerts)?.kind).toBe('new_conversation')
    expect(attentionForConversation('conversation.updated', queued, ME, memory, alerts)).toBeNull()
  })

  it('rings for mentions of me only', () => {
    expect(attentionForMention({ conversation_id: 1, message_id: 2, user_id: ME }, ME)).toEqual({
      kind: 'mention',
      conversationId: 1,
    })
    expect(attentionForMention({ conversation_id: 1, message_id: 2, user_id: 9 }, ME)).toBeNull()
  })
})
