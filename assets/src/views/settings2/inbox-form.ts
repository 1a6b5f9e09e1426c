/**
 * The inbox form (general, routing, business hours, automatic replies, reply-time thresholds,
 * the web widget and WeChat's instant answers) and its mapping to and from `PUT /inboxes/{id}`; plus where a server `validation_failed`
 * detail belongs, so it is shown on the right tab next to the right field.
 *
 * The server parses `settings` with `deny_unknown_fields` and fills what is missing with its
 * defaults, so the request carries exactly the server's keys. The checks mirror the handler
 * (`src/http/inboxes.rs`) and `InboxSettings::validate` (`src/engine/settings.rs`).
 */
import type { Id } from '../../api/types'
import {
  PRECHAT_MODES,
  type InboxDetail,
  type InboxSettings,
  type PrechatMode,
  type PrechatSettings,
  type UpdateInboxRequest,
  type WidgetInvitation,
  type WidgetSettings,
} from '../../api/settings2-types'
import { formToHours, hoursToForm, validateHours, type HoursForm, type HoursProblem } from './hours'
import {
  charCount,
  formToRouting,
  routingToForm,
  validateRouting,
  type RoutingForm,
  type RoutingProblem,
} from './routing-form'
import { formToWechat, validateWechatAnswers, wechatToForm, type WechatAnswersForm, type WechatProblem } from './wechat-form'

export const INBOX_TABS = ['general', 'wechat', 'routing', 'hours', 'replies', 'sla', 'widget'] as const
export type InboxTab = (typeof INBOX_TABS)[number]

/** Longest inbox name, creating and editing alike (server `MAX_INBOX_NAME`: 1–60 characters, trimmed). */
export const MAX_NAME_LENGTH = 60
/** Automatic reply texts (server: 2000 characters). */
export const MAX_AUTO_REPLY_LENGTH = 2000
/** Thresholds: up to 7 days (server), in seconds. */
export const MAX_SLA_SECS = 7 * 86_400
/** The server's defaults for thresholds it has never stored. */
export const DEFAULT_FIRST_RESPONSE_SECS = 120
export const DEFAULT_NEXT_RESPONSE_SECS = 300

export interface InboxForm {
  name: string
  teamId: Id | null
  channel: string
  disabled: boolean
  webhookUrl: string
  routing: RoutingForm
  hours: HoursForm
  greeting: string
  offline: string
  /** 0 = no alert. */
  firstResponseSecs: number
  nextResponseSecs: number
  /** 0 = never return to the queue. */
  reassignAfterSecs: number
  widget: WidgetForm
  /** WeChat Official Accounts: the follow greeting and menu-click answers. */
  wechat: WechatAnswersForm
}

/** The chat widget of a web inbox; origins one per line. */
export interface WidgetForm {
  origins: string
  color: string
  position: 'right' | 'left'
  title: string
  welcome: string
  language: '' | 'zh-CN' | 'en'
  requireIdentity: boolean
  /** The pre-chat form anonymous visitors fill in before their first message. */
  prechat: PrechatSettings
  /** Offer the leave-a-message form outside business hours. */
  leaveMessage: boolean
  /** Proactive invitation rules, in order (the first that matches wins). */
  invitations: InvitationRow[]
}

/** One proactive invitation rule as edited. */
export interface InvitationRow {
  message: string
  /** Whole seconds on the page; `undefined` (or `null`, as the number input clears) when cleared. */
  delaySecs: number | undefined
  /** Part of the page address, any case; empty: any page. */
  urlContains: string
  returningOnly: boolean
}

/** As the server (`Widget::validate`). */
export const MAX_WIDGET_TITLE_LENGTH = 60
export const MAX_ORIGINS = 20
export const DEFAULT_WIDGET_COLOR = '#1f5fbf'
/** Invitation rules per widget, their texts and delay (server: `MAX_INVITATIONS`, `Widget::validate`). */
export const MAX_INVITATIONS = 10
export const MAX_INVITATION_TEXT = 200
export const MAX_INVITATION_DELAY_SECS = 3600
/** The server's delay of a rule that names none. */
export const DEFAULT_INVITATION_DELAY_SECS = 30

