/**
 * The one typed client for the Atrium HTTP API.
 *
 * - JSON in and out, cookies sent same-origin only (the session cookie is HttpOnly).
 * - The CSRF token from the last session/login response is kept in memory (never in storage) and
 *   sent as `X-CSRF-Token` on every non-GET request.
 * - Every failure becomes an {@link ApiError}: the server's `{code, message, request_id, details}`
 *   body, or `network_error` when the server could not be reached, or `http_<status>` when the
 *   body was not an error object (the UI shows the generic message with the request id for those).
 * - A 401 that means "your session is gone" (`session_expired`, `unauthorized`) is reported to the
 *   observer set with {@link observeClient}, so the app can drop its session and go to sign-in
 *   from wherever the call was made. Credential errors (`invalid_credentials`, `reauth_failed`,
 *   `totp_*`) are not session ends.
 */
import type {
  ApiErrorBody,
  AuditExportRequest,
  AuditPage,
  AuditQuery,
  AuditVerifyRequest,
  AuditVerifyResponse,
  ChangePasswordRequest,
  CreateRoleRequest,
  CreateUserRequest,
  CreateUserResponse,
  DownloadedFile,
  Id,
  Inbox,
  KnownErrorCode,
  LoginRequest,
  LoginResponse,
  Me,
  PermissionInfo,
  RecoveryCodesResponse,
  ResetPasswordResponse,
  Role,
  SessionInfo,
  SessionResponse,
  SetupRequest,
  SetupResponse,
  SetupTokenInfo,
  Team,
  TotpSetupResponse,
  UpdateRoleRequest,
  UpdateUserRequest,
  User,
} from './types'
import { KNOWN_ERROR_CODES } from './types'
import { filenameFromContentDisposition } from './download'

export class ApiError extends Error {
  /** Stable snake_case code from the server, or `network_error` / `http_<status>`. */
  readonly code: string
  /** HTTP status; 0 when no response was received. */
  readonly status: number
  /** Server request id, for support; absent for network errors. */
  readonly requestId: string | undefined
  /** The body's `details`, when the server sent any (e.g. password rule codes). */
  readonly details: unknown

  constructor(code: string, status: number, message: string, requestId?: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.requestId = requestId
    this.details = details
  }

  /** True when the code is one the UI has a translation for. */
  get isKnown(): boolean {
    return isKnownErrorCode(this.code)
  }
}

export function isKnownErrorCode(code: string): code is KnownErrorCode {
  return (KNOWN_ERROR_CODES as readonly string[]).includes(code)
}

/** 401 codes that mean the session is over (as opposed to a wrong password or code). */
const SESSION_END_CODES: readonly string[] = ['session_expired', 'unauthorized', 'http_401']

/** True when `error` says the caller's session has ended or never existed. */
export function isSessionEnd(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 401 && SESSION_END_CODES.includes(error.code)
}

/** What the app wants to hear about every request. */
export interface ClientObserver {
  /** The server answered a request of the signed-in user (the server's idle clock restarted). */
  onAnswered?: () => void
  /** A request answered with a session end (see {@link isSessionEnd}). */
  onSessionEnded?: (error: ApiError) => void
}

let observer: ClientObserver = {}

/** Replaces the observer (the session module sets it once at start-up). */
export function observeClient(next: ClientObserver): void {
  observer = next
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

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

type QueryValue = string | number | boolean | null | undefined

/** `?a=1&b=x` from the defined, non-empty values (in key order); `''` when there are none. */
export function buildQuery(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    const text = String(value)
    if (text.length === 0) continue
    search.append(key, text)
  }
  const query = search.toString()
  return query.length === 0 ? '' : `?${query}`
}

interface RequestOptions {
  /** A call made without a session (sign-in, setup): its 401s are never session ends. */
  anonymous?: boolean
  /** Accept header; JSON unless a file is expected. */
  accept?: string
}

async function send(
  method: Method,
  path: string,
  body: unknown,
  options: RequestOptions,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' }
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
  if (response.ok) {
    if (options.anonymous !== true) observer.onAnswered?.()
    return response
  }

  const payload = parseJson(await response.text())
  const headerRequestId = response.headers.get('X-Request-Id') ?? undefined
  const error = isErrorBody(payload)
    ? new ApiError(
        payload.code,
        response.status,
        payload.message ?? payload.code,
        payload.request_id ?? headerRequestId,
        payload.details,
      )
    : new ApiError(`http_${response.status}`, response.status, response.statusText, headerRequestId)
  if (options.anonymous !== true && isSessionEnd(error)) observer.onSessionEnded?.(error)
  else if (options.anonymous !== true && error.status !== 401) observer.onAnswered?.()
  throw error
}

