// The user dialog's requests: only what was filled in or changed.
import { describe, expect, it } from 'vitest'
import type { Role, User } from '../../api/types'
import {
  adminClassesOfRoles,
  createRequest,
  emptyUserForm,
  matchesUser,
  updateRequest,
  userFormFrom,
} from './user-form'

const USER: User = {
  id: 7,
  username: 'li.na',
  display_name: '李娜',
  roles: ['agent'],
  teams: [1, 2],
  inboxes: [],
  disabled: false,
  locked: false,
  totp_enabled: false,
  must_change_password: false,
  created_at: 1,
  last_login_at: null,
}

function role(name: string, admin_class: Role['admin_class']): Role {
  return { id: name.length, name, builtin: true, permissions: [], require_totp: false, admin_class, users: 0 }
}

describe('user form', () => {
  it('creates with only the filled-in fields', () => {
    expect(createRequest({ ...emptyUserForm(), username: '  wang.wei ' })).toEqual({ username: 'wang.wei' })
    expect(
      createRequest({ ...emptyUserForm(), username: 'a', displayName: ' 王伟 ', roles: ['agent'], teams: [3] }),
    ).toEqual({ username: 'a', display_name: '王伟', roles: ['agent'], teams: [3] })
  })

  it('sends nothing when nothing changed, lists compared as sets', () => {
    const form = userFormFrom(USER)
    form.teams = [2, 1]
    expect(updateRequest(USER, form)).toEqual({})
  })

  it('sends only the changed fields', () => {
    const form = userFormFrom(USER)
    form.roles = ['agent', 'supervisor']
    form.disabled = true
    form.displayName = '李娜 '
    expect(updateRequest(USER, form)).toEqual({ roles: ['agent', 'supervisor'], disabled: true })
    form.inboxes = [9]
    form.displayName = 'Li Na'
    expect(updateRequest(USER, form)).toEqual({
      roles: ['agent', 'supervisor'],
      disabled: true,
      display_name: 'Li Na',
      inboxes: [9],
    })
  })

  it('sends only roles for an editor who may only assign roles', () => {
    const form = userFormFrom(USER)
    form.roles = ['auditor']
    form.disabled = true
    expect(updateRequest(USER, form, true)).toEqual({ roles: ['auditor'] })
  })

  it('treats a missing display name as empty', () => {
    const bare = { ...USER, display_name: null }
    expect(userFormFrom(bare).displayName).toBe('')
    expect(updateRequest(bare, userFormFrom(bare))).toEqual({})
  })

  it('adds up the administrator classes of the chosen roles', () => {
    const roles = [role('agent', null), role('sysadmin', 'system'), role('auditor', 'audit')]
    expect(adminClassesOfRoles(['agent'], roles)).toEqual([])
    expect(adminClassesOfRoles(['agent', 'sysadmin'], roles)).toEqual(['system'])
    expect(adminClassesOfRoles(['auditor', 'sysadmin'], roles)).toEqual(['system', 'audit'])
  })

  it('filters by username or display name', () => {
    expect(matchesUser(USER, '')).toBe(true)
    expect(matchesUser(USER, 'LI.')).toBe(true)
    expect(matchesUser(USER, '娜')).toBe(true)
    expect(matchesUser(USER, 'wang')).toBe(false)
  })
})
