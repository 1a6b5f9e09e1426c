/**
 * The conversation list as data: which tabs a user gets, which rows belong to a filter, their
 * order, and how realtime events and paging merge into the loaded rows. Pure functions over
 * arrays (they return new arrays), so the rules are tested without a browser.
 *
 * Order (the server's, `docs/workspace-api.md`): pinned rows first, then by the sort mode —
 * `activity` newest activity first, `waiting` longest-waiting customer first (rows nobody waits
 * on last). Ties fall back to the id so the order is stable.
 */
import type { Id } from '../../api/types'
import type {
  ConversationEventData,
  ConversationListView,
  ConversationStatus,
  ConversationView,
  ListSort,
  MessageView,
  Priority,
} from '../../api/workspace-types'

export interface ListFilter {
  view: ConversationListView
  status: ConversationStatus
  inboxId: Id | null
  label: string | null
  priority: Priority | null
  sort: ListSort
}

export const DEFAULT_FILTER: ListFilter = {
  view: 'mine',
  status: 'open',
  inboxId: null,
  label: null,
  priority: null,
  sort: 'activity',
}

/** Who is looking: decides `mine` and `teams`. `teamIds: null` when not known (no filtering). */
export interface Viewer {
  userId: Id
  teamIds: ReadonlySet<Id> | null
}

/** The tabs the user's permissions open: `all` needs `conversations:all`. */
export function allowedViews(held: ReadonlySet<string>): ConversationListView[] {
  if (!held.has('conversations:read')) return []
  const views: ConversationListView[] = ['mine', 'unassigned', 'teams']
  if (held.has('conversations:all')) views.push('all')
  return views
}

/** The query of `GET /conversations` for a filter. */
export function filterQuery(filter: ListFilter): {
  view: ConversationListView
  status: ConversationStatus
  sort: ListSort
  inbox_id?: Id
  label?: string
  priority?: Priority
} {
  return {
    view: filter.view,
    status: filter.status,
    sort: filter.sort,
    inbox_id: filter.inboxId ?? undefined,
    label: filter.label ?? undefined,
    priority: filter.priority ?? undefined,
  }
}

/** Negative when `a` comes before `b`. */
export function compareConversations(a: ConversationView, b: ConversationView, sort: ListSort): number {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1
  if (sort === 'waiting') {
    const aw = a.waiting_since
    const bw = b.waiting_since
    if (aw !== bw) {
      if (aw === null) return 1
      if (bw === null) return -1
      return aw - bw
    }
  }
  if (a.last_activity_at !== b.last_activity_at) return b.last_activity_at - a.last_activity_at
  return b.id - a.id
}

export function sortConversations(rows: readonly ConversationView[], sort: ListSort): ConversationView[] {
  return [...rows].sort((a, b) => compareConversations(a, b, sort))
}

/** True when the row belongs in the list of `filter` for `viewer`. */
export function matchesFilter(row: ConversationView, filter: ListFilter, viewer: Viewer): boolean {
  if (row.status !== filter.status) return false
  if (filter.inboxId !== null && row.inbox?.id !== filter.inboxId) return false
  if (filter.label !== null && !row.labels.includes(filter.label)) return false
  if (filter.priority !== null && row.priority !== filter.priority) return false
  switch (filter.view) {
    case 'mine':
      return row.assignee?.id === viewer.userId
    case 'unassigned':
      return row.assignee === null
    case 'teams':
      return viewer.teamIds === null || (row.team_id !== null && viewer.teamIds.has(row.team_id))
    case 'all':
      return true
  }
}

/**
 * The row an event describes, keeping this user's `unread` and `pinned` (events do not carry
 * them). `null` when the event is older than what is shown (a replay after a fresher reload).
 */
export function mergeEvent(
  existing: ConversationView | undefined,
  data: ConversationEventData,
): ConversationView | null {
  if (existing !== undefined && data.updated_at < existing.updated_at) return null
  return {
    ...data,
    unread: data.unread ?? existing?.unread ?? 0,
    pinned: data.pinned ?? existing?.pinned ?? false,
    // Keep the paging cursor the list was loaded with; the event's may follow another sort.
    cursor: existing?.cursor ?? data.cursor,
  }
}

export interface MergeContext {
  filter: ListFilter
  viewer: Viewer
  /** More pages exist below the loaded ones: rows sorting below the last loaded row wait for them. */
  hasMore: boolean
}

