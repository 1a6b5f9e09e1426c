/**
 * The realtime events after which the supervisor overview is out of date: an agent's presence or
 * load changed, a conversation was created, queued, assigned or resolved, an alert was raised,
 * or the socket missed events (resync).
 *
 * {@link subscribeOverviewEvents} is the one place the supervisor view listens to the realtime
 * socket. The view also polls every 5 s, so it is correct without any events; they only make it
 * react at once.
 */

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
