// Which areas the navigation shows for the built-in roles, and where `/` leads.
import { describe, expect, it } from 'vitest'
import {
  SETTINGS_PAGES,
  SETTINGS_PERMISSIONS,
  WORKSPACE_AREAS,
  allowedEntries,
  hasAnyPermission,
  landingRouteName,
} from './workspace-areas'

// The permission sets of the built-in roles (src/domain/access.rs).
const AGENT = ['conversations:read', 'conversations:reply', 'contacts:read', 'contacts:write', 'teams:read']
const SUPERVISOR = [...AGENT, 'conversations:assign', 'pii:reveal', 'reports:read', 'users:read']
const SYSADMIN = [
  'users:read', 'users:write', 'teams:read', 'teams:write', 'channels:read', 'channels:write',
  'settings:read', 'settings:write', 'roles:read',
]
const SECADMIN = ['users:read', 'roles:read', 'roles:write', 'roles:assign_admin', 'keys:manage', 'settings:read', 'teams:read']
const AUDITOR = ['audit:read', 'audit:export', 'users:read', 'roles:read']

const names = (entries: readonly { name: string }[]): string[] => entries.map((e) => e.name)

describe('permission-based navigation', () => {
  it('needs any one of the listed permissions, and none for an empty list', () => {
    expect(hasAnyPermission(['a:read'], ['a:read', 'b:read'])).toBe(true)
    expect(hasAnyPermission(new Set(['b:read']), ['a:read', 'b:read'])).toBe(true)
    expect(hasAnyPermission([], ['a:read'])).toBe(false)
    expect(hasAnyPermission([], [])).toBe(true)
    expect(hasAnyPermission([], undefined)).toBe(true)
  })

  it('shows an auditor the audit log and not the conversations', () => {
    expect(names(allowedEntries(WORKSPACE_AREAS, AUDITOR))).toEqual([])
    expect(names(allowedEntries(SETTINGS_PAGES, AUDITOR))).toEqual([
      'settings-users',
      'settings-roles',
      'settings-audit',
    ])
    expect(landingRouteName(AUDITOR)).toBe('settings-audit')
  })

  it('shows an agent the working areas, the team list and canned replies under settings', () => {
    expect(names(allowedEntries(WORKSPACE_AREAS, AGENT))).toEqual([
      'conversations',
      'contacts',
      'knowledge',
    ])
    expect(names(allowedEntries(SETTINGS_PAGES, AGENT))).toEqual(['settings-teams', 'settings-canned'])
    expect(landingRouteName(AGENT)).toBe('conversations')
  })

  it('shows a supervisor the supervisor view, reports and users', () => {
    expect(names(allowedEntries(WORKSPACE_AREAS, SUPERVISOR))).toContain('reports')
    expect(names(allowedEntries(WORKSPACE_AREAS, SUPERVISOR))).toContain('supervisor')
    expect(names(allowedEntries(WORKSPACE_AREAS, AGENT))).not.toContain('supervisor')
    expect(names(allowedEntries(SETTINGS_PAGES, SUPERVISOR))).toEqual([
      'settings-users',
      'settings-teams',
      'settings-canned',
    ])
  })

  it('shows administrators no customer data', () => {
    for (const admin of [SYSADMIN, SECADMIN]) {
      expect(names(allowedEntries(WORKSPACE_AREAS, admin))).toEqual([])
      expect(names(allowedEntries(SETTINGS_PAGES, admin))).not.toContain('settings-audit')
    }
    expect(names(allowedEntries(SETTINGS_PAGES, SYSADMIN))).toEqual([
      'settings-users',
      'settings-roles',
      'settings-teams',
      'settings-inboxes',
      'settings-agents',
      'settings-deliveries',
      'settings-webhooks',
      'settings-canned',
    ])
    expect(landingRouteName(SYSADMIN)).toBe('settings-users')
    expect(landingRouteName(SECADMIN)).toBe('settings-roles')
    expect(landingRouteName(['users:read', 'roles:read'])).toBe('settings-users')
  })

  it('lands on the profile when nothing else is open', () => {
    expect(landingRouteName([])).toBe('profile')
    expect(landingRouteName(['keys:manage'])).toBe('profile')
  })

  it('opens the settings area with any settings page permission', () => {
    expect([...SETTINGS_PERMISSIONS].sort()).toEqual([
      'audit:read',
      'channels:read',
      'conversations:assign',
      'conversations:reply',
      'roles:read',
      'settings:write',
      'teams:read',
      'users:read',
      'users:write',
    ])
  })
})
