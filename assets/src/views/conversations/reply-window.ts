/**
 * WeChat's reply window: an Official Account may answer a customer only within 48 hours of the
 * customer's last message (customer-service messages, `45015` once closed). The server gives the
 * window with the conversation (`GET /conversations/{id}`, WeChat inboxes only); the workspace
 * follows it live: the clock closes it, a new customer message opens it again, and the rows that
 * events and actions answer (which never carry it) keep it.
 *
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
import type { ConversationView, MessageView, ReplyWindow } from '../../api/workspace-types'

/** How long WeChat accepts replies after the customer's last message (server `REPLY_WINDOW_MS`). */
export const REPLY_WINDOW_MS = 48 * 3_600_000
/** Less than this left: the notice warns. */
export const CLOSING_SOON_MS = 2 * 3_600_000

export type ReplyWindowState =
  /** Replies are accepted until `closesAt`; `soon` when less than two hours are left. */
  | { state: 'open'; closesAt: number; leftMs: number; soon: boolean }
  /** Replies fail until the customer writes again; `never`: the customer never wrote. */
  | { state: 'closed'; never: boolean }

/** What to tell the agent at `now`; `null` for channels without a window. */
export function replyWindowState(window: ReplyWindow | null | undefined, now: number): ReplyWindowState | null {
  if (window === null || window === undefined) return null
  const closesAt = window.closes_at
  // An open window without an end is not something the server says; nothing sure to tell.
  if (closesAt === null) return window.open ? null : { state: 'closed', never: true }
  if (!window.open || closesAt <= now) return { state: 'closed', never: false }
  const leftMs = closesAt - now
  return { state: 'open', closesAt, leftMs, soon: leftMs < CLOSING_SOON_MS }
}

/** The window after a message of the conversation: the customer's opens it for 48 hours. */
export function windowAfterMessage(
  window: ReplyWindow | undefined,
  message: Pick<MessageView, 'direction' | 'created_at'>,
  now: number,
): ReplyWindow | undefined {
  if (window === undefined || message.direction !== 'incoming') return window
  const closesAt = Math.max(window.closes_at ?? 0, message.created_at + REPLY_WINDOW_MS)
  const open = closesAt > now
  return closesAt === window.closes_at && open === window.open ? window : { open, closes_at: closesAt }
}

/** A new state of the conversation keeps the window the one shown had, unless it brings its own. */
export function keepReplyWindow(shown: ConversationView | null, next: ConversationView): ConversationView {
  const window = shown?.id === next.id ? shown.reply_window : undefined
  return next.reply_window !== undefined || window === undefined ? next : { ...next, reply_window: window }
}
