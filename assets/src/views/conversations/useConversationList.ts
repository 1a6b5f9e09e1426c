/**
 * The loaded conversation list of one filter, kept current by the realtime socket.
 *
 * Loading waits (briefly) for the socket to be live, so no event falls between the list's answer
 * and the subscription. Events arriving while a page is loading are applied to the rows shown
 * and replayed onto the fresh page when it arrives; the merge rules ({@link upsertConversation})
 * ignore events older than a row, so replaying is safe. A resync reloads.
 *
 * The socket does not keep every list current: the server streams the activity of a conversation
 * someone holds (new messages, delivery states) only to its assignee, the supervisors
 * (`conversations:assign`) and whoever has it open; changes of place (new, queued, assigned,
 * resolved) still reach everyone in scope. So for an agent without `conversations:assign`, the
 * "my teams" and "all" tabs are refreshed quietly every 30 s while shown (quiet-refresh.ts): the
 * first page is loaded again and merged into the rows ({@link mergeFreshPage}) — no spinner, the
 * rows shown and the older pages loaded by scrolling stay, so scroll position and selection are
 * kept. A round is skipped while a page load is in flight or the browser tab is hidden (and
 * caught up when it is shown again); the rounds stop when the tab changes or the view unmounts.
 * A failed round changes nothing and is retried by the next.
 */
import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import type { Id } from '../../api/types'
import type { ConversationEventData, ConversationView } from '../../api/workspace-types'
import { workspaceApi } from '../../api/workspace'
import { liveSocket } from '../../realtime/live'
import {
  appendPage,
  applyMessage,
  filterQuery,
  markReadLocally,
  mergeFreshPage,
  setPinnedLocally,
  sortConversations,
  upsertConversation,
  type ListFilter,
  type MergeContext,
  type Viewer,
} from './list-model'
import { createQuietRefresh, needsQuietRefresh } from './quiet-refresh'

export const PAGE_SIZE = 50

type Change = (rows: ConversationView[]) => ConversationView[]

/**
 * `held`: the user's permissions (whether the socket brings colleagues' activity, see above).
 */
