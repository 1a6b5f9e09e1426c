import { describe, expect, it } from 'vitest'
import { ApiError } from '../../api/client'
import zhCN from '../../i18n/zh-CN'
import en from '../../i18n/en'
import { i18n } from '../../i18n'
import {
  WORKSPACE_ERROR_KEYS,
  assignmentErrorText,
  assignmentProblemKey,
  workspaceErrorMessage,
} from './errors'

describe('workspace error messages', () => {
  it('names the size limit and the detected types from the details', () => {
    expect(workspaceErrorMessage('attachment_too_large', ['20971520'])).toEqual({
      key: 'ws.errors.attachment_too_large_limit',
      params: { max: '20.0 MB' },
    })
    expect(workspaceErrorMessage('attachment_type_mismatch', ['pdf', 'image/png'])).toEqual({
      key: 'ws.errors.attachment_type_mismatch_detected',
      params: { ext: 'pdf', type: 'image/png' },
    })
    expect(workspaceErrorMessage('attachment_type_not_allowed', ['application/x-msdownload'])?.params).toEqual({
      type: 'application/x-msdownload',
    })
  })

  it('falls back to the plain text without details, and leaves shared codes alone', () => {
    expect(workspaceErrorMessage('attachment_too_large', undefined)).toEqual({ key: 'ws.errors.attachment_too_large', params: {} })
    expect(workspaceErrorMessage('conflict', null)).toBeNull()
  })

  it('lists every key it returns', () => {
    for (const [code, details] of [
      ['attachment_too_large', ['1']],
      ['attachment_type_mismatch', ['a', 'b']],
      ['attachment_type_not_allowed', ['a']],
      ['attachment_empty', []],
      ['origin_not_allowed', []],
    ] as const) {
      expect(WORKSPACE_ERROR_KEYS).toContain(workspaceErrorMessage(code, details)!.key)
    }
  })
})

describe('refused assignments and transfers', () => {
  const refused = (message: string): ApiError => new ApiError('validation_failed', 422, message, 'r1')

  it('names the cause the server gives in a 422', () => {
    expect(assignmentProblemKey(refused('user 9 is not an agent who can take conversations'))).toBe(
      'ws.errors.not_an_agent',
    )
    expect(assignmentProblemKey(refused('team 4 does not exist'))).toBe('ws.errors.team_missing')
    expect(assignmentProblemKey(refused('the note is longer than 2000 characters'))).toBeNull()
    expect(assignmentProblemKey(new ApiError('conflict', 409, 'user 9 is not an agent'))).toBeNull()
    expect(assignmentProblemKey(new Error('user 9 is not an agent'))).toBeNull()
  })

  it('has both languages for the keys it returns', () => {
    const get = (messages: unknown, key: string): unknown =>
      key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages)
    for (const key of ['ws.errors.not_an_agent', 'ws.errors.team_missing', 'ws.errors.refused']) {
      expect(typeof get(zhCN, key), key).toBe('string')
      expect(typeof get(en, key), key).toBe('string')
    }
  })

  it("shows the translated cause, else the server's explanation of the 422", () => {
    i18n.global.locale.value = 'en'
    expect(assignmentErrorText(refused('user 9 is not an agent who can take conversations'), 'ws.actions.conflictResolved')).toBe(
      en.ws.errors.not_an_agent,
    )
    expect(assignmentErrorText(refused('the note is longer than 2000 characters'), 'ws.actions.conflictResolved')).toBe(
      'The server refused this: the note is longer than 2000 characters',
    )
    expect(assignmentErrorText(new ApiError('conflict', 409, 'resolved'), 'ws.actions.conflictResolved')).toBe(
      en.ws.actions.conflictResolved,
    )
    i18n.global.locale.value = 'zh-CN'
    expect(assignmentErrorText(refused('team 4 does not exist'), 'ws.actions.conflictResolved')).toBe(zhCN.ws.errors.team_missing)
  })
})
