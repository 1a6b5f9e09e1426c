/**
 * The loaded conversation list of one filter, kept current by the realtime socket.
 *
 * Loading waits (briefly) for the socket to be live, so no event falls between the list's answer
 * and the subscription. Events arriving while a page is loading are applied to the rows shown
 * and replayed onto the fresh page when it arrives; the merge rules ({@link upsertConversation})
 * ignore events older than a row, so replaying is safe. A resync reloads.
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
  setPinnedLocally,
  sortConversations,
  upsertConversation,
  type ListFilter,
  type MergeContext,
  type Viewer,
} from './list-model'

export const PAGE_SIZE = 50

type Change = (rows: ConversationView[]) => ConversationView[]

export function useConversationList(
  filter: ListFilter,
  viewer: Ref<Viewer>,
  viewingId: () => Id | null,
) {
  const rows = ref<ConversationView[]>([])
  const loading = ref(false)
  const loadingMore = ref(false)
  const hasMore = ref(false)
  const error = ref<unknown>(null)
  let cursor: string | null = null
  let generation = 0
  let pending: Change[] | null = null

  const ctx = (): MergeContext => ({ filter, viewer: viewer.value, hasMore: hasMore.value })

  function apply(change: Change): void {
    rows.value = change(rows.value)
    pending?.push(change)
  }

  async function reload(): Promise<void> {
    const gen = ++generation
    loading.value = true
    error.value = null
    pending = []
    try {
      await liveSocket().ready()
      const page = await workspaceApi.conversations({ ...filterQuery(filter), limit: PAGE_SIZE })
      if (gen !== generation) return
      cursor = page[page.length - 1]?.cursor ?? null
      hasMore.value = page.length >= PAGE_SIZE
      let next = sortConversations(page, filter.sort)
      for (const change of pending) next = change(next)
      rows.value = next
    } catch (e) {
      if (gen === generation) error.value = e
    } finally {
      if (gen === generation) {
        loading.value = false
        pending = null
      }
    }
  }

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
    for (const off of offs) off()
  })

  watch(
    () => ({ ...filter }),
    () => void reload(),
    { deep: true },
  )

  return { rows, loading, loadingMore, hasMore, error, reload, loadMore, replace, markRead, setPinned }
}
