import { describe, expect, it } from 'vitest'
import { draftOf, keepDraft } from './drafts'

describe('drafts', () => {
  it('keeps unsent text per conversation and forgets blank text', () => {
    keepDraft(1, '您好，')
    keepDraft(2, '稍等')
    expect(draftOf(1)).toBe('您好，')
    keepDraft(1, '  ')
    expect(draftOf(1)).toBe('')
    expect(draftOf(2)).toBe('稍等')
  })
})