export function useConversationList(
  filter: ListFilter,
  viewer: Ref<Viewer>,
  viewingId: () => Id | null,
  held: () => ReadonlySet<string>,
) {
  const rows = ref<ConversationView[]>([])
  const loading = ref(false)
  const loadingMore = ref(false)
  const hasMore = ref(false)
  const error = ref<unknown>(null)
  let cursor: string | null = null
  let generation = 0
  /** Changes applied while a load is in flight, to replay onto its answer (one list per load). */
  const recording = new Set<Change[]>()

  const ctx = (): MergeContext => ({ filter, viewer: viewer.value, hasMore: hasMore.value })

  function apply(change: Change): void {
    rows.value = change(rows.value)
    for (const changes of recording) changes.push(change)
  }

  async function reload(): Promise<void> {
    const gen = ++generation
    loading.value = true
    error.value = null
    const changes: Change[] = []
    recording.add(changes)
    try {
      await liveSocket().ready()
      const page = await workspaceApi.conversations({ ...filterQuery(filter), limit: PAGE_SIZE })
      if (gen !== generation) return
      cursor = page[page.length - 1]?.cursor ?? null
      hasMore.value = page.length >= PAGE_SIZE
      let next = sortConversations(page, filter.sort)
      for (const change of changes) next = change(next)
      rows.value = next
    } catch (e) {
      if (gen === generation) error.value = e
    } finally {
      recording.delete(changes)
      if (gen === generation) loading.value = false
    }
  }

  /**
   * The first page again, merged into the rows without a spinner (see the module comment).
   * Dropped when a reload starts meanwhile (a new filter, a resync); its failure is the next
   * round's to retry (rejecting, for the timer).
   */
  async function refreshQuietly(): Promise<void> {
    const gen = generation
    const changes: Change[] = []
    recording.add(changes)
    try {
      const page = await workspaceApi.conversations({ ...filterQuery(filter), limit: PAGE_SIZE })
      if (gen !== generation) return
      const complete = page.length < PAGE_SIZE
      let fresh = sortConversations(page, filter.sort)
      for (const change of changes) fresh = change(fresh)
      let next = mergeFreshPage(rows.value, fresh, filter.sort, complete)
      // The open conversation is read (its pane marks it), even if the server has not heard yet.
      const viewing = document.visibilityState === 'visible' ? viewingId() : null
      if (viewing !== null) next = markReadLocally(next, viewing)
      const last = next[next.length - 1]
      const freshIds = new Set(fresh.map((r) => r.id))
      if (complete || last === undefined || freshIds.has(last.id)) {
        // Nothing older was kept: paging goes on from the fresh page.
        cursor = last?.cursor ?? null
        hasMore.value = !complete
      }
      rows.value = next
      error.value = null
    } finally {
      recording.delete(changes)
    }
  }

  const quiet = createQuietRefresh({
    refresh: refreshQuietly,
    paused: () => loading.value || loadingMore.value || document.visibilityState !== 'visible',
  })

  /** Starts the rounds for a tab that needs them, from a full interval; stops them otherwise. */
  function syncQuietRefresh(): void {
    if (needsQuietRefresh(filter.view, held())) quiet.start()
    else quiet.stop()
  }

  const onVisibility = (): void => quiet.wake()
  document.addEventListener('visibilitychange', onVisibility)

  /** The next (older) page; the `before` cursor is the last row of the previous page. */
  async function loadMore(): Promise<void> {
    if (loading.value || loadingMore.value || !hasMore.value || cursor === null) return
    const gen = generation
    loadingMore.value = true
    try {
      const page = await workspaceApi.conversations({
        ...filterQuery(filter),
        limit: PAGE_SIZE,
        before: cursor,
      })
      if (gen !== generation) return
      cursor = page[page.length - 1]?.cursor ?? cursor
      hasMore.value = page.length >= PAGE_SIZE
      rows.value = appendPage(rows.value, page, filter.sort)
    } catch (e) {
      if (gen === generation) error.value = e
    } finally {
      loadingMore.value = false
    }
  }

  /**
   * The answer of an action on a conversation. Its unread count and pin are this list's own
   * business (the open conversation's copy is older than the read mark), so they are kept.
   */
  function replace(row: ConversationView): void {
    const { unread: _unread, pinned: _pinned, ...shared } = row
    const data: ConversationEventData = shared
    apply((r) => upsertConversation(r, data, ctx()))
  }

  function markRead(id: Id): void {
    apply((r) => markReadLocally(r, id))
  }

  function setPinned(id: Id, pinned: boolean): void {
    apply((r) => setPinnedLocally(r, id, pinned, filter.sort))
  }

  const socket = liveSocket()
  const offs = [
    socket.on('conversation.created', (data) => apply((r) => upsertConversation(r, data, ctx()))),
    socket.on('conversation.updated', (data) => apply((r) => upsertConversation(r, data, ctx()))),
    socket.on('message.created', (message) => {
      const viewing = document.visibilityState === 'visible' ? viewingId() : null
      apply((r) => applyMessage(r, message, viewing))
    }),
    socket.on('alert', (data) =>
      apply((r) => r.map((row) => (row.id === data.conversation_id ? { ...row, alert: data.alert } : row))),
    ),
    socket.onResync(() => void reload()),
  ]
  onBeforeUnmount(() => {
    generation += 1
    quiet.stop()
    document.removeEventListener('visibilitychange', onVisibility)
    for (const off of offs) off()
  })

  watch(
    () => ({ ...filter }),
    () => {
      void reload()
      syncQuietRefresh()
    },
    { deep: true },
  )
  // Permissions change with a session refresh (a role granted or taken away).
  watch(held, syncQuietRefresh)
  syncQuietRefresh()

  return { rows, loading, loadingMore, hasMore, error, reload, loadMore, replace, markRead, setPinned }
}
