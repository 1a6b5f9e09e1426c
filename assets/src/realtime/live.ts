/**
 * The workspace's one realtime connection, shared by every view of the tab, and what it does on
 * its own while the agent is anywhere in the workspace: the sound and desktop notification for a
 * new conversation, an assignment to me, a mention of me and a customer of mine (or of my queue)
 * waiting past the reply-time limit, and the agent's own presence (load).
 *
 * The workspace frame starts it for users with `conversations:read` and stops it when it goes
 * away (sign-out, session end). Views subscribe with `liveSocket().on(…)`.
 */
import { ref } from 'vue'
import type { Id } from '../api/types'
import type { AttentionKind } from './attention'
import { presenceAgent, type MyAgent } from '../api/workspace-types'
import { workspaceApi } from '../api/workspace'
import { shortId } from '../views/conversations/useWsLabels'
import { i18n } from '../i18n'
import { AlertMemory, AssignmentMemory, attentionForConversation, attentionForMention } from './attention'
import { showDesktopNotification } from './desktop'
import { soundMuted } from './preferences'
import { playChime, unlockAudio } from './sound'
import { RealtimeSocket, socketBaseUrl, type ConnectionState } from './socket'

let socket: RealtimeSocket | null = null
let cleanup: Array<() => void> = []

/** The connection's state, for the "reconnecting…" notice. */
export const connectionState = ref<ConnectionState>('idle')

/**
 * My agent state (status, load, capacity), for the status switch: loaded by the switch, then
 * replaced by every `presence` event about me (each carries the whole agent view, and one is
 * sent whenever my status, connection or load changes — so the load follows assignments), and
 * reloaded after a resync (events may have been missed).
 */
export const myPresence = ref<MyAgent | null>(null)

/** Reloads {@link myPresence}; `false` when the user has no agent status (403) or on failure. */
export async function refreshMyPresence(): Promise<boolean> {
  try {
    myPresence.value = await workspaceApi.myAgent()
    return true
  } catch {
    return false
  }
}

/** The conversation the agent is looking at (no notification for it while the tab is visible). */
export const viewingConversation = ref<Id | null>(null)

/** The shared socket (created on first use, started by {@link startLive}). */
export function liveSocket(): RealtimeSocket {
  socket ??= new RealtimeSocket({ baseUrl: socketBaseUrl(window.location) })
  return socket
}

export interface LiveOptions {
  /** The signed-in user. */
  me: Id
  /** Opens a conversation (a notification was clicked). */
  openConversation: (id: Id) => void
}

const TITLE_KEYS: Record<AttentionKind, string> = {
  new_conversation: 'ws.notify.newConversation',
  assigned: 'ws.notify.assigned',
  mention: 'ws.notify.mention',
  overdue: 'ws.notify.overdue',
}

function attend(kind: AttentionKind, conversationId: Id, who: string, options: LiveOptions): void {
  const visibleHere =
    document.visibilityState === 'visible' && viewingConversation.value === conversationId
  if (visibleHere) return
  if (!soundMuted.value) playChime(kind)
  if (document.visibilityState === 'visible' && kind === 'new_conversation') return
  const { t } = i18n.global
  showDesktopNotification(t(TITLE_KEYS[kind]), who, `atrium-${kind}-${conversationId}`, () =>
    options.openConversation(conversationId),
  )
}

/** Connects and starts watching for what needs the agent's attention. */
export function startLive(options: LiveOptions): void {
  const s = liveSocket()
  stopWatching()
  const memory = new AssignmentMemory()
  const alerts = new AlertMemory()
  const seed = (): void => {
    workspaceApi
      .conversations({ view: 'mine', status: 'open', limit: 100 })
      .then((rows) => {
        memory.remember(rows)
        alerts.remember(rows)
      })
      .catch(() => {
        // Without the seed an update of an old conversation of mine may ring once: harmless.
      })
    // The queue's alerts too, longest waits (the likely overdue ones) first, so that an update of
    // a conversation already overdue when the page opened does not ring as a new alert.
    workspaceApi
      .conversations({ view: 'unassigned', status: 'open', sort: 'waiting', limit: 200 })
      .then((rows) => alerts.remember(rows))
      .catch(() => {
        // As above: at worst an old alert rings once.
      })
  }
  const onConversation =
    (type: 'conversation.created' | 'conversation.updated') =>
    (data: Parameters<typeof attentionForConversation>[1]): void => {
      const attention = attentionForConversation(type, data, options.me, memory, alerts)
      if (attention !== null) {
        const who = data.contact.name ?? i18n.global.t('ws.contact.anonymous', { id: shortId(data.contact.id) })
        attend(attention.kind, attention.conversationId, who, options)
      }
    }
  const unlock = (): void => unlockAudio()
  const online = (): void => s.reconnectNow()
  cleanup = [
    s.on('conversation.created', onConversation('conversation.created')),
    s.on('conversation.updated', onConversation('conversation.updated')),
    s.on('mention', (data) => {
      const attention = attentionForMention(data, options.me)
      if (attention !== null) attend('mention', attention.conversationId, '', options)
    }),
    s.on('presence', (data) => {
      // Every agent's changes reach everyone (the supervisor and agents pages use them too);
      // the header keeps mine. A broken payload leaves the state as it was.
      const agent = presenceAgent(data)
      if (agent !== null && agent.id === options.me) myPresence.value = agent
    }),
    s.onState((state) => (connectionState.value = state)),
    s.onResync(seed),
    s.onResync(() => {
      if (myPresence.value !== null) void refreshMyPresence()
    }),
  ]
  document.addEventListener('pointerdown', unlock, { capture: true })
  document.addEventListener('keydown', unlock, { capture: true })
  window.addEventListener('online', online)
  cleanup.push(() => {
    document.removeEventListener('pointerdown', unlock, { capture: true })
    document.removeEventListener('keydown', unlock, { capture: true })
    window.removeEventListener('online', online)
  })
  seed()
  s.start()
  connectionState.value = s.state
}

function stopWatching(): void {
  for (const off of cleanup) off()
  cleanup = []
}

/** Disconnects (leaving the workspace or signing out). */
export function stopLive(): void {
  stopWatching()
  socket?.stop()
  socket = null
  connectionState.value = 'idle'
  myPresence.value = null
}
