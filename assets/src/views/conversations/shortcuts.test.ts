// Shortcut dispatch: single keys only outside text fields, Esc everywhere, Enter in the composer.
import { describe, expect, it } from 'vitest'
import { SHORTCUTS, composerSends, isEditableTarget, shortcutFor, type KeyInput } from './shortcuts'

const press = (key: string, over: Partial<KeyInput> = {}): KeyInput => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  editable: false,
  ...over,
})

describe('shortcut dispatch', () => {
  it('maps the documented keys', () => {
    expect(shortcutFor(press('j'))).toBe('next')
    expect(shortcutFor(press('k'))).toBe('previous')
    expect(shortcutFor(press('r'))).toBe('reply')
    expect(shortcutFor(press('n'))).toBe('note')
    expect(shortcutFor(press('e'))).toBe('resolve')
    expect(shortcutFor(press('/'))).toBe('canned')
    expect(shortcutFor(press('?'))).toBe('help')
    expect(shortcutFor(press('Escape'))).toBe('escape')
    expect(shortcutFor(press('x'))).toBeNull()
    expect(shortcutFor(press('J'))).toBeNull()
  })

  it('lists every dispatched action in the help', () => {
    const listed = new Set(SHORTCUTS.map((s) => s.action))
    for (const key of ['j', 'k', 'r', 'n', 'e', '/', '?', 'Escape']) {
      const action = shortcutFor(press(key))
      expect(action !== null && listed.has(action), key).toBe(true)
    }
  })

  it('stays off while typing, except Esc', () => {
    expect(shortcutFor(press('j', { editable: true }))).toBeNull()
    expect(shortcutFor(press('e', { editable: true }))).toBeNull()
    expect(shortcutFor(press('Escape', { editable: true }))).toBe('escape')
    expect(shortcutFor(press('j', { isComposing: true }))).toBeNull()
  })

  it('leaves modified keys to the browser', () => {
    expect(shortcutFor(press('r', { ctrlKey: true }))).toBeNull()
    expect(shortcutFor(press('k', { metaKey: true }))).toBeNull()
    expect(shortcutFor(press('e', { altKey: true }))).toBeNull()
  })

  it('knows which targets take text', () => {
    expect(isEditableTarget({ tagName: 'TEXTAREA' })).toBe(true)
    expect(isEditableTarget({ tagName: 'INPUT', type: 'text' })).toBe(true)
    expect(isEditableTarget({ tagName: 'INPUT' })).toBe(true)
    expect(isEditableTarget({ tagName: 'INPUT', type: 'checkbox' })).toBe(false)
    expect(isEditableTarget({ tagName: 'SELECT' })).toBe(true)
    expect(isEditableTarget({ tagName: 'DIV', isContentEditable: true })).toBe(true)
    expect(isEditableTarget({ tagName: 'BUTTON' })).toBe(false)
    expect(isEditableTarget(null)).toBe(false)
  })
})

describe('composer Enter', () => {
  const enter = (over: Partial<Parameters<typeof composerSends>[0]> = {}) => ({
    key: 'Enter',
    shiftKey: false,
    ctrlKey: false,
    metaKey: false,
    ...over,
  })

  it('sends on Enter, new line on Shift+Enter', () => {
    expect(composerSends(enter(), false)).toBe(true)
    expect(composerSends(enter({ shiftKey: true }), false)).toBe(false)
    expect(composerSends(enter({ ctrlKey: true }), false)).toBe(true)
    expect(composerSends({ ...enter(), key: 'a' }, false)).toBe(false)
  })

  it('sends only on Ctrl/⌘+Enter with that preference', () => {
    expect(composerSends(enter(), true)).toBe(false)
    expect(composerSends(enter({ ctrlKey: true }), true)).toBe(true)
    expect(composerSends(enter({ metaKey: true }), true)).toBe(true)
  })

  it('never sends while an input method is composing', () => {
    expect(composerSends(enter({ isComposing: true }), false)).toBe(false)
  })
})
