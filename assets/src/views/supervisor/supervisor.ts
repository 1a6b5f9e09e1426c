/**
 * What the supervisor view computes from `GET /supervisor/overview`: waiting times that keep
 * ticking between refreshes, agents' status colours and load, and who a waiting conversation
 * can be given to.
 */
import type { Id } from '../../api/types'
import type {
  AgentStatus,
  SupervisorAgent,
  TeamQueue,
  WaitingConversation,
} from '../../api/settings2-types'

/**
 * A waiting time as a clock: `0:05`, `12:34`, `1:02:03` (hours are not capped). Negative or
 * missing times show as `0:00` (the browser's clock may be slightly behind the server's).
 */
export function formatWait(ms: number | null | undefined): string {
  const total = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  const ss = String(seconds).padStart(2, '0')
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`
}

/**
 * A queue's longest wait now: what the server said at `fetchedAt`, plus the time since — as
 * long as someone is still queued (an empty queue stays at zero).
 */
export function liveLongestWait(queue: TeamQueue, fetchedAt: number, now: number): number {
  if (queue.queued <= 0) return 0
  return Math.max(0, queue.longest_wait_ms) + Math.max(0, now - fetchedAt)
}

function since(start: number | null, now: number): number {
  return start === null ? 0 : Math.max(0, now - start)
}

/**
 * How long the customer has waited for a reply now, from `waiting_since` (by the browser's
 * clock; a clock running behind the server's shows zero rather than a negative time).
 */
export function waitedMs(conversation: WaitingConversation, now: number): number {
  return since(conversation.waiting_since, now)
}

/**
 * How long a conversation has waited in the queue now: from `queued_at` (the queues' "longest
 * wait" counts from it too), or from `waiting_since` when the server sent no queue time.
 */
export function queuedMs(conversation: WaitingConversation, now: number): number {
  return since(conversation.queued_at ?? conversation.waiting_since, now)
}

/** Element Plus tag type per status: online green, busy orange, away grey-blue, offline grey. */
export function statusTagType(status: AgentStatus | string): 'success' | 'warning' | 'primary' | 'info' {
  switch (status) {
    case 'online':
      return 'success'
    case 'busy':
      return 'warning'
    case 'away':
      return 'primary'
    default:
      return 'info'
  }
}

/** Load as a percentage of capacity, 0…100 (full when over capacity or capacity 0 with load). */
export function loadPercent(load: number, capacity: number): number {
  if (load <= 0) return 0
  if (capacity <= 0) return 100
  return Math.min(100, Math.round((load / capacity) * 100))
}

/** The colour class of a load bar: room, nearly full (≥ 80 %), full. */
export function loadLevel(load: number, capacity: number): 'ok' | 'high' | 'full' {
  if (capacity > 0 ? load >= capacity : load > 0) return 'full'
  return loadPercent(load, capacity) >= 80 ? 'high' : 'ok'
}

/** A bar's width for `value` when the largest bar is `max` (at least 2 % so zero is visible). */
export function barPercent(value: number, max: number): number {
  if (max <= 0 || value <= 0) return 0
  return Math.max(2, Math.min(100, Math.round((value / max) * 100)))
}

/** True when an agent belongs to team `teamId`. */
function inTeam(agent: SupervisorAgent, teamId: Id | null): boolean {
  return teamId !== null && agent.teams.includes(teamId)
}

const STATUS_ORDER: Record<string, number> = { online: 0, busy: 1, away: 2, offline: 3 }

/**
 * Who a waiting conversation can be given to, best first: not the current assignee, agents of
 * the conversation's team first, then by status (online first), free capacity share, and name.
 * Offline agents stay in the list (a supervisor may know better) but come last.
 */
export function assignCandidates(
  agents: readonly SupervisorAgent[],
  conversation: WaitingConversation,
): SupervisorAgent[] {
  const ratio = (a: SupervisorAgent): number => (a.capacity > 0 ? a.load / a.capacity : a.load > 0 ? 1 : 0)
  return agents
    .filter((a) => a.id !== conversation.assignee?.id)
    .sort((a, b) => {
      const team = Number(inTeam(b, conversation.team_id)) - Number(inTeam(a, conversation.team_id))
      if (team !== 0) return team
      const status = (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9)
      if (status !== 0) return status
      return ratio(a) - ratio(b) || a.name.localeCompare(b.name)
    })
}

/**
 * The list with `agent` (from a `presence` event) in place of the agent with its id, or added
 * when the list did not have it (someone who just became an agent).
 */
export function applyPresence<A extends { id: Id }>(agents: readonly A[], agent: A): A[] {
  return agents.some((a) => a.id === agent.id)
    ? agents.map((a) => (a.id === agent.id ? agent : a))
    : [...agents, agent]
}

/** The names of an agent's teams (unknown ids as `#id`). */
export function teamLabels(teams: readonly Id[], teamNames: ReadonlyMap<Id, string>): string[] {
  return teams.map((t) => teamNames.get(t) ?? `#${t}`)
}

/** Team names by id from the overview's queues (the queue of team-less inboxes has no id). */
export function teamNameMap(teams: readonly TeamQueue[]): Map<Id, string> {
  const names = new Map<Id, string>()
  for (const team of teams) if (team.id !== null) names.set(team.id, team.name)
  return names
}

/** A stable row key for a queue: its team id, or `none` for inboxes without a team. */
export function queueKey(team: TeamQueue): string {
  return team.id === null ? 'none' : String(team.id)
}

/** True when an agent can be given a conversation by routing now: online with free capacity. */
export function isAvailable(agent: SupervisorAgent): boolean {
  return agent.status === 'online' && agent.load < agent.capacity
}

/** Totals across teams for the summary line. */
export function queueTotals(teams: readonly TeamQueue[]): { queued: number; online: number } {
  return teams.reduce(
    (sum, t) => ({ queued: sum.queued + t.queued, online: sum.online + t.online_agents }),
    { queued: 0, online: 0 },
  )
}

/** How urgent a wait looks: from 5 minutes `warning`, from 15 minutes `danger`. */
export function waitLevel(ms: number): 'normal' | 'warning' | 'danger' {
  if (ms >= 15 * 60_000) return 'danger'
  if (ms >= 5 * 60_000) return 'warning'
  return 'normal'
}

/**
 * Queues with the most waiting first, then the longest wait, then by name; the queue of inboxes
 * without a team after the teams when they tie.
 */
export function sortQueues(teams: readonly TeamQueue[]): TeamQueue[] {
  return [...teams].sort(
    (a, b) =>
      b.queued - a.queued ||
      b.longest_wait_ms - a.longest_wait_ms ||
      Number(a.id === null) - Number(b.id === null) ||
      a.name.localeCompare(b.name),
  )
}

/** Agents by status (online first), then the most loaded, then name. */
export function sortAgents(agents: readonly SupervisorAgent[]): SupervisorAgent[] {
  return [...agents].sort(
    (a, b) =>
      (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) ||
      loadPercent(b.load, b.capacity) - loadPercent(a.load, a.capacity) ||
      a.name.localeCompare(b.name),
  )
}

/** Conversation priorities and alerts the view has words for (others are shown as sent). */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export const ALERTS = ['first_response', 'next_response'] as const

/** The message key for a known value of `list` under `prefix`, or `null`. */
export function knownKey(prefix: string, list: readonly string[], value: string): string | null {
  return list.includes(value) ? `${prefix}.${value}` : null
}
