// The WeChat tab: instant answers ⇄ settings.wechat, the connection form ⇄ PUT /inboxes/{id}/wechat,
// their checks (as the server's), how a connection test is told, and the texts a WeCom 微信客服
// inbox words differently.
import { describe, expect, it } from 'vitest'
import type { WechatConnection } from '../../api/settings2-types'
import zhCN from '../../i18n/zh-CN'
import en from '../../i18n/en'
import {
  CHANNEL_TEXTS,
  MAX_CLICK_REPLIES,
  callbackUrl,
  channelText,
  connectionChanged,
  connectionDetails,
  connectionToForm,
  formToConnectionRequest,
  formToWechat,
  isHttpUrl,
  testOutcome,
  validateConnection,
  validateWechatAnswers,
  wechatToForm,
} from './wechat-form'

const view: WechatConnection = {
  app_id: 'wx1234567890abcdef',
  has_app_secret: true,
  token: 'Tok3nTok3nTok3nTok3nTok3nTok3n12',
  encoding_aes_key: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  api_base: '',
  proxy: 'http://proxy.bank.local:3128',
  callback_path: '/hooks/wechat/7',
  open_kfid: '',
}

const kfView: WechatConnection = {
  app_id: 'ww1234567890abcdef',
  has_app_secret: true,
  token: 'Tok3nTok3nTok3nTok3nTok3nTok3n12',
  encoding_aes_key: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  api_base: '',
  proxy: '',
  callback_path: '/hooks/wecom/9',
  open_kfid: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q',
}

