/**
 * The open conversation as data: which actions the agent gets, whether the customer can still be
 * reached, who is typing, and the snooze presets. Pure, so the rules are tested without a browser.
 */
import type { Id } from '../../api/types'
import type {
  ConversationView,
  MessageView,
  TypingEvent,
} from '../../api/workspace-types'

// --- actions -----------------------------------------------------------------------------------

export interface ConversationActions {
  /** Take it (unassigned only: the server refuses to claim someone else's). */
  claim: boolean
  resolve: boolean
  reopen: boolean
  pending: boolean
  snooze: boolean
  /** Labels, priority. */
  edit: boolean
  /** Transfer with a note: one's own conversation, or anyone's with `conversations:assign`. */
  transfer: boolean
  /** Assign to anyone or back to the queue (`conversations:assign`). */
  assign: boolean
  /** Write a reply or a note. */
  reply: boolean
}

/**
 * What the caller may do with `conv`, mirroring the server's checks (`src/http/conversations.rs`,
 * `src/engine/actions.rs`): everything needs `conversations:reply`; transferring another agent's
 * conversation and assigning need `conversations:assign`; a resolved conversation cannot be
 * assigned or transferred until reopened.
 */
export function conversationActions(
  conv: Pick<ConversationView, 'status' | 'assignee'>,
  me: Id,
  held: ReadonlySet<string>,
): ConversationActions {
  const reply = held.has('conversations:reply')
  const assignAny = held.has('conversations:assign')
  const resolved = conv.status === 'resolved'
  const mine = conv.assignee?.id === me
  return {
    claim: reply && !resolved && conv.assignee === null,
    resolve: reply && !resolved,
    reopen: reply && conv.status !== 'open',
    pending: reply && conv.status === 'open',
    snooze: reply && !resolved,
    edit: reply,
    transfer: reply && !resolved && (mine || assignAny),
    assign: reply && assignAny && !resolved,
    reply,
  }
}

// --- delivery ----------------------------------------------------------------------------------

/**
 * The reply the customer did not get, when it is the latest reply: the conversation shows why
 * (the channel's failure reason) and offers to send it again. A later reply that went out means
 * the customer can be reached again, so an older failure is only shown on its own message.
 */
export function undeliveredReply(messages: readonly MessageView[]): MessageView | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!
    if (m.direction !== 'outgoing' || m.recalled) continue
    return m.delivery === 'failed' ? m : null
  }
  return null
}

// --- typing ------------------------------------------------------------------------------------

/** A typing state not refreshed for this long is dropped (a lost `typing: false`). */
export const TYPING_TTL_MS = 8_000

/** Who is typing where, until when: key `"<conversation>:<who>"`. */
export type TypingState = ReadonlyMap<string, { conversationId: Id; who: 'contact' | Id; until: number }>

export function applyTyping(state: TypingState, event: TypingEvent, now: number, me: Id): TypingState {
  if (event.who === me) return state
  const key = `${event.conversation_id}:${event.who}`
  const next = new Map(state)
  if (event.typing) next.set(key, { conversationId: event.conversation_id, who: event.who, until: now + TYPING_TTL_MS })
  else next.delete(key)
  return next
}

/** Who is typing in `conversationId` at `now`: the customer first, then agents. */
export function typingIn(state: TypingState, conversationId: Id, now: number): Array<'contact' | Id> {
  const who: Array<'contact' | Id> = []
  for (const entry of state.values()) {
    if (entry.conversationId === conversationId && entry.until > now) who.push(entry.who)
  }
  return who.sort((a, b) => (a === 'contact' ? -1 : b === 'contact' ? 1 : Number(a) - Number(b)))
}

/** The state without what expired (to keep the map small). */
export function pruneTyping(state: TypingState, now: number): TypingState {
  const next = new Map([...state].filter(([, e]) => e.until > now))
  return next.size === state.size ? state : next
}

// --- snooze ------------------------------------------------------------------------------------

export type SnoozePreset = 'oneHour' | 'threeHours' | 'tomorrow' | 'nextWeek'

export const SNOOZE_PRESETS: readonly SnoozePreset[] = ['oneHour', 'threeHours', 'tomorrow', 'nextWeek']

/**
 * When a preset snoozes until, in the browser's local time: one or three hours from now,
 * tomorrow 09:00, or next Monday 09:00.
 */
export function snoozeUntil(preset: SnoozePreset, now: number): number {
  const d = new Date(now)
  switch (preset) {
    case 'oneHour':
      return now + 3_600_000
    case 'threeHours':
      return now + 3 * 3_600_000
    case 'tomorrow':
      d.setDate(d.getDate() + 1)
      d.setHours(9, 0, 0, 0)
      return d.getTime()
    case 'nextWeek': {
      const day = d.getDay() // 0 Sunday … 6 Saturday
      d.setDate(d.getDate() + (day === 0 ? 1 : 8 - day))
      d.setHours(9, 0, 0, 0)
      return d.getTime()
    }
  }
}

// --- labels ------------------------------------------------------------------------------------

/** Labels as the server keeps them: trimmed, 1–40 printable characters, no duplicates, ≤ 20. */
export function cleanLabels(labels: readonly string[]): { labels: string[]; valid: boolean } {
  const out: string[] = []
  let valid = true
  for (const raw of labels) {
    const l = raw.trim()
    // eslint-disable-next-line no-control-regex
    if (l.length === 0 || Array.from(l).length > 40 || /[\u0000-\u001f\u007f]/.test(l)) {
      valid = false
      continue
    }
    if (!out.includes(l)) out.push(l)
  }
  if (out.length > 20) valid = false
  return { labels: out, valid }
}
