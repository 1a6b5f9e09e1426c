/**
 * Wire types of the supervisor view and the conversation-engine settings pages (inboxes, team
 * routing, agents, canned replies). Field names follow the server's JSON (snake_case); times are
 * Unix milliseconds, durations say their unit.
 *
 * Checked against the handlers, which are what the server really does: `src/http/inboxes.rs`,
 * `src/http/roles.rs` (inbox list and create), `src/http/agents.rs`, `src/http/canned.rs`,
 * `src/engine/settings.rs`, `src/engine/routing/{policy,hours}.rs` and `src/engine/view.rs`.
 * The settings objects are parsed with `deny_unknown_fields`: a request must carry exactly
 * these keys, never one more.
 */
import type { Id, Millis } from './types'

// ---------------------------------------------------------------------------------------------
// Routing (inbox and team settings) — `RoutingSettings` of `engine/routing/policy.rs`
// ---------------------------------------------------------------------------------------------

export const ROUTING_MODES = ['round_robin', 'least_load'] as const
export type RoutingMode = (typeof ROUTING_MODES)[number]

/**
 * A new conversation requires `skill` when any condition holds: a keyword occurs in the customer's
 * first message (ignoring case), the page the customer writes from contains one of `pages`
 * (ignoring case), or the customer's language or region is listed. Page, language and region come
 * from the channel (the open API channel's `context`). A rule needs at least one entry in one of
 * the four lists; each list at most 100 entries of 1–100 characters; `skill` 1–40 characters.
 */
export interface SkillRule {
  keywords: string[]
  /** Parts of the page URL (`/loans/`, `credit-card`). */
  pages: string[]
  /** BCP 47 language tags (`en`, `zh-HK`); `en` also matches `en-GB`, case ignored. */
  languages: string[]
  /** Regions as the channel names them (`广东`, `HK`), matched exactly ignoring case. */
  regions: string[]
  skill: string
}

/** `settings.routing` of an inbox or a team. The server fills every missing key with its default. */
export interface RoutingSettings {
  /** Default `round_robin`. */
  mode: RoutingMode
  /** Give a returning contact to the agent who last handled them, when eligible. Default off. */
  sticky: boolean
  skills: SkillRule[]
  /** Team that takes conversations no agent here could take in time (`null`: no overflow). */
  overflow_team_id: Id | null
  /** Wait before overflowing (`null`: as soon as no agent is free). */
  overflow_after_secs: number | null
  /** Wait after which required skills are ignored (`null`: skills are always required). */
  skill_fallback_after_secs: number | null
}

// ---------------------------------------------------------------------------------------------
// Business hours — `BusinessHours` of `engine/routing/hours.rs`
// ---------------------------------------------------------------------------------------------

/** `[start, end)` in minutes after local midnight, `0 ≤ start < end ≤ 1440`. */
export type TimeRange = [number, number]

/** `settings.hours` of an inbox. `null`: always open. */
export interface BusinessHours {
  /** Local time minus UTC in minutes (Beijing time: 480), at most ±840. */
  utc_offset_minutes: number
  /** Seven days, Monday first; each day a list of ranges (empty: closed all day). */
  weekly: TimeRange[][]
  /** `YYYY-MM-DD` local dates closed all day. */
  holidays: string[]
  /** `YYYY-MM-DD` Saturdays or Sundays (调休) worked with the first non-empty Monday–Friday hours. */
  workdays: string[]
}

// ---------------------------------------------------------------------------------------------
// Inboxes — `InboxSettings` of `engine/settings.rs`, handlers in `http/inboxes.rs`, `http/roles.rs`
// ---------------------------------------------------------------------------------------------

/** Automatic messages sent on the inbox's behalf (empty: none). At most 2000 characters each. */
export interface AutoReplySettings {
  /** Sent when a new conversation starts. */
  greeting: string
  /** Sent once per conversation when nobody can answer (closed, or no agent online). */
  offline: string
}

/** Reply-time thresholds in seconds, at most 7 days (0 = off). */
export interface SlaSettings {
  first_response_secs: number
  next_response_secs: number
  /** Return a conversation to the queue when its agent lets the customer wait this long. */
  reassign_after_secs: number
}

