/**
 * Permissions as the role editor shows them: grouped by the part before the colon
 * (`users:read`, `users:write` → `users`), groups and permissions in a stable order, and the
 * administrator classes a selection would touch (a role may touch at most one; the server says
 * 409 `separation_of_duties` otherwise, the editor warns before that).
 */
import type { AdminClass, PermissionInfo } from '../api/types'
import { ADMIN_CLASSES } from '../api/types'

export interface PermissionGroup {
  /** `users`, `conversations`, … */
  prefix: string
  permissions: PermissionInfo[]
}

/** The part before the first colon (the whole name when there is none). */
export function permissionPrefix(name: string): string {
  const colon = name.indexOf(':')
  return colon < 0 ? name : name.slice(0, colon)
}

/** The part after the first colon (`read`, `write`, `assign_admin`). */
export function permissionAction(name: string): string {
  const colon = name.indexOf(':')
  return colon < 0 ? name : name.slice(colon + 1)
}

/** Groups in the order the server lists them (first appearance); permissions keep their order. */
export function groupPermissions(catalogue: readonly PermissionInfo[]): PermissionGroup[] {
  const groups = new Map<string, PermissionInfo[]>()
  for (const permission of catalogue) {
    const prefix = permissionPrefix(permission.name)
    const list = groups.get(prefix)
    if (list === undefined) groups.set(prefix, [permission])
    else list.push(permission)
  }
  return [...groups.entries()].map(([prefix, permissions]) => ({ prefix, permissions }))
}

/** The administrator classes the selected permissions touch, in the canonical order. */
export function adminClassesOf(
  selected: Iterable<string>,
  catalogue: readonly PermissionInfo[],
): AdminClass[] {
  const byName = new Map(catalogue.map((p) => [p.name, p.admin_class]))
  const touched = new Set<AdminClass>()
  for (const name of selected) {
    const cls = byName.get(name)
    if (cls !== undefined && cls !== null) touched.add(cls)
  }
  return ADMIN_CLASSES.filter((cls) => touched.has(cls))
}
