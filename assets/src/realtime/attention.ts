/**
 * Which realtime events deserve the agent's attention (a desktop notification and a sound): a new
 * conversation waiting in the queue, a conversation assigned to me, a mention of me in a note.
 *
 * "Assigned to me" needs to know who had it before: {@link AssignmentMemory} remembers the last
 * assignee of every conversation seen in a list or an event, so an update of a conversation that
 * was already mine (a new customer message) does not ring as a new assignment.
 */
import type { Id } from '../api/types'
import type { ConversationEventData, MentionEvent } from '../api/workspace-types'

export type AttentionKind = 'new_conversation' | 'assigned' | 'mention'

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

/**
 * The attention a conversation event asks of user `me`, and updates the memory. An unknown
 * conversation updated to me counts as assigned: the memory is seeded with my open
 * conversations at start, so an unknown one was not mine.
 */
export function attentionForConversation(
  type: 'conversation.created' | 'conversation.updated',
  data: ConversationEventData,
  me: Id,
  memory: AssignmentMemory,
): Attention | null {
  const before = memory.previous(data.id)
  memory.remember([data])
  const nowMine = data.assignee?.id === me
  if (type === 'conversation.created') {
    if (nowMine) return { kind: 'assigned', conversationId: data.id }
    if (data.assignee === null && data.status === 'open') {
      return { kind: 'new_conversation', conversationId: data.id }
    }
    return null
  }
  if (nowMine && before !== me) return { kind: 'assigned', conversationId: data.id }
  return null
}

export function attentionForMention(event: MentionEvent, me: Id): Attention | null {
  return event.user_id === me ? { kind: 'mention', conversationId: event.conversation_id } : null
}
