/**
 * Who is signed in, as far as this browser tab knows.
 *
 * The server is the authority: the router guard asks `GET /api/v1/auth/session` before entering the
 * workspace, and any answer other than 200 counts as signed out (401 today, 404 until the endpoint
 * exists, or the server being unreachable).
 */
import { readonly, ref } from 'vue'
import { api, setCsrfToken } from './api/client'
import type { SessionResponse, SessionUser } from './api/types'

const user = ref<SessionUser | null>(null)

/** The signed-in user, or `null`. */
export const currentUser = readonly(user)

/** Records a session returned by login or the session endpoint. */
export function rememberSession(session: SessionResponse): void {
  user.value = session.user
  setCsrfToken(session.csrf_token)
}

function forgetSession(): void {
  user.value = null
  setCsrfToken(null)
}

/** Asks the server whether this browser is signed in. Never throws. */
export async function refreshSession(): Promise<boolean> {
  try {
    rememberSession(await api.session())
    return true
  } catch {
    forgetSession()
    return false
  }
}

/**
 * Signs out on the server and always forgets the local session.
 * Returns `false` when the server did not confirm (the UI tells the user, then goes to sign-in).
 */
export async function signOut(): Promise<boolean> {
  try {
    await api.logout()
    return true
  } catch {
    return false
  } finally {
    forgetSession()
  }
}