/** Where the API channel delivers agents' replies (`http(s)://…`; empty: they stay queued). */
export interface WebhookSettings {
  url: string
}

/** The website chat widget of a web inbox (`Widget` of `engine/settings.rs`). */
export interface WidgetSettings {
  /** Origins that may embed the window (`https://www.example.com`). */
  allowed_origins: string[]
  /** `#rrggbb`. */
  color: string
  position: 'right' | 'left'
  title: string
  welcome: string
  /** `zh-CN`, `en` or `''` (the visitor's browser). */
  language: string
  require_identity: boolean
  /** What the window asks an anonymous visitor before their first message. */
  prechat: PrechatSettings
  /**
   * Outside business hours, the window offers a form to leave a message with a phone number or
   * email address to be answered at (server default: `true`).
   */
  leave_message: boolean
  /**
   * Proactive invitation rules, at most 10: the window shows the first that matches the page and
   * the visitor (server default: none).
   */
  invitations: WidgetInvitation[]
}

/**
 * A proactive invitation (`Invitation` of `engine/settings.rs`): after `delay_secs` on a page whose
 * address contains `url_contains`, the window shows `message` beside its button — once per
 * browser session, never to a visitor already chatting.
 */
export interface WidgetInvitation {
  /** 1–200 characters after trimming. */
  message: string
  /** 0–3600 (server default: 30). */
  delay_secs: number
  /** At most 200 characters, matched ignoring case; empty: any page. */
  url_contains: string
  /** Only visitors back after 30 minutes or more. */
  returning_only: boolean
}

/** The fields of the widget's pre-chat form (`Prechat` of `engine/settings.rs`). */
export const PRECHAT_FIELDS = ['name', 'phone', 'email'] as const
export type PrechatField = (typeof PRECHAT_FIELDS)[number]

/** How the pre-chat form asks for one field; the server refuses any other value. */
export const PRECHAT_MODES = ['off', 'optional', 'required'] as const
export type PrechatMode = (typeof PRECHAT_MODES)[number]

/** The pre-chat form, a mode per field (server default: all `off`, no form). */
export type PrechatSettings = Record<PrechatField, PrechatMode>

/** A fixed answer to a WeChat menu button (`ClickReply` of `engine/settings.rs`). */
export interface ClickReply {
  /** The button's `CLICK` key as set in the WeChat console, 1–128 bytes (matched exactly). */
  key: string
  /** At most 600 characters; empty: no answer. */
  reply: string
}

/**
 * Instant answers of a WeChat inbox (`WechatSettings` of `engine/settings.rs`), sent by Atrium
 * itself without an agent: for an Official Account as passive replies within WeChat's 5 seconds;
 * for WeCom 微信客服 only the greeting, with the `enter_session` welcome code.
 */
export interface WechatSettings {
  /**
   * Sent to someone who just followed the account, or (微信客服) who opens the chat (empty:
   * none). At most 600 characters.
   */
  subscribe_greeting: string
  /** Official Account menu clicks. At most 50. */
  click_replies: ClickReply[]
}

/** `settings` of an inbox: exactly these keys (`deny_unknown_fields`). */
export interface InboxSettings {
  routing: RoutingSettings
  hours: BusinessHours | null
  auto_reply: AutoReplySettings
  sla: SlaSettings
  webhook: WebhookSettings
  widget: WidgetSettings
  wechat: WechatSettings
}

/** Channel kinds an inbox can be (`CHANNELS` of `http/roles.rs`). */
export const CHANNEL_KINDS = [
  'web',
  'api',
  'wechat_mp',
  'miniprogram',
  'wecom_kf',
  'email',
  'sms',
  'phone',
] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

/**
 * Channel kinds this page creates. The others have connector settings (credentials, accounts)
 * that arrive with their connectors; the server accepts them already, but such an inbox could
 * not receive anything yet. A new WeChat or WeCom 微信客服 inbox gets its callback token and
 * EncodingAESKey from the server; the AppID (CorpID) and secret are set on its WeChat tab.
 */
