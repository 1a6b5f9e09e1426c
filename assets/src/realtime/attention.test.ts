// What rings: new queued conversations, assignments to me (once), mentions of me.
import { describe, expect, it } from 'vitest'
import type { ConversationEventData } from '../api/workspace-types'
import { AssignmentMemory, attentionForConversation, attentionForMention } from './attention'

const ME = 4

function event(id: number, assignee: number | null, status: ConversationEventData['status'] = 'open'): ConversationEventData {
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
    alert: null,
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
    expect(attentionForConversation('conversation.created', event(1, null), ME, memory)).toEqual({
      kind: 'new_conversation',
      conversationId: 1,
    })
    expect(attentionForConversation('conversation.created', event(2, ME), ME, memory)?.kind).toBe('assigned')
    expect(attentionForConversation('conversation.created', event(3, 9), ME, memory)).toBeNull()
  })

  it('rings once when a conversation becomes mine, not on later updates', () => {
    const memory = new AssignmentMemory()
    memory.remember([{ id: 5, assignee: { id: ME } }])
    expect(attentionForConversation('conversation.updated', event(5, ME), ME, memory)).toBeNull()
    expect(attentionForConversation('conversation.updated', event(6, null), ME, memory)).toBeNull()
    expect(attentionForConversation('conversation.updated', event(6, ME), ME, memory)?.kind).toBe('assigned')
    expect(attentionForConversation('conversation.updated', event(6, ME), ME, memory)).toBeNull()
    expect(attentionForConversation('conversation.updated', event(7, ME), ME, memory)?.kind).toBe('assigned')
  })

  it('rings for mentions of me only', () => {
    expect(attentionForMention({ conversation_id: 1, message_id: 2, user_id: ME }, ME)).toEqual({
      kind: 'mention',
      conversationId: 1,
    })
    expect(attentionForMention({ conversation_id: 1, message_id: 2, user_id: 9 }, ME)).toBeNull()
  })
})
