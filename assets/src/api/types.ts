/**
 * Wire types of the Atrium HTTP API used by the web front-end.
 *
 * Field names follow the server's JSON (snake_case). Keep these in step with the OpenAPI document
 * served at `/api/openapi.json` and with `docs/identity-api.md`. Ids are JSON numbers (the server
 * keeps them below 2^53, so they are exact in JavaScript); times are Unix milliseconds.
 */

/** Every error response body: a stable snake_case `code`, a human message, and the request id. */
export interface ApiErrorBody {
  code: string
  message?: string
  request_id?: string
  /** Extra facts for some codes, e.g. the broken rules of a 422 `password_policy`. */
  details?: unknown
}

/** A row id (64-bit on the server, always below 2^53). */
export type Id = number

/** Unix time in milliseconds. */
export type Millis = number

// ---------------------------------------------------------------------------------------------
// Sign-in and sessions
// ---------------------------------------------------------------------------------------------

/**
 * `POST /api/v1/auth/login` request. The second factor is sent only after the server asked for
 * it (`totp_required`): either the 6-digit `totp` code or a `recovery_code`, never both.
 */
export interface LoginRequest {
  username: string
  password: string
  totp?: string
  recovery_code?: string
}

/** The signed-in user as the session endpoints describe it. */
export interface SessionUser {
  id: Id
  username: string
  display_name?: string | null
  roles?: string[]
  /** Every permission the user's roles grant (`users:read`, …). */
  permissions?: string[]
}

/**
 * `GET /api/v1/auth/session` (200) and `POST /api/v1/auth/login` (200): the user, the CSRF token
 * to send as `X-CSRF-Token` on every state-changing request, and what the user must do first.
 */
export interface SessionResponse {
  user: SessionUser
  csrf_token: string
  /** Restricted session: only the password change is allowed until it is done. */
  must_change_password?: boolean
  /** Restricted session: only 2FA enrolment is allowed until it is done. */
  totp_enrolment_required?: boolean
  /** The server ends the session after this many seconds without requests. */
  idle_timeout_secs?: number
  expires_at?: Millis
}

export type LoginResponse = SessionResponse

/** `GET /api/v1/setup/{token}` */
export interface SetupTokenInfo {
  expires_at: Millis
}

/** `POST /api/v1/setup` */
export interface SetupRequest {
  token: string
  username: string
  display_name?: string
  password: string
}

/** `POST /api/v1/setup` (201) */
export interface SetupResponse {
  id: Id
  username: string
}

// ---------------------------------------------------------------------------------------------
// Users and the own profile
// ---------------------------------------------------------------------------------------------

/** A user account as administrators (and the user themself) see it. */
export interface User {
  id: Id
  username: string
  display_name?: string | null
  /** Role names. */
  roles: string[]
  /** Team ids (data scope). */
  teams: Id[]
  /** Inbox ids (data scope). */
  inboxes: Id[]
  disabled: boolean
  locked: boolean
  totp_enabled: boolean
  must_change_password: boolean
  created_at: Millis
  last_login_at?: Millis | null
}

/** The password rules in force (`GET /api/v1/me` → `password_policy`). */
export interface PasswordPolicy {
  /** Name of the policy profile: `mlps3` (等保三级) or `nist`. */
  profile: string
  min_length: number
  /** How many character classes (lower, upper, digits, others) a password needs. */
  classes_required: number
  /** Days until a password expires; null or 0 when passwords do not expire. */
  expiry_days?: number | null
  /** How many earlier passwords may not be reused. */
  history: number
  /** Whether common passwords are refused (assumed when absent). */
  rejects_common?: boolean
}

/** `GET /api/v1/me` */
export interface Me extends User {
  permissions: string[]
  /** When the current password expires; null when it never does (e.g. under `nist`). */
  password_expires_at?: Millis | null
  password_policy: PasswordPolicy
}

/** `POST /api/v1/me/password` */
export interface ChangePasswordRequest {
  current_password: string
  new_password: string
}

/** `POST /api/v1/me/totp/setup` (200): a pending enrolment. */
export interface TotpSetupResponse {
  /** Base32 secret, for typing into an authenticator by hand. */
  secret: string
  /** `otpauth://totp/…` URI, drawn as a QR code. */
  otpauth_uri: string
}

/** `POST /api/v1/me/totp/confirm` and `/me/totp/recovery-codes` (200). Shown once. */
export interface RecoveryCodesResponse {
  recovery_codes: string[]
}

/** One of the user's own sessions (`GET /api/v1/me/sessions`). */
export interface SessionInfo {
  id: Id
  created_at: Millis
  last_seen_at: Millis
  expires_at: Millis
  ip?: string | null
  user_agent?: string | null
  /** The session this browser uses. */
  current: boolean
}

