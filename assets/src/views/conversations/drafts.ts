/**
 * Unsent replies per conversation, kept while the tab is open, so an agent switching between
 * conversations finds what they were writing. Only in memory: drafts may hold customer data and
 * are not written to the browser's storage.
 */
import type { Id } from '../../api/types'

const drafts = new Map<Id, string>()

export function draftOf(conversationId: Id): string {
  return drafts.get(conversationId) ?? ''
}

export function keepDraft(conversationId: Id, text: string): void {
  if (text.trim().length === 0) drafts.delete(conversationId)
  else drafts.set(conversationId, text)
}
