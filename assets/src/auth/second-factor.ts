/**
 * What a person types as a second factor, cleaned up before it is sent: authenticator codes are
 * often shown as `123 456`, and recovery codes are printed as `xxxx-xxxx` but typed in any way.
 */

/** Digits only, spaces removed; `null` unless exactly six digits remain. */
export function normaliseTotpCode(input: string): string | null {
  const compact = input.replace(/\s+/g, '')
  return /^\d{6}$/.test(compact) ? compact : null
}

/**
 * A recovery code in the `xxxx-xxxx` form the server prints: spaces dropped, a missing dash put
 * back when the code has eight letters or digits. Anything else is sent as typed (trimmed), and
 * the server decides. `null` when nothing is left.
 */
export function normaliseRecoveryCode(input: string): string | null {
  const compact = input.replace(/\s+/g, '')
  if (compact.length === 0) return null
  const bare = compact.replace(/-/g, '')
  if (/^[A-Za-z0-9]{8}$/.test(bare)) return `${bare.slice(0, 4)}-${bare.slice(4)}`
  return compact
}
