import { describe, expect, it } from 'vitest'
import { isReturning, pickInvitation, type Invitation } from './invite'

const rule = (over: Partial<Invitation>): Invitation => ({ message: '需要帮忙吗？', delay_secs: 30, url_contains: '', returning_only: false, ...over })

describe('proactive invitations', () => {
  it('picks the first rule matching the page and the visitor', () => {
    const rules = [rule({ message: '贷款咨询', url_contains: '/Loans' }), rule({ message: '欢迎回来', returning_only: true }), rule({ message: '您好' })]
    expect(pickInvitation(rules, 'https://bank.example/loans/apply', false)?.message).toBe('贷款咨询')
    expect(pickInvitation(rules, 'https://bank.example/cards', true)?.message).toBe('欢迎回来')
    expect(pickInvitation(rules, 'https://bank.example/cards', false)?.message).toBe('您好')
    expect(pickInvitation([rule({ returning_only: true })], 'https://bank.example/', false)).toBeNull()
    expect(pickInvitation([rule({ message: ' ' })], 'https://bank.example/', false)).toBeNull()
  })

  it('counts a visitor as returning after 30 minutes away', () => {
    const now = 10_000_000
    expect(isReturning(null, now)).toBe(false)
    expect(isReturning(now - 60_000, now)).toBe(false)
    expect(isReturning(now - 31 * 60_000, now)).toBe(true)
    expect(isReturning(Number.NaN, now)).toBe(false)
  })
})
