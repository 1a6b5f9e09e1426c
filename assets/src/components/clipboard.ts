/**
 * Copies text to the clipboard. The async Clipboard API needs a secure context (HTTPS or
 * localhost); an appliance reached over plain HTTP on the LAN falls back to a selected, hidden
 * textarea and `execCommand('copy')`. Resolves `false` when neither worked.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // Denied or unavailable: try the fallback.
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.className = 'clipboard-fallback'
  document.body.appendChild(area)
  area.select()
  let copied = false
  try {
    copied = document.execCommand('copy')
  } catch {
    copied = false
  }
  area.remove()
  return copied
}
