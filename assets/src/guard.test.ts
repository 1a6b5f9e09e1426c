// The route guard's rules, without a router.
import { describe, expect, it } from 'vitest'
import { decideNavigation, safeRedirect, type GuardSession, type GuardTarget } from './guard'

function session(overrides: Partial<GuardSession> = {}, permissions: string[] = ['conversations:read']): GuardSession {
  return {
    mustChangePassword: false,
    totpEnrolmentRequired: false,
    permissions: new Set(permissions),
    ...overrides,
  }
}

function to(name: string, fullPath: string, extra: Partial<GuardTarget> = {}): GuardTarget {
  return { name, fullPath, requiresSession: true, ...extra }
}

describe('route guard', () => {
  it('leaves public pages open to everyone', () => {
    const login = { name: 'login', fullPath: '/login', requiresSession: false }
    expect(decideNavigation(null, login)).toEqual({ kind: 'allow' })
    expect(decideNavigation(session({ mustChangePassword: true }), login)).toEqual({ kind: 'allow' })
  })

  it('sends a visitor without a session to sign-in and back afterwards', () => {
    expect(decideNavigation(null, to('contacts', '/contacts'))).toEqual({
      kind: 'redirect',
      name: 'login',
      redirect: '/contacts',
    })
    expect(decideNavigation(null, to('home', '/'))).toEqual({
      kind: 'redirect',
      name: 'login',
      redirect: undefined,
    })
  })

  it('keeps a session that must change its password on the password page', () => {
    const s = session({ mustChangePassword: true, totpEnrolmentRequired: true })
    expect(decideNavigation(s, to('change-password', '/change-password'))).toEqual({ kind: 'allow' })
    expect(decideNavigation(s, to('settings-users', '/settings/users'))).toEqual({
      kind: 'redirect',
      name: 'change-password',
      redirect: '/settings/users',
    })
    // The password comes first, then the enrolment.
    expect(decideNavigation(s, to('enrol-2fa', '/enrol-2fa'))).toEqual({
      kind: 'redirect',
      name: 'change-password',
      redirect: undefined,
    })
    expect(decideNavigation(s, to('profile', '/profile'))).toMatchObject({ name: 'change-password' })
  })

  it('keeps a session that must enrol 2FA on the enrolment page', () => {
    const s = session({ totpEnrolmentRequired: true })
    expect(decideNavigation(s, to('enrol-2fa', '/enrol-2fa'))).toEqual({ kind: 'allow' })
    expect(decideNavigation(s, to('home', '/'))).toEqual({
      kind: 'redirect',
      name: 'enrol-2fa',
      redirect: undefined,
    })
    expect(decideNavigation(s, to('change-password', '/change-password'))).toMatchObject({
      name: 'enrol-2fa',
    })
  })

  it('moves a finished session off the forced pages', () => {
    const s = session()
    expect(decideNavigation(s, to('change-password', '/change-password'))).toEqual({
      kind: 'redirect',
      name: 'conversations',
    })
    expect(decideNavigation(s, to('enrol-2fa', '/enrol-2fa'))).toEqual({
      kind: 'redirect',
      name: 'conversations',
    })
  })

  it('sends / to the first area the user may use', () => {
    expect(decideNavigation(session({}, ['audit:read']), to('home', '/'))).toEqual({
      kind: 'redirect',
      name: 'settings-audit',
    })
  })

  it('refuses pages needing permissions the user lacks', () => {
    const auditor = session({}, ['audit:read', 'users:read'])
    expect(
      decideNavigation(auditor, to('conversations', '/conversations', { permissions: ['conversations:read'] })),
    ).toEqual({ kind: 'redirect', name: 'settings-audit' })
    expect(
      decideNavigation(auditor, to('settings-audit', '/settings/audit', { permissions: ['audit:read'] })),
    ).toEqual({ kind: 'allow' })
  })

  it('sends /settings to the first settings page the user may open', () => {
    const auditor = session({}, ['audit:read'])
    expect(
      decideNavigation(auditor, to('settings', '/settings', { permissions: ['audit:read', 'users:read'] })),
    ).toEqual({ kind: 'redirect', name: 'settings-audit' })
  })

  it('follows only same-site paths after sign-in', () => {
    expect(safeRedirect('/settings/users?x=1')).toBe('/settings/users?x=1')
    expect(safeRedirect('//evil.example/')).toBe('/')
    expect(safeRedirect('/\\evil.example/')).toBe('/')
    expect(safeRedirect('https://evil.example/')).toBe('/')
    expect(safeRedirect(['/a'])).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
  })
})
