// The WeChat tab: instant answers ⇄ settings.wechat, the connection form ⇄ PUT /inboxes/{id}/wechat,
// their checks (as the server's), and how a connection test is told.
import { describe, expect, it } from 'vitest'
import type { WechatConnection } from '../../api/settings2-types'
import {
  MAX_CLICK_REPLIES,
  callbackUrl,
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
      apiBase: '',
      proxy: 'http://proxy.bank.local:3128',
      newToken: false,
      newAesKey: false,
    })
    expect(formToConnectionRequest(form)).toEqual({
      app_id: 'wx1234567890abcdef',
      api_base: '',
      proxy: 'http://proxy.bank.local:3128',
      new_token: false,
      new_aes_key: false,
    })
    expect(connectionChanged(view, form)).toBe(false)
    const typed = { ...form, appId: ' wxnew ', appSecret: ' s3cret ', apiBase: ' http://fake:9000 ', newAesKey: true }
    expect(formToConnectionRequest(typed)).toEqual({
      app_id: 'wxnew',
      app_secret: 's3cret',
      api_base: 'http://fake:9000',
      proxy: 'http://proxy.bank.local:3128',
      new_token: false,
      new_aes_key: true,
    })
    expect(connectionChanged(view, typed)).toBe(true)
    expect(connectionChanged(view, { ...form, newToken: true })).toBe(true)
  })

  it('checks the fields like the server', () => {
    const form = connectionToForm(view)
    expect(validateConnection(form)).toEqual([])
    expect(validateConnection({ ...form, appId: ' ' })).toEqual([{ field: 'app_id', code: 'app_id_required' }])
    expect(validateConnection({ ...form, appId: 'wx 12' })).toEqual([{ field: 'app_id', code: 'app_id_invalid' }])
    expect(validateConnection({ ...form, appId: 'w'.repeat(65) })).toEqual([{ field: 'app_id', code: 'app_id_invalid' }])
    expect(validateConnection({ ...form, appId: 'wx_a-1' })).toEqual([])
    expect(validateConnection({ ...form, appSecret: 's'.repeat(129) })).toEqual([{ field: 'app_secret', code: 'secret_too_long' }])
    expect(validateConnection({ ...form, apiBase: 'https://gw.bank.local/wx?x=1', proxy: 'socks5://p:1080' })).toEqual([
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
        'token: 3 to 32 letters or digits, as in the WeChat console',
        'app_id/app_secret: save the AppID and AppSecret first',
        'something else',
      ]),
    ).toEqual([
      { field: 'app_id', text: 'the AppID (wx…) is required' },
      { field: 'token', text: '3 to 32 letters or digits, as in the WeChat console' },
      { field: 'app_id', text: 'save the AppID and AppSecret first' },
      { field: null, text: 'something else' },
    ])
  })

  it('gives the callback URL to paste into the console', () => {
    expect(callbackUrl('https://cs.bank.example/', '/hooks/wechat/7')).toBe('https://cs.bank.example/hooks/wechat/7')
    expect(callbackUrl('http://10.1.2.3:8080', 'hooks/wechat/7')).toBe('http://10.1.2.3:8080/hooks/wechat/7')
  })
})

describe('connection test', () => {
  it('explains the codes it knows and shows any other reason as written', () => {
    expect(testOutcome({ ok: true, code: null, reason: null })).toEqual({ kind: 'ok' })
    expect(testOutcome({ ok: false, code: 40164, reason: 'wechat 40164: not whitelisted' })).toEqual({
      kind: 'known',
      code: 40164,
      key: 'wechat.codes.ipNotWhitelisted',
    })
    expect(testOutcome({ ok: false, code: 40125, reason: 'x' })).toMatchObject({ kind: 'known', key: 'wechat.codes.invalidSecret' })
    expect(testOutcome({ ok: false, code: 40013, reason: 'x' })).toMatchObject({ kind: 'known', key: 'wechat.codes.invalidAppId' })
    expect(testOutcome({ ok: false, code: 45009, reason: 'x' })).toMatchObject({ kind: 'known', key: 'wechat.codes.dailyQuota' })
    expect(testOutcome({ ok: false, code: -1, reason: 'x' })).toMatchObject({ kind: 'known', key: 'wechat.codes.busy' })
    expect(testOutcome({ ok: false, code: 61024, reason: 'wechat 61024: odd' })).toEqual({ kind: 'raw', code: 61024, reason: 'wechat 61024: odd' })
    expect(testOutcome({ ok: false, code: null, reason: 'WeChat API unreachable: timed out' })).toEqual({
      kind: 'raw',
      code: null,
      reason: 'WeChat API unreachable: timed out',
    })
  })
})
