// Errors in words: known codes translated, password rules listed, request id shown.
import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { describeError, errorText } from './errors'
import { i18n } from './index'

describe('describeError', () => {
  it('lists the broken password rules of a 422 password_policy', () => {
    i18n.global.locale.value = 'en'
    const d = describeError(new ApiError('password_policy', 422, 'x', 'req-1', ['too_short', 'reused']))
    expect(d.message).toBe('The new password does not meet the password policy:')
    expect(d.detailLines).toEqual(['The password is too short.', 'You used this password recently.'])
    expect(d.requestIdLine).toBe('Request ID: req-1')
    expect(errorText(new ApiError('password_policy', 422, 'x', undefined, ['too_common']))).toBe(
      'The new password does not meet the password policy: The password is too common and easy to guess.',
    )
  })

  it('translates the identity codes into Chinese', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(describeError(new ApiError('separation_of_duties', 409, 'x')).message).toMatch(/不同的人/)
    expect(describeError(new ApiError('account_locked', 423, 'x')).message).toMatch(/锁定/)
    expect(describeError(new ApiError('password_policy', 422, 'x', undefined, ['same_as_username'])).detailLines).toEqual([
      '密码不能包含用户名。',
    ])
  })

  it('gives unknown codes the generic message', () => {
    i18n.global.locale.value = 'en'
    const d = describeError(new ApiError('brand_new_code', 400, 'x'))
    expect(d.message).toBe('Something went wrong. Try again later or contact your system administrator.')
    expect(d.detailLines).toEqual([])
    expect(describeError(new Error('boom')).code).toBe('unknown')
  })
})
