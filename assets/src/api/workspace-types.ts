/**
 * Wire types of the agent workspace API (`docs/workspace-api.md`): conversations, messages,
 * contacts, agent status, canned replies and the realtime socket's frames.
 *
 * Field names follow the server's JSON (snake_case). Ids are JSON numbers below 2^53, times are
 * Unix milliseconds. Where the contract leaves a shape open, the assumption is said here.
 */
import type { Id, Millis } from './types'

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

export const CONVERSATION_VIEWS = ['mine', 'unassigned', 'teams', 'all'] as const
export type ConversationListView = (typeof CONVERSATION_VIEWS)[number]

export const CONVERSATION_STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number]

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export type Priority = (typeof PRIORITIES)[number]

export const LIST_SORTS = ['activity', 'waiting'] as const
export type ListSort = (typeof LIST_SORTS)[number]

export const ALERT_KINDS = ['first_response', 'next_response'] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

/** Channel kinds an inbox can be (`src/http/roles.rs` `CHANNELS`). */
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

export interface InboxRef {
  id: Id
  name: string
  channel: string
}

/**
 * One row of `GET /inboxes` (`InboxView`): for agents (`conversations:read`) the inboxes of their
 * scope, for `channels:read` every inbox.
 */
export interface InboxListItem extends InboxRef {
  team_id: Id | null
  created_at: Millis
  /** A disabled inbox accepts no new messages; its conversations stay. */
  disabled: boolean
}

export interface PersonRef {
  id: Id
  name: string
}

export interface ContactRef {
  id: Id
  /** Masked; `null` when the contact has no name (e.g. a website visitor). */
  name: string | null
  vip: boolean
}

export interface LastMessage {
  direction: MessageDirection
  kind: MessageKind
  preview: string
}

/**
 * Whether the channel still accepts replies to this customer (WeChat: for 48 hours after the
 * customer's last message through the inbox, in any of their conversations).
 */
export interface ReplyWindow {
  open: boolean
  /** When it closes (or closed) unless the customer writes again; `null` when the customer never wrote. */
  closes_at: Millis | null
}

export interface QueueInfo {
  position: number
  estimated_wait_ms: number | null
}

/** One row of `GET /conversations` and the answer of every conversation action. */
export interface ConversationView {
  id: Id
  /** Opaque paging cursor: pass the last row's as `before` for the next page. */
  cursor: string
  contact: ContactRef
  /** `null` when the conversation's inbox was deleted (the server's `Option<InboxRef>`). */
  inbox: InboxRef | null
  team_id: Id | null
  assignee: PersonRef | null
  status: ConversationStatus
  priority: Priority
  labels: string[]
  /** Since when the customer has been waiting for any answer; `null` when nobody waits. */
  waiting_since: Millis | null
  last_activity_at: Millis
  last_message: LastMessage | null
  unread: number
  pinned: boolean
  alert: AlertKind | null
  queue: QueueInfo | null
  /**
   * Since when it waits in the queue for an agent; `null` once assigned. The queues' "longest
   * wait" counts from it (a customer may have waited for a reply since before it was queued).
   */
  queued_at: Millis | null
  snoozed_until: Millis | null
  /**
   * WeChat conversations, in `GET /conversations/{id}` only (absent from lists, events and the
   * answers of actions; absent for other channels).
   */
  reply_window?: ReplyWindow
  created_at: Millis
  updated_at: Millis
}

/** `conversation.created` / `conversation.updated` data: the view without the per-user fields. */
export type ConversationEventData = Omit<ConversationView, 'unread' | 'pinned'> &
  Partial<Pick<ConversationView, 'unread' | 'pinned'>>

export interface ConversationQuery {
  view?: ConversationListView
  status?: ConversationStatus
  inbox_id?: Id
  label?: string
  priority?: Priority
  sort?: ListSort
  limit?: number
  before?: string
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

export const MESSAGE_DIRECTIONS = ['incoming', 'outgoing', 'note', 'system'] as const
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number]

export const MESSAGE_KINDS = [
  'text',
  'image',
  'file',
  'audio',
  'video',
  'location',
  'link',
  'card',
  'unsupported',
] as const
export type MessageKind = (typeof MESSAGE_KINDS)[number]

export const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const
export type DeliveryState = (typeof DELIVERY_STATES)[number]

export interface AttachmentView {
  id: Id
  name: string
  content_type: string
  size: number
  /** Same-origin download address, e.g. `/api/v1/attachments/5`. */
  url: string
}

export interface MessageSender {
  type: 'contact' | 'agent' | 'system'
  id: Id | null
  /** The agent's name; `null` for the contact and the system. */
  name: string | null
}

/** Someone named in a system event: `{id, name}`; the actor is `null` for the system itself. */
export interface EventPerson {
  id: Id
  name?: string | null
}

/**
 * `content` of a `system` message (`src/engine/actions.rs`, `dispatch.rs`): the event and who
 * did it, so the history is shown in the reader's language (`body` is English, for API users).
 */
