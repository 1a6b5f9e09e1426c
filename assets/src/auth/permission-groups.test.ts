// The role editor's permission checklist.
import { describe, expect, it } from 'vitest'
import type { PermissionInfo } from '../api/types'
import { adminClassesOf, groupPermissions, permissionAction, permissionPrefix } from './permission-groups'

const CATALOGUE: PermissionInfo[] = [
  { name: 'conversations:read', admin_class: null },
  { name: 'conversations:reply', admin_class: null },
  { name: 'users:read', admin_class: null },
  { name: 'users:write', admin_class: 'system' },
  { name: 'roles:write', admin_class: 'security' },
  { name: 'roles:assign_admin', admin_class: 'security' },
  { name: 'audit:read', admin_class: 'audit' },
  { name: 'conversations:all', admin_class: null },
]

describe('permission groups', () => {
  it('splits names at the first colon', () => {
    expect(permissionPrefix('roles:assign_admin')).toBe('roles')
    expect(permissionAction('roles:assign_admin')).toBe('assign_admin')
    expect(permissionPrefix('odd')).toBe('odd')
  })

  it('groups by prefix in the order the server lists them', () => {
    const groups = groupPermissions(CATALOGUE)
    expect(groups.map((g) => g.prefix)).toEqual(['conversations', 'users', 'roles', 'audit'])
    expect(groups[0]?.permissions.map((p) => p.name)).toEqual([
      'conversations:read',
      'conversations:reply',
      'conversations:all',
    ])
  })

  it('tells which administrator classes a selection touches', () => {
    expect(adminClassesOf(['conversations:read'], CATALOGUE)).toEqual([])
    expect(adminClassesOf(['users:write', 'users:read'], CATALOGUE)).toEqual(['system'])
    expect(adminClassesOf(['audit:read', 'users:write', 'roles:write'], CATALOGUE)).toEqual([
      'system',
      'security',
      'audit',
    ])
    expect(adminClassesOf(['unknown:thing'], CATALOGUE)).toEqual([])
  })
})
