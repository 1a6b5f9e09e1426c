/**
 * Turns any thrown value into a translated, user-facing description.
 *
 * Known codes get their own message; anything else gets the generic message. The request id is
 * always shown when the server gave one, so an operator can find the request in the server log.
 */
import { ApiError } from '../api/client'
import { i18n } from './index'

export interface ErrorDescription {
  /** The stable code (for tests and support), never shown on its own. */
  code: string
  /** Translated message. */
  message: string
  /** Translated "Request ID: …" line, when there is a request id. */
  requestIdLine: string | null
}

export function describeError(error: unknown): ErrorDescription {
  const { t } = i18n.global
  if (error instanceof ApiError) {
    const message = error.isKnown ? t(`errors.${error.code}`) : t('errors.unknown')
    const requestIdLine =
      error.requestId !== undefined && error.requestId.length > 0
        ? t('errors.requestId', { requestId: error.requestId })
        : null
    return { code: error.code, message, requestIdLine }
  }
  return { code: 'unknown', message: t('errors.unknown'), requestIdLine: null }
}
