/**
 * Error texts of the workspace: the workspace's own codes (attachments, the socket's origin check)
 * come from the `ws.errors` messages, everything else from the shared table. The attachment
 * errors name the limit or the detected type from the answer's `details`
 * (`src/http/error.rs`: `[max_bytes]`, `[detected type]`, `[extension, detected type]`).
 */
import { ApiError } from '../../api/client'
import { WORKSPACE_ERROR_CODES } from '../../api/workspace-types'
import { i18n } from '../../i18n'
import { errorText } from '../../i18n/errors'
import { formatBytes } from './messages-model'

const OWN: ReadonlySet<string> = new Set(WORKSPACE_ERROR_CODES)

/** The message key of a workspace error code, or `null` for codes of the shared table. */
export function workspaceErrorKey(code: string): string | null {
  return OWN.has(code) ? `ws.errors.${code}` : null
}

/** The key and parameters of a workspace error, using its details where they say more. */
export function workspaceErrorMessage(
  code: string,
  details: unknown,
): { key: string; params: Record<string, string> } | null {
  const key = workspaceErrorKey(code)
  if (key === null) return null
  const d = Array.isArray(details) ? details.filter((x): x is string => typeof x === 'string') : []
  if (code === 'attachment_too_large' && d[0] !== undefined && Number.isFinite(Number(d[0]))) {
    return { key: `${key}_limit`, params: { max: formatBytes(Number(d[0])) } }
  }
  if (code === 'attachment_type_not_allowed' && d[0] !== undefined) {
    return { key: `${key}_detected`, params: { type: d[0] } }
  }
  if (code === 'attachment_type_mismatch' && d[0] !== undefined && d[1] !== undefined) {
    return { key: `${key}_detected`, params: { ext: d[0], type: d[1] } }
  }
  return { key, params: {} }
}

/** Every key {@link workspaceErrorMessage} can return (for the message-key test). */
export const WORKSPACE_ERROR_KEYS: readonly string[] = [
  ...WORKSPACE_ERROR_CODES.map((c) => `ws.errors.${c}`),
  'ws.errors.attachment_too_large_limit',
  'ws.errors.attachment_type_not_allowed_detected',
  'ws.errors.attachment_type_mismatch_detected',
]

/** One translated line for a toast or an upload row. */
export function workspaceErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    const message = workspaceErrorMessage(error.code, error.details)
    if (message !== null) {
      const { t } = i18n.global
      const id = error.requestId
      const text = t(message.key, message.params)
      return id === undefined || id.length === 0 ? text : `${text} ${t('errors.requestId', { requestId: id })}`
    }
  }
  return errorText(error)
}

/**
 * A failed conversation action in words: a 409 means the conversation changed under the agent
 * (someone else claimed it, it was resolved, the recall window passed), which the shared
 * "conflict" text does not say, so the caller names it.
 */
export function actionErrorText(error: unknown, conflictKey: string): string {
  if (error instanceof ApiError && error.code === 'conflict') return i18n.global.t(conflictKey)
  return workspaceErrorText(error)
}

/**
 * The message key for a refused assignment or transfer (422 `validation_failed`) whose cause the
 * server's message names: the chosen user cannot take conversations (not an agent, or no longer
 * one), or the chosen team no longer exists. `null` for anything else.
 */
export function assignmentProblemKey(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return null
  if (/\bis not an agent\b/i.test(error.message)) return 'ws.errors.not_an_agent'
  if (/\bteam \d+ does not exist\b/i.test(error.message)) return 'ws.errors.team_missing'
  return null
}

/**
 * A failed assignment or transfer in words: the cause of a 422 when the server named it, else the
 * server's own explanation of the 422 (it names what it refused), else as {@link actionErrorText}.
 */
export function assignmentErrorText(error: unknown, conflictKey: string): string {
  const { t } = i18n.global
  const key = assignmentProblemKey(error)
  if (key !== null) return t(key)
  if (error instanceof ApiError && error.code === 'validation_failed') {
    const reason = error.message.trim()
    if (reason.length > 0 && reason !== error.code) return t('ws.errors.refused', { reason })
  }
  return actionErrorText(error, conflictKey)
}