function message(messages: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>(
    (node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    messages,
  )
}

describe('instant answers', () => {
  it('read and write settings.wechat, dropping empty rows and trimming keys', () => {
    const form = wechatToForm({ subscribe_greeting: '感谢关注', click_replies: [{ key: 'A', reply: '甲' }] })
    expect(form).toEqual({ greeting: '感谢关注', clicks: [{ key: 'A', reply: '甲' }] })
    form.clicks.push({ key: '  ', reply: '' }, { key: ' MENU_B ', reply: '乙' })
    expect(formToWechat(form)).toEqual({
      subscribe_greeting: '感谢关注',
      click_replies: [
        { key: 'A', reply: '甲' },
        { key: 'MENU_B', reply: '乙' },
      ],
    })
    expect(wechatToForm(undefined)).toEqual({ greeting: '', clicks: [] })
    expect(formToWechat(wechatToForm(undefined))).toEqual({ subscribe_greeting: '', click_replies: [] })
  })

  it('checks lengths in characters and keys in UTF-8 bytes, like the server', () => {
    expect(validateWechatAnswers({ greeting: '谢'.repeat(600), clicks: [{ key: 'k'.repeat(128), reply: '好'.repeat(600) }] })).toEqual([])
    expect(
      validateWechatAnswers({
        greeting: '谢'.repeat(601),
        clicks: [
          { key: '键'.repeat(43), reply: '好'.repeat(601) },
          { key: '', reply: '无键' },
          { key: 'NO_REPLY', reply: ' ' },
        ],
      }),
    ).toEqual([
      { code: 'text_too_long', field: 'greeting' },
      { code: 'key_too_long', field: 'key', row: 0 },
      { code: 'text_too_long', field: 'reply', row: 0 },
      { code: 'key_required', field: 'key', row: 1 },
      { code: 'reply_required', field: 'reply', row: 2 },
    ])
  })

  it('refuses a key given twice and more than 50 answers; empty rows do not count', () => {
    const dup = validateWechatAnswers({ greeting: '', clicks: [{ key: 'A', reply: '1' }, { key: '', reply: '' }, { key: ' A', reply: '2' }] })
    expect(dup).toEqual([{ code: 'key_duplicate', field: 'key', row: 2 }])
    const many = Array.from({ length: MAX_CLICK_REPLIES + 1 }, (_, i) => ({ key: `K${i}`, reply: 'r' }))
    expect(validateWechatAnswers({ greeting: '', clicks: many })).toEqual([{ code: 'too_many_replies', field: 'clicks' }])
    expect(validateWechatAnswers({ greeting: '', clicks: [...many.slice(1), { key: '', reply: '' }] })).toEqual([])
  })
})

describe('connection', () => {
  it('sends the AppSecret only when one was typed', () => {
    const form = connectionToForm(view)
    expect(form).toEqual({
      appId: 'wx1234567890abcdef',
      appSecret: '',
      openKfid: '',
      apiBase: '',
      proxy: 'http://proxy.bank.local:3128',
      newToken: false,
      newAesKey: false,
      acceptPlaintext: false,
    })
    expect(formToConnectionRequest(form)).toEqual({
      app_id: 'wx1234567890abcdef',
      open_kfid: '',
      api_base: '',
      proxy: 'http://proxy.bank.local:3128',
      new_token: false,
      new_aes_key: false,
      accept_plaintext: false,
    })
    expect(connectionChanged(view, form)).toBe(false)
    const typed = { ...form, appId: ' wxnew ', appSecret: ' s3cret ', apiBase: ' http://fake:9000 ', newAesKey: true }
    expect(formToConnectionRequest(typed)).toEqual({
      app_id: 'wxnew',
      app_secret: 's3cret',
      open_kfid: '',
      api_base: 'http://fake:9000',
      proxy: 'http://proxy.bank.local:3128',
      new_token: false,
      new_aes_key: true,
      accept_plaintext: false,
    })
    expect(connectionChanged(view, typed)).toBe(true)
    expect(connectionChanged(view, { ...form, newToken: true })).toBe(true)
  })

  it('checks the fields like the server', () => {
    const form = connectionToForm(view)
    const check = (f: typeof form) => validateConnection(f, 'wechat_mp')
    expect(check(form)).toEqual([])
    expect(check({ ...form, appId: ' ' })).toEqual([{ field: 'app_id', code: 'app_id_required' }])
    expect(check({ ...form, appId: 'wx 12' })).toEqual([{ field: 'app_id', code: 'app_id_invalid' }])
    expect(check({ ...form, appId: 'w'.repeat(65) })).toEqual([{ field: 'app_id', code: 'app_id_invalid' }])
    expect(check({ ...form, appId: 'wx_a-1' })).toEqual([])
    expect(check({ ...form, appSecret: 's'.repeat(129) })).toEqual([{ field: 'app_secret', code: 'secret_too_long' }])
    expect(check({ ...form, apiBase: 'https://gw.bank.local/wx?x=1', proxy: 'socks5://p:1080' })).toEqual([
      { field: 'api_base', code: 'url_invalid' },
      { field: 'proxy', code: 'proxy_invalid' },
    ])
  })

  it('takes http(s) addresses only', () => {
    expect(isHttpUrl('https://api.weixin.qq.com', true)).toBe(true)
    expect(isHttpUrl('http://10.0.0.8:8080/wechat', true)).toBe(true)
    expect(isHttpUrl('https://user:pw@gw.local', true)).toBe(false)
    expect(isHttpUrl('https://gw.local/?', true)).toBe(false)
    expect(isHttpUrl('http://user:pw@proxy.local:3128', false)).toBe(true)
    expect(isHttpUrl('ftp://x', false)).toBe(false)
    expect(isHttpUrl('proxy.local:3128', false)).toBe(false)
  })

  it('places the server problems on the fields they name', () => {
    expect(
      connectionDetails([
        'app_id: the AppID (wx…) is required',
        'open_kfid: the customer-service account id (wk…) is required',
        'token: 3 to 32 letters or digits, as in the WeChat console',
        'app_id/app_secret: save the AppID and AppSecret first',
        'something else',
      ]),
    ).toEqual([
      { field: 'app_id', text: 'the AppID (wx…) is required' },
      { field: 'open_kfid', text: 'the customer-service account id (wk…) is required' },
      { field: 'token', text: '3 to 32 letters or digits, as in the WeChat console' },
      { field: 'app_id', text: 'save the AppID and AppSecret first' },
      { field: null, text: 'something else' },
    ])
  })

  it('gives the callback URL to paste into the console', () => {
    expect(callbackUrl('https://cs.bank.example/', '/hooks/wechat/7')).toBe('https://cs.bank.example/hooks/wechat/7')
    expect(callbackUrl('http://10.1.2.3:8080', 'hooks/wechat/7')).toBe('http://10.1.2.3:8080/hooks/wechat/7')
    expect(callbackUrl('https://cs.bank.example', kfView.callback_path)).toBe('https://cs.bank.example/hooks/wecom/9')
  })
})

describe('WeCom 微信客服 connection', () => {
  it('carries the customer-service account to and from the server', () => {
    const form = connectionToForm(kfView)
    expect(form.openKfid).toBe('wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q')
    expect(formToConnectionRequest(form)).toEqual({
      app_id: 'ww1234567890abcdef',
      open_kfid: 'wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q',
      api_base: '',
      proxy: '',
      new_token: false,
      new_aes_key: false,
      accept_plaintext: false,
    })
    expect(connectionChanged(kfView, form)).toBe(false)
    expect(connectionChanged(kfView, { ...form, openKfid: ' wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q ' })).toBe(false)
    const changed = { ...form, openKfid: ' wkOther-1 ' }
    expect(connectionChanged(kfView, changed)).toBe(true)
    expect(formToConnectionRequest(changed).open_kfid).toBe('wkOther-1')
  })

  it('reads a view without the field (an older server) as no account', () => {
    const { open_kfid: _, ...old } = kfView
    expect(connectionToForm(old as WechatConnection).openKfid).toBe('')
  })

  it('requires the account for wecom_kf only, checked like the server', () => {
    const form = connectionToForm(kfView)
    expect(validateConnection(form, 'wecom_kf')).toEqual([])
    expect(validateConnection({ ...form, openKfid: ' ' }, 'wecom_kf')).toEqual([{ field: 'open_kfid', code: 'open_kfid_required' }])
    expect(validateConnection({ ...form, openKfid: 'wk 1' }, 'wecom_kf')).toEqual([{ field: 'open_kfid', code: 'open_kfid_invalid' }])
    expect(validateConnection({ ...form, openKfid: 'wk/1' }, 'wecom_kf')).toEqual([{ field: 'open_kfid', code: 'open_kfid_invalid' }])
    expect(validateConnection({ ...form, openKfid: 'w'.repeat(65) }, 'wecom_kf')).toEqual([
      { field: 'open_kfid', code: 'open_kfid_invalid' },
    ])
    expect(validateConnection({ ...form, openKfid: 'w'.repeat(64) }, 'wecom_kf')).toEqual([])
    expect(validateConnection({ ...form, appId: '', openKfid: '' }, 'wecom_kf')).toEqual([
      { field: 'app_id', code: 'app_id_required' },
      { field: 'open_kfid', code: 'open_kfid_required' },
    ])
    // Official Accounts and Mini Programs have none (the server ignores it).
    expect(validateConnection({ ...connectionToForm(view), openKfid: '' }, 'wechat_mp')).toEqual([])
    expect(validateConnection({ ...connectionToForm(view), openKfid: '' }, 'miniprogram')).toEqual([])
  })

  it('reads the CorpID and secret codes of its test as WeCom\'s', () => {
    expect(testOutcome({ ok: false, code: 40013, reason: 'x' }, 'wecom_kf')).toMatchObject({ key: 'wechat.codes.invalidCorpId' })
    expect(testOutcome({ ok: false, code: 40001, reason: 'x' }, 'wecom_kf')).toMatchObject({ key: 'wechat.codes.invalidCorpSecret' })
    expect(testOutcome({ ok: false, code: 60020, reason: 'x' }, 'wecom_kf')).toMatchObject({ key: 'wechat.codes.ipNotTrusted' })
    expect(testOutcome({ ok: false, code: 40001, reason: 'x' }, 'wechat_mp')).toMatchObject({ key: 'wechat.codes.invalidSecret' })
    expect(testOutcome({ ok: true, code: null, reason: null }, 'wecom_kf')).toEqual({ kind: 'ok' })
  })

  it('words its texts for WeCom, and has each in both groups and languages', () => {
    expect(channelText('wecom_kf', 'appId')).toBe('settings2.wecom.appId')
    expect(channelText('wechat_mp', 'appId')).toBe('settings2.wechat.appId')
    expect(channelText('miniprogram', 'errors.appIdRequired')).toBe('settings2.wechat.errors.appIdRequired')
    const missing = CHANNEL_TEXTS.flatMap((name) =>
      ['wechat_mp', 'wecom_kf'].flatMap((channel) => {
        const key = channelText(channel, name)
        return [zhCN, en].filter((messages) => typeof message(messages, key) !== 'string').map(() => key)
      }),
    )
    expect(missing).toEqual([])
    for (const key of ['openKfid', 'openKfidPlaceholder', 'openKfidHint', 'trustedIpHint', 'errors.openKfidRequired', 'errors.openKfidInvalid']) {
      expect(typeof message(zhCN, `settings2.wecom.${key}`), key).toBe('string')
      expect(typeof message(en, `settings2.wecom.${key}`), key).toBe('string')
    }
    expect(message(zhCN, 'settings2.wecom.appId')).toBe('企业 ID（CorpID）')
    expect(message(en, 'settings2.wecom.greeting')).toBe('Greeting when a customer opens the chat')
  })
})

describe('connection test', () => {
  it('explains the codes it knows and shows any other reason as written', () => {
    expect(testOutcome({ ok: true, code: null, reason: null }, 'wechat_mp')).toEqual({ kind: 'ok' })
    expect(testOutcome({ ok: false, code: 40164, reason: 'wechat 40164: not whitelisted' }, 'wechat_mp')).toEqual({
      kind: 'known',
      code: 40164,
      key: 'wechat.codes.ipNotWhitelisted',
    })
    expect(testOutcome({ ok: false, code: 40125, reason: 'x' }, 'wechat_mp')).toMatchObject({ kind: 'known', key: 'wechat.codes.invalidSecret' })
    expect(testOutcome({ ok: false, code: 40013, reason: 'x' }, 'wechat_mp')).toMatchObject({ kind: 'known', key: 'wechat.codes.invalidAppId' })
    expect(testOutcome({ ok: false, code: 45009, reason: 'x' }, 'wechat_mp')).toMatchObject({ kind: 'known', key: 'wechat.codes.dailyQuota' })
    expect(testOutcome({ ok: false, code: -1, reason: 'x' }, 'wechat_mp')).toMatchObject({ kind: 'known', key: 'wechat.codes.busy' })
    expect(testOutcome({ ok: false, code: 61024, reason: 'wechat 61024: odd' }, 'wechat_mp')).toEqual({ kind: 'raw', code: 61024, reason: 'wechat 61024: odd' })
    expect(testOutcome({ ok: false, code: null, reason: 'WeChat API unreachable: timed out' }, 'wechat_mp')).toEqual({
      kind: 'raw',
      code: null,
      reason: 'WeChat API unreachable: timed out',
    })
  })
})