export interface SystemEventContent {
  event: string
  actor?: EventPerson | null
  to?: EventPerson | null
  team?: EventPerson | null
  note?: string | null
  until?: Millis | null
  reason?: string | null
  /** `csat`: the customer's rating (1–5) and comment. */
  rating?: number | null
  comment?: string | null
}

export interface LocationContent {
  latitude: number
  longitude: number
  label?: string | null
}

export interface LinkContent {
  url: string
  title?: string | null
  description?: string | null
}

export interface CardContent {
  title?: string | null
  description?: string | null
  price?: string | number | null
  url?: string | null
  image_url?: string | null
}

/**
 * `content` of an `unsupported` message: a type the channel delivered that Atrium cannot show
 * (WeChat's `MsgType`), with the channel's raw payload. Untrusted text: never rendered as HTML.
 */
export interface UnsupportedContent {
  type: string
  raw: string
}

export interface MessageView {
  id: Id
  conversation_id: Id
  direction: MessageDirection
  kind: MessageKind
  /** Plain text, never HTML: always rendered as text. */
  body: string
  /** By kind: location, link, card or unsupported content; system events; otherwise `null`. */
  content: LocationContent | LinkContent | CardContent | UnsupportedContent | SystemEventContent | null
  attachments: AttachmentView[]
  sender: MessageSender | null
  delivery: DeliveryState | null
  failure_reason: string | null
  recalled: boolean
  mentions: Id[]
  created_at: Millis
}

/** `POST /conversations/{id}/messages` */
export interface SendMessageRequest {
  body: string
  private: boolean
  attachment_ids: Id[]
  mentions: Id[]
}

/** `POST /conversations/{id}/transfer`: to an agent, a team, or both. */
export interface TransferRequest {
  assignee_id?: Id
  team_id?: Id
  note?: string
}

/** `POST /conversations/{id}/status` */
export interface StatusRequest {
  status: ConversationStatus
  snooze_until: Millis | null
}

// ---------------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------------

/** Fields `POST /contacts/{id}/reveal` can unmask. */
export const PII_FIELDS = ['name', 'phone', 'email', 'id_number', 'address'] as const
export type PiiField = (typeof PII_FIELDS)[number]

export interface ContactIdentity {
  id: Id
  kind: string
  value: string
  verified: boolean
  inbox_id: Id | null
}

export interface ContactConversation {
  id: Id
  inbox: InboxRef | null
  status: ConversationStatus
  /** What the server sends (`src/http/contacts.rs`); the contract's `last_activity_at` is not. */
  assignee_id?: Id | null
  last_activity_at?: Millis | null
}

// ---------------------------------------------------------------------------------------------
// Website visitor context (`GET /conversations/{id}/visitor`, `src/channels/web_context.rs`)
// ---------------------------------------------------------------------------------------------

/** The device kinds the server names (anything else is shown as "other"). */
export const VISITOR_DEVICE_KINDS = ['desktop', 'mobile', 'tablet', 'other'] as const
export type VisitorDeviceKind = (typeof VISITOR_DEVICE_KINDS)[number]

/** The search engines whose keywords the server reads from a referrer. */
export const SEARCH_ENGINES = ['baidu', 'sogou', 'so360', 'shenma', 'bing', 'google'] as const
export type SearchEngine = (typeof SEARCH_ENGINES)[number]

/** A page of the visitor's site. Address and title are the visitor's browser's: untrusted text. */
export interface VisitorPage {
  url: string
  title: string | null
  /** When it was opened. */
  at: Millis
}

/** From the latest page's user agent. */
export interface VisitorDevice {
  /** One of {@link VISITOR_DEVICE_KINDS}; a string so that a new kind does not break the panel. */
  kind: string
  /** `Windows 10`, `iOS 17.4`…; empty when unknown. */
  os: string
  /** `Chrome 124`, `WeChat 8.0.49`…; empty when unknown. */
  browser: string
  /** Opened inside the WeChat app. */
  in_wechat: boolean
}

export interface VisitorSearch {
  /** One of {@link SEARCH_ENGINES}. */
  engine: string
  keywords: string
}

/** `GET /conversations/{id}/visitor`; `404 not_found` when the conversation is not a widget chat. */
export interface VisitorContext {
  /** The first page of the current visit. */
  landing: VisitorPage | null
  /** Where the current visit came from; `null` when typed in or bookmarked. */
  referrer: string | null
  search: VisitorSearch | null
  /** Pages of the current visit, newest first (at most 30). */
  pages: VisitorPage[]
  /** Visits in the last 30 days (pages more than 30 minutes apart start a new one). */
  visits: number
  /** The first page seen in the last 30 days. */
  first_seen: Millis | null
  device: VisitorDevice | null
}

/** `GET /contacts/{id}` */
export interface ContactView {
  id: Id
  name: string | null
  phone: string | null
  email: string | null
  id_number: string | null
  address: string | null
  vip: boolean
  attributes: Record<string, unknown>
  identities: ContactIdentity[]
  conversations: ContactConversation[]
  masked: boolean
  created_at?: Millis
  updated_at?: Millis
}

