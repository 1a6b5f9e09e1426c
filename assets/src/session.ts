/**
 * Who is signed in, as far as this browser tab knows, and what the session still asks of them.
 *
 * The server is the authority: the router guard asks `GET /api/v1/auth/session` before entering
 * the workspace, and any answer other than 200 counts as signed out. When any later call answers
 * with a session end (401 `session_expired`/`unauthorized`), the session is dropped here and the
 * listeners registered with {@link onSessionEnded} (the router) send the tab to sign-in.
 *
 * The idle timer ({@link IdleTimer}) runs while a session is known: after the server's idle
 * timeout without user input or API answers it asks for the session once, which the server
 * answers 401 by then — and that answer ends the session here like any other.
 */
import { computed, ref } from 'vue'
import { api, isSessionEnd, observeClient, type ApiError } from './api/client'
import type { SessionResponse, SessionUser } from './api/types'
import type { GuardSession } from './guard'
import { IdleTimer, idleTimeoutMs, listenForActivity } from './idle'

const session = ref<SessionResponse | null>(null)

/** The signed-in user, or `null`. */
export const currentUser = computed<Readonly<SessionUser> | null>(() => session.value?.user ?? null)

/** The user's permissions (empty when signed out). */
export const permissions = computed<ReadonlySet<string>>(
  () => new Set(session.value?.user.permissions ?? []),
)

/** True when the user holds `permission`. */
export function can(permission: string): boolean {
  return permissions.value.has(permission)
}

/** What the route guard needs to know; `null` when signed out. */
export function guardSession(): GuardSession | null {
  const s = session.value
  if (s === null) return null
  return {
    mustChangePassword: s.must_change_password === true,
    totpEnrolmentRequired: s.totp_enrolment_required === true,
    permissions: permissions.value,
  }
}

// --- idle timeout -------------------------------------------------------------------------------

const idleTimer = new IdleTimer(() => {
  // The server has ended the session by now: this answers 401, and the client observer below
  // ends the session here. Should the server still know it (its timeout is longer than it said),
  // the answer restarts the timer through rememberSession().
  api.session().then(rememberSession, () => {
    if (session.value !== null) restartIdleTimer()
  })
})
let stopListening: (() => void) | null = null

function restartIdleTimer(): void {
  const timeout = idleTimeoutMs(session.value?.idle_timeout_secs)
  if (timeout === null) {
    stopIdleTimer()
    return
  }
  if (stopListening === null && typeof window !== 'undefined') {
    stopListening = listenForActivity(window, () => idleTimer.poke())
  }
  idleTimer.start(timeout)
}

function stopIdleTimer(): void {
  idleTimer.stop()
  stopListening?.()
  stopListening = null
}

// --- session ends -------------------------------------------------------------------------------

/** Why the tab went back to sign-in without the user asking. */
export type SessionEndReason = 'expired'

type SessionEndListener = (reason: SessionEndReason) => void
const endListeners: SessionEndListener[] = []

/** Registers a listener for session ends the user did not ask for (idle timeout, revocation). */
export function onSessionEnded(listener: SessionEndListener): void {
  endListeners.push(listener)
}

function sessionEnded(error: ApiError): void {
  const hadSession = session.value !== null
  forgetSession()
  if (hadSession || error.code === 'session_expired') {
    for (const listener of endListeners) listener('expired')
  }
}

observeClient({
  onAnswered: () => idleTimer.poke(),
  onSessionEnded: sessionEnded,
})

// --- remembering and forgetting -----------------------------------------------------------------

/** Records a session returned by login or the session endpoint, and (re)starts the idle timer. */
export function rememberSession(answer: SessionResponse): void {
  session.value = answer
  restartIdleTimer()
}

function forgetSession(): void {
  session.value = null
  stopIdleTimer()
}

/** The result of asking the server whether this tab is signed in. */
export type SessionCheck = 'signed-in' | 'signed-out' | 'expired'

/**
 * Asks the server whether this browser is signed in. Never throws. `expired` when the browser
 * had a session cookie the server has ended (so the sign-in page can say why).
 */
export async function refreshSession(): Promise<SessionCheck> {
  try {
    rememberSession(await api.session(true))
    return 'signed-in'
  } catch (error) {
    forgetSession()
    return isSessionEnd(error) && error.code === 'session_expired' ? 'expired' : 'signed-out'
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
