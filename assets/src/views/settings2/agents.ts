/**
 * Agents' routing profiles as administrators edit them: capacity (how many open conversations
 * routing gives an agent at once; 0 = none) and skills (required by the keyword rules of inboxes).
 *
 * The server compares skills exactly, case included: an agent with `Loans` does not serve a
 * rule requiring `loans`. So skills are kept as typed (trimmed), and a skill that differs from a
 * known one only in case is pointed out.
 */
import type { Id } from '../../api/types'
import type { AgentProfile, InboxSummary } from '../../api/settings2-types'

/** The server's limits (`PUT /agents/{id}`). */
export const MAX_CAPACITY = 1000
export const MAX_SKILLS = 50
export const MAX_SKILL_LENGTH = 40

/** Trimmed skills without empties or exact repeats, sorted. */
export function normaliseSkills(skills: readonly string[]): string[] {
  const set = new Set(skills.map((s) => s.trim()).filter((s) => s.length > 0))
  return [...set].sort((a, b) => a.localeCompare(b))
}

export type AgentProblemCode = 'capacity_range' | 'too_many_skills' | 'skill_too_long'

export function validateAgent(capacity: number | null | undefined, skills: readonly string[]): AgentProblemCode[] {
  const problems: AgentProblemCode[] = []
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CAPACITY) {
    problems.push('capacity_range')
  }
  const clean = normaliseSkills(skills)
  if (clean.length > MAX_SKILLS) problems.push('too_many_skills')
  if (clean.some((s) => [...s].length > MAX_SKILL_LENGTH)) problems.push('skill_too_long')
  return problems
}

/** Every skill any agent has, plus `extra` (e.g. from skill rules), for suggestions. */
export function knownSkills(agents: readonly AgentProfile[], extra: readonly string[] = []): string[] {
  return normaliseSkills([...agents.flatMap((a) => a.skills), ...extra])
}

/**
 * The skills in `skills` that match a `known` skill only when case is ignored (`VIP` when `vip`
 * is known): probably a typing slip, since routing compares exactly.
 */
export function caseClashes(skills: readonly string[], known: readonly string[]): string[] {
  const exact = new Set(known)
  const folded = new Set(known.map((k) => k.toLowerCase()))
  return normaliseSkills(skills).filter((s) => !exact.has(s) && folded.has(s.toLowerCase()))
}

/** Agents whose name, skill, team name or inbox name contains the search text. */
export function filterAgents(
  agents: readonly AgentProfile[],
  query: string,
  teamName: (id: Id) => string,
  inboxName: (id: Id) => string = () => '',
): AgentProfile[] {
  const q = query.trim().toLowerCase()
  if (q.length === 0) return [...agents]
  return agents.filter(
    (a) =>
      a.name.toLowerCase().includes(q) ||
      a.skills.some((s) => s.toLowerCase().includes(q)) ||
      a.teams.some((t) => teamName(t).toLowerCase().includes(q)) ||
      a.inboxes.some((i) => inboxName(i).toLowerCase().includes(q)),
  )
}

/** An inbox an agent is a member of, as the agents page shows it. */
export interface InboxMembership {
  id: Id
  /** The inbox's name, or `#id` when the page could not list it (outside the caller's scope). */
  label: string
  disabled: boolean
}

/** An agent's inboxes by name (from `GET /inboxes`), in the order of `inboxes`. */
export function inboxMemberships(
  ids: readonly Id[],
  inboxes: ReadonlyMap<Id, Pick<InboxSummary, 'name' | 'disabled'>>,
): InboxMembership[] {
  return ids.map((id) => {
    const inbox = inboxes.get(id)
    return { id, label: inbox?.name ?? `#${id}`, disabled: inbox?.disabled === true }
  })
}
