/**
 * System messages in the reader's language. The server stores each assignment, transfer and
 * status change as a `system` message whose `content.event` names what happened
 * (`src/engine/actions.rs`, `src/engine/dispatch.rs`) and whose `body` is an English sentence for
 * API users. The workspace shows a translated sentence built from the event instead; an event it
 * does not know falls back to the body.
 *
 * Pure: it returns a message key and its parameters, and the component translates them.
 */
import type { MessageView, SystemEventContent } from '../../api/workspace-types'

/** The events the server writes, each with a `ws.event.*` message. */
export const SYSTEM_EVENTS = [
  'assigned',
  'unassigned',
  'claimed',
  'transferred',
  'resolved',
  'reopened',
  'snoozed',
  'pending',
  'auto_assigned',
  'overflowed',
  'rerouted',
  'unsnoozed',
  'csat',
] as const
export type SystemEvent = (typeof SYSTEM_EVENTS)[number]

/** Why routing took a conversation back (`dispatch.rs`). */
export const REROUTE_REASONS = ['agent_offline', 'response_timeout'] as const

/** Names the reader needs that the event may lack (team names of `overflowed`). */
export interface EventNames {
  team: (id: number) => string | null
}

export interface EventText {
  /** Message key under `ws.event`, e.g. `ws.event.transferred.agent`. */
  key: string
  params: Record<string, string>
  /** A transfer note, shown on its own line. */
  note: string | null
}

function isEventContent(value: unknown): value is SystemEventContent {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { event?: unknown }).event === 'string'
  )
}

function personName(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null
  const name = (value as { name?: unknown }).name
  return typeof name === 'string' && name.length > 0 ? name : null
}

function personId(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null
  const id = (value as { id?: unknown }).id
  return typeof id === 'number' ? id : null
}

/**
 * The sentence of a system message, or `null` when it is not a known event (show `body`).
 * `formatTime` turns the snooze time into text in the reader's locale.
 */
export function describeSystemEvent(
  message: Pick<MessageView, 'content'>,
  names: EventNames,
  formatTime: (ms: number) => string,
): EventText | null {
  const content = message.content
  if (!isEventContent(content)) return null
  const event = content.event
  if (!(SYSTEM_EVENTS as readonly string[]).includes(event)) return null
  const actor = personName(content.actor)
  const by = actor === null ? 'system' : 'user'
  const params: Record<string, string> = {}
  if (actor !== null) params.actor = actor
  const to = personName(content.to)
  if (to !== null) params.to = to
  let team = personName(content.team)
  if (team === null) {
    const teamId = personId(content.team)
    if (teamId !== null) team = names.team(teamId)
  }
  if (team !== null) params.team = team
  const note = typeof content.note === 'string' && content.note.trim().length > 0 ? content.note.trim() : null

  switch (event as SystemEvent) {
    case 'assigned':
      return { key: `ws.event.assigned.${by}`, params, note: null }
    case 'unassigned':
      return { key: `ws.event.unassigned.${by}`, params, note: null }
    case 'claimed':
      return { key: 'ws.event.claimed', params: { actor: actor ?? to ?? '' }, note: null }
    case 'transferred': {
      const target = to !== null && team !== null ? 'both' : to !== null ? 'agent' : team !== null ? 'team' : 'none'
      return { key: `ws.event.transferred.${target}`, params: { actor: actor ?? '', ...params }, note }
    }
    case 'resolved':
    case 'reopened':
    case 'pending':
      return { key: `ws.event.${event}.${by}`, params, note: null }
    case 'snoozed': {
      const until = typeof content.until === 'number' ? formatTime(content.until) : null
      if (until !== null) params.until = until
      return { key: `ws.event.snoozed.${until === null ? 'plain' : by}`, params, note: null }
    }
    case 'auto_assigned':
      return { key: to === null ? 'ws.event.autoAssigned.plain' : 'ws.event.autoAssigned.to', params, note: null }
    case 'overflowed':
      return { key: team === null ? 'ws.event.overflowed.plain' : 'ws.event.overflowed.team', params, note: null }
    case 'rerouted': {
      const reason = (REROUTE_REASONS as readonly unknown[]).includes(content.reason) ? String(content.reason) : 'other'
      return { key: `ws.event.rerouted.${reason}`, params, note: null }
    }
    case 'unsnoozed':
      return { key: 'ws.event.unsnoozed', params, note: null }
    case 'csat': {
      const rating = typeof content.rating === 'number' ? content.rating : null
      const comment = typeof content.comment === 'string' && content.comment.trim().length > 0 ? content.comment.trim() : null
      if (rating === null) return { key: 'ws.event.csatPlain', params, note: comment }
      return { key: 'ws.event.csat', params: { rating: String(rating) }, note: comment }
    }
  }
}

/** Every key {@link describeSystemEvent} can return (for the message-key test). */
export const SYSTEM_EVENT_KEYS: readonly string[] = [
  'ws.event.assigned.user',
  'ws.event.assigned.system',
  'ws.event.unassigned.user',
  'ws.event.unassigned.system',
  'ws.event.claimed',
  'ws.event.transferred.both',
  'ws.event.transferred.agent',
  'ws.event.transferred.team',
  'ws.event.transferred.none',
  'ws.event.resolved.user',
  'ws.event.resolved.system',
  'ws.event.reopened.user',
  'ws.event.reopened.system',
  'ws.event.pending.user',
  'ws.event.pending.system',
  'ws.event.snoozed.user',
  'ws.event.snoozed.system',
  'ws.event.snoozed.plain',
  'ws.event.autoAssigned.to',
  'ws.event.autoAssigned.plain',
  'ws.event.overflowed.team',
  'ws.event.overflowed.plain',
  'ws.event.rerouted.agent_offline',
  'ws.event.rerouted.response_timeout',
  'ws.event.rerouted.other',
  'ws.event.unsnoozed',
  'ws.event.csat',
  'ws.event.csatPlain',
]
