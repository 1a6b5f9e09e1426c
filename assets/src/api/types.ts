/**
 * Wire types of the Atrium HTTP API used by the web front-end.
 *
 * Field names follow the server's JSON (snake_case). Keep these in step with the OpenAPI document
 * served at `/api/openapi.json`.
 */

/** Every error response body: a stable snake_case `code`, a human message, and the request id. */
export interface ApiErrorBody {
  code: string
  message?: string
  request_id?: string
}

/** `POST /api/v1/auth/login` request. `totp` only when the server asked for it. */
export interface LoginRequest {
  username: string
  password: string
  totp?: string
}

/** The signed-in user as the session endpoints describe it. */
export interface SessionUser {
  id: string
  username: string
  display_name?: string | null
  roles?: string[]
}

/**
 * `GET /api/v1/auth/session` (200) and `POST /api/v1/auth/login` (200): the user and the CSRF
 * token to send as `X-CSRF-Token` on every state-changing request.
 */
export interface SessionResponse {
  user: SessionUser
  csrf_token: string
}

export type LoginResponse = SessionResponse

/** Stable error codes the front-end translates; any other code gets the generic message. */
export const KNOWN_ERROR_CODES = [
  'invalid_credentials',
  'account_locked',
  'rate_limited',
  'totp_required',
  'totp_invalid',
  'password_expired',
  'not_found',
  'internal',
  'network_error',
  'bad_request',
  'unauthorized',
  'forbidden',
] as const

export type KnownErrorCode = (typeof KNOWN_ERROR_CODES)[number]
