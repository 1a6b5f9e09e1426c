/**
 * The areas of the workspace frame, in navigation order, and the permissions each needs.
 *
 * The server checks every call; the navigation only hides what the user could not use anyway (an
 * auditor sees the audit log, not conversations). An entry needs *any one* of its permissions.
 */

/** Top-level areas. `settings` has sub-pages ({@link SETTINGS_PAGES}) instead of a view. */
export const WORKSPACE_AREAS = [
  {
    name: 'conversations',
    path: 'conversations/:id(\\d+)?',
    titleKey: 'nav.conversations',
    permissions: ['conversations:read'],
  },
  {
    name: 'contacts',
    path: 'contacts/:id(\\d+)?',
    titleKey: 'nav.contacts',
    permissions: ['contacts:read'],
  },
  {
    name: 'supervisor',
    path: 'supervisor',
    titleKey: 'nav.supervisor',
    permissions: ['conversations:assign'],
  },
  // There is no knowledge-base permission yet: the articles are an agent's tool.
  {
    name: 'knowledge',
    path: 'knowledge',
    titleKey: 'nav.knowledge',
    permissions: ['conversations:read'],
  },
  { name: 'reports', path: 'reports', titleKey: 'nav.reports', permissions: ['reports:read'] },
] as const satisfies readonly NavEntry[]

/** The administration pages under `/settings`, in navigation order. */
export const SETTINGS_PAGES = [
  { name: 'settings-users', path: 'users', titleKey: 'nav.users', permissions: ['users:read'] },
  { name: 'settings-roles', path: 'roles', titleKey: 'nav.roles', permissions: ['roles:read'] },
  { name: 'settings-teams', path: 'teams', titleKey: 'nav.teams', permissions: ['teams:read'] },
  {
    name: 'settings-inboxes',
    path: 'inboxes',
    titleKey: 'nav.inboxes',
    permissions: ['channels:read'],
  },
  { name: 'settings-agents', path: 'agents', titleKey: 'nav.agents', permissions: ['users:write'] },
  {
    name: 'settings-deliveries',
    path: 'deliveries',
    titleKey: 'nav.deliveries',
    permissions: ['channels:read'],
  },
  {
    name: 'settings-webhooks',
    path: 'webhooks',
    titleKey: 'nav.webhooks',
    permissions: ['channels:read'],
  },
  {
    name: 'settings-canned',
    path: 'canned-replies',
    titleKey: 'nav.canned',
    // Agents keep their own; supervisors and system administrators keep the shared ones.
    permissions: ['conversations:reply', 'conversations:assign', 'settings:write'],
  },
  { name: 'settings-audit', path: 'audit', titleKey: 'nav.audit', permissions: ['audit:read'] },
] as const satisfies readonly NavEntry[]

export interface NavEntry {
  name: string
  path: string
  titleKey: string
  /** Any one of these is enough; an empty list means everyone. */
  permissions: readonly string[]
}

export type WorkspaceAreaName = (typeof WORKSPACE_AREAS)[number]['name']
export type SettingsPageName = (typeof SETTINGS_PAGES)[number]['name']

/** Every permission that opens one of the settings pages (the settings area needs any of them). */
export const SETTINGS_PERMISSIONS: readonly string[] = [
  ...new Set(SETTINGS_PAGES.flatMap((page) => page.permissions)),
]

/** True when the user holds any of `needed` (or `needed` is empty). */
export function hasAnyPermission(
  held: ReadonlySet<string> | readonly string[],
  needed: readonly string[] | undefined,
): boolean {
  if (needed === undefined || needed.length === 0) return true
  const set: ReadonlySet<string> = held instanceof Set ? held : new Set(held as readonly string[])
  return needed.some((permission) => set.has(permission))
}

/** The entries the user may open, in their order. */
export function allowedEntries<T extends NavEntry>(
  entries: readonly T[],
  held: ReadonlySet<string> | readonly string[],
): T[] {
  return entries.filter((entry) => hasAnyPermission(held, entry.permissions))
}

/**
 * Administrators without a working area land on the page of their duty: the auditor on the audit
 * log, the security administrator on the roles, the system administrator on the users.
 */
const DUTY_PAGES: ReadonlyArray<readonly [string, SettingsPageName]> = [
  ['audit:read', 'settings-audit'],
  ['roles:write', 'settings-roles'],
  ['users:write', 'settings-users'],
]

/**
 * Where `/` leads: the first workspace area the user may use, else the page of their
 * administrator duty, else the first settings page, else the profile (everyone has one).
 */
export function landingRouteName(held: ReadonlySet<string> | readonly string[]): string {
  const area = allowedEntries(WORKSPACE_AREAS, held)[0]
  if (area !== undefined) return area.name
  const duty = DUTY_PAGES.find(([permission]) => hasAnyPermission(held, [permission]))
  if (duty !== undefined) return duty[1]
  const page = allowedEntries(SETTINGS_PAGES, held)[0]
  if (page !== undefined) return page.name
  return 'profile'
}