/**
 * Applies a `conversation.created`/`conversation.updated` event: the row is inserted, replaced
 * and moved to its place, or removed when it no longer matches the filter (claimed by someone
 * else, resolved, relabelled…).
 */
export function upsertConversation(
  rows: readonly ConversationView[],
  data: ConversationEventData,
  ctx: MergeContext,
): ConversationView[] {
  const existing = rows.find((r) => r.id === data.id)
  const merged = mergeEvent(existing, data)
  if (merged === null) return [...rows]
  const others = rows.filter((r) => r.id !== data.id)
  if (!matchesFilter(merged, ctx.filter, ctx.viewer)) return others
  const lastLoaded = others[others.length - 1]
  if (
    ctx.hasMore &&
    lastLoaded !== undefined &&
    compareConversations(merged, lastLoaded, ctx.filter.sort) > 0
  ) {
    return others // it will come with a later page
  }
  return sortConversations([...others, merged], ctx.filter.sort)
}

/** Adds an older page, ignoring rows already shown (moved up by a realtime update). */
export function appendPage(
  rows: readonly ConversationView[],
  page: readonly ConversationView[],
  sort: ListSort,
): ConversationView[] {
  const seen = new Set(rows.map((r) => r.id))
  return sortConversations([...rows, ...page.filter((r) => !seen.has(r.id))], sort)
}

/**
 * A fresh first page merged into the loaded rows (the quiet refresh of a list the socket does not
 * keep current). The page's rows replace theirs. A loaded row that sorts within the page but is
 * missing from it has left the list (claimed, resolved, moved down) and goes; rows sorting after
 * the page's last row — older pages loaded by scrolling — stay as they are. A page that is not
 * full (`complete`) is the whole list.
 */
export function mergeFreshPage(
  rows: readonly ConversationView[],
  page: readonly ConversationView[],
  sort: ListSort,
  complete: boolean,
): ConversationView[] {
  const fresh = sortConversations(page, sort)
  const last = fresh[fresh.length - 1]
  if (complete || last === undefined) return fresh
  const seen = new Set(fresh.map((r) => r.id))
  const older = rows.filter((r) => !seen.has(r.id) && compareConversations(r, last, sort) > 0)
  return sortConversations([...fresh, ...older], sort)
}

/**
 * A new message: the row's preview and activity follow it, and an incoming message counts as
 * unread unless the agent is looking at that conversation right now.
 */
export function applyMessage(
  rows: readonly ConversationView[],
  message: MessageView,
  viewingId: Id | null,
): ConversationView[] {
  return rows.map((row) => {
    if (row.id !== message.conversation_id) return row
    const counts = message.direction === 'incoming' && viewingId !== row.id
    const shows = message.direction === 'incoming' || message.direction === 'outgoing'
    return {
      ...row,
      unread: counts ? row.unread + 1 : row.unread,
      last_message: shows
        ? { direction: message.direction, kind: message.kind, preview: previewOf(message) }
        : row.last_message,
      last_activity_at: Math.max(row.last_activity_at, message.created_at),
    }
  })
}

/** The first line of a message, short, for the list. */
export function previewOf(message: Pick<MessageView, 'body'>, max = 80): string {
  const line = message.body.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

export function markReadLocally(rows: readonly ConversationView[], id: Id): ConversationView[] {
  return rows.map((r) => (r.id === id && r.unread !== 0 ? { ...r, unread: 0 } : r))
}

export function setPinnedLocally(
  rows: readonly ConversationView[],
  id: Id,
  pinned: boolean,
  sort: ListSort,
): ConversationView[] {
  return sortConversations(
    rows.map((r) => (r.id === id ? { ...r, pinned } : r)),
    sort,
  )
}

export function totalUnread(rows: readonly ConversationView[]): number {
  return rows.reduce((sum, r) => sum + r.unread, 0)
}

/** The id `delta` rows away from `currentId` (j/k); the first row when nothing is open. */
export function neighbourId(
  rows: readonly ConversationView[],
  currentId: Id | null,
  delta: 1 | -1,
): Id | null {
  if (rows.length === 0) return null
  const index = currentId === null ? -1 : rows.findIndex((r) => r.id === currentId)
  if (index === -1) return rows[0]?.id ?? null
  const next = rows[Math.min(rows.length - 1, Math.max(0, index + delta))]
  return next?.id ?? null
}