export const CREATABLE_CHANNELS = ['web', 'api', 'wechat_mp', 'miniprogram', 'wecom_kf'] as const satisfies readonly ChannelKind[]

/**
 * The channel kinds connected through Tencent's callback and API (`wechat::is_tencent` of the
 * server): Official Account, Mini Program and WeCom 微信客服. They have a WeChat tab.
 */
export const WECHAT_CHANNELS = ['wechat_mp', 'miniprogram', 'wecom_kf'] as const satisfies readonly ChannelKind[]

export function isWechatChannel(kind: string): boolean {
  return (WECHAT_CHANNELS as readonly string[]).includes(kind)
}

/** WeCom 微信客服 (`wecom_kf`): CorpID and app secret, a customer-service account, `/hooks/wecom/`. */
export function isWecomChannel(kind: string): boolean {
  return kind === 'wecom_kf'
}
export type CreatableChannel = (typeof CREATABLE_CHANNELS)[number]

/**
 * One row of `GET /api/v1/inboxes` (`InboxView` of `http/roles.rs`): every inbox for
 * `channels:read`, the inboxes of the caller's scope for agents (`conversations:read`).
 */
export interface InboxSummary {
  id: Id
  name: string
  /** A {@link ChannelKind}; shown as sent when unknown. */
  channel: string
  team_id: Id | null
  created_at: Millis
  /** A disabled inbox accepts no messages and is not routed; it stays listed. */
  disabled: boolean
}

/** `POST /api/v1/inboxes`. Name 1–60 characters (trimmed); the team must exist. */
export interface CreateInboxRequest {
  name: string
  channel: CreatableChannel
  team_id: Id | null
}

/** `POST /api/v1/inboxes` (201): the new row, and for `api` inboxes its secrets, shown once. */
export interface CreatedInbox extends InboxSummary {
  token?: string
  webhook_secret?: string
  /** Web inboxes: the secret host sites sign their users' ids with, shown once. */
  identity_secret?: string
}

/** `POST /api/v1/inboxes/{id}/token` (200): a new token and webhook secret, shown once. */
export interface InboxSecrets {
  token: string
  webhook_secret: string
}

/** `GET /api/v1/inboxes/{id}` (`InboxDetail`). */
export interface InboxDetail {
  id: Id
  name: string
  channel: string
  team_id: Id | null
  /** A disabled inbox refuses inbound messages and is not routed. */
  disabled: boolean
  settings: InboxSettings
  /** Where customer systems post messages (`/hooks/api/{id}/messages`; API inboxes only). */
  hook_path: string | null
  created_at: Millis
  updated_at: Millis
}

/**
 * `PUT /api/v1/inboxes/{id}` (204). Name 1–60 characters (trimmed). `disabled` defaults to
 * `false` on the server, so it is always sent (leaving it out would re-enable the inbox).
 */
export interface UpdateInboxRequest {
  name: string
  team_id: Id | null
  disabled: boolean
  settings: InboxSettings
}

// ---------------------------------------------------------------------------------------------
// WeChat connection — `http/wechat_admin.rs` (all `channels:write`; 404 for other channels)
// ---------------------------------------------------------------------------------------------

/**
 * `GET /api/v1/inboxes/{id}/wechat` and the answer of `PUT`: what the WeChat console needs and
 * what it gave. The server audits every read (it shows the callback token and key).
 */
export interface WechatConnection {
  app_id: string
  /** Whether an AppSecret is stored (it is never shown). */
  has_app_secret: boolean
  /** The callback token to paste into the WeChat console. */
  token: string
  /** The EncodingAESKey to paste into the WeChat console (43 base64 characters). */
  encoding_aes_key: string
  /** Empty: WeChat's own (`https://api.weixin.qq.com`; 微信客服 `https://qyapi.weixin.qq.com`). */
  api_base: string
  /** Outbound HTTP proxy; empty: direct. */
  proxy: string
  /**
   * `/hooks/wechat/{id}` (`/hooks/wecom/{id}` for 微信客服): the console needs the public
   * `https://host` in front of it.
   */
  callback_path: string
  /** 微信客服: the customer-service account (`wk…`) the inbox answers for; empty for the others. */
  open_kfid: string
  /** Pushes in WeChat's plaintext mode (body unsigned) are accepted; off unless turned on. */
  accept_plaintext?: boolean
}

