/**
 * The audit page's filter and how it becomes the query of `GET /api/v1/audit` and the body of
 * `POST /api/v1/audit/verify`; paging is by cursor (`before` = a seq), newest first.
 */
import type { AuditOutcome, AuditQuery, AuditVerifyRequest } from '../../api/types'

export interface AuditFilter {
  /** [from, to] in Unix ms, or null for all time. */
  range: [number, number] | null
  actor: string
  event: string
  outcome: AuditOutcome | ''
  q: string
}

export const AUDIT_PAGE_SIZE = 50

export function emptyAuditFilter(): AuditFilter {
  return { range: null, actor: '', event: '', outcome: '', q: '' }
}

/** A date picker's value as `[from, to]` in ms; `null` when incomplete. */
export function toRange(value: unknown): [number, number] | null {
  if (!Array.isArray(value) || value.length !== 2) return null
  const [from, to] = value.map((v: unknown) =>
    v instanceof Date ? v.getTime() : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v,
  )
  return typeof from === 'number' && typeof to === 'number' && Number.isFinite(from) && Number.isFinite(to)
    ? [Math.min(from, to), Math.max(from, to)]
    : null
}

export function toAuditQuery(
  filter: AuditFilter,
  before?: number,
  limit: number = AUDIT_PAGE_SIZE,
): AuditQuery {
  const query: AuditQuery = { limit }
  if (filter.range !== null) {
    query.from = filter.range[0]
    query.to = filter.range[1]
  }
  const actor = filter.actor.trim()
  if (actor.length > 0) query.actor = actor
  if (filter.event.length > 0) query.event = filter.event
  if (filter.outcome !== '') query.outcome = filter.outcome
  const q = filter.q.trim()
  if (q.length > 0) query.q = q
  if (before !== undefined) query.before = before
  return query
}

/** The chain check covers the filter's time range, or everything. */
export function toVerifyRequest(filter: AuditFilter): AuditVerifyRequest {
  return filter.range === null ? {} : { from: filter.range[0], to: filter.range[1] }
}

/** A record's details as indented JSON (`''` when there are none). */
export function formatDetails(details: unknown): string {
  if (details === null || details === undefined) return ''
  if (typeof details === 'object' && Object.keys(details).length === 0) return ''
  return JSON.stringify(details, null, 2)
}

/**
 * Cursor paging: `before` values of the pages seen so far, so "newer" can go back. Page 1 has no
 * cursor.
 */
export class AuditPager {
  private cursors: Array<number | undefined> = [undefined]

  get page(): number {
    return this.cursors.length
  }

  get current(): number | undefined {
    return this.cursors[this.cursors.length - 1]
  }

  reset(): void {
    this.cursors = [undefined]
  }

  older(nextBefore: number): void {
    this.cursors.push(nextBefore)
  }

  newer(): void {
    if (this.cursors.length > 1) this.cursors.pop()
  }
}
