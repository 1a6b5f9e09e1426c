/** Proactive invitations: which rule, if any, invites this visitor on this page. */

export interface Invitation {
  message: string
  delay_secs: number
  url_contains: string
  returning_only: boolean
}

/** A page load this long after the previous one starts a new visit (the visitor returned). */
export const RETURN_AFTER_MS = 30 * 60_000

/** Whether a visitor whose previous page load was at `lastSeen` (ms) is returning. */
export function isReturning(lastSeen: number | null, now: number): boolean {
  return lastSeen !== null && Number.isFinite(lastSeen) && now - lastSeen > RETURN_AFTER_MS
}

/** The first rule for this page and visitor (address match ignores case). */
export function pickInvitation(rules: readonly Invitation[], url: string, returning: boolean): Invitation | null {
  const u = url.toLowerCase()
  return (
    rules.find(
      (r) => r.message.trim() !== '' && (!r.returning_only || returning) && (r.url_contains === '' || u.includes(r.url_contains.toLowerCase())),
    ) ?? null
  )
}
