/**
 * Turns any thrown value into a translated, user-facing description.
 *
 * Known codes get their own message; anything else gets the generic message. The request id is
 * always shown when the server gave one, so an operator can find the request in the server log.
 * A 422 `password_policy` also lists the broken rules from its `details`, translated.
 */
import { ApiError } from '../api/client'
import { brokenRules, ruleMessageKey } from '../auth/password-policy'
import { i18n } from './index'

export interface ErrorDescription {
  /** The stable code (for tests and support), never shown on its own. */
  code: string
  /** Translated message. */
  message: string
  /** Translated details (the broken password rules), possibly empty. */
  detailLines: string[]
  /** Translated "Request ID: …" line, when there is a request id. */
  requestIdLine: string | null
}

export function describeError(error: unknown): ErrorDescription {
  const { t } = i18n.global
  if (error instanceof ApiError) {
    const message = error.isKnown ? t(`errors.${error.code}`) : t('errors.unknown')
    const detailLines =
      error.code === 'password_policy'
        ? brokenRules(error.details).map((rule) => t(ruleMessageKey(rule)))
        : []
    const requestIdLine =
      error.requestId !== undefined && error.requestId.length > 0
        ? t('errors.requestId', { requestId: error.requestId })
        : null
    return { code: error.code, message, detailLines, requestIdLine }
  }
  return { code: 'unknown', message: t('errors.unknown'), detailLines: [], requestIdLine: null }
}

/** The description as one line (for toasts): message, details, request id. */
export function errorText(error: unknown): string {
  const d = describeError(error)
  return [d.message, ...d.detailLines, d.requestIdLine].filter((s) => s !== null).join(' ')
}

/** The code of an {@link ApiError}, or `null` for anything else. */
export function errorCode(error: unknown): string | null {
  return error instanceof ApiError ? error.code : null
}