/**
 * `POST /contacts/{id}/reveal`. The server takes only the reason (and reveals every PII field):
 * it rejects unknown fields, and a rejected body would lose the reason, so `fields` is not sent.
 */
export interface RevealRequest {
  reason: string
}

/** The answer of a reveal: the card's PII fields in full (no identities, attributes…). */
export interface RevealedContact {
  id: Id
  name: string | null
  phone: string | null
  email: string | null
  id_number: string | null
  address: string | null
  masked: boolean
}

/** One row of `GET /contacts?q=&limit=&before=` (PII masked). */
export interface ContactSummary {
  id: Id
  name: string | null
  phone: string | null
  email: string | null
  vip: boolean
  last_activity_at: Millis | null
  /** How many conversations the contact has. */
  conversations: number
  /** Pass the last row's as `before` for the next page. */
  cursor: string
}

export interface ContactQuery {
  q?: string
  limit?: number
  before?: string
}

/** `POST /contacts/{id}/split` answers the new contact's id. */
export interface SplitResponse {
  contact_id: Id
}

/** `PUT /contacts/{id}` */
export interface UpdateContactRequest {
  name?: string
  vip?: boolean
  attributes?: Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------
// Agents, canned replies
// ---------------------------------------------------------------------------------------------

export const AGENT_STATUSES = ['online', 'busy', 'away', 'offline'] as const
export type AgentStatus = (typeof AGENT_STATUSES)[number]

/**
 * `AgentView` (`src/engine/agents.rs`): an agent as `GET /agents`, `GET /me/agent`, `PUT
 * /me/agent` and realtime `presence` events give it. `GET /agents` lists everyone who can take
 * conversations (readable with `conversations:read`). `status` is the effective presence
 * (`offline` while not connected), `chosen_status` what the agent picked.
 */
export interface AgentSummary {
  id: Id
  name: string
  status: AgentStatus
  chosen_status: AgentStatus
  /** Open and pending conversations assigned to the agent now. */
  load: number
  capacity: number
  skills: string[]
  /** Team ids. */
  teams: Id[]
  /** Inbox ids the agent is a member of. */
  inboxes: Id[]
}

/** `GET /me/agent` and `PUT /me/agent`: the caller's own {@link AgentSummary}. */
export type MyAgent = AgentSummary

export interface CannedReply {
  id: Id
  shortcut: string
  title: string
  body: string
  shared: boolean
}

// ---------------------------------------------------------------------------------------------
// Realtime
// ---------------------------------------------------------------------------------------------

export interface TypingEvent {
  conversation_id: Id
  /** `"contact"` for the customer, else the typing agent's user id. */
  who: 'contact' | Id
  typing: boolean
}

/**
 * `presence`: the whole {@link AgentSummary} of an agent whose status, connection or load changed
 * (sent to everyone; assignments, transfers and resolutions change loads).
 */
export type PresenceEvent = AgentSummary

/**
 * The event's agent, or `null` when the payload is not a usable agent view (the socket does
 * not check payloads; a broken one must not blank the status switch).
 */
export function presenceAgent(event: unknown): AgentSummary | null {
  if (typeof event !== 'object' || event === null) return null
  const e = event as Partial<Record<keyof AgentSummary, unknown>>
  const numbers = [e.id, e.load, e.capacity].every((v) => typeof v === 'number' && Number.isFinite(v))
  const statuses = [e.status, e.chosen_status].every(
    (v) => typeof v === 'string' && (AGENT_STATUSES as readonly string[]).includes(v),
  )
  if (!numbers || !statuses || typeof e.name !== 'string') return null
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : [])
  const agent = event as AgentSummary
  return { ...agent, skills: list(e.skills), teams: list(e.teams), inboxes: list(e.inboxes) }
}

export interface MentionEvent {
  conversation_id: Id
  message_id: Id
  user_id: Id
}

export interface AlertEvent {
  conversation_id: Id
  alert: AlertKind | null
}

/** The events the socket delivers, by type, with their `data`. */
export interface RealtimeEventMap {
  'conversation.created': ConversationEventData
  'conversation.updated': ConversationEventData
  'message.created': MessageView
  'message.updated': MessageView
  typing: TypingEvent
  presence: PresenceEvent
  mention: MentionEvent
  alert: AlertEvent
}

export type RealtimeEventType = keyof RealtimeEventMap

export const REALTIME_EVENT_TYPES: readonly RealtimeEventType[] = [
  'conversation.created',
  'conversation.updated',
  'message.created',
  'message.updated',
  'typing',
  'presence',
  'mention',
  'alert',
]

// ---------------------------------------------------------------------------------------------
// Errors of this API the workspace translates itself (see i18n/workspace `errors`)
// ---------------------------------------------------------------------------------------------

export const WORKSPACE_ERROR_CODES = [
  'attachment_too_large',
  'attachment_type_not_allowed',
  'attachment_type_mismatch',
  'attachment_empty',
  'origin_not_allowed',
] as const
