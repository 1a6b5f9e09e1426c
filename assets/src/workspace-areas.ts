/** The areas of the workspace frame, in navigation order. Later issues give each its real view. */
export const WORKSPACE_AREAS = [
  { name: 'conversations', path: 'conversations', titleKey: 'nav.conversations' },
  { name: 'contacts', path: 'contacts', titleKey: 'nav.contacts' },
  { name: 'knowledge', path: 'knowledge', titleKey: 'nav.knowledge' },
  { name: 'reports', path: 'reports', titleKey: 'nav.reports' },
  { name: 'settings', path: 'settings', titleKey: 'nav.settings' },
] as const

export type WorkspaceAreaName = (typeof WORKSPACE_AREAS)[number]['name']
