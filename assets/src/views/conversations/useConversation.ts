/**
 * The open conversation: its row (header), its history (paged, oldest first), who is typing,
 * kept current by the realtime socket. Like the list, loading waits briefly for the socket so no
 * event falls between the answer and the subscription, and events arriving during a load are
 * merged into what it answers ({@link mergeMessages} and {@link mergeEvent} drop stale copies).
 * A resync reloads. The WeChat reply window, which only the load answers, is kept through events
 * and opened again by the customer's messages (reply-window.ts).
 */
import { computed, onBeforeUnmount, ref, shallowRef, watch, type Ref } from 'vue'
import type { Id } from '../../api/types'
import type { ConversationView, MessageView } from '../../api/workspace-types'
import { workspaceApi } from '../../api/workspace'
import { liveSocket } from '../../realtime/live'
import { useNow } from '../../composables/useNow'
import { mergeEvent } from './list-model'
import { mergeMessages } from './messages-model'
import { applyTyping, pruneTyping, typingIn, type TypingState } from './conversation-model'
import { keepReplyWindow, windowAfterMessage } from './reply-window'

export const HISTORY_PAGE = 50

export function useConversation(id: Ref<Id | null>, me: () => Id) {
  const conversation = ref<ConversationView | null>(null)
  const messages = shallowRef<MessageView[]>([])
  const loading = ref(false)
  const loadingOlder = ref(false)
  const hasOlder = ref(false)
  const error = ref<unknown>(null)
  const busyIds = ref<ReadonlySet<Id>>(new Set())
  const typingState = shallowRef<TypingState>(new Map())
  const now = useNow(2_000)
  let generation = 0

  const typing = computed(() => (id.value === null ? [] : typingIn(typingState.value, id.value, now.value)))

  async function load(): Promise<void> {
    const gen = ++generation
    const current = id.value
    conversation.value = null
    messages.value = []
    hasOlder.value = false
    error.value = null
    if (current === null) return
    loading.value = true
    try {
      await liveSocket().ready()
      const [conv, page] = await Promise.all([
        workspaceApi.conversation(current),
        workspaceApi.messages(current, undefined, HISTORY_PAGE),
      ])
      if (gen !== generation) return
      conversation.value = conv
      // Messages that arrived by event while loading are newer than or equal to the page's.
      messages.value = mergeMessages(page, messages.value)
      hasOlder.value = page.length >= HISTORY_PAGE
    } catch (e) {
      if (gen === generation) error.value = e
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  async function loadOlder(): Promise<void> {
    const current = id.value
    const first = messages.value[0]
    if (current === null || first === undefined || loadingOlder.value || !hasOlder.value) return
    const gen = generation
    loadingOlder.value = true
    try {
      const page = await workspaceApi.messages(current, first.id, HISTORY_PAGE)
      if (gen !== generation) return
      messages.value = mergeMessages(messages.value, page)
      hasOlder.value = page.length >= HISTORY_PAGE
    } catch (e) {
      if (gen === generation) error.value = e
    } finally {
      loadingOlder.value = false
    }
  }

  /** A message answered by send/resend/recall, or from an event. */
  function putMessage(message: MessageView): void {
    if (message.conversation_id !== id.value) return
    messages.value = mergeMessages(messages.value, [message])
  }

  /** The answer of an action on the conversation. */
  function putConversation(row: ConversationView): void {
    if (row.id !== id.value) return
    const merged = mergeEvent(conversation.value ?? undefined, row)
    if (merged !== null) {
      conversation.value = keepReplyWindow(conversation.value, { ...merged, unread: row.unread, pinned: row.pinned })
    }
  }

  /** A customer's message opens the reply window again (WeChat). */
  function reopenWindow(message: MessageView): void {
    const c = conversation.value
    if (c === null || c.id !== message.conversation_id || c.reply_window === undefined) return
    const window = windowAfterMessage(c.reply_window, message, Date.now())
    if (window !== c.reply_window) conversation.value = { ...c, reply_window: window }
  }

  async function withBusy<T>(messageId: Id, work: () => Promise<T>): Promise<T> {
    busyIds.value = new Set([...busyIds.value, messageId])
    try {
      return await work()
    } finally {
      const next = new Set(busyIds.value)
      next.delete(messageId)
      busyIds.value = next
    }
  }

  /**
   * How many socket events each message has had. The answer of an action (send, resend,
   * recall) describes the message as it was when the server answered; a socket event about it
   * that arrived before the answer is newer (the outbox may have delivered the reply already),
   * so the answer must not overwrite it.
   */
  const liveEvents = new Map<Id, number>()
  function putLive(message: MessageView): void {
    liveEvents.set(message.id, (liveEvents.get(message.id) ?? 0) + 1)
    putMessage(message)
  }

  /** Socket events seen so far for a message (take it before sending the request). */
  function liveCount(messageId: Id): number {
    return liveEvents.get(messageId) ?? 0
  }

  /** An action's answer, unless the socket told something newer since `seenBefore`. */
  function putAnswer(message: MessageView, seenBefore = 0): void {
    if (liveCount(message.id) > seenBefore) return
    putMessage(message)
  }

  const socket = liveSocket()
  let wasOpen = socket.state === 'open'
  const offs = [
    socket.on('message.created', (message) => {
      putLive(message)
      reopenWindow(message)
    }),
    socket.on('message.updated', putLive),
    socket.on('conversation.updated', (data) => {
      if (data.id !== id.value || conversation.value === null) return
      const merged = mergeEvent(conversation.value, data)
      if (merged !== null) conversation.value = keepReplyWindow(conversation.value, merged)
    }),
    socket.on('alert', (data) => {
      if (data.conversation_id === id.value && conversation.value !== null) {
        conversation.value = { ...conversation.value, alert: data.alert }
      }
    }),
    socket.on('typing', (data) => {
      typingState.value = applyTyping(pruneTyping(typingState.value, Date.now()), data, Date.now(), me())
    }),
    socket.onResync(() => void load()),
    // A new connection is not replayed the activity of conversations others hold while this
    // one was gone: reload what is shown.
    socket.onState((state) => {
      if (state !== 'open') return
      if (wasOpen) void load()
      wasOpen = true
    }),
  ]
  onBeforeUnmount(() => {
    generation += 1
    socket.watch(null)
    for (const off of offs) off()
  })

  watch(
    id,
    (current) => {
      socket.watch(current)
      void load()
    },
    { immediate: true },
  )

  return {
    conversation,
    messages,
    loading,
    loadingOlder,
    hasOlder,
    error,
    busyIds,
    typing,
    reload: load,
    loadOlder,
    putMessage,
    putAnswer,
    liveCount,
    putConversation,
    withBusy,
  }
}
