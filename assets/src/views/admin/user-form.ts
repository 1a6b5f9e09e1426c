/**
 * The user dialog's form and the requests it turns into: a create sends only what was filled in;
 * an edit sends only the fields that changed (lists compared as sets), so a security
 * administrator who may only assign roles never sends fields they may not change.
 */
import type {
  AdminClass,
  CreateUserRequest,
  Id,
  Role,
  UpdateUserRequest,
  User,
} from '../../api/types'
import { ADMIN_CLASSES } from '../../api/types'

export interface UserFormValue {
  username: string
  displayName: string
  roles: string[]
  teams: Id[]
  inboxes: Id[]
  disabled: boolean
}

export function emptyUserForm(): UserFormValue {
  return { username: '', displayName: '', roles: [], teams: [], inboxes: [], disabled: false }
}

export function userFormFrom(user: User): UserFormValue {
  return {
    username: user.username,
    displayName: user.display_name ?? '',
    roles: [...user.roles],
    teams: [...user.teams],
    inboxes: [...user.inboxes],
    disabled: user.disabled,
  }
}

export function createRequest(form: UserFormValue): CreateUserRequest {
  const body: CreateUserRequest = { username: form.username.trim() }
  const displayName = form.displayName.trim()
  if (displayName.length > 0) body.display_name = displayName
  if (form.roles.length > 0) body.roles = [...form.roles]
  if (form.teams.length > 0) body.teams = [...form.teams]
  if (form.inboxes.length > 0) body.inboxes = [...form.inboxes]
  return body
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  const left = new Set(a)
  const right = new Set(b)
  return left.size === right.size && [...left].every((x) => right.has(x))
}

/**
 * What changed between `original` and `form`. With `rolesOnly` (the editor may assign roles but
 * not change accounts), every other field is left out.
 */
export function updateRequest(
  original: User,
  form: UserFormValue,
  rolesOnly = false,
): UpdateUserRequest {
  const body: UpdateUserRequest = {}
  if (!sameSet(original.roles, form.roles)) body.roles = [...form.roles]
  if (rolesOnly) return body
  const displayName = form.displayName.trim()
  if (displayName !== (original.display_name ?? '')) body.display_name = displayName
  if (!sameSet(original.teams, form.teams)) body.teams = [...form.teams]
  if (!sameSet(original.inboxes, form.inboxes)) body.inboxes = [...form.inboxes]
  if (form.disabled !== original.disabled) body.disabled = form.disabled
  return body
}

/** The administrator classes the selected roles add up to (more than one is refused: 409). */
export function adminClassesOfRoles(selected: readonly string[], roles: readonly Role[]): AdminClass[] {
  const touched = new Set<AdminClass>()
  for (const role of roles) {
    if (selected.includes(role.name) && role.admin_class !== null) touched.add(role.admin_class)
  }
  return ADMIN_CLASSES.filter((cls) => touched.has(cls))
}

/** Case-insensitive match of username or display name (empty query: everyone). */
export function matchesUser(user: User, query: string): boolean {
  const q = query.trim().toLowerCase()
  if (q.length === 0) return true
  return (
    user.username.toLowerCase().includes(q) || (user.display_name ?? '').toLowerCase().includes(q)
  )
}
