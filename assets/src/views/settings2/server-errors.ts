/**
 * What the server said about a refused form, beyond the translated error message: the lines of
 * a 422 `validation_failed` (its `details`, or its message when it sent no details) and whether
 * a 409 `conflict` is about a taken name or shortcut.
 */
import { ApiError } from '../../api/client'

/**
 * The server's explanation lines of a `validation_failed` (English, naming fields); empty for
 * any other error.
 */
export function validationLines(error: unknown): string[] {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return []
  if (Array.isArray(error.details)) {
    const lines = error.details.filter((d): d is string => typeof d === 'string' && d.trim() !== '')
    if (lines.length > 0) return lines
  }
  const message = error.message.trim()
  return message.length > 0 && message !== error.code ? [message] : []
}

/** True for a 409 `conflict` (a name or shortcut already taken). */
export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'conflict'
}
