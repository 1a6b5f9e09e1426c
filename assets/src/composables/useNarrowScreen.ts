import { onBeforeUnmount, ref, type Ref } from 'vue'

/** True while the viewport is narrower than `maxWidth` pixels (phones, narrow windows). */
export function useNarrowScreen(maxWidth = 768): Ref<boolean> {
  const query = window.matchMedia(`(max-width: ${maxWidth}px)`)
  const narrow = ref(query.matches)
  const update = (event: MediaQueryListEvent): void => {
    narrow.value = event.matches
  }
  query.addEventListener('change', update)
  onBeforeUnmount(() => query.removeEventListener('change', update))
  return narrow
}