/**
 * Sends one request and returns the parsed JSON body of a 2xx response (`undefined` when empty).
 * Throws {@link ApiError} on any failure.
 */
export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const response = await send(method, path, body, options)
  return parseJson(await response.text()) as T
}

/** Sends one request whose 2xx answer is a file; its name comes from `Content-Disposition`. */
export async function requestFile(
  method: Method,
  path: string,
  body: unknown,
  fallbackName: string,
): Promise<DownloadedFile> {
  const response = await send(method, path, body, { accept: 'application/octet-stream' })
  const blob = await response.blob()
  const filename =
    filenameFromContentDisposition(response.headers.get('Content-Disposition')) ?? fallbackName
  return { blob, filename }
}

/**
 * Sends one multipart upload (`FormData`) and returns the parsed JSON answer. Uses
 * XMLHttpRequest because `fetch` cannot report upload progress; `onProgress` gets 0…1. The
 * CSRF header, error mapping and session-end reporting are the same as {@link request}. Abort
 * with `signal` (rejects with `ApiError('aborted', 0)`).
 */
export function requestUpload<T>(
  path: string,
  form: FormData,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path)
    xhr.setRequestHeader('Accept', 'application/json')
    if (csrfToken !== null) xhr.setRequestHeader('X-CSRF-Token', csrfToken)
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total)
    }
    xhr.onerror = () => reject(new ApiError('network_error', 0, 'upload failed'))
    xhr.onabort = () => reject(new ApiError('aborted', 0, 'upload aborted'))
    xhr.onload = () => {
      const payload = parseJson(xhr.responseText)
      if (xhr.status >= 200 && xhr.status < 300) {
        observer.onAnswered?.()
        resolve(payload as T)
        return
      }
      const headerRequestId = xhr.getResponseHeader('X-Request-Id') ?? undefined
      const error = isErrorBody(payload)
        ? new ApiError(
            payload.code,
            xhr.status,
            payload.message ?? payload.code,
            payload.request_id ?? headerRequestId,
            payload.details,
          )
        : new ApiError(`http_${xhr.status}`, xhr.status, xhr.statusText, headerRequestId)
      if (isSessionEnd(error)) observer.onSessionEnded?.(error)
      else if (xhr.status !== 401) observer.onAnswered?.()
      reject(error)
    }
    signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send(form)
  })
}

function isSessionResponse(value: unknown): value is SessionResponse {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { user?: unknown; csrf_token?: unknown }
  return typeof v.user === 'object' && v.user !== null && typeof v.csrf_token === 'string'
}

const enc = encodeURIComponent

