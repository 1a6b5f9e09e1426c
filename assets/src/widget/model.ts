/**
 * The chat window's state, without the DOM: the messages the server sent (merged by id, in
 * order) and the visitor's messages still on their way (shown until the server has them).
 */

/** A file of a message. */
export interface WidgetAttachment {
  id: number
  name: string
  content_type: string
  size: number
}

/** A message as `GET /hooks/web/{inbox}/messages` returns it. */
export interface WidgetMessage {
  id: number
  direction: 'incoming' | 'outgoing'
  kind: string
  body: string
  attachments?: WidgetAttachment[]
  sender: string | null
  recalled: boolean
  created_at: number
}

export interface WidgetConversation {
  id: number
  status: string
  rated: boolean
  /** Waiting for an agent. */
  queue?: { position: number; estimated_wait_secs: number } | null
}

export interface Poll {
  messages: WidgetMessage[]
  conversation: WidgetConversation | null
  after: number
  /** An agent is typing a reply. */
  agent_typing?: boolean
  /** The visitor's messages up to this id were read by an agent. */
  agent_read_up_to?: number
  /** The window's own id of each of the visitor's messages above, by message id. */
  client_ids?: Record<string, string>
}

/** An agent's "typing" shown without being repeated (the server's TTL). */
export const AGENT_TYPING_MS = 6000

/** A message the visitor sent that the server has not returned yet. */
export interface Pending {
  clientId: string
  body: string
  /** A picture or file being sent (its name is the body). */
  file?: File
  state: 'sending' | 'failed'
  /** The stored message's id once the server answered. */
  messageId: number | null
}

export class ChatModel {
  messages: WidgetMessage[] = []
  pending: Pending[] = []
  conversation: WidgetConversation | null = null
  after = 0
  /** Until when "the agent is typing" shows (ms). */
  agentTypingUntil = 0
  /** The visitor's messages up to this id were read by an agent. */
  agentReadUpTo = 0
  /** The newest reply this window already reported as delivered / read. */
  reported = { delivered: 0, read: 0 }

  /** Merge a poll's answer; returns whether anything visible changed. */
  merge(p: Poll, now: number = Date.now()): boolean {
    let changed = false
    const typingUntil = p.agent_typing === true && p.messages.every((m) => m.direction !== 'outgoing') ? now + AGENT_TYPING_MS : 0
    if ((typingUntil > 0) !== (this.agentTypingUntil > now)) changed = true
    this.agentTypingUntil = typingUntil
    for (const m of p.messages) {
      const at = this.messages.findIndex((x) => x.id === m.id)
      if (at >= 0) this.messages[at] = m
      else this.messages.push(m)
      changed = true
    }
    if (changed) this.messages.sort((a, b) => a.id - b.id)
    const known = new Set(this.messages.map((m) => m.id))
    const stored = new Set(Object.values(p.client_ids ?? {}))
    const before = this.pending.length
    // Gone once stored: known by its id (the send answered) or by the window's own id (the
    // stored copy came back first).
    this.pending = this.pending.filter((x) => !stored.has(x.clientId) && (x.messageId === null || !known.has(x.messageId)))
    changed ||= before !== this.pending.length
    const c = p.conversation
    const prev = this.conversation
    const queueOf = (x: WidgetConversation | null): string => JSON.stringify(x?.queue ?? null)
    if (
      c !== null &&
      (prev === null || prev.id !== c.id || prev.status !== c.status || prev.rated !== c.rated || queueOf(prev) !== queueOf(c))
    ) {
      this.conversation = c
      changed = true
    }
    const read = p.agent_read_up_to ?? 0
    if (read > this.agentReadUpTo) {
      this.agentReadUpTo = read
      changed = true
    }
    this.after = Math.max(this.after, p.after)
    return changed
  }

  /** The visitor's latest message and whether an agent has read it (shown under it). */
  get lastMine(): { id: number; read: boolean } | null {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]
      if (m !== undefined && m.direction === 'incoming') return { id: m.id, read: m.id <= this.agentReadUpTo }
    }
    return null
  }

  /**
   * The receipt to send for the replies shown (`read` when the visitor has the window open and
   * in view, else `delivered`), or null when there is nothing new to report. Marks it reported.
   */
  receipt(seen: boolean): { up_to: number; state: 'read' | 'delivered' } | null {
    let newest = 0
    for (const m of this.messages) if (m.direction === 'outgoing' && m.id > newest) newest = m.id
    const state = seen ? 'read' : 'delivered'
    if (newest === 0 || newest <= this.reported[state] || newest <= this.reported.read) return null
    this.reported[state] = newest
    return { up_to: newest, state }
  }

  /** The visitor's place in the queue while nobody has taken the conversation. */
  get queue(): { position: number; minutes: number } | null {
    const q = this.conversation?.status === 'open' ? this.conversation.queue : null
    if (q === null || q === undefined || q.position < 1) return null
    return { position: q.position, minutes: Math.ceil(Math.max(0, q.estimated_wait_secs) / 60) }
  }

  agentTyping(now: number = Date.now()): boolean {
    return this.agentTypingUntil > now
  }

  /** Whether to offer the rating form. */
  get wantsRating(): boolean {
    const c = this.conversation
    return c !== null && c.status === 'resolved' && !c.rated
  }

  add(clientId: string, body: string, file?: File): Pending {
    const p: Pending = { clientId, body, state: 'sending', messageId: null, file }
    this.pending.push(p)
    return p
  }
}

/** A file size for people: 980 B, 12.3 KB, 4.5 MB. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Common emoji offered by the chat window's picker. */
export const EMOJI = [
  '😀', '😂', '😊', '😍', '🤔', '😅', '😭', '😡', '👍', '👎', '👏', '🙏',
  '💪', '🤝', '👌', '✌️', '❤️', '💔', '🎉', '🌹', '☕', '⏰', '✅', '❌',
] as const
