import { onBeforeUnmount, ref, type Ref } from 'vue'

/**
 * The current time, updated every `everyMs` while the component is mounted (live waiting times).
 * One timer per caller; the list uses a single one for all its rows.
 */
export function useNow(everyMs = 1_000): Ref<number> {
  const now = ref(Date.now())
  const handle = window.setInterval(() => (now.value = Date.now()), everyMs)
  onBeforeUnmount(() => window.clearInterval(handle))
  return now
}
