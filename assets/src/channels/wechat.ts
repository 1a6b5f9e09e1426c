/**
 * WeChat's error codes as people here need to read them. The server reports a refused WeChat call
 * as `wechat <code>: <English explanation>` (a delivery's `failure_reason`, see
 * `src/channels/wechat/client.rs`) or as `{code, reason}` (the connection test). Codes an agent or
 * administrator can act on have a translated explanation under `wechat.codes`; any other reason is
 * shown as the server wrote it.
 *
 * Codes: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */

/** Message keys (under `wechat.codes`) of the codes this client explains. */
export const WECHAT_CODE_KEYS: Readonly<Record<number, string>> = {
  [-1]: 'busy',
  40001: 'invalidSecret',
  40003: 'invalidOpenId',
  40013: 'invalidAppId',
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
}

/** The message key explaining a WeChat error code, or `null` for a code without one. */
export function wechatCodeKey(code: number | null | undefined): string | null {
  if (typeof code !== 'number') return null
  const name = WECHAT_CODE_KEYS[code]
  return name === undefined ? null : `wechat.codes.${name}`
}

/** The code of a `wechat <code>: …` reason, or `null` when the reason is not WeChat's. */
export function wechatReasonCode(reason: string | null | undefined): number | null {
  if (typeof reason !== 'string') return null
  const match = /^wechat (-?\d{1,9}):/.exec(reason.trim())
  return match?.[1] === undefined ? null : Number(match[1])
}

/**
 * How to show a delivery's failure reason: WeChat's code with the key of its explanation, or
 * `null` to show the reason as the server wrote it (another channel, or a code not explained).
 */
export function explainFailure(reason: string | null | undefined): { code: number; key: string } | null {
  const code = wechatReasonCode(reason)
  const key = wechatCodeKey(code)
  return code === null || key === null ? null : { code, key }
}
