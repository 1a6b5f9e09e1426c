/**
 * The open conversation's message history as data: merging pages, realtime events and the
 * answers of send/resend/recall without duplicates, and how each message is presented.
 */
import type { Id } from '../../api/types'
import type { AttachmentView, MessageView, UnsupportedContent } from '../../api/workspace-types'

function byTime(a: MessageView, b: MessageView): number {
  return a.created_at - b.created_at || a.id - b.id
}

/**
 * `incoming` merged into `existing`, oldest first. A message already present is replaced by the
 * incoming version (a delivery update, a recall), so the same message arriving from the send
 * answer and from the socket shows once.
 */
export function mergeMessages(
  existing: readonly MessageView[],
  incoming: readonly MessageView[],
): MessageView[] {
  const byId = new Map<Id, MessageView>()
  for (const m of existing) byId.set(m.id, m)
  for (const m of incoming) byId.set(m.id, m)
  return [...byId.values()].sort(byTime)
}

/** The id to mark read up to: the newest message. */
export function newestId(messages: readonly MessageView[]): Id | null {
  return messages.length === 0 ? null : messages[messages.length - 1]!.id
}

/** Styling family of a message bubble. */
export type BubbleKind = 'incoming' | 'outgoing' | 'note' | 'system'

export function bubbleKind(message: MessageView): BubbleKind {
  return message.direction
}

/** Attachments shown inline as pictures (only types browsers render safely as images). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export function isInlineImage(attachment: Pick<AttachmentView, 'content_type'>): boolean {
  return INLINE_IMAGES.has(attachment.content_type.toLowerCase())
}

/** `1.2 MB`, `340 KB`, `12 B`. */
export function formatBytes(size: number): string {
  if (!Number.isFinite(size) || size < 0) return ''
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${Math.round(size / 1024)} KB`
  return `${(size / (1024 * 1024)).toFixed(1)} MB`
}

/** Same-day messages show the time only; older ones the date too. */
export function sameDay(a: number, b: number): boolean {
  const x = new Date(a)
  const y = new Date(b)
  return (
    x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate()
  )
}

/** `31.2304, 121.4737` for a location without a label. */
export function formatCoordinates(latitude: number, longitude: number): string {
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return ''
  return `${latitude.toFixed(4)}, ${longitude.toFixed(4)}`
}

/**
 * The type and raw payload of an `unsupported` message, as text whatever the server stored
 * (missing parts are empty).
 */
export function unsupportedContent(content: unknown): UnsupportedContent {
  const c = typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {}
  return {
    type: typeof c.type === 'string' ? c.type.trim() : '',
    raw: typeof c.raw === 'string' ? c.raw : '',
  }
}

/** A custom attribute value as text (objects as JSON); never HTML. */
export function attributeText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  try {
    return JSON.stringify(value)
  } catch {
    return ''
  }
}
