/**
 * The WeChat tab of an inbox (Official Account, Mini Program or WeCom 微信客服): its connection
 * (AppID or CorpID, secret, 微信客服 account, API base, proxy, new callback secrets;
 * `PUT /inboxes/{id}/wechat`, saved on its own) and its instant answers (the greeting and
 * menu-click answers, `settings.wechat` of `PUT /inboxes/{id}`, saved with the other tabs). The
 * checks mirror the server's: `Config::validate` of `src/channels/wechat/mod.rs` and
 * `WechatSettings::validate` of `src/engine/settings.rs`.
 */
import {
  isWecomChannel,
  type UpdateWechatRequest,
  type WechatConnection,
  type WechatSettings,
  type WechatTestResult,
} from '../../api/settings2-types'
import { wechatCodeKey } from '../../channels/wechat'
import { charCount } from './routing-form'

// --- instant answers ---------------------------------------------------------------------------

/** The follow greeting and each answer (server: 600 characters). */
export const MAX_WECHAT_TEXT = 600
/** Menu-click answers per inbox (server: 50). */
export const MAX_CLICK_REPLIES = 50
/** A menu key, in UTF-8 bytes (server and WeChat: 128). */
export const MAX_CLICK_KEY_BYTES = 128

export interface ClickReplyRow {
  key: string
  reply: string
}

export interface WechatAnswersForm {
  greeting: string
  clicks: ClickReplyRow[]
}

export type WechatProblemCode =
  | 'text_too_long'
  | 'too_many_replies'
  | 'key_required'
  | 'key_too_long'
  | 'key_duplicate'
  | 'reply_required'

