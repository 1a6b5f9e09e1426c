import { describe, expect, it } from 'vitest'
import { WORKSPACE_ERROR_KEYS, workspaceErrorMessage } from './errors'

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
