// The audit filter as a query, and cursor paging.
import { describe, expect, it } from 'vitest'
import {
  AUDIT_PAGE_SIZE,
  AuditPager,
  emptyAuditFilter,
  formatDetails,
  toAuditQuery,
  toRange,
  toVerifyRequest,
} from './audit-filter'

describe('audit filter', () => {
  it('asks for the newest page when nothing is filtered', () => {
    expect(toAuditQuery(emptyAuditFilter())).toEqual({ limit: AUDIT_PAGE_SIZE })
    expect(toVerifyRequest(emptyAuditFilter())).toEqual({})
  })

  it('sends every filled-in field, trimmed', () => {
    const filter = {
      range: [1000, 2000] as [number, number],
      actor: ' li.na ',
      event: 'auth.login',
      outcome: 'failure' as const,
      q: '  locked ',
    }
    expect(toAuditQuery(filter, 42, 10)).toEqual({
      from: 1000,
      to: 2000,
      actor: 'li.na',
      event: 'auth.login',
      outcome: 'failure',
      q: 'locked',
      before: 42,
      limit: 10,
    })
    expect(toVerifyRequest(filter)).toEqual({ from: 1000, to: 2000 })
  })

  it('reads date picker values', () => {
    expect(toRange([2000, 1000])).toEqual([1000, 2000])
    expect(toRange(['1000', '2000'])).toEqual([1000, 2000])
    expect(toRange([new Date(5), new Date(6)])).toEqual([5, 6])
    expect(toRange(null)).toBeNull()
    expect(toRange([1])).toBeNull()
    expect(toRange(['x', 'y'])).toBeNull()
  })

  it('pages back and forth by cursor', () => {
    const pager = new AuditPager()
    expect([pager.page, pager.current]).toEqual([1, undefined])
    pager.older(900)
    pager.older(800)
    expect([pager.page, pager.current]).toEqual([3, 800])
    pager.newer()
    expect([pager.page, pager.current]).toEqual([2, 900])
    pager.newer()
    pager.newer()
    expect([pager.page, pager.current]).toEqual([1, undefined])
    pager.older(5)
    pager.reset()
    expect(pager.page).toBe(1)
  })

  it('shows details as indented JSON, nothing when empty', () => {
    expect(formatDetails({ reason: 'locked', failures: 5 })).toBe('{\n  "reason": "locked",\n  "failures": 5\n}')
    expect(formatDetails({})).toBe('')
    expect(formatDetails(null)).toBe('')
  })
})