/**
 * `PUT /api/v1/inboxes/{id}/wechat` (200, answering {@link WechatConnection}); 422
 * `validation_failed` lists each problem prefixed by its field (`app_id: …`, `proxy: …`).
 */
export interface UpdateWechatRequest {
  /** AppID (`wx…`), or the CorpID (`ww…`) for 微信客服. */
  app_id: string
  /** Left out (or empty): the stored one stays. */
  app_secret?: string
  api_base: string
  proxy: string
  /**
   * 微信客服: the customer-service account (`wk…`; letters, digits, `_`, `-`, at most 64),
   * required there (422 `open_kfid: …` without it); empty for the others.
   */
  open_kfid: string
  /** Accept plaintext-mode pushes (left out: the stored choice stays). */
  accept_plaintext?: boolean
  /** Generate a new callback token (the WeChat console must then be updated). */
  new_token: boolean
  /** Generate a new EncodingAESKey (the WeChat console must then be updated). */
  new_aes_key: boolean
}

/** `POST /api/v1/inboxes/{id}/wechat/test`: fetching an access token with the stored settings. */
export interface WechatTestResult {
  ok: boolean
  /** WeChat's (or WeCom's) error code when it refused (`40164`: IP not whitelisted); `null` otherwise. */
  code: number | null
  /** Why not (English, from the server); `null` when it worked. */
  reason: string | null
}

// ---------------------------------------------------------------------------------------------
// Teams — `GET /api/v1/teams/{id}`, `PUT /api/v1/teams/{id}/settings`
// ---------------------------------------------------------------------------------------------

/** `teams.settings`: exactly this key. */
export interface TeamSettings {
  routing: RoutingSettings
}

/** `GET /api/v1/teams/{id}` (`TeamDetail`). */
export interface TeamDetail {
  id: Id
  name: string
  settings: TeamSettings
}

/** `PUT /api/v1/teams/{id}/settings` (204). Renaming stays `PATCH /teams/{id}` `{name}`. */
export interface UpdateTeamSettingsRequest {
  settings: TeamSettings
}

// ---------------------------------------------------------------------------------------------
// Agents — `http/agents.rs`, `engine/agents.rs`
// ---------------------------------------------------------------------------------------------

export const AGENT_STATUSES = ['online', 'busy', 'away', 'offline'] as const
export type AgentStatus = (typeof AGENT_STATUSES)[number]

/**
 * One row of `GET /api/v1/agents` (`AgentView` of `engine/agents.rs`; also the `data` of realtime
 * `presence` events): every enabled user holding `conversations:reply`. Users who never set a
 * profile have capacity 5 and no skills.
 */
export interface AgentProfile {
  id: Id
  name: string
  /** Effective presence: the chosen status while connected, else `offline`. */
  status: AgentStatus
  /** The status the agent chose. */
  chosen_status: AgentStatus
  /** Open and pending conversations assigned to the agent now. */
  load: number
  capacity: number
  skills: string[]
  /** Team ids. */
  teams: Id[]
  /** Inbox ids the agent is a member of (routing uses them for inboxes without a team). */
  inboxes: Id[]
}

/** `PUT /api/v1/agents/{user_id}` (204). Capacity 0–1000; at most 50 skills of 1–40 characters. */
export interface UpdateAgentRequest {
  capacity: number
  skills: string[]
}

// ---------------------------------------------------------------------------------------------
// Canned replies — `http/canned.rs`
// ---------------------------------------------------------------------------------------------

/** `GET /api/v1/canned-replies` row: the caller's own (`shared: false`) and the shared ones. */
export interface CannedReply {
  id: Id
  shortcut: string
  title: string
  body: string
  shared: boolean
}

/**
 * `POST /api/v1/canned-replies` (201) and `PUT /api/v1/canned-replies/{id}` (200), answering the
 * reply. `PUT` ignores `shared`: a reply stays personal or shared for its life.
 */
