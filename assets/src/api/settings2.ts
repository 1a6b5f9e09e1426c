/**
 * Typed calls of the supervisor view and the conversation-engine settings pages. Every call goes
 * through {@link request} of the one API client, so CSRF, error mapping and session-end handling
 * are the same as everywhere else. Paths and bodies follow the server's handlers (see
 * `settings2-types.ts`).
 */
import { buildQuery, request } from './client'
import type { Id } from './types'
import type {
  AgentProfile,
  CannedReply,
  CannedReplyRequest,
  CreateInboxRequest,
  CreatedInbox,
  InboxDetail,
  InboxSecrets,
  InboxSummary,
  SupervisorOverview,
  TeamDetail,
  TeamSettings,
  UpdateAgentRequest,
  UpdateTeamSettingsRequest,
  UpdateInboxRequest,
  WaitingConversation,
  FailedDelivery,
  Webhook,
  WebhookEventRow,
  WebhookEventState,
  WebhookRequest,
  WebhookSecret,
  UpdateWechatRequest,
  WechatConnection,
  WechatTestResult,
} from './settings2-types'

const BASE = '/api/v1'

/** Where customer systems post messages to an API inbox (the server's `hook_path`). */
export function apiInboxHookPath(id: Id): string {
  return `/hooks/api/${id}/messages`
}

