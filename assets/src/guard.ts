/**
 * Where a navigation may go, given what the tab knows about the session. Pure, so the rules can
 * be tested without a router:
 *
 * 1. Public pages (sign-in, first-run setup) are always open.
 * 2. Everything else needs a session; without one, sign-in (coming back afterwards).
 * 3. A restricted session stays on its one page until the user has done what it asks: first the
 *    password change, then the 2FA enrolment (the server refuses everything else anyway).
 * 4. Those pages are left alone once they are done.
 * 5. A page needing permissions the user lacks leads to the user's landing page, and so does `/`;
 *    `/settings` leads to the first settings page the user may open.
 */
import {
  SETTINGS_PAGES,
  allowedEntries,
  hasAnyPermission,
  landingRouteName,
} from './workspace-areas'

/** The forced pages of a restricted session. */
export const CHANGE_PASSWORD_ROUTE = 'change-password'
export const ENROL_TOTP_ROUTE = 'enrol-2fa'
export const LOGIN_ROUTE = 'login'
export const HOME_ROUTE = 'home'
/** `/settings` itself: leads to the first settings page the user may open. */
export const SETTINGS_ROUTE = 'settings'

/** `?reason=` of the sign-in page when the session ended without the user asking. */
export const REASON_EXPIRED = 'expired'

export interface GuardSession {
  mustChangePassword: boolean
  totpEnrolmentRequired: boolean
  permissions: ReadonlySet<string>
}

export interface GuardTarget {
  name: string | undefined
  fullPath: string
  requiresSession: boolean
  /** Any one of these is needed (none: everyone signed in). */
  permissions?: readonly string[]
}

export type GuardDecision =
  | { kind: 'allow' }
  | { kind: 'redirect'; name: string; redirect?: string }

const ALLOW: GuardDecision = { kind: 'allow' }

/** Paths worth coming back to after sign-in or a forced step. */
function comeBack(target: GuardTarget): string | undefined {
  return target.fullPath === '/' || target.name === HOME_ROUTE ? undefined : target.fullPath
}

export function decideNavigation(session: GuardSession | null, to: GuardTarget): GuardDecision {
  if (!to.requiresSession) return ALLOW
  if (session === null) return { kind: 'redirect', name: LOGIN_ROUTE, redirect: comeBack(to) }

  const forced = session.mustChangePassword
    ? CHANGE_PASSWORD_ROUTE
    : session.totpEnrolmentRequired
      ? ENROL_TOTP_ROUTE
      : null
  if (forced !== null) {
    if (to.name === forced) return ALLOW
    const back = to.name === CHANGE_PASSWORD_ROUTE || to.name === ENROL_TOTP_ROUTE ? undefined : comeBack(to)
    return { kind: 'redirect', name: forced, redirect: back }
  }
  if (to.name === CHANGE_PASSWORD_ROUTE || to.name === ENROL_TOTP_ROUTE || to.name === HOME_ROUTE) {
    return { kind: 'redirect', name: landingRouteName(session.permissions) }
  }
  if (!hasAnyPermission(session.permissions, to.permissions)) {
    return { kind: 'redirect', name: landingRouteName(session.permissions) }
  }
  if (to.name === SETTINGS_ROUTE) {
    const first = allowedEntries(SETTINGS_PAGES, session.permissions)[0]
    return { kind: 'redirect', name: first?.name ?? landingRouteName(session.permissions) }
  }
  return ALLOW
}

/** Only same-site paths are followed after sign-in or a forced step (no open redirect). */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.startsWith('/\\')
    ? value
    : '/'
}
