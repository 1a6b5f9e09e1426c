/**
 * The composer's two popups as text rules: `/` at the start of a line opens the canned-reply
 * search, `@` at the start of a word (in a private note) opens the agent list. Each finds its
 * trigger left of the caret, filters and ranks candidates, and replaces the trigger with the
 * chosen text. Pure, so the keyboard behaviour is tested without a browser.
 */
import type { Id } from '../../api/types'
import type { AgentSummary, CannedReply } from '../../api/workspace-types'

/** A trigger character and the query typed after it, left of the caret. */
export interface Trigger {
  /** Index of the trigger character in the text. */
  start: number
  /** What was typed between the trigger and the caret. */
  query: string
}

const MAX_QUERY = 40

/**
 * The `/` or `@` trigger the caret is in, or `null`. `/` counts only at the start of a line (so
 * "and/or" and URLs do not open the popup); `@` at the start of a word. The query may not hold
 * white space: a space closes the popup.
 */
export function findTrigger(text: string, caret: number, char: '/' | '@'): Trigger | null {
  const before = text.slice(0, caret)
  const start = before.lastIndexOf(char)
  if (start === -1) return null
  const query = before.slice(start + 1)
  if (query.length > MAX_QUERY || /\s/.test(query)) return null
  const prev = start === 0 ? '' : before.charAt(start - 1)
  const boundary = char === '/' ? prev === '' || prev === '\n' : prev === '' || /\s/.test(prev)
  return boundary ? { start, query } : null
}

/** The text with the trigger (and its query) replaced by `insertion`, and the caret after it. */
export function replaceTrigger(
  text: string,
  trigger: Trigger,
  caret: number,
  insertion: string,
): { text: string; caret: number } {
  const next = text.slice(0, trigger.start) + insertion + text.slice(caret)
  return { text: next, caret: trigger.start + insertion.length }
}

function rank(fields: Array<string>, query: string): number | null {
  const q = query.toLowerCase()
  if (q.length === 0) return 0
  let best: number | null = null
  fields.forEach((field, i) => {
    const f = field.toLowerCase()
    const score = f === q ? 0 : f.startsWith(q) ? 1 : f.includes(q) ? 2 : null
    if (score !== null) {
      const weighted = score * fields.length + i
      best = best === null ? weighted : Math.min(best, weighted)
    }
  })
  return best
}

/**
 * Canned replies matching `query` (the server already filtered by `q`; this keeps the popup
 * right while the next answer is on its way): exact shortcut, then shortcut prefix, then
 * title, then anywhere; at most `limit`.
 */
export function filterCannedReplies(
  replies: readonly CannedReply[],
  query: string,
  limit = 8,
): CannedReply[] {
  const scored: Array<[number, number, CannedReply]> = []
  replies.forEach((reply, index) => {
    const score = rank([reply.shortcut, reply.title], query)
    if (score !== null) scored.push([score, index, reply])
  })
  return scored
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, limit)
    .map(([, , reply]) => reply)
}

/** Agents for the `@` popup, without the author; by name match. */
export function filterAgents(
  agents: readonly AgentSummary[],
  query: string,
  excludeId: Id | null,
  limit = 8,
): AgentSummary[] {
  const scored: Array<[number, number, AgentSummary]> = []
  agents.forEach((agent, index) => {
    if (agent.id === excludeId) return
    const score = rank([agent.name], query)
    if (score !== null) scored.push([score, index, agent])
  })
  return scored
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, limit)
    .map(([, , agent]) => agent)
}

/** Keyboard movement in a popup list, wrapping at both ends. */
export function moveIndex(index: number, delta: number, length: number): number {
  if (length <= 0) return 0
  return (((index + delta) % length) + length) % length
}

/** The ids of the chosen mentions still present as `@name` in the text. */
export function mentionedIds(text: string, chosen: ReadonlyArray<{ id: Id; name: string }>): Id[] {
  const ids: Id[] = []
  for (const { id, name } of chosen) {
    if (text.includes(`@${name}`) && !ids.includes(id)) ids.push(id)
  }
  return ids
}
