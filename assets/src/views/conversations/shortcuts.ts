/**
 * Keyboard shortcuts of the conversation workspace, as a pure key → action table so the rules
 * (and the help dialog listing them) are tested without a DOM.
 *
 * Single-key shortcuts never fire while the focus is in a text field, a select or an editable
 * element — typing "j" in a reply must type "j". Only Esc works everywhere (closes dialogs and
 * popups). Keys with Ctrl, Alt or Meta are left to the browser.
 */

export type ShortcutAction =
  | 'next'
  | 'previous'
  | 'reply'
  | 'note'
  | 'resolve'
  | 'canned'
  | 'help'
  | 'escape'

export interface KeyInput {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  altKey: boolean
  /** An input method is composing (Chinese input): the key belongs to the IME. */
  isComposing?: boolean
  /** The focus is in something that takes text. */
  editable: boolean
}

/** The shortcuts in help-dialog order; `keys` as shown, `action` as dispatched. */
export const SHORTCUTS: ReadonlyArray<{ keys: readonly string[]; action: ShortcutAction }> = [
  { keys: ['j'], action: 'next' },
  { keys: ['k'], action: 'previous' },
  { keys: ['r'], action: 'reply' },
  { keys: ['n'], action: 'note' },
  { keys: ['e'], action: 'resolve' },
  { keys: ['/'], action: 'canned' },
  { keys: ['?'], action: 'help' },
  { keys: ['Esc'], action: 'escape' },
]

const SINGLE_KEYS: Readonly<Record<string, ShortcutAction>> = {
  j: 'next',
  k: 'previous',
  r: 'reply',
  n: 'note',
  e: 'resolve',
  '/': 'canned',
  '?': 'help',
}

/** The action of a key press, or `null` when the key is not a shortcut here. */
export function shortcutFor(input: KeyInput): ShortcutAction | null {
  if (input.isComposing === true) return null
  if (input.key === 'Escape' || input.key === 'Esc') return 'escape'
  if (input.editable || input.ctrlKey || input.metaKey || input.altKey) return null
  return SINGLE_KEYS[input.key] ?? null
}

interface ElementLike {
  tagName?: string
  isContentEditable?: boolean
  type?: string
}

const TEXTLESS_INPUTS = new Set(['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'])

/** True when key presses on `target` produce text (so single-key shortcuts stay off). */
export function isEditableTarget(target: unknown): boolean {
  if (typeof target !== 'object' || target === null) return false
  const el = target as ElementLike
  if (el.isContentEditable === true) return true
  const tag = (el.tagName ?? '').toUpperCase()
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true
  if (tag === 'INPUT') return !TEXTLESS_INPUTS.has((el.type ?? 'text').toLowerCase())
  return false
}

export interface ComposerKey {
  key: string
  shiftKey: boolean
  ctrlKey: boolean
  metaKey: boolean
  isComposing?: boolean
}

/**
 * Whether Enter in the composer sends. By default Enter sends and Shift+Enter is a new line;
 * with the "Ctrl+Enter sends" preference, plain Enter is a new line and Ctrl/⌘+Enter sends.
 * Enter that confirms an input-method candidate never sends.
 */
export function composerSends(input: ComposerKey, ctrlEnterSends: boolean): boolean {
  if (input.key !== 'Enter' || input.isComposing === true) return false
  if (input.shiftKey) return false
  // Ctrl+Enter sends in both modes, so the habit works whichever is chosen.
  return ctrlEnterSends ? input.ctrlKey || input.metaKey : true
}
