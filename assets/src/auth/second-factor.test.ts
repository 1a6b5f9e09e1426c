// What people type as a second factor, and the setup link's token.
import { describe, expect, it } from 'vitest'
import { normaliseRecoveryCode, normaliseTotpCode } from './second-factor'
import { setupTokenFromHash } from './setup-token'

describe('second factor input', () => {
  it('accepts six digits, with spaces as authenticators show them', () => {
    expect(normaliseTotpCode('123456')).toBe('123456')
    expect(normaliseTotpCode(' 123 456 ')).toBe('123456')
    expect(normaliseTotpCode('12345')).toBeNull()
    expect(normaliseTotpCode('1234567')).toBeNull()
    expect(normaliseTotpCode('12a456')).toBeNull()
  })

  it('puts recovery codes in the printed xxxx-xxxx form', () => {
    expect(normaliseRecoveryCode('abcd-1234')).toBe('abcd-1234')
    expect(normaliseRecoveryCode(' abcd1234 ')).toBe('abcd-1234')
    expect(normaliseRecoveryCode('abcd 1234')).toBe('abcd-1234')
    expect(normaliseRecoveryCode('ABCD-1234')).toBe('ABCD-1234')
    expect(normaliseRecoveryCode('something-else-entirely')).toBe('something-else-entirely')
    expect(normaliseRecoveryCode('   ')).toBeNull()
  })
})

describe('setup link', () => {
  it('reads the token from the fragment', () => {
    expect(setupTokenFromHash('#token=abc_DEF-123')).toBe('abc_DEF-123')
    expect(setupTokenFromHash('token=abc')).toBe('abc')
    expect(setupTokenFromHash('#other=1&token=xyz')).toBe('xyz')
    expect(setupTokenFromHash('#token=')).toBeNull()
    expect(setupTokenFromHash('')).toBeNull()
  })
})
