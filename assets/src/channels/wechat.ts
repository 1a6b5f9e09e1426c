/**
 * WeChat's and WeCom's error codes as people here need to read them. The server reports a refused
 * call as `wechat <code>: <English explanation>` (a delivery's `failure_reason`, see
 * `src/channels/wechat/client.rs`) or as `{code, reason}` (the connection test); a reply WeCom
 * 微信客服 accepted and later reported undeliverable (`msg_send_fail`) as
 * `wecom fail_type <n>: <English explanation>` (`src/channels/wechat/kf.rs`). Codes an agent or
 * administrator can act on have a translated explanation under `wechat.codes` and
 * `wechat.failTypes`; any other reason is shown as the server wrote it.
 *
 * Codes: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 * and https://developer.work.weixin.qq.com/document/path/90313 (WeCom); fail types: the
 * `msg_send_fail` event of https://developer.work.weixin.qq.com/document/path/94670
 */

/** Message keys (under `wechat.codes`) of the codes this client explains. */
export const WECHAT_CODE_KEYS: Readonly<Record<number, string>> = {
  [-1]: 'busy',
  40001: 'invalidSecret',
  40003: 'invalidOpenId',
  40013: 'invalidAppId',
  // Token errors: the server refreshes the token and retries once by itself, so one only shows
  // when that did not help either.
  40014: 'tokenInvalid',
  42001: 'tokenInvalid',
  40125: 'invalidSecret',
  40164: 'ipNotWhitelisted',
  43004: 'notFollowing',
  43019: 'blacklisted',
  45002: 'tooLong',
  45009: 'dailyQuota',
  45011: 'tooFrequent',
  45015: 'windowClosed',
  45047: 'replyQuota',
  48001: 'apiUnauthorised',
  48002: 'refused',
  48004: 'apiBanned',
  60020: 'ipNotTrusted',
  95004: 'openKfidMissing',
  95013: 'sessionEnded',
  95018: 'sessionNotSendable',
}

/**
 * Codes only WeCom answers (the reason still begins with `wechat`); they are labelled as WeCom's.
 * The 4xxxx codes mean the same on both platforms.
 */
export const WECOM_ONLY_CODES: ReadonlySet<number> = new Set([60020, 95004, 95013, 95018])

/**
 * Where a WeCom 微信客服 connection reads a shared code differently: the AppID is its CorpID and
 * the AppSecret the secret of the app authorised for 微信客服.
 */
const WECOM_CODE_KEYS: Readonly<Record<number, string>> = {
  40001: 'invalidCorpSecret',
  40013: 'invalidCorpId',
}

/** Message keys (under `wechat.failTypes`) of WeCom's `msg_send_fail` fail types. */
export const WECOM_FAIL_TYPE_KEYS: Readonly<Record<number, string>> = {
  1: 'accountDeleted',
  2: 'appClosed',
  4: 'windowClosed',
  5: 'sessionEnded',
  6: 'replyQuota',
  7: 'cannotReceive',
  8: 'cannotReceive',
  9: 'cannotReceive',
  10: 'refused',
}

/**
 * The message key explaining a WeChat error code, or `null` for a code without one. `wecom`: the
 * code came from a WeCom 微信客服 inbox (the connection test knows; a failure reason does not).
 */
export function wechatCodeKey(code: number | null | undefined, wecom = false): string | null {
  if (typeof code !== 'number') return null
  const name = (wecom ? WECOM_CODE_KEYS[code] : undefined) ?? WECHAT_CODE_KEYS[code]
  return name === undefined ? null : `wechat.codes.${name}`
}

/** The message key explaining a WeCom fail type, or `null` for one without. */
export function failTypeKey(type: number | null | undefined): string | null {
  if (typeof type !== 'number') return null
  const name = WECOM_FAIL_TYPE_KEYS[type]
  return name === undefined ? null : `wechat.failTypes.${name}`
}

/** The code of a `wechat <code>: …` reason, or `null` when the reason is not WeChat's. */
export function wechatReasonCode(reason: string | null | undefined): number | null {
  if (typeof reason !== 'string') return null
  const match = /^wechat (-?\d{1,9}):/.exec(reason.trim())
  return match?.[1] === undefined ? null : Number(match[1])
}

/** The fail type of a `wecom fail_type <n>: …` reason, or `null` when the reason is not one. */
export function wecomFailType(reason: string | null | undefined): number | null {
  if (typeof reason !== 'string') return null
  const match = /^wecom fail_type (\d{1,9}):/.exec(reason.trim())
  return match?.[1] === undefined ? null : Number(match[1])
}

/**
 * A failure reason this client explains: `label` is the message key of the whole line (taking
 * `code` and `text`), `key` that of the explanation to put in it as `text`.
 */
export interface ExplainedFailure {
  label: 'wechat.failure' | 'wechat.wecomFailure' | 'wechat.failType'
  code: number
  key: string
}

/**
 * How to show a delivery's failure reason: WeChat's (or WeCom's) code or WeCom's fail type with
 * the key of its explanation, or `null` to show the reason as the server wrote it (another
 * channel, or a code not explained).
 */
export function explainFailure(reason: string | null | undefined): ExplainedFailure | null {
  const type = wecomFailType(reason)
  if (type !== null) {
    const key = failTypeKey(type)
    return key === null ? null : { label: 'wechat.failType', code: type, key }
  }
  const code = wechatReasonCode(reason)
  const key = wechatCodeKey(code)
  if (code === null || key === null) return null
  return { label: WECOM_ONLY_CODES.has(code) ? 'wechat.wecomFailure' : 'wechat.failure', code, key }
}
