// The policy in words, and the broken rules of a 422 password_policy answer.
import { describe, expect, it } from 'vitest'
import type { PasswordPolicy } from '../api/types'
import { brokenRules, checkLocally, describePolicy, passwordLength, ruleMessageKey } from './password-policy'

// The two profiles the server has (src/auth/password.rs).
const MLPS3: PasswordPolicy = {
  profile: 'mlps3',
  min_length: 8,
  classes_required: 3,
  expiry_days: 90,
  history: 5,
  rejects_common: true,
}
const NIST: PasswordPolicy = {
  profile: 'nist',
  min_length: 12,
  classes_required: 0,
  expiry_days: null,
  history: 0,
  rejects_common: true,
}

describe('password policy', () => {
  it('lists every requirement of the 等保三级 profile', () => {
    expect(describePolicy(MLPS3)).toEqual([
      { key: 'password.policy.minLength', params: { n: 8 } },
      { key: 'password.policy.classes', params: { n: 3 } },
      { key: 'password.policy.notCommon', params: {} },
      { key: 'password.policy.notUsername', params: {} },
      { key: 'password.policy.history', params: { n: 5 } },
      { key: 'password.policy.expiry', params: { n: 90 } },
    ])
  })

  it('leaves out what the NIST profile does not ask for', () => {
    expect(describePolicy(NIST).map((l) => l.key)).toEqual([
      'password.policy.minLength',
      'password.policy.notCommon',
      'password.policy.notUsername',
    ])
    expect(describePolicy({ ...NIST, rejects_common: false }).map((l) => l.key)).not.toContain(
      'password.policy.notCommon',
    )
  })

  it('reads the broken rules from details, each once, unknown ones as unknown', () => {
    expect(brokenRules(['too_short', 'too_few_classes', 'too_short'])).toEqual(['too_short', 'too_few_classes'])
    expect(brokenRules(['reused', 'same_as_username', 'too_common'])).toEqual([
      'reused',
      'same_as_username',
      'too_common',
    ])
    expect(brokenRules(['no_emoji', 'also_new'])).toEqual(['unknown'])
    expect(brokenRules({ rules: ['too_common'] })).toEqual(['too_common'])
    expect(brokenRules([{ code: 'reused' }])).toEqual(['reused'])
    expect(brokenRules(undefined)).toEqual([])
    expect(brokenRules('too_short')).toEqual([])
  })

  it('names the message of each rule', () => {
    expect(ruleMessageKey('too_short')).toBe('password.rules.too_short')
    expect(ruleMessageKey('unknown')).toBe('password.rules.unknown')
  })

  it('checks only the length before asking the server, counting characters', () => {
    expect(passwordLength('密码密码')).toBe(4)
    expect(checkLocally('short', MLPS3)).toEqual(['too_short'])
    expect(checkLocally('长密码长密码长密码', MLPS3)).toEqual([])
    expect(checkLocally('alllowercase', MLPS3)).toEqual([])
    expect(checkLocally('x', null)).toEqual([])
  })
})