function widgetToForm(w: Partial<WidgetSettings> | undefined): WidgetForm {
  const lang = text(w?.language)
  return {
    origins: Array.isArray(w?.allowed_origins) ? w.allowed_origins.join('\n') : '',
    color: /^#[0-9a-fA-F]{6}$/.test(text(w?.color)) ? text(w?.color) : DEFAULT_WIDGET_COLOR,
    position: w?.position === 'left' ? 'left' : 'right',
    title: text(w?.title),
    welcome: text(w?.welcome),
    language: lang === 'zh-CN' || lang === 'en' ? lang : '',
    requireIdentity: w?.require_identity === true,
    prechat: prechatToForm(w?.prechat),
    leaveMessage: w?.leave_message !== false,
    invitations: Array.isArray(w?.invitations) ? w.invitations.flatMap(invitationToRow) : [],
  }
}

/** A rule added in the form: the server's defaults, the message still to write. */
export function newInvitation(): InvitationRow {
  return { message: '', delaySecs: DEFAULT_INVITATION_DELAY_SECS, urlContains: '', returningOnly: false }
}

/**
 * One stored rule; anything but an object is dropped. A delay that is not a number reads as the
 * server's default and one out of range is brought into it (the number input would do the same),
 * so a save never sends a value the server refuses; texts stay as stored, checked before saving.
 */
function invitationToRow(i: unknown): InvitationRow[] {
  if (typeof i !== 'object' || i === null || Array.isArray(i)) return []
  const r = i as Partial<Record<keyof WidgetInvitation, unknown>>
  const d = r.delay_secs
  const delaySecs =
    typeof d === 'number' && Number.isFinite(d)
      ? Math.min(MAX_INVITATION_DELAY_SECS, Math.max(0, Math.round(d)))
      : DEFAULT_INVITATION_DELAY_SECS
  return [{ message: text(r.message), delaySecs, urlContains: text(r.url_contains), returningOnly: r.returning_only === true }]
}

/** `widget.invitations`: texts trimmed (a page address never holds a space at either end). */
function rowToInvitation(row: InvitationRow): WidgetInvitation {
  return {
    message: row.message.trim(),
    delay_secs: typeof row.delaySecs === 'number' ? row.delaySecs : DEFAULT_INVITATION_DELAY_SECS,
    url_contains: row.urlContains.trim(),
    returning_only: row.returningOnly,
  }
}

/**
 * Each field's mode as stored; a missing or unknown one reads as `off` (the server's default, and
 * the one that asks the visitor for nothing), so a save never sends a value the server refuses.
 */
function prechatToForm(p: Partial<PrechatSettings> | null | undefined): PrechatSettings {
  const mode = (value: unknown): PrechatMode => PRECHAT_MODES.find((m) => m === value) ?? 'off'
  return { name: mode(p?.name), phone: mode(p?.phone), email: mode(p?.email) }
}

/** The origins typed, one per line, trimmed, without empty lines. */
export function originLines(origins: string): string[] {
  return origins
    .split(/\r?\n/)
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
}

/** `scheme://host[:port]` and nothing else (the server normalises and checks again). */
export function isOrigin(text: string): boolean {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return false
  }
  return (
    (u.protocol === 'http:' || u.protocol === 'https:') &&
    u.hostname.length > 0 &&
    u.username === '' &&
    u.password === '' &&
    u.search === '' &&
    u.hash === '' &&
    u.pathname === '/' &&
    !/[\s;,'"*]/.test(text)
  )
}