export const settings2Api = {
  // --- failed deliveries (dead letters) ---------------------------------------------------------

  /** `GET /deliveries/failed` (`channels:read`): newest first, older pages with `before`. */
  failedDeliveries(query: { inbox_id?: Id; before?: Id; limit?: number }): Promise<FailedDelivery[]> {
    return request('GET', `${BASE}/deliveries/failed${buildQuery(query)}`)
  },

  /** `POST /deliveries/{id}/resend` (`channels:write`): queued again with the same event id. */
  resendDelivery(id: Id): Promise<void> {
    return request('POST', `${BASE}/deliveries/${id}/resend`)
  },

  // --- event webhooks ------------------------------------------------------------------------

  /** `GET /webhooks` (`channels:read`). */
  webhooks(): Promise<Webhook[]> {
    return request('GET', `${BASE}/webhooks`)
  },

  /** `POST /webhooks` (`channels:write`): the answer carries the secret, shown once. */
  createWebhook(body: WebhookRequest): Promise<WebhookSecret> {
    return request('POST', `${BASE}/webhooks`, body)
  },

  /** `PUT /webhooks/{id}` (`channels:write`). */
  updateWebhook(id: Id, body: WebhookRequest): Promise<void> {
    return request('PUT', `${BASE}/webhooks/${id}`, body)
  },

  /** `DELETE /webhooks/{id}` (`channels:write`): undelivered events go with it. */
  deleteWebhook(id: Id): Promise<void> {
    return request('DELETE', `${BASE}/webhooks/${id}`)
  },

  /** `POST /webhooks/{id}/secret` (`channels:write`): a new secret; the old one stops at once. */
  rotateWebhookSecret(id: Id): Promise<WebhookSecret> {
    return request('POST', `${BASE}/webhooks/${id}/secret`)
  },

  /** `GET /webhooks/{id}/events` (`channels:read`): newest first, older pages with `before`. */
  webhookEvents(id: Id, query: { state?: WebhookEventState; before?: Id; limit?: number }): Promise<WebhookEventRow[]> {
    return request('GET', `${BASE}/webhooks/${id}/events${buildQuery(query)}`)
  },

  /** `POST /webhooks/{id}/events/{event}/resend` (`channels:write`): same event id. */
  resendWebhookEvent(id: Id, event: Id): Promise<void> {
    return request('POST', `${BASE}/webhooks/${id}/events/${event}/resend`)
  },

  // --- supervisor -----------------------------------------------------------------------------

  /** `GET /supervisor/overview` (needs `conversations:assign`). */
  supervisorOverview(): Promise<SupervisorOverview> {
    return request('GET', `${BASE}/supervisor/overview`)
  },

  /** `POST /conversations/{id}/assign` (`conversations:assign`); `null` returns it to the queue. */
  assignConversation(id: Id, assigneeId: Id | null): Promise<WaitingConversation> {
    return request('POST', `${BASE}/conversations/${id}/assign`, { assignee_id: assigneeId })
  },

  // --- inboxes --------------------------------------------------------------------------------

  /** `GET /inboxes` (`channels:read`). */
  inboxes(): Promise<InboxSummary[]> {
    return request('GET', `${BASE}/inboxes`)
  },

  /** `GET /inboxes/{id}` (`channels:read`). */
  inbox(id: Id): Promise<InboxDetail> {
    return request('GET', `${BASE}/inboxes/${id}`)
  },

  /** `POST /inboxes` (`channels:write`); `api` inboxes answer their secrets once. */
  createInbox(body: CreateInboxRequest): Promise<CreatedInbox> {
    return request('POST', `${BASE}/inboxes`, body)
  },

  /** `PUT /inboxes/{id}` (`channels:write`), answering 204. */
  async updateInbox(id: Id, body: UpdateInboxRequest): Promise<void> {
    await request<unknown>('PUT', `${BASE}/inboxes/${id}`, body)
  },

  /** `POST /inboxes/{id}/token` (`channels:write`, API inboxes): the old token stops working. */
  rotateInboxToken(id: Id): Promise<InboxSecrets> {
    return request('POST', `${BASE}/inboxes/${id}/token`)
  },

  /** `POST /inboxes/{id}/identity-secret` (web inboxes): a new identity secret, shown once. */
  rotateIdentitySecret(id: Id): Promise<{ identity_secret: string }> {
    return request('POST', `${BASE}/inboxes/${id}/identity-secret`)
  },

  /** `GET /inboxes/{id}/wechat` (`channels:write`, WeChat inboxes; audited). */
  wechat(id: Id): Promise<WechatConnection> {
    return request('GET', `${BASE}/inboxes/${id}/wechat`)
  },

  /** `PUT /inboxes/{id}/wechat` (`channels:write`): the saved settings as `GET` shows them. */
  updateWechat(id: Id, body: UpdateWechatRequest): Promise<WechatConnection> {
    return request('PUT', `${BASE}/inboxes/${id}/wechat`, body)
  },

  /** `POST /inboxes/{id}/wechat/test` (`channels:write`): 422 until AppID and AppSecret are saved. */
  testWechat(id: Id): Promise<WechatTestResult> {
    return request('POST', `${BASE}/inboxes/${id}/wechat/test`)
  },

  // --- teams ----------------------------------------------------------------------------------

  /** `GET /teams/{id}` (`teams:read`): the name and the routing settings. */
  team(id: Id): Promise<TeamDetail> {
    return request('GET', `${BASE}/teams/${id}`)
  },

  /** `PUT /teams/{id}/settings` (`teams:write`), answering 204. */
  async updateTeamSettings(id: Id, settings: TeamSettings): Promise<void> {
    const body: UpdateTeamSettingsRequest = { settings }
    await request<unknown>('PUT', `${BASE}/teams/${id}/settings`, body)
  },

  // --- agents ---------------------------------------------------------------------------------

  /** `GET /agents` (`conversations:read` or `users:read`). */
  agents(): Promise<AgentProfile[]> {
    return request('GET', `${BASE}/agents`)
  },

  /** `PUT /agents/{user_id}` (`users:write`), answering 204. */
  async updateAgent(userId: Id, body: UpdateAgentRequest): Promise<void> {
    await request<unknown>('PUT', `${BASE}/agents/${userId}`, body)
  },

  // --- canned replies -------------------------------------------------------------------------

  /**
   * `GET /canned-replies?q=` (`conversations:read`): mine and the shared ones, at most
   * {@link CANNED_LIST_LIMIT}; `q` matches shortcut or title.
   */
  cannedReplies(q = ''): Promise<CannedReply[]> {
    return request('GET', `${BASE}/canned-replies${buildQuery({ q: q.trim() })}`)
  },

  createCannedReply(body: CannedReplyRequest): Promise<CannedReply> {
    return request('POST', `${BASE}/canned-replies`, body)
  },

  updateCannedReply(id: Id, body: CannedReplyRequest): Promise<CannedReply> {
    return request('PUT', `${BASE}/canned-replies/${id}`, body)
  },

  async deleteCannedReply(id: Id): Promise<void> {
    await request<unknown>('DELETE', `${BASE}/canned-replies/${id}`)
  },
}

/** The most rows `GET /canned-replies` answers (the server's limit). */
export const CANNED_LIST_LIMIT = 200
