/**
 * The inbox list: channel names, the search, and the inbound address of an API inbox as a
 * customer system must call it.
 */
import type { Id } from '../../api/types'
import { CHANNEL_KINDS, type InboxSummary } from '../../api/settings2-types'
import { apiInboxHookPath } from '../../api/settings2'

/** The message key naming a channel kind, or `null` for a kind this client does not know. */
export function channelKey(kind: string): string | null {
  return (CHANNEL_KINDS as readonly string[]).includes(kind) ? `settings2.channels.${kind}` : null
}

/**
 * The full inbound address of an API inbox as seen from this browser (`origin` + hook path).
 * Behind a reverse proxy the customer system may reach the appliance under another host; the
 * path stays the same.
 */
export function inboundUrl(origin: string, id: Id, hookPath?: string | null): string {
  const path = hookPath !== undefined && hookPath !== null && hookPath !== '' ? hookPath : apiInboxHookPath(id)
  return `${origin.replace(/\/+$/, '')}${path}`
}

/** Names in the order a Chinese reader expects: Han names by pinyin, then Latin names. */
const collator = new Intl.Collator('zh-CN', { numeric: true })

/** Inboxes whose name, channel name, team name or id contains the search text, by name. */
export function filterInboxes(
  inboxes: readonly InboxSummary[],
  query: string,
  channelName: (kind: string) => string,
  teamName: (id: Id | null) => string,
): InboxSummary[] {
  const q = query.trim().toLowerCase()
  const matches = (i: InboxSummary): boolean =>
    q.length === 0 ||
    i.name.toLowerCase().includes(q) ||
    channelName(i.channel).toLowerCase().includes(q) ||
    teamName(i.team_id).toLowerCase().includes(q) ||
    String(i.id) === q
  return inboxes.filter(matches).sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id)
}
