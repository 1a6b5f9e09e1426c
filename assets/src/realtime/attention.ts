/**
 * Which realtime events deserve the agent's attention (a desktop notification and a sound): a new
 * conversation waiting in the queue, a conversation assigned to me, a mention of me in a note,
 * and a customer of mine (or of my queue) waiting past the inbox's reply-time limit.
 *
 * "Assigned to me" needs to know who had it before: {@link AssignmentMemory} remembers the last
 * assignee of every conversation seen in a list or an event, so an update of a conversation that
 * was already mine (a new customer message) does not ring as a new assignment. "Overdue" works
 * the same way with {@link AlertMemory}: the server repeats a conversation's `alert` on every
 * update, so only a change to an alert rings, once.
 */
import type { Id } from '../api/types'
import type { AlertKind, ConversationEventData, MentionEvent } from '../api/workspace-types'

export type AttentionKind = 'new_conversation' | 'assigned' | 'mention' | 'overdue'

export interface Attention {
  kind: AttentionKind
  conversationId: Id
}

export class AssignmentMemory {
  private readonly assignees = new Map<Id, Id | null>()

  remember(rows: ReadonlyArray<{ id: Id; assignee: { id: Id } | null }>): void {
    for (const row of rows) this.assignees.set(row.id, row.assignee?.id ?? null)
  }

  /** The assignee last seen, `undefined` when the conversation was never seen. */
  previous(id: Id): Id | null | undefined {
    return this.assignees.get(id)
  }
}

/** The reply-time alert last seen of every conversation seen in a list or an event. */
export class AlertMemory {
  private readonly alerts = new Map<Id, AlertKind | null>()

  remember(rows: ReadonlyArray<{ id: Id; alert: AlertKind | null }>): void {
    for (const row of rows) this.alerts.set(row.id, row.alert)
  }

  /** The alert last seen (`null`: none), `undefined` when the conversation was never seen. */
  previous(id: Id): AlertKind | null | undefined {
    return this.alerts.get(id)
  }
}

/**
 * Whether the event raises a reply-time alert user `me` should hear about, and updates the
 * memory: the conversation is open, mine or waiting unassigned in the queue (which the server
 * only sends to agents who may take it, as for new conversations), and its alert changed to one
 * not seen before. A conversation never seen counts as a change: the memory is seeded with my
 * open conversations and the open queue at start, so an unknown alert is a new one.
 */
export function attentionForAlert(data: ConversationEventData, me: Id, alerts: AlertMemory): Attention | null {
  const before = alerts.previous(data.id)
  alerts.remember([data])
  if (data.alert === null || data.alert === before || data.status !== 'open') return null
  const mineOrQueued = data.assignee === null || data.assignee.id === me
  return mineOrQueued ? { kind: 'overdue', conversationId: data.id } : null
}

/**
 * The attention a conversation event asks of user `me`, and updates both memories. An unknown
 * conversation updated to me counts as assigned: the memory is seeded with my open
 * conversations at start, so an unknown one was not mine. An assignment and an alert in one
 * event ring once, as the assignment (the alert is remembered and does not ring later).
 */
export function attentionForConversation(
  type: 'conversation.created' | 'conversation.updated',
  data: ConversationEventData,
  me: Id,
  memory: AssignmentMemory,
  alerts: AlertMemory,
): Attention | null {
  const before = memory.previous(data.id)
  memory.remember([data])
  const overdue = attentionForAlert(data, me, alerts)
  const nowMine = data.assignee?.id === me
  if (type === 'conversation.created') {
    if (nowMine) return { kind: 'assigned', conversationId: data.id }
    if (data.assignee === null && data.status === 'open') {
      return { kind: 'new_conversation', conversationId: data.id }
    }
    return overdue
  }
  if (nowMine && before !== me) return { kind: 'assigned', conversationId: data.id }
  return overdue
}

export function attentionForMention(event: MentionEvent, me: Id): Attention | null {
  return event.user_id === me ? { kind: 'mention', conversationId: event.conversation_id } : null
}
