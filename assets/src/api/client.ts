/**
 * The one typed client for the Atrium HTTP API.
 *
 * - JSON in and out, cookies sent same-origin only (the session cookie is HttpOnly).
 * - The CSRF token from the last session/login response is kept in memory (never in storage) and
 *   sent as `X-CSRF-Token` on every non-GET request.
 * - Every failure becomes an {@link ApiError}: the server's `{code, message, request_id}` body, or
 *   `network_error` when the server could not be reached, or `http_<status>` when the body was not
 *   an error object (the UI shows the generic message with the request id for those).
 */
import type {
  ApiErrorBody,
  KnownErrorCode,
  LoginRequest,
  LoginResponse,
  SessionResponse,
} from './types'
import { KNOWN_ERROR_CODES } from './types'

export class ApiError extends Error {
  /** Stable snake_case code from the server, or `network_error` / `http_<status>`. */
  readonly code: string
  /** HTTP status; 0 when no response was received. */
  readonly status: number
  /** Server request id, for support; absent for network errors. */
  readonly requestId: string | undefined

  constructor(code: string, status: number, message: string, requestId?: string) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.requestId = requestId
  }

  /** True when the code is one the UI has a translation for. */
  get isKnown(): boolean {
    return isKnownErrorCode(this.code)
  }
}

export function isKnownErrorCode(code: string): code is KnownErrorCode {
  return (KNOWN_ERROR_CODES as readonly string[]).includes(code)
}

let csrfToken: string | null = null

/** Remembers the CSRF token from a session or login response; `null` forgets it. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as { code: string }).code.length > 0
  )
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text()
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * Sends one request and returns the parsed JSON body of a 2xx response (`undefined` when empty).
 * Throws {@link ApiError} on any failure.
 */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken

  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? null : JSON.stringify(body),
    })
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause)
    throw new ApiError('network_error', 0, message)
  }

  const payload = await readJson(response)
  const headerRequestId = response.headers.get('X-Request-Id') ?? undefined
  if (!response.ok) {
    if (isErrorBody(payload)) {
      throw new ApiError(
        payload.code,
        response.status,
        payload.message ?? payload.code,
        payload.request_id ?? headerRequestId,
      )
    }
    throw new ApiError(
      `http_${response.status}`,
      response.status,
      response.statusText,
      headerRequestId,
    )
  }
  return payload as T
}

function isSessionResponse(value: unknown): value is SessionResponse {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { user?: unknown; csrf_token?: unknown }
  return typeof v.user === 'object' && v.user !== null && typeof v.csrf_token === 'string'
}

/** Typed calls, one per endpoint the front-end uses. */
export const api = {
  /**
   * `POST /api/v1/auth/login`. On success the CSRF token is remembered. A TOTP requirement
   * arrives as error code `totp_required` (whether the server sends it as an error status or in a
   * 2xx body), so the caller handles it like any other {@link ApiError}.
   */
  async login(credentials: LoginRequest): Promise<LoginResponse> {
    const payload = await request<unknown>('POST', '/api/v1/auth/login', credentials)
    if (isSessionResponse(payload)) {
      setCsrfToken(payload.csrf_token)
      return payload
    }
    if (isErrorBody(payload)) {
      throw new ApiError(payload.code, 200, payload.message ?? payload.code, payload.request_id)
    }
    throw new ApiError('http_200', 200, 'unexpected login response')
  },

  /** `POST /api/v1/auth/logout`. The CSRF token is forgotten whether or not the call succeeds. */
  async logout(): Promise<void> {
    try {
      await request<unknown>('POST', '/api/v1/auth/logout')
    } finally {
      setCsrfToken(null)
    }
  },

  /** `GET /api/v1/auth/session`: the current session, remembering its CSRF token. */
  async session(): Promise<SessionResponse> {
    const payload = await request<unknown>('GET', '/api/v1/auth/session')
    if (!isSessionResponse(payload)) {
      throw new ApiError('http_200', 200, 'unexpected session response')
    }
    setCsrfToken(payload.csrf_token)
    return payload
  },
}