/** `POST /api/v1/users` */
export interface CreateUserRequest {
  username: string
  display_name?: string
  roles?: string[]
  teams?: Id[]
  inboxes?: Id[]
}

/** `POST /api/v1/users` (201): the account and its generated first password, shown once. */
export interface CreateUserResponse {
  user: User
  initial_password: string
}

/** `PATCH /api/v1/users/{id}`: only the fields present are changed. */
export interface UpdateUserRequest {
  display_name?: string
  roles?: string[]
  teams?: Id[]
  inboxes?: Id[]
  disabled?: boolean
}

/** `POST /api/v1/users/{id}/reset-password` (200): generated, shown once. */
export interface ResetPasswordResponse {
  password: string
}

// ---------------------------------------------------------------------------------------------
// Roles, permissions, teams, inboxes
// ---------------------------------------------------------------------------------------------

/** The three administrator duties that must stay with different people. */
export type AdminClass = 'system' | 'security' | 'audit'

export const ADMIN_CLASSES: readonly AdminClass[] = ['system', 'security', 'audit']

/** `GET /api/v1/permissions` */
export interface PermissionInfo {
  name: string
  admin_class: AdminClass | null
}

export interface Role {
  id: Id
  name: string
  description?: string | null
  builtin: boolean
  permissions: string[]
  require_totp: boolean
  admin_class: AdminClass | null
  /** How many users hold the role. */
  users: number
}

/** `POST /api/v1/roles` */
export interface CreateRoleRequest {
  name: string
  description?: string
  permissions: string[]
  require_totp?: boolean
}

/** `PATCH /api/v1/roles/{id}`; built-in roles accept only `require_totp`. */
export interface UpdateRoleRequest {
  name?: string
  description?: string
  permissions?: string[]
  require_totp?: boolean
}

export interface Team {
  id: Id
  name: string
}

export interface Inbox {
  id: Id
  name: string
  channel: string
  team_id?: Id | null
}

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

export type AuditOutcome = 'success' | 'failure' | 'denied'

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied']

export interface AuditRecord {
  seq: number
  at: Millis
  actor_id?: Id | null
  actor?: string | null
  ip?: string | null
  event: string
  target?: string | null
  outcome: AuditOutcome
  details?: Record<string, unknown> | null
  /** Hex hash of the record in the chain. */
  hash?: string
}

/** `GET /api/v1/audit` query; every field optional. */
export interface AuditQuery {
  from?: Millis
  to?: Millis
  actor?: string
  event?: string
  outcome?: AuditOutcome
  q?: string
  /** A `seq`: only records older than it (paging). */
  before?: number
  limit?: number
}

export interface AuditPage {
  records: AuditRecord[]
  /** Pass as `before` for the next (older) page; null/absent at the end. */
  next_before?: number | null
}

/** `POST /api/v1/audit/verify` */
export interface AuditVerifyRequest {
  from?: Millis
  to?: Millis
}

/** Why a record fails verification (`sequence_gap`, `chain_broken`, `hash_mismatch`, …). */
export interface AuditBreak {
  seq: number
  reason: string
  /** English explanation, for reasons the UI does not know. */
  description?: string
}

export interface AuditVerifyResponse {
  ok: boolean
  checked: number
  first_seq?: number | null
  last_seq?: number | null
  head_hash?: string | null
  first_broken?: AuditBreak | null
}

/** `POST /api/v1/audit/export` */
export interface AuditExportRequest {
  from: Millis
  to: Millis
  passphrase: string
}

/** A downloaded file: its bytes and the name the server gave it. */
export interface DownloadedFile {
  blob: Blob
  filename: string
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Stable error codes the front-end translates; any other code gets the generic message. */
export const KNOWN_ERROR_CODES = [
  'invalid_credentials',
  'account_locked',
  'account_disabled',
  'rate_limited',
  'totp_required',
  'totp_invalid',
  'session_expired',
  'csrf_failed',
  'password_change_required',
  'totp_enrolment_required',
  'reauth_failed',
  'password_policy',
  'totp_required_by_role',
  'separation_of_duties',
  'setup_token_invalid',
  'audit_unavailable',
  'password_expired',
  'not_found',
  'conflict',
  'invalid_json',
  'validation_failed',
  'data_integrity',
  'not_ready',
  'internal',
  'network_error',
  'bad_request',
  'unauthorized',
  'forbidden',
] as const

export type KnownErrorCode = (typeof KNOWN_ERROR_CODES)[number]

/** The rule codes a 422 `password_policy` lists in `details`. */
export const PASSWORD_RULE_CODES = [
  'too_short',
  'too_few_classes',
  'too_common',
  'reused',
  'same_as_username',
] as const

export type PasswordRuleCode = (typeof PASSWORD_RULE_CODES)[number]
