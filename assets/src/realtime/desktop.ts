/**
 * Desktop notifications through the browser's Notification API. Permission is asked only from a
 * user gesture (the "enable desktop notifications" button), never on page load: browsers block or
 * penalise prompts nobody asked for.
 */
import { ref } from 'vue'

export type DesktopPermission = NotificationPermission | 'unsupported'

function currentPermission(): DesktopPermission {
  return typeof window !== 'undefined' && 'Notification' in window
    ? window.Notification.permission
    : 'unsupported'
}

export const desktopPermission = ref<DesktopPermission>(currentPermission())

/** Asks for permission; call from a click handler. */
export async function requestDesktopPermission(): Promise<DesktopPermission> {
  if (currentPermission() === 'unsupported') return 'unsupported'
  try {
    desktopPermission.value = await window.Notification.requestPermission()
  } catch {
    desktopPermission.value = currentPermission()
  }
  return desktopPermission.value
}

/**
 * Shows a notification when allowed. `tag` replaces an earlier notification about the same
 * thing; clicking focuses the tab and calls `onClick`.
 */
export function showDesktopNotification(
  title: string,
  body: string,
  tag: string,
  onClick: () => void,
): void {
  if (currentPermission() !== 'granted') return
  try {
    const n = new window.Notification(title, { body, tag, icon: '/favicon.svg' })
    n.onclick = () => {
      window.focus()
      onClick()
      n.close()
    }
  } catch {
    // Some browsers only allow notifications from a service worker: the sound still plays.
  }
}
