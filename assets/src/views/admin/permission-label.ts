/**
 * Translated names of permissions and their groups. The server's catalogue may be newer than the
 * locale files: an unknown permission or group shows its raw name.
 */
import { i18n } from '../../i18n'

function keyPart(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '_')
}

/** `users:write` → "Manage user accounts" (or the raw name). */
export function permissionLabel(name: string): string {
  const key = `permissions.names.${keyPart(name)}`
  return i18n.global.te(key) ? i18n.global.t(key) : name
}

/** `users` → "Users" (or the raw prefix). */
export function permissionGroupLabel(prefix: string): string {
  const key = `permissions.groups.${keyPart(prefix)}`
  return i18n.global.te(key) ? i18n.global.t(key) : prefix
}