export interface WechatProblem {
  code: WechatProblemCode
  field: 'greeting' | 'clicks' | 'key' | 'reply'
  /** The row of `clicks` (for `key` and `reply`). */
  row?: number
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

export function wechatToForm(s: Partial<WechatSettings> | undefined): WechatAnswersForm {
  return {
    greeting: text(s?.subscribe_greeting),
    clicks: Array.isArray(s?.click_replies) ? s.click_replies.map((c) => ({ key: text(c?.key), reply: text(c?.reply) })) : [],
  }
}

function blank(row: ClickReplyRow): boolean {
  return row.key.trim() === '' && row.reply.trim() === ''
}

/**
 * `settings.wechat`: rows left empty are dropped, and keys trimmed (WeChat sends the key exactly
 * as the console has it; a stray space would never match).
 */
export function formToWechat(form: WechatAnswersForm): WechatSettings {
  return {
    subscribe_greeting: form.greeting,
    click_replies: form.clicks.filter((c) => !blank(c)).map((c) => ({ key: c.key.trim(), reply: c.reply })),
  }
}

const utf8 = new TextEncoder()

/**
 * Every problem of the answers. Beyond the server's checks, a key given twice (only the first
 * answers) and a key without an answer (it would answer nothing) are refused.
 */
export function validateWechatAnswers(form: WechatAnswersForm): WechatProblem[] {
  const problems: WechatProblem[] = []
  if (charCount(form.greeting) > MAX_WECHAT_TEXT) problems.push({ code: 'text_too_long', field: 'greeting' })
  const rows = form.clicks.map((c, row) => ({ ...c, row })).filter((c) => !blank(c))
  if (rows.length > MAX_CLICK_REPLIES) problems.push({ code: 'too_many_replies', field: 'clicks' })
  const seen = new Set<string>()
  for (const c of rows) {
    const key = c.key.trim()
    if (key === '') problems.push({ code: 'key_required', field: 'key', row: c.row })
    else if (utf8.encode(key).length > MAX_CLICK_KEY_BYTES) problems.push({ code: 'key_too_long', field: 'key', row: c.row })
    else if (seen.has(key)) problems.push({ code: 'key_duplicate', field: 'key', row: c.row })
    seen.add(key)
    if (c.reply.trim() === '') problems.push({ code: 'reply_required', field: 'reply', row: c.row })
    else if (charCount(c.reply) > MAX_WECHAT_TEXT) problems.push({ code: 'text_too_long', field: 'reply', row: c.row })
  }
  return problems
}

// --- connection --------------------------------------------------------------------------------

/** AppID (or CorpID): letters, digits, `_` and `-`, at most 64 (server). */
export const MAX_APP_ID_LENGTH = 64
export const MAX_APP_SECRET_LENGTH = 128
/** 微信客服 account id (`wk…`): letters, digits, `_` and `-`, at most 64 (server). */
export const MAX_OPEN_KFID_LENGTH = 64

export interface WechatConnectionForm {
  /** AppID, or the CorpID for 微信客服. */
  appId: string
  /** Empty: keep the stored one. */
  appSecret: string
  /** 微信客服 only (kept as saved, empty, for the others). */
  openKfid: string
  apiBase: string
  proxy: string
  newToken: boolean
  newAesKey: boolean
  /** Accept WeChat's plaintext mode (明文模式), whose bodies no signature covers. */
  acceptPlaintext: boolean
}

export function connectionToForm(view: WechatConnection): WechatConnectionForm {
  return {
    appId: view.app_id,
    appSecret: '',
    // An older server without the field: nothing saved.
    openKfid: typeof view.open_kfid === 'string' ? view.open_kfid : '',
    apiBase: view.api_base,
    proxy: view.proxy,
    newToken: false,
    newAesKey: false,
    acceptPlaintext: view.accept_plaintext === true,
  }
}

/** The `PUT /inboxes/{id}/wechat` body; the AppSecret only when one was typed. */
export function formToConnectionRequest(form: WechatConnectionForm): UpdateWechatRequest {
  const secret = form.appSecret.trim()
  return {
    app_id: form.appId.trim(),
    ...(secret === '' ? {} : { app_secret: secret }),
    open_kfid: form.openKfid.trim(),
    api_base: form.apiBase.trim(),
    proxy: form.proxy.trim(),
    new_token: form.newToken,
    new_aes_key: form.newAesKey,
    accept_plaintext: form.acceptPlaintext,
  }
}

/** Whether the form differs from what is saved (`view`). */
export function connectionChanged(view: WechatConnection, form: WechatConnectionForm): boolean {
  return JSON.stringify(formToConnectionRequest(form)) !== JSON.stringify(formToConnectionRequest(connectionToForm(view)))
}

export const CONNECTION_FIELDS = ['app_id', 'app_secret', 'open_kfid', 'token', 'encoding_aes_key', 'api_base', 'proxy'] as const
export type ConnectionField = (typeof CONNECTION_FIELDS)[number]

export type ConnectionProblemCode =
  | 'app_id_required'
  | 'app_id_invalid'
  | 'secret_too_long'
  | 'open_kfid_required'
  | 'open_kfid_invalid'
  | 'url_invalid'
  | 'proxy_invalid'

export interface ConnectionProblem {
  field: ConnectionField
  code: ConnectionProblemCode
}

/** An `http(s)://host…` address; `plain`: without query string or user name (the API base). */
export function isHttpUrl(value: string, plain: boolean): boolean {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    return false
  }
  const ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0
  return ok && (!plain || (u.search === '' && !value.includes('?') && u.username === '' && u.password === ''))
}

/** Letters, digits, `_` and `-` only, at most `max` (AppID, CorpID, open_kfid). */
function isPlainId(value: string, max: number): boolean {
  return value.length <= max && /^[A-Za-z0-9_-]+$/.test(value)
}

/**
 * Every problem of the connection form of an inbox of `channel`. The 微信客服 account is
 * required for `wecom_kf` only, as on the server (which ignores it elsewhere).
 */