/** Typed calls, one per endpoint the front-end uses. */
export const api = {
  // --- sign-in and sessions -------------------------------------------------------------------

  /**
   * `POST /api/v1/auth/login`. On success the CSRF token is remembered. A second-factor
   * requirement arrives as error code `totp_required` (whether the server sends it as an error
   * status or in a 2xx body), so the caller handles it like any other {@link ApiError}.
   */
  async login(credentials: LoginRequest): Promise<LoginResponse> {
    const payload = await request<unknown>('POST', '/api/v1/auth/login', credentials, {
      anonymous: true,
    })
    if (isSessionResponse(payload)) {
      setCsrfToken(payload.csrf_token)
      return payload
    }
    if (isErrorBody(payload)) {
      throw new ApiError(
        payload.code,
        200,
        payload.message ?? payload.code,
        payload.request_id,
        payload.details,
      )
    }
    throw new ApiError('http_200', 200, 'unexpected login response')
  },

  /** `POST /api/v1/auth/logout`. The CSRF token is forgotten whether or not the call succeeds. */
  async logout(): Promise<void> {
    try {
      await request<unknown>('POST', '/api/v1/auth/logout', undefined, { anonymous: true })
    } finally {
      setCsrfToken(null)
    }
  },

  /**
   * `GET /api/v1/auth/session`: the current session, remembering its CSRF token. With
   * `probe: true` (the router asking "am I signed in?") a 401 is not reported as a session end.
   */
  async session(probe = false): Promise<SessionResponse> {
    const payload = await request<unknown>('GET', '/api/v1/auth/session', undefined, {
      anonymous: probe,
    })
    if (!isSessionResponse(payload)) {
      throw new ApiError('http_200', 200, 'unexpected session response')
    }
    setCsrfToken(payload.csrf_token)
    return payload
  },

  /** `GET /api/v1/setup/{token}`: 404 `setup_token_invalid` when unknown or used. */
  checkSetupToken(token: string): Promise<SetupTokenInfo> {
    return request('GET', `/api/v1/setup/${enc(token)}`, undefined, { anonymous: true })
  },

  /** `POST /api/v1/setup`: creates the first system administrator. */
  setup(body: SetupRequest): Promise<SetupResponse> {
    return request('POST', '/api/v1/setup', body, { anonymous: true })
  },

  // --- own profile ----------------------------------------------------------------------------

  me(): Promise<Me> {
    return request('GET', '/api/v1/me')
  },

  async changePassword(body: ChangePasswordRequest): Promise<void> {
    await request<unknown>('POST', '/api/v1/me/password', body)
  },

  totpSetup(password: string): Promise<TotpSetupResponse> {
    return request('POST', '/api/v1/me/totp/setup', { password })
  },

  totpConfirm(code: string): Promise<RecoveryCodesResponse> {
    return request('POST', '/api/v1/me/totp/confirm', { code })
  },

  async totpDisable(password: string, code: string): Promise<void> {
    await request<unknown>('POST', '/api/v1/me/totp/disable', { password, code })
  },

  regenerateRecoveryCodes(password: string, code: string): Promise<RecoveryCodesResponse> {
    return request('POST', '/api/v1/me/totp/recovery-codes', { password, code })
  },

  mySessions(): Promise<SessionInfo[]> {
    return request('GET', '/api/v1/me/sessions')
  },

  async revokeMySession(id: Id): Promise<void> {
    await request<unknown>('DELETE', `/api/v1/me/sessions/${id}`)
  },

  // --- users ----------------------------------------------------------------------------------

  users(): Promise<User[]> {
    return request('GET', '/api/v1/users')
  },

  createUser(body: CreateUserRequest): Promise<CreateUserResponse> {
    return request('POST', '/api/v1/users', body)
  },

  updateUser(id: Id, body: UpdateUserRequest): Promise<User> {
    return request('PATCH', `/api/v1/users/${id}`, body)
  },

  resetUserPassword(id: Id): Promise<ResetPasswordResponse> {
    return request('POST', `/api/v1/users/${id}/reset-password`)
  },

  async unlockUser(id: Id): Promise<void> {
    await request<unknown>('POST', `/api/v1/users/${id}/unlock`)
  },

  async logoutUser(id: Id): Promise<void> {
    await request<unknown>('POST', `/api/v1/users/${id}/logout`)
  },

  async resetUserTotp(id: Id): Promise<void> {
    await request<unknown>('POST', `/api/v1/users/${id}/reset-totp`)
  },

  // --- roles, teams, inboxes ------------------------------------------------------------------

  permissions(): Promise<PermissionInfo[]> {
    return request('GET', '/api/v1/permissions')
  },

  roles(): Promise<Role[]> {
    return request('GET', '/api/v1/roles')
  },

  createRole(body: CreateRoleRequest): Promise<Role> {
    return request('POST', '/api/v1/roles', body)
  },

  updateRole(id: Id, body: UpdateRoleRequest): Promise<Role> {
    return request('PATCH', `/api/v1/roles/${id}`, body)
  },

  async deleteRole(id: Id): Promise<void> {
    await request<unknown>('DELETE', `/api/v1/roles/${id}`)
  },

  teams(): Promise<Team[]> {
    return request('GET', '/api/v1/teams')
  },

  createTeam(name: string): Promise<Team> {
    return request('POST', '/api/v1/teams', { name })
  },

  /** `PATCH /api/v1/teams/{id}`: answers 204 without a body. */
  async renameTeam(id: Id, name: string): Promise<void> {
    await request<unknown>('PATCH', `/api/v1/teams/${id}`, { name })
  },

  inboxes(): Promise<Inbox[]> {
    return request('GET', '/api/v1/inboxes')
  },

  // --- audit log ------------------------------------------------------------------------------

  audit(query: AuditQuery): Promise<AuditPage> {
    return request('GET', `/api/v1/audit${buildQuery({ ...query })}`)
  },

  auditEvents(): Promise<string[]> {
    return request('GET', '/api/v1/audit/events')
  },

  verifyAudit(body: AuditVerifyRequest): Promise<AuditVerifyResponse> {
    return request('POST', '/api/v1/audit/verify', body)
  },

  exportAudit(body: AuditExportRequest): Promise<DownloadedFile> {
    return requestFile(
      'POST',
      '/api/v1/audit/export',
      body,
      `atrium-audit-${body.from}-${body.to}.aae`,
    )
  },
}
