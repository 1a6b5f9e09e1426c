/**
 * Addresses that come from messages (link cards, product cards) are untrusted: a customer can send
 * `javascript:alert(1)` as a link. Only absolute `http:`/`https:` addresses become links; anything
 * else is shown as plain text. Images may only come from this server (the CSP allows `img-src
 * 'self'`, and the appliance must not reach out to other hosts), so an image address must be a
 * same-origin path.
 */

/** Control characters and spaces browsers strip or ignore inside a scheme (`java\tscript:`). */
const CONTROL = /[\u0000-\u001f\u007f]/

/** The address as a safe `href`, or `null` when it must be shown as text. */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (text.length === 0 || text.length > 2048 || CONTROL.test(text)) return null
  if (!/^https?:\/\//i.test(text)) return null
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.hostname.length === 0) return null
  return url.href
}

/** A same-origin path usable as `<img src>` (e.g. `/api/v1/attachments/5`), or `null`. */
export function safeImageSrc(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (!text.startsWith('/') || text.startsWith('//') || text.startsWith('/\\')) return null
  if (CONTROL.test(text)) return null
  return text
}