/** The snippet host sites paste before `</body>`. */
export function widgetSnippet(origin: string, inboxId: Id): string {
  return `<script src="${origin}/widget.js" data-inbox="${inboxId}" async></script>`
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function secs(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback
}

export function inboxToForm(inbox: InboxDetail): InboxForm {
  const s: Partial<InboxSettings> = inbox.settings ?? {}
  return {
    name: inbox.name,
    teamId: inbox.team_id ?? null,
    channel: inbox.channel,
    disabled: inbox.disabled === true,
    webhookUrl: text(s.webhook?.url),
    routing: routingToForm(s.routing),
    hours: hoursToForm(s.hours),
    greeting: text(s.auto_reply?.greeting),
    offline: text(s.auto_reply?.offline),
    firstResponseSecs: secs(s.sla?.first_response_secs, DEFAULT_FIRST_RESPONSE_SECS),
    nextResponseSecs: secs(s.sla?.next_response_secs, DEFAULT_NEXT_RESPONSE_SECS),
    reassignAfterSecs: secs(s.sla?.reassign_after_secs, 0),
    widget: widgetToForm(s.widget),
    wechat: wechatToForm(s.wechat),
  }
}

/** The `PUT /inboxes/{id}` body: exactly the server's keys. */
export function formToInboxRequest(form: InboxForm): UpdateInboxRequest {
  const settings: InboxSettings = {
    routing: formToRouting(form.routing),
    hours: formToHours(form.hours),
    auto_reply: { greeting: form.greeting, offline: form.offline },
    sla: {
      first_response_secs: form.firstResponseSecs,
      next_response_secs: form.nextResponseSecs,
      reassign_after_secs: form.reassignAfterSecs,
    },
    webhook: { url: form.webhookUrl.trim() },
    widget: {
      allowed_origins: originLines(form.widget.origins),
      color: form.widget.color,
      position: form.widget.position,
      title: form.widget.title.trim(),
      welcome: form.widget.welcome,
      language: form.widget.language,
      require_identity: form.widget.requireIdentity,
      prechat: {
        name: form.widget.prechat.name,
        phone: form.widget.prechat.phone,
        email: form.widget.prechat.email,
      },
      leave_message: form.widget.leaveMessage,
      invitations: form.widget.invitations.map(rowToInvitation),
    },
    wechat: formToWechat(form.wechat),
  }
  return { name: form.name.trim(), team_id: form.teamId, disabled: form.disabled, settings }
}

export type GeneralProblemCode =
  | 'name_required'
  | 'name_too_long'
  | 'webhook_scheme'
  | 'text_too_long'
  | 'sla_range'
  | 'origin_invalid'
  | 'too_many_origins'
  | 'color_invalid'
  | 'too_many_invitations'
  | 'invitation_message_required'
  | 'invitation_delay_range'

export interface GeneralProblem {
  code: GeneralProblemCode
  field:
    | 'name'
    | 'webhook'
    | 'greeting'
    | 'offline'
    | 'first_response'
    | 'next_response'
    | 'reassign_after'
    | 'widget_origins'
    | 'widget_color'
    | 'widget_title'
    | 'widget_welcome'
    | 'widget_invitations'
    | 'widget_invitation_message'
    | 'widget_invitation_delay'
    | 'widget_invitation_url'
  /** The invitation rule (for `widget_invitation_*`). */
  row?: number
}

export interface InboxProblems {
  general: GeneralProblem[]
  routing: RoutingProblem[]
  hours: HoursProblem[]
  replies: GeneralProblem[]
  sla: GeneralProblem[]
  widget: GeneralProblem[]
  wechat: WechatProblem[]
}

/** The name check of `POST /inboxes` and `PUT /inboxes/{id}`. */
export function nameProblem(name: string): GeneralProblemCode | null {
  const n = name.trim()
  if (n.length === 0) return 'name_required'
  if (charCount(n) > MAX_NAME_LENGTH) return 'name_too_long'
  return null
}

/** The server's webhook check: empty, or starting with `http://` or `https://`. */
export function webhookOk(url: string): boolean {
  const u = url.trim().toLowerCase()
  return u.length === 0 || u.startsWith('http://') || u.startsWith('https://')
}

function slaOk(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_SLA_SECS
}

/**
 * Every problem of the form, by tab. `knownTeamIds`: every team that exists, when the page could
 * list them (an overflow team must exist); `null` when it could not, and the server checks alone.
 */
export function validateInboxForm(form: InboxForm, knownTeamIds: readonly Id[] | null = null): InboxProblems {
  const general: GeneralProblem[] = []
  const name = nameProblem(form.name)
  if (name !== null) general.push({ code: name, field: 'name' })
  if (!webhookOk(form.webhookUrl)) general.push({ code: 'webhook_scheme', field: 'webhook' })
  const replies: GeneralProblem[] = []
  if (charCount(form.greeting) > MAX_AUTO_REPLY_LENGTH) {
    replies.push({ code: 'text_too_long', field: 'greeting' })
  }
  if (charCount(form.offline) > MAX_AUTO_REPLY_LENGTH) {
    replies.push({ code: 'text_too_long', field: 'offline' })
  }
  const sla: GeneralProblem[] = []
  if (!slaOk(form.firstResponseSecs)) sla.push({ code: 'sla_range', field: 'first_response' })
  if (!slaOk(form.nextResponseSecs)) sla.push({ code: 'sla_range', field: 'next_response' })
  if (!slaOk(form.reassignAfterSecs)) sla.push({ code: 'sla_range', field: 'reassign_after' })
  const widget: GeneralProblem[] = []
  const origins = originLines(form.widget.origins)
  if (origins.length > MAX_ORIGINS) widget.push({ code: 'too_many_origins', field: 'widget_origins' })
  if (origins.some((o) => !isOrigin(o))) widget.push({ code: 'origin_invalid', field: 'widget_origins' })
  if (!/^#[0-9a-fA-F]{6}$/.test(form.widget.color)) widget.push({ code: 'color_invalid', field: 'widget_color' })
  if (charCount(form.widget.title.trim()) > MAX_WIDGET_TITLE_LENGTH) {
    widget.push({ code: 'text_too_long', field: 'widget_title' })
  }
  if (charCount(form.widget.welcome) > MAX_AUTO_REPLY_LENGTH) {
    widget.push({ code: 'text_too_long', field: 'widget_welcome' })
  }
  widget.push(...validateInvitations(form.widget.invitations))
  return {
    widget,
    general,
    routing: validateRouting(form.routing, null, knownTeamIds),
    hours: validateHours(form.hours),
    replies,
    sla,
    wechat: validateWechatAnswers(form.wechat),
  }
}

/** The server's checks of the invitation rules, on the values a save sends (trimmed). */
function validateInvitations(rows: readonly InvitationRow[]): GeneralProblem[] {
  const problems: GeneralProblem[] = []
  if (rows.length > MAX_INVITATIONS) problems.push({ code: 'too_many_invitations', field: 'widget_invitations' })
  rows.forEach((r, row) => {
    const message = charCount(r.message.trim())
    if (message === 0) problems.push({ code: 'invitation_message_required', field: 'widget_invitation_message', row })
    else if (message > MAX_INVITATION_TEXT) problems.push({ code: 'text_too_long', field: 'widget_invitation_message', row })
    const d = r.delaySecs
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_INVITATION_DELAY_SECS) {
      problems.push({ code: 'invitation_delay_range', field: 'widget_invitation_delay', row })
    }
    if (charCount(r.urlContains.trim()) > MAX_INVITATION_TEXT) {
      problems.push({ code: 'text_too_long', field: 'widget_invitation_url', row })
    }
  })
  return problems
}

/** True when no tab has a problem. */
export function isValid(problems: InboxProblems): boolean {
  return INBOX_TABS.every((tab) => problems[tab].length === 0)
}

/** The first tab with a problem, to switch to on save. */
export function firstTabWithProblems(problems: InboxProblems): InboxTab | null {
  return INBOX_TABS.find((tab) => problems[tab].length > 0) ?? null
}

/** One line of a server `validation_failed`, placed on its tab. */
export interface ServerDetail {
  tab: InboxTab
  /** The field path the server named (`sla.first_response_secs`), or `''` when it named none. */
  path: string
  /** The server's (English) explanation after the path. */
  text: string
}

const TAB_OF_SECTION: Record<string, InboxTab> = {
  name: 'general',
  team_id: 'general',
  disabled: 'general',
  webhook: 'general',
  routing: 'routing',
  hours: 'hours',
  auto_reply: 'replies',
  sla: 'sla',
  widget: 'widget',
  wechat: 'wechat',
}

/**
 * Places the server's `details` (`"routing: skills[0].skill: must not be empty"`,
 * `"sla.first_response_secs: at most 7 days"`, `"name: 1 to 60 characters"`) on their tabs;
 * anything unrecognised goes to General with no path.
 */
export function placeServerDetails(details: unknown): ServerDetail[] {
  if (!Array.isArray(details)) return []
  return details
    .filter((d): d is string => typeof d === 'string' && d.trim().length > 0)
    .map((line) => {
      const match = /^([A-Za-z_][\w.[\]]*(?::\s*[A-Za-z_][\w.[\]]*)*):\s*(.*)$/.exec(line.trim())
      const path = (match?.[1] ?? '').replace(/:\s*/g, '.').replace(/^settings\./, '')
      const section = path.split(/[.[]/)[0] ?? ''
      const tab = TAB_OF_SECTION[section]
      if (match === null || tab === undefined) return { tab: 'general' as const, path: '', text: line.trim() }
      return { tab, path, text: match[2] ?? '' }
    })
}

/** Message keys naming the fields a server detail can point at (most specific path first). */
const FIELD_LABEL_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['name', 'settings2.inboxes.name'],
  ['team_id', 'settings2.inboxes.team'],
  ['webhook', 'settings2.inboxes.webhook'],
  ['routing.skills', 'settings2.routing.skills'],
  ['routing.overflow', 'settings2.routing.overflow'],
  ['routing.skill_fallback', 'settings2.routing.skillFallback'],
  ['routing', 'settings2.inboxes.tabs.routing'],
  ['hours.weekly', 'settings2.hours.weekly'],
  ['hours.holidays', 'settings2.hours.holidays'],
  ['hours.workdays', 'settings2.hours.workdays'],
  ['hours.utc_offset', 'settings2.hours.utcOffset'],
  ['hours', 'settings2.inboxes.tabs.hours'],
  ['auto_reply.greeting', 'settings2.inboxes.greeting'],
  ['auto_reply.offline', 'settings2.inboxes.offline'],
  ['auto_reply', 'settings2.inboxes.tabs.replies'],
  ['sla.first_response', 'settings2.inboxes.firstResponse'],
  ['sla.next_response', 'settings2.inboxes.nextResponse'],
  ['sla.reassign_after', 'settings2.inboxes.reassignAfter'],
  ['sla', 'settings2.inboxes.tabs.sla'],
  ['widget.allowed_origins', 'settings2.inboxes.widgetOrigins'],
  ['widget.color', 'settings2.inboxes.widgetColor'],
  ['widget.title', 'settings2.inboxes.widgetTitle'],
  ['widget.welcome', 'settings2.inboxes.widgetWelcome'],
  ['widget.prechat', 'settings2.inboxes.widgetPrechat'],
  ['widget.leave_message', 'settings2.inboxes.widgetLeaveMessage'],
  ['widget.invitations', 'settings2.inboxes.widgetInvitations'],
  ['widget', 'settings2.inboxes.tabs.widget'],
  ['wechat.subscribe_greeting', 'settings2.wechat.greeting'],
  ['wechat.click_replies', 'settings2.wechat.clickReplies'],
  ['wechat', 'settings2.inboxes.tabs.wechat'],
]

/** The message key of the field a server detail names, or `null` when unknown. */
export function detailFieldKey(path: string): string | null {
  return FIELD_LABEL_KEYS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? null
}
