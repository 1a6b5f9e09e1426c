/**
 * Canned replies: the variables a body may contain, the checks of the reply form, and how the
 * page lists personal and shared replies.
 *
 * The server fills the variables when an agent inserts the reply into a conversation
 * (`POST /conversations/{id}/render`); unknown ones stay as typed, so the form warns about them.
 */
import type { CannedReply } from '../../api/settings2-types'

/** The variables the server fills, with the message key describing each. */
export const CANNED_VARIABLES = [
  { token: '{{contact.name}}', key: 'settings2.canned.variables.contactName' },
  { token: '{{agent.name}}', key: 'settings2.canned.variables.agentName' },
  { token: '{{inbox.name}}', key: 'settings2.canned.variables.inboxName' },
] as const

/** The server's limits (`src/http/canned.rs`), in characters. */
export const MAX_SHORTCUT_LENGTH = 32
export const MAX_TITLE_LENGTH = 100
export const MAX_BODY_LENGTH = 5000

const VARIABLE = /\{\{\s*([^{}]*?)\s*\}\}/g

/** Characters as the server counts them (code points). */
function chars(text: string): number {
  return [...text].length
}

/** The `{{…}}` names in `body` the server does not know (each once, as written). */
export function unknownVariables(body: string): string[] {
  const known = new Set<string>(CANNED_VARIABLES.map((v) => v.token.slice(2, -2)))
  const out: string[] = []
  for (const match of body.matchAll(VARIABLE)) {
    const name = match[1] ?? ''
    if (!known.has(name) && !out.includes(name)) out.push(name)
  }
  return out
}

/**
 * `body` with the known variables written exactly as the server replaces them
 * (`{{contact.name}}`, no inner spaces) filled from `values`; others are left as typed, like the
 * server does.
 */
export function fillVariables(body: string, values: Readonly<Record<string, string>>): string {
  let out = body
  for (const v of CANNED_VARIABLES) {
    const value = values[v.token]
    if (value !== undefined) out = out.split(v.token).join(value)
  }
  return out
}

/**
 * Variables typed with spaces inside the braces (`{{ agent.name }}`): the server replaces only
 * the exact spelling, so these would reach the customer as typed.
 */
export function looselyWrittenVariables(body: string): string[] {
  const known = new Set<string>(CANNED_VARIABLES.map((v) => v.token))
  const out: string[] = []
  for (const match of body.matchAll(VARIABLE)) {
    const exact = `{{${match[1] ?? ''}}}`
    if (known.has(exact) && match[0] !== exact && !out.includes(match[0])) out.push(match[0])
  }
  return out
}

/** `body` with `token` inserted at the cursor (`at`, clamped), and the cursor after it. */
export function insertVariable(body: string, token: string, at: number): { body: string; cursor: number } {
  const i = Math.max(0, Math.min(body.length, at))
  return { body: body.slice(0, i) + token + body.slice(i), cursor: i + token.length }
}

/** A shortcut as stored: trimmed, without a leading `/` typed out of habit. */
export function normaliseShortcut(shortcut: string): string {
  return shortcut.trim().replace(/^\/+/, '')
}

export type CannedProblemCode =
  | 'shortcut_required'
  | 'shortcut_spaces'
  | 'shortcut_slash'
  | 'shortcut_too_long'
  | 'shortcut_taken'
  | 'title_too_long'
  | 'body_required'
  | 'body_too_long'

export interface CannedForm {
  shortcut: string
  title: string
  body: string
  shared: boolean
}

/**
 * Every problem of the form, as the server checks it: a shortcut of 1–32 characters without
 * spaces, control characters or `/`, unique (ignoring case) among the user's own replies or
 * among the shared ones; an optional title of at most 100 characters; a body of 1–5000.
 * `existing` are the replies the user can see.
 */
export function validateCanned(
  form: CannedForm,
  existing: readonly CannedReply[],
  editingId: number | null,
): CannedProblemCode[] {
  const problems: CannedProblemCode[] = []
  const shortcut = normaliseShortcut(form.shortcut)
  if (shortcut.length === 0) problems.push('shortcut_required')
  // eslint-disable-next-line no-control-regex
  else if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(shortcut)) problems.push('shortcut_spaces')
  else if (shortcut.includes('/')) problems.push('shortcut_slash')
  else if (chars(shortcut) > MAX_SHORTCUT_LENGTH) problems.push('shortcut_too_long')
  else if (
    existing.some(
      (c) =>
        c.id !== editingId &&
        c.shared === form.shared &&
        c.shortcut.toLowerCase() === shortcut.toLowerCase(),
    )
  ) {
    problems.push('shortcut_taken')
  }
  if (chars(form.title.trim()) > MAX_TITLE_LENGTH) problems.push('title_too_long')
  if (form.body.trim().length === 0) problems.push('body_required')
  else if (chars(form.body) > MAX_BODY_LENGTH) problems.push('body_too_long')
  return problems
}

/** Personal and shared replies, each sorted by shortcut, filtered by a search text. */
export function splitCanned(
  replies: readonly CannedReply[],
  query = '',
): { personal: CannedReply[]; shared: CannedReply[] } {
  const q = query.trim().toLowerCase()
  const matches = (c: CannedReply): boolean =>
    q.length === 0 ||
    c.shortcut.toLowerCase().includes(q) ||
    c.title.toLowerCase().includes(q) ||
    c.body.toLowerCase().includes(q)
  const sorted = [...replies]
    .filter(matches)
    .sort((a, b) => a.shortcut.localeCompare(b.shortcut) || a.id - b.id)
  return { personal: sorted.filter((c) => !c.shared), shared: sorted.filter((c) => c.shared) }
}

/**
 * Who may change a reply: one's own always; shared ones with `conversations:assign` or
 * `settings:write` (the caller passes whether they hold either).
 */
export function canEditCanned(reply: CannedReply, canWriteShared: boolean): boolean {
  return !reply.shared || canWriteShared
}
