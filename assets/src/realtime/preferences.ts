/**
 * The agent's workspace preferences, kept in this browser (localStorage; unavailable storage
 * just means the choice lasts until reload): sounds muted, and whether Enter or Ctrl+Enter sends.
 */
import { ref, watch, type Ref } from 'vue'

function stored(key: string, fallback: boolean): boolean {
  try {
    const value = window.localStorage.getItem(key)
    return value === null ? fallback : value === '1'
  } catch {
    return fallback
  }
}

function persisted(key: string, fallback: boolean): Ref<boolean> {
  const value = ref(typeof window === 'undefined' ? fallback : stored(key, fallback))
  watch(value, (next) => {
    try {
      window.localStorage.setItem(key, next ? '1' : '0')
    } catch {
      // Storage unavailable: keep the choice in memory.
    }
  })
  return value
}

/** Sounds for new conversations, assignments and mentions are off. */
export const soundMuted = persisted('atrium.ws.muted', false)

/** Plain Enter makes a new line and Ctrl/⌘+Enter sends. */
export const ctrlEnterSends = persisted('atrium.ws.ctrlEnter', false)
