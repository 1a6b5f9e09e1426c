/**
 * Typed calls of the agent workspace (`docs/workspace-api.md`), through the one client's
 * {@link request} helper (JSON, CSRF header, error mapping, session ends) and
 * {@link requestUpload} for attachments (progress).
 *
 * Where the contract and the server differ, this follows the server (`src/http/*.rs`): `PUT
 * /contacts/{id}`, merge and split answer without the contact (reload it); reveal takes only a
 * reason and answers the card's PII fields.
 */
import { buildQuery, request, requestUpload } from './client'
import type { Id, Team } from './types'
import type {
  AgentStatus,
  AgentSummary,
  AttachmentView,
  CannedReply,
  ContactQuery,
  ContactSummary,
  ContactView,
  ConversationQuery,
  ConversationView,
  InboxListItem,
  MessageView,
  MyAgent,
  Priority,
  RevealRequest,
  RevealedContact,
  SendMessageRequest,
  SplitResponse,
  StatusRequest,
  TransferRequest,
  UpdateContactRequest,
  VisitorContext,
} from './workspace-types'

const BASE = '/api/v1'

function conv(id: Id, rest = ''): string {
  return `${BASE}/conversations/${id}${rest}`
}

export const workspaceApi = {
  // --- conversations --------------------------------------------------------------------------

  conversations(query: ConversationQuery): Promise<ConversationView[]> {
    return request('GET', `${BASE}/conversations${buildQuery({ ...query })}`)
  },

  conversation(id: Id): Promise<ConversationView> {
    return request('GET', conv(id))
  },

  /** Oldest first; `before` is a message id (older than it). */
  messages(id: Id, before?: Id, limit = 50): Promise<MessageView[]> {
    return request('GET', conv(id, `/messages${buildQuery({ before, limit })}`))
  },

  sendMessage(id: Id, body: SendMessageRequest): Promise<MessageView> {
    return request('POST', conv(id, '/messages'), body)
  },

  resend(id: Id, messageId: Id): Promise<MessageView> {
    return request('POST', conv(id, `/messages/${messageId}/resend`))
  },

  recall(id: Id, messageId: Id): Promise<MessageView> {
    return request('POST', conv(id, `/messages/${messageId}/recall`))
  },

  claim(id: Id): Promise<ConversationView> {
    return request('POST', conv(id, '/claim'))
  },

  assign(id: Id, assigneeId: Id | null): Promise<ConversationView> {
    return request('POST', conv(id, '/assign'), { assignee_id: assigneeId })
  },

  transfer(id: Id, body: TransferRequest): Promise<ConversationView> {
    return request('POST', conv(id, '/transfer'), body)
  },

  setStatus(id: Id, body: StatusRequest): Promise<ConversationView> {
    return request('POST', conv(id, '/status'), body)
  },

  setLabels(id: Id, labels: string[]): Promise<ConversationView> {
    return request('PUT', conv(id, '/labels'), { labels })
  },

  setPriority(id: Id, priority: Priority): Promise<ConversationView> {
    return request('PUT', conv(id, '/priority'), { priority })
  },

  async markRead(id: Id, messageId: Id): Promise<void> {
    await request<unknown>('POST', conv(id, '/read'), { message_id: messageId })
  },

  async pin(id: Id, pinned: boolean): Promise<void> {
    await request<unknown>('PUT', conv(id, '/pin'), { pinned })
  },

  /** `{{contact.name}}` and friends filled in for the conversation. */
  async render(id: Id, text: string): Promise<string> {
    const answer = await request<{ text: string }>('POST', conv(id, '/render'), { text })
    return answer.text
  },

  /** Multipart upload, one part named `file`; `onProgress` gets 0…1. */
  uploadAttachment(
    conversationId: Id,
    file: File,
    onProgress?: (fraction: number) => void,
    signal?: AbortSignal,
  ): Promise<AttachmentView> {
    const form = new FormData()
    form.append('file', file, file.name)
    return requestUpload(
      `${BASE}/attachments${buildQuery({ conversation_id: conversationId })}`,
      form,
      onProgress,
      signal,
    )
  },

  /**
   * The website visitor behind a widget conversation: device, referrer and search, landing page
   * and the pages of the current visit. `404 not_found` for a conversation of another channel.
   */
  visitor(id: Id): Promise<VisitorContext> {
    return request('GET', conv(id, '/visitor'))
  },

  // --- contacts -------------------------------------------------------------------------------

  contact(id: Id): Promise<ContactView> {
    return request('GET', `${BASE}/contacts/${id}`)
  },

  /** PII in full (`pii:reveal`); the server audits it with the reason. */
  reveal(id: Id, body: RevealRequest): Promise<RevealedContact> {
    return request('POST', `${BASE}/contacts/${id}/reveal`, body)
  },

  /** Answers 204: reload the contact for the new state. */
  async updateContact(id: Id, body: UpdateContactRequest): Promise<void> {
    await request<unknown>('PUT', `${BASE}/contacts/${id}`, body)
  },

  /** Contacts matching `q` (exact phone, e-mail or id, or part of the name), newest first. */
  contacts(query: ContactQuery): Promise<ContactSummary[]> {
    return request('GET', `${BASE}/contacts${buildQuery({ ...query })}`)
  },

  /** Merges contact `otherId` into `id` (audited); answers 204. */
  async mergeContact(id: Id, otherId: Id): Promise<void> {
    await request<unknown>('POST', `${BASE}/contacts/${id}/merge`, { other_id: otherId })
  },

  /** Moves one identity (and its conversations) to a new contact (audited). */
  splitContact(id: Id, identityId: Id): Promise<SplitResponse> {
    return request('POST', `${BASE}/contacts/${id}/split`, { identity_id: identityId })
  },

  /** Every message of the contact across channels, oldest first. */
  timeline(id: Id, before?: Id, limit = 50): Promise<MessageView[]> {
    return request('GET', `${BASE}/contacts/${id}/timeline${buildQuery({ before, limit })}`)
  },

  // --- agent status, agents, canned replies ---------------------------------------------------

  myAgent(): Promise<MyAgent> {
    return request('GET', `${BASE}/me/agent`)
  },

  /** Answers the new state (`AgentView`); a `presence` event follows for everyone. */
  setMyStatus(status: AgentStatus): Promise<MyAgent> {
    return request('PUT', `${BASE}/me/agent`, { status })
  },

  /** Everyone who can take conversations (transfer, assign and @mention targets). */
  agents(): Promise<AgentSummary[]> {
    return request('GET', `${BASE}/agents`)
  },

  /**
   * The inboxes of the caller's scope (every inbox for `channels:read`), for the filters;
   * disabled ones included (their conversations stay).
   */
  inboxes(): Promise<InboxListItem[]> {
    return request('GET', `${BASE}/inboxes`)
  },

  /** The labels in use on conversations the caller may see. */
  labels(): Promise<string[]> {
    return request('GET', `${BASE}/labels`)
  },

  /** Teams (transfer targets); needs `teams:read`, which the built-in agent role has. */
  teams(): Promise<Team[]> {
    return request('GET', `${BASE}/teams`)
  },

  cannedReplies(q: string): Promise<CannedReply[]> {
    return request('GET', `${BASE}/canned-replies${buildQuery({ q })}`)
  },
}
