/** Dates and times in the interface language (times are Unix milliseconds on the wire). */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string): Intl.DateTimeFormat {
  let f = formatters.get(locale)
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    })
    formatters.set(locale, f)
  }
  return f
}

/** `2026/03/01 14:05:09` (zh-CN) or `03/01/2026, 14:05:09` (en); `''` for a missing time. */
export function formatDateTime(ms: number | null | undefined, locale: string): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return ''
  return formatter(locale).format(new Date(ms))
}

/** A base32 secret in groups of four, easier to type into an authenticator by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ')
}
