import { describe, expect, it } from 'vitest'
import { revealControls } from './controls'

describe('revealControls', () => {
  it('shows direction overrides and invisible characters as markers', () => {
    expect(revealControls('订单\u202E3pm.exe\u202C')).toBe('订单⟨U+202E⟩3pm.exe⟨U+202C⟩')
    expect(revealControls('零\u200B宽\uFEFF')).toBe('零⟨U+200B⟩宽⟨U+FEFF⟩')
    expect(revealControls('\u2067隔离\u2069')).toBe('⟨U+2067⟩隔离⟨U+2069⟩')
  })

  it('leaves ordinary text and emoji sequences alone', () => {
    expect(revealControls('您好 hello 👨\u200D👩\u200D👧')).toBe('您好 hello 👨\u200D👩\u200D👧')
    expect(revealControls('<b>x</b>')).toBe('<b>x</b>')
  })
})