export function validateConnection(form: WechatConnectionForm, channel: string): ConnectionProblem[] {
  const problems: ConnectionProblem[] = []
  const appId = form.appId.trim()
  if (appId === '') problems.push({ field: 'app_id', code: 'app_id_required' })
  else if (!isPlainId(appId, MAX_APP_ID_LENGTH)) problems.push({ field: 'app_id', code: 'app_id_invalid' })
  if (utf8.encode(form.appSecret.trim()).length > MAX_APP_SECRET_LENGTH) {
    problems.push({ field: 'app_secret', code: 'secret_too_long' })
  }
  if (isWecomChannel(channel)) {
    const kfid = form.openKfid.trim()
    if (kfid === '') problems.push({ field: 'open_kfid', code: 'open_kfid_required' })
    else if (!isPlainId(kfid, MAX_OPEN_KFID_LENGTH)) problems.push({ field: 'open_kfid', code: 'open_kfid_invalid' })
  }
  const base = form.apiBase.trim()
  if (base !== '' && !isHttpUrl(base, true)) problems.push({ field: 'api_base', code: 'url_invalid' })
  const proxy = form.proxy.trim()
  if (proxy !== '' && !isHttpUrl(proxy, false)) problems.push({ field: 'proxy', code: 'proxy_invalid' })
  return problems
}

/**
 * The lines of a refused save (`app_id: the AppID (wx…) is required`), each with the field it
 * names (`null` when it names none this form knows).
 */
export function connectionDetails(lines: readonly string[]): Array<{ field: ConnectionField | null; text: string }> {
  return lines.map((line) => {
    const match = /^([a-z_]+(?:\/[a-z_]+)*):\s*(.*)$/.exec(line.trim())
    const field = match?.[1]?.split('/')[0]
    return field !== undefined && (CONNECTION_FIELDS as readonly string[]).includes(field)
      ? { field: field as ConnectionField, text: match?.[2] ?? '' }
      : { field: null, text: line.trim() }
  })
}

/** The address WeChat calls, as seen from this browser (`origin` + the callback path). */
export function callbackUrl(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`
}

/**
 * What a connection test found: it worked, WeChat (WeCom) refused with a code this client
 * explains (the key of its explanation), or a reason to show as written (another code, or no
 * answer at all).
 */
export type TestOutcome =
  | { kind: 'ok' }
  | { kind: 'known'; code: number; key: string }
  | { kind: 'raw'; code: number | null; reason: string }

/** `channel`: the inbox's; a 微信客服 inbox reads 40001 and 40013 as its CorpID and secret. */
export function testOutcome(result: WechatTestResult, channel: string): TestOutcome {
  if (result.ok) return { kind: 'ok' }
  const key = wechatCodeKey(result.code, isWecomChannel(channel))
  if (key !== null && result.code !== null) return { kind: 'known', code: result.code, key }
  return { kind: 'raw', code: result.code, reason: result.reason ?? '' }
}

// --- texts by channel ----------------------------------------------------------------------------

/**
 * Texts of the WeChat tab that a WeCom 微信客服 inbox words differently (CorpID and app secret
 * instead of AppID and AppSecret, the WeCom admin console, the greeting on entering the chat).
 * Each exists under `settings2.wechat` and `settings2.wecom`, in both languages (tested).
 */
export const CHANNEL_TEXTS = [
  'connectionLead',
  'callbackHint',
  'modeHint',
  'appId',
  'appIdPlaceholder',
  'appSecret',
  'appSecretPlaceholder',
  'appSecretHint',
  'apiBasePlaceholder',
  'apiBaseHint',
  'proxyHint',
  'regenerateWarning',
  'regenerated',
  'testHint',
  'testNeedsCredentials',
  'testOk',
  'testFailedCode',
  'answersLead',
  'greeting',
  'greetingPlaceholder',
  'greetingHint',
  'errors.appIdRequired',
  'errors.appIdInvalid',
  'errors.secretTooLong',
] as const
export type ChannelText = (typeof CHANNEL_TEXTS)[number]

/** The message key of a text of the WeChat tab, as the inbox's channel words it. */
export function channelText(channel: string, name: ChannelText): string {
  return `settings2.${isWecomChannel(channel) ? 'wecom' : 'wechat'}.${name}`
}