export interface CannedReplyRequest {
  shortcut: string
  title: string
  body: string
  shared: boolean
}

// ---------------------------------------------------------------------------------------------
// Supervisor — `GET /api/v1/supervisor/overview`
// ---------------------------------------------------------------------------------------------

/** The queue of one team; `id: null` (and an empty name) for inboxes without a team. */
export interface TeamQueue {
  id: Id | null
  name: string
  queued: number
  /** How long the longest-queued customer had waited (from `queued_at`) when the overview was made. */
  longest_wait_ms: number
  /** Online members of the team (for the `null` queue: online members of its inboxes). */
  online_agents: number
}

/** An agent as the overview lists them (the same `AgentView` as `GET /agents`). */
export type SupervisorAgent = AgentProfile

/**
 * The fields of a `ConversationView` (`engine/view.rs`) the supervisor view shows; the full type
 * belongs to the workspace module. `contact.name` is always masked and may be `null`.
 */
export interface WaitingConversation {
  id: Id
  contact: { id: Id; name: string | null; vip: boolean }
  inbox: { id: Id; name: string; channel: string } | null
  team_id: Id | null
  assignee: { id: Id; name: string } | null
  status: string
  priority: string
  /** Since when the customer waits for any reply (`null` when not waiting). */
  waiting_since: Millis | null
  /** Since when it waits in the queue for an agent (`null` once assigned). */
  queued_at: Millis | null
  alert: string | null
  queue: { position: number; estimated_wait_ms: number } | null
  last_message: { direction: string; kind: string; preview: string } | null
  created_at: Millis
}

/** `GET /api/v1/supervisor/overview` */
export interface SupervisorOverview {
  teams: TeamQueue[]
  agents: SupervisorAgent[]
  /** Unassigned open conversations of the caller's scope, longest waiting first (at most 100). */
  waiting: WaitingConversation[]
  /**
   * Assigned conversations whose customer has waited past the inbox's reply-time threshold
   * (`alert` set), longest waiting first (at most 100): candidates for taking over.
   */
  overdue: WaitingConversation[]
}

/** A delivery given up on (`GET /deliveries/failed`): where it went and why, never its content. */
export interface FailedDelivery {
  id: Id
  /** `atrium-out-{id}`: the event id receivers saw. */
  event_id: string
  message_id: Id
  conversation_id: Id
  inbox_id: Id
  inbox_name: string | null
  channel: string | null
  attempts: number
  reason: string | null
  created_at: Millis
  failed_at: Millis
}

/** The events a webhook subscription may ask for (`src/engine/events.rs`). */
export const WEBHOOK_EVENTS = [
  'conversation.created',
  'message.created',
  'conversation.assigned',
  'conversation.resolved',
  'contact.updated',
  'csat.submitted',
] as const
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number]

/** `GET /webhooks`: a subscription, never its secret. */
export interface Webhook {
  id: Id
  name: string
  url: string
  events: string[]
  /** Only this inbox's events; `null`: every inbox. */
  inbox_id: Id | null
  /** Contacts' PII sent in full (needs `pii:reveal` to set). */
  include_pii: boolean
  enabled: boolean
  pending: number
  failed: number
  created_at: Millis
  updated_at: Millis
}

/** `POST /webhooks`, `PUT /webhooks/{id}`. */
export interface WebhookRequest {
  name: string
  url: string
  events: string[]
  inbox_id: Id | null
  include_pii: boolean
  enabled: boolean
}

/** The signing secret, shown once (create, rotate). */
export interface WebhookSecret {
  id: Id
  secret: string
}

export type WebhookEventState = 'pending' | 'sent' | 'failed'

/** `GET /webhooks/{id}/events`: one queued, delivered or failed event (never its body). */
export interface WebhookEventRow {
  id: Id
  /** `evt_<id>`, the receivers' `X-Atrium-Event-Id`. */
  event_id: string
  event: string
  /** The conversation (or, for `contact.updated`, the contact) it is about. */
  subject_id: Id
  state: WebhookEventState
  attempts: number
  reason: string | null
  next_attempt_at: Millis | null
  created_at: Millis
  updated_at: Millis
}
