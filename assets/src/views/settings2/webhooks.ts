/**
 * The webhook subscription form: its fields, the checks made before saving (the server checks
 * again, and also where the address may point), and the request body it becomes.
 */
import type { Id } from '../../api/types'
import { WEBHOOK_EVENTS, type Webhook, type WebhookRequest } from '../../api/settings2-types'

/** As the server (`src/http/webhooks.rs`). */
export const MAX_NAME_LENGTH = 60
export const MAX_URL_LENGTH = 2000

export interface WebhookForm {
  name: string
  url: string
  events: string[]
  /** `null`: every inbox. */
  inboxId: Id | null
  includePii: boolean
  enabled: boolean
}

export type WebhookProblem =
  | 'name_required'
  | 'name_too_long'
  | 'url_required'
  | 'url_scheme'
  | 'url_too_long'
  | 'events_required'

export function emptyForm(): WebhookForm {
  return { name: '', url: '', events: [...WEBHOOK_EVENTS], inboxId: null, includePii: false, enabled: true }
}

export function formOf(w: Webhook): WebhookForm {
  return {
    name: w.name,
    url: w.url,
    events: [...w.events],
    inboxId: w.inbox_id,
    includePii: w.include_pii,
    enabled: w.enabled,
  }
}

/** An absolute http(s) URL with a host. */
function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0
  } catch {
    return false
  }
}

export function validateWebhook(form: WebhookForm): WebhookProblem[] {
  const out: WebhookProblem[] = []
  const name = form.name.trim()
  if (name.length === 0) out.push('name_required')
  else if ([...name].length > MAX_NAME_LENGTH) out.push('name_too_long')
  const url = form.url.trim()
  if (url.length === 0) out.push('url_required')
  else if (url.length > MAX_URL_LENGTH) out.push('url_too_long')
  else if (!isHttpUrl(url)) out.push('url_scheme')
  if (!form.events.some((e) => (WEBHOOK_EVENTS as readonly string[]).includes(e))) out.push('events_required')
  return out
}

/** The request body; events in the canonical order, unknown ones dropped. */
export function requestOf(form: WebhookForm): WebhookRequest {
  return {
    name: form.name.trim(),
    url: form.url.trim(),
    events: WEBHOOK_EVENTS.filter((e) => form.events.includes(e)),
    inbox_id: form.inboxId,
    include_pii: form.includePii,
    enabled: form.enabled,
  }
}
