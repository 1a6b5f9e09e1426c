// WeChat and WeCom error codes and WeCom fail types: reasons the server wrote become translated
// explanations when the code is known; anything else stays as written.
import { describe, expect, it } from 'vitest'
import zhCN from '../i18n/zh-CN'
import en from '../i18n/en'
import {
  WECHAT_CODE_KEYS,
  WECOM_FAIL_TYPE_KEYS,
  explainFailure,
  failTypeKey,
  wechatCodeKey,
  wechatReasonCode,
  wecomFailType,
} from './wechat'

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
      label: 'wechat.failure',
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
    const codes = Object.keys(WECHAT_CODE_KEYS).map(Number)
    const keys = [
      ...new Set([
        ...codes.map((code) => wechatCodeKey(code)),
        ...codes.map((code) => wechatCodeKey(code, true)),
        ...Object.keys(WECOM_FAIL_TYPE_KEYS).map((type) => failTypeKey(Number(type))),
        'wechat.failure',
        'wechat.wecomFailure',
        'wechat.failType',
      ]),
    ]
    const missing = keys.filter((k) => k === null || typeof text(zhCN, k) !== 'string' || typeof text(en, k) !== 'string')
    expect(keys.length).toBeGreaterThan(25)
    expect(missing).toEqual([])
  })
})

describe('WeCom 微信客服 failure reasons', () => {
  it('reads the fail type of a reason the server wrote', () => {
    expect(wecomFailType('wecom fail_type 4: the 48-hour reply window has closed')).toBe(4)
    expect(wecomFailType(' wecom fail_type 10: the customer refused messages')).toBe(10)
    expect(wecomFailType('wecom fail_type x: odd')).toBeNull()
    expect(wecomFailType('wechat 95018: the session does not allow sending now')).toBeNull()
    expect(wecomFailType('a wecom fail_type 4: quoted')).toBeNull()
    expect(wecomFailType(null)).toBeNull()
  })

  it('explains the fail types WeCom reports, labelled as such', () => {
    expect(explainFailure('wecom fail_type 4: the 48-hour reply window has closed')).toEqual({
      label: 'wechat.failType',
      code: 4,
      key: 'wechat.failTypes.windowClosed',
    })
    expect(explainFailure('wecom fail_type 1: the customer-service account was deleted')?.key).toBe('wechat.failTypes.accountDeleted')
    expect(explainFailure('wecom fail_type 2: the app was closed')?.key).toBe('wechat.failTypes.appClosed')
    expect(explainFailure('wecom fail_type 5: the session has ended')?.key).toBe('wechat.failTypes.sessionEnded')
    expect(explainFailure('wecom fail_type 6: the reply quota is used up')?.key).toBe('wechat.failTypes.replyQuota')
    for (const type of [7, 8, 9]) {
      expect(explainFailure(`wecom fail_type ${type}: the customer has not verified or cannot receive messages`)?.key).toBe(
        'wechat.failTypes.cannotReceive',
      )
    }
    expect(explainFailure('wecom fail_type 10: the customer refused messages')?.key).toBe('wechat.failTypes.refused')
    // Not explained: shown as the server wrote it.
    expect(explainFailure('wecom fail_type 3: WeCom did not say why')).toBeNull()
    expect(explainFailure('wecom fail_type 0: WeCom did not say why')).toBeNull()
  })

  it('labels WeCom-only API codes as WeCom\'s, shared ones as WeChat\'s', () => {
    expect(explainFailure('wechat 95018: the session does not allow sending now (a WeCom agent holds it, or it ended)')).toEqual({
      label: 'wechat.wecomFailure',
      code: 95018,
      key: 'wechat.codes.sessionNotSendable',
    })
    expect(explainFailure('wechat 95013: the session has ended')).toMatchObject({ label: 'wechat.wecomFailure', key: 'wechat.codes.sessionEnded' })
    expect(explainFailure('wechat 95004: the customer-service account (open_kfid) does not exist')).toMatchObject({
      label: 'wechat.wecomFailure',
      key: 'wechat.codes.openKfidMissing',
    })
    expect(explainFailure("wechat 60020: this server's IP address is not among the corp's trusted IPs")).toMatchObject({
      label: 'wechat.wecomFailure',
      key: 'wechat.codes.ipNotTrusted',
    })
    expect(explainFailure('wechat 40014: invalid access_token')).toMatchObject({ label: 'wechat.failure', key: 'wechat.codes.tokenInvalid' })
    expect(explainFailure('wechat 42001: access_token expired')).toMatchObject({ label: 'wechat.failure', key: 'wechat.codes.tokenInvalid' })
    expect(explainFailure('wechat 95000: invalid cursor')).toBeNull()
  })

  it('reads CorpID and secret codes as WeCom\'s when told the inbox is one', () => {
    expect(wechatCodeKey(40013, true)).toBe('wechat.codes.invalidCorpId')
    expect(wechatCodeKey(40001, true)).toBe('wechat.codes.invalidCorpSecret')
    expect(wechatCodeKey(45015, true)).toBe('wechat.codes.windowClosed')
    expect(wechatCodeKey(40013)).toBe('wechat.codes.invalidAppId')
    expect(wechatCodeKey(40001, false)).toBe('wechat.codes.invalidSecret')
  })

  it('puts the line together in both languages', () => {
    const zh = text(zhCN, 'wechat.failType')
    const english = text(en, 'wechat.failType')
    expect(zh).toBe('企业微信 fail_type {code}：{text}')
    expect(english).toBe('WeCom fail_type {code}: {text}')
    expect(text(zhCN, 'wechat.wecomFailure')).toBe('企业微信 {code}：{text}')
  })
})
