// WeChat error codes: reasons the server wrote become translated explanations when the code is
// known; anything else stays as written.
import { describe, expect, it } from 'vitest'
import zhCN from '../i18n/zh-CN'
import en from '../i18n/en'
import { WECHAT_CODE_KEYS, explainFailure, wechatCodeKey, wechatReasonCode } from './wechat'

function text(messages: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>(
    (node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    messages,
  )
}

describe('WeChat failure reasons', () => {
  it('reads the code of a reason the server wrote', () => {
    expect(wechatReasonCode('wechat 45015: the 48-hour reply window has closed (the customer has not written)')).toBe(45015)
    expect(wechatReasonCode('wechat -1: WeChat is busy')).toBe(-1)
    expect(wechatReasonCode('  wechat 40164: this server\'s IP address is not on the whitelist')).toBe(40164)
    expect(wechatReasonCode('webhook answered HTTP 400')).toBeNull()
    expect(wechatReasonCode('wechat: no code')).toBeNull()
    expect(wechatReasonCode('the wechat 45015: quoted')).toBeNull()
    expect(wechatReasonCode(null)).toBeNull()
    expect(wechatReasonCode(undefined)).toBeNull()
  })

  it('explains the known codes and leaves the others', () => {
    expect(explainFailure('wechat 45015: the 48-hour reply window has closed')).toEqual({
      code: 45015,
      key: 'wechat.codes.windowClosed',
    })
    expect(explainFailure('wechat 45047: the reply quota is used up')?.key).toBe('wechat.codes.replyQuota')
    expect(explainFailure('wechat 43004: the customer does not follow the account')?.key).toBe('wechat.codes.notFollowing')
    expect(explainFailure('wechat 40125: the AppSecret is not valid')?.key).toBe('wechat.codes.invalidSecret')
    expect(explainFailure('wechat 40001: the AppSecret is not valid')?.key).toBe('wechat.codes.invalidSecret')
    expect(explainFailure('wechat 99999: something new')).toBeNull()
    expect(explainFailure('webhook answered HTTP 400')).toBeNull()
    expect(explainFailure(null)).toBeNull()
  })

  it('names the codes of the connection test', () => {
    expect(wechatCodeKey(40164)).toBe('wechat.codes.ipNotWhitelisted')
    expect(wechatCodeKey(40013)).toBe('wechat.codes.invalidAppId')
    expect(wechatCodeKey(45009)).toBe('wechat.codes.dailyQuota')
    expect(wechatCodeKey(-1)).toBe('wechat.codes.busy')
    expect(wechatCodeKey(12345)).toBeNull()
    expect(wechatCodeKey(null)).toBeNull()
  })

  it('has every explanation in zh-CN and en', () => {
    const keys = [...new Set(Object.keys(WECHAT_CODE_KEYS).map((code) => wechatCodeKey(Number(code))))]
    const missing = keys.filter((k) => k === null || typeof text(zhCN, k) !== 'string' || typeof text(en, k) !== 'string')
    expect(keys.length).toBeGreaterThan(10)
    expect(missing).toEqual([])
    expect(typeof text(zhCN, 'wechat.failure')).toBe('string')
    expect(typeof text(en, 'wechat.failure')).toBe('string')
  })
})
