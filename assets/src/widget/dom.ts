/** A new element with a class and text (set as text: never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (cls !== undefined) e.className = cls
  if (text !== undefined) e.textContent = text
  return e
}
