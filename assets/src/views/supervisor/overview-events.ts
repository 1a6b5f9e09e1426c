/**
 * The realtime events after which the supervisor overview is out of date: an agent's presence or
 * load changed, a conversation was created, queued, assigned or resolved, an alert was raised,
 * or the socket missed events (resync); and the `presence` events themselves, which carry the
 * whole agent view (status, load…), so agent lists update in place without asking the server.
 *
 * {@link subscribeOverviewEvents} and {@link subscribePresence} are where the supervisor and
 * agents pages listen to the realtime socket. Both pages also poll, so they are correct without
 * any events; events only make them react at once.
 */
import { presenceAgent, type AgentSummary } from '../../api/workspace-types'

/** Event types that change what the overview shows. */
export const OVERVIEW_EVENT_TYPES = [
  'presence',
  'conversation.created',
  'conversation.updated',
  'alert',
] as const

export type OverviewEventType = (typeof OVERVIEW_EVENT_TYPES)[number]

/** The part of the workspace's realtime socket this view needs. */
export interface OverviewEventSource {
  on(type: OverviewEventType, handler: () => void): () => void
  onResync(handler: () => void): () => void
}

/**
 * Calls `onChange` on every overview event and on resync; returns the unsubscribe function.
 * Without a socket (none shared by the workspace yet, or realtime unavailable) it does nothing,
 * and the view relies on polling.
 */
export function subscribeOverviewEvents(
  source: OverviewEventSource | null,
  onChange: () => void,
): () => void {
  if (source === null) return () => undefined
  const stops = [
    ...OVERVIEW_EVENT_TYPES.map((type) => source.on(type, () => onChange())),
    source.onResync(() => onChange()),
  ]
  return () => {
    for (const stop of stops) stop()
  }
}

/** The part of the workspace's realtime socket that agent lists need. */
export interface PresenceSource {
  on(type: 'presence', handler: (data: unknown) => void): () => void
  onResync(handler: () => void): () => void
}

/**
 * Calls `onAgent` with the agent of every `presence` event (payloads that are not an agent view
 * are skipped) and `onResync` when events may have been missed; returns the unsubscribe
 * function. Without a socket it does nothing.
 */
export function subscribePresence(
  source: PresenceSource | null,
  onAgent: (agent: AgentSummary) => void,
  onResync: () => void,
): () => void {
  if (source === null) return () => undefined
  const stops = [
    source.on('presence', (data) => {
      const agent = presenceAgent(data)
      if (agent !== null) onAgent(agent)
    }),
    source.onResync(() => onResync()),
  ]
  return () => {
    for (const stop of stops) stop()
  }
}
