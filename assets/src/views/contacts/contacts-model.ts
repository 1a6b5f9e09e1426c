/**
 * Contacts as data: editing custom attributes within the server's limits, folding a reveal into
 * the card, paging the contact list, and naming where a timeline message came from. Pure.
 */
import type { Id } from '../../api/types'
import type {
  ContactConversation,
  ContactSummary,
  ContactView,
  RevealedContact,
} from '../../api/workspace-types'

// --- custom attributes -------------------------------------------------------------------------

/** The server's limits (`src/http/contacts.rs` `update`). */
export const MAX_ATTRIBUTES = 50
export const MAX_ATTRIBUTE_KEY = 40
export const MAX_ATTRIBUTE_VALUE = 500

/** One editable attribute: its name, its value as text, and the type it had. */
export interface AttributeRow {
  key: string
  value: string
  type: 'string' | 'number' | 'boolean'
}

/** The attributes as rows, sorted by name. Nested values (not allowed by the server) as JSON. */
export function attributeRows(attributes: Record<string, unknown>): AttributeRow[] {
  return Object.keys(attributes)
    .sort((a, b) => a.localeCompare(b))
    .map((key) => {
      const v = attributes[key]
      if (typeof v === 'number') return { key, value: String(v), type: 'number' as const }
      if (typeof v === 'boolean') return { key, value: String(v), type: 'boolean' as const }
      if (v === null || v === undefined) return { key, value: '', type: 'string' as const }
      return { key, value: typeof v === 'string' ? v : JSON.stringify(v), type: 'string' as const }
    })
}

export type AttributeProblem = 'emptyKey' | 'keyTooLong' | 'duplicateKey' | 'valueTooLong' | 'tooMany'

/**
 * The rows as the object `PUT /contacts/{id}` takes, or the first problem. Empty rows (no name,
 * no value) are dropped. A number or yes/no value keeps its type while it still reads as one.
 */
export function attributesFromRows(
  rows: readonly AttributeRow[],
): { attributes: Record<string, string | number | boolean>; problem: null } | { attributes: null; problem: AttributeProblem } {
  const out: Record<string, string | number | boolean> = {}
  const kept = rows.filter((r) => r.key.trim().length > 0 || r.value.trim().length > 0)
  if (kept.length > MAX_ATTRIBUTES) return { attributes: null, problem: 'tooMany' }
  for (const row of kept) {
    const key = row.key.trim()
    if (key.length === 0) return { attributes: null, problem: 'emptyKey' }
    if (Array.from(key).length > MAX_ATTRIBUTE_KEY) return { attributes: null, problem: 'keyTooLong' }
    if (Object.prototype.hasOwnProperty.call(out, key)) return { attributes: null, problem: 'duplicateKey' }
    const text = row.value.trim()
    if (Array.from(text).length > MAX_ATTRIBUTE_VALUE) return { attributes: null, problem: 'valueTooLong' }
    if (row.type === 'number' && text.length > 0 && Number.isFinite(Number(text))) out[key] = Number(text)
    else if (row.type === 'boolean' && (text === 'true' || text === 'false')) out[key] = text === 'true'
    else out[key] = text
  }
  return { attributes: out, problem: null }
}

// --- reveal ------------------------------------------------------------------------------------

/** The card with the revealed PII in place of the masked values. */
export function withRevealed(contact: ContactView, revealed: RevealedContact): ContactView {
  return {
    ...contact,
    name: revealed.name,
    phone: revealed.phone,
    email: revealed.email,
    id_number: revealed.id_number,
    address: revealed.address,
    masked: revealed.masked,
  }
}

/** The PII fields the card shows, in order. */
export const CARD_FIELDS = ['name', 'phone', 'email', 'id_number', 'address'] as const
export type CardField = (typeof CARD_FIELDS)[number]

// --- list --------------------------------------------------------------------------------------

/** Adds an older page, ignoring contacts already shown. */
export function appendContacts(rows: readonly ContactSummary[], page: readonly ContactSummary[]): ContactSummary[] {
  const seen = new Set(rows.map((r) => r.id))
  return [...rows, ...page.filter((r) => !seen.has(r.id))]
}

/** The search text as the server expects it: trimmed, `''` for none; at most 100 characters. */
export function normaliseQuery(q: string): string {
  return Array.from(q.trim()).slice(0, 100).join('')
}

// --- timeline ----------------------------------------------------------------------------------

/** `官网 · #12` for a timeline message: the inbox (channel) and conversation it belongs to. */
export function conversationOrigin(
  conversations: readonly ContactConversation[],
  conversationId: Id,
  channelName: (channel: string) => string,
): { inbox: string | null; channel: string | null; id: Id } {
  const c = conversations.find((x) => x.id === conversationId)
  return {
    inbox: c?.inbox?.name ?? null,
    channel: c?.inbox ? channelName(c.inbox.channel) : null,
    id: conversationId,
  }
}

/** Identity kinds the server knows (`IdentityKind`), each with a `ws.identity.*` message. */
export const IDENTITY_KINDS = ['visitor', 'openid', 'unionid', 'external', 'email', 'phone'] as const

export function identityKindKey(kind: string): string {
  return (IDENTITY_KINDS as readonly string[]).includes(kind) ? `ws.identity.${kind}` : 'ws.identity.other'
}
