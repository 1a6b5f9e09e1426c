// The website visitor's context as the contact panel words it; addresses and titles are the
// visitor's browser's, so they stay text with hidden characters made visible.
import { describe, expect, it } from 'vitest'
import zhCN from '../../i18n/zh-CN'
import en from '../../i18n/en'
import { SEARCH_ENGINES, VISITOR_DEVICE_KINDS } from '../../api/workspace-types'
import {
  PAGES_SHOWN,
  deviceKindKey,
  deviceLine,
  engineKey,
  hostOf,
  pageLabel,
  shownPages,
  shownUrl,
  visitDateTime,
  visitTime,
} from './visitor-context'

function message(messages: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined), messages)
}

describe('device line', () => {
  it('joins the kind, the system and the browser', () => {
    const d = { kind: 'mobile', os: 'iOS 17.4', browser: 'WeChat 8.0.49', in_wechat: true }
    expect(deviceLine(d, '手机')).toBe('手机 · iOS 17.4 · WeChat 8.0.49')
  })

  it('leaves out what the user agent did not tell', () => {
    expect(deviceLine({ kind: 'desktop', os: '', browser: 'Chrome 124', in_wechat: false }, '电脑')).toBe('电脑 · Chrome 124')
    expect(deviceLine({ kind: 'other', os: ' ', browser: '', in_wechat: false }, '其他设备')).toBe('其他设备')
  })

  it('shows hidden direction characters', () => {
    expect(deviceLine({ kind: 'desktop', os: 'Win\u202Edows', browser: '', in_wechat: false }, 'PC')).toBe('PC · Win⟨U+202E⟩dows')
  })

  it('names an unknown kind as other (every kind has its message: ws-keys.test.ts)', () => {
    expect(deviceKindKey('tablet')).toBe('ws.visitor.device.tablet')
    expect(deviceKindKey('smartwatch')).toBe('ws.visitor.device.other')
    expect(VISITOR_DEVICE_KINDS.map(deviceKindKey)).not.toContain('ws.visitor.device.smartwatch')
  })
})

describe('search engine names', () => {
  it('has a key for every engine the server names', () => {
    for (const engine of SEARCH_ENGINES) expect(engineKey(engine), engine).toBe(`ws.visitor.engine.${engine}`)
    expect(message(zhCN, 'ws.visitor.engine.so360')).toBe('360搜索')
    expect(message(en, 'ws.visitor.engine.so360')).toBe('360 Search')
    expect(message(zhCN, 'ws.visitor.engine.baidu')).toBe('百度')
  })

  it('has no key for an engine it does not know', () => {
    expect(engineKey('yandex')).toBeNull()
    expect(engineKey('')).toBeNull()
    expect(engineKey('__proto__')).toBeNull()
  })
})

describe('host of an address', () => {
  it('is the host of http and https addresses, with the port', () => {
    expect(hostOf('https://www.baidu.com/s?wd=%E4%BF%A1%E7%94%A8%E5%8D%A1')).toBe('www.baidu.com')
    expect(hostOf('http://10.0.0.5:8080/a')).toBe('10.0.0.5:8080')
    expect(hostOf('HTTPS://Bank.Example/')).toBe('bank.example')
  })

  it('shows international names in their xn-- form, which look-alikes cannot fake', () => {
    expect(hostOf('https://аpple.com/')).toBe('xn--pple-43d.com')
  })

  it('is null for anything else', () => {
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'not a url', '', '/relative', 'file:///etc/passwd']) {
      expect(hostOf(bad), bad).toBeNull()
    }
  })
})

describe('page labels', () => {
  const url = 'https://bank.example/loans'

  it('are the title, or the address without one', () => {
    expect(pageLabel({ url, title: '贷款 - 某银行', at: 0 })).toBe('贷款 - 某银行')
    expect(pageLabel({ url, title: null, at: 0 })).toBe(url)
    expect(pageLabel({ url, title: '   ', at: 0 })).toBe(url)
  })

  it('show hidden characters in titles and addresses', () => {
    expect(pageLabel({ url, title: '订单\u202E3pm.exe', at: 0 })).toBe('订单⟨U+202E⟩3pm.exe')
    expect(pageLabel({ url: 'https://x.example/\u200Ba', title: null, at: 0 })).toBe('https://x.example/⟨U+200B⟩a')
    expect(shownUrl('https://x.example/\u2066a')).toBe('https://x.example/⟨U+2066⟩a')
  })

  it('keep markup as text', () => {
    expect(pageLabel({ url, title: '<img src=x onerror=alert(1)>', at: 0 })).toBe('<img src=x onerror=alert(1)>')
  })
})

describe('pages listed', () => {
  const pages = Array.from({ length: 25 }, (_, i) => i)

  it('are the newest ten until all are asked for', () => {
    expect(PAGES_SHOWN).toBe(10)
    expect(shownPages(pages, false)).toEqual(pages.slice(0, 10))
    expect(shownPages(pages, true)).toHaveLength(25)
    expect(shownPages([1, 2], false)).toEqual([1, 2])
  })
})

describe('visit times', () => {
  const now = new Date(2026, 2, 1, 18, 30).getTime()

  it('are the time alone on the same day, with the date before', () => {
    expect(visitTime(new Date(2026, 2, 1, 14, 5).getTime(), now, 'zh-CN')).toBe('14:05')
    const earlier = visitTime(new Date(2026, 1, 27, 9, 7).getTime(), now, 'zh-CN')
    expect(earlier).toContain('2026')
    expect(earlier).toContain('09:07')
    expect(visitTime(new Date(2026, 2, 1, 9, 7).getTime(), now, 'en')).toBe('09:07')
  })

  it('give the first visit with its date', () => {
    const text = visitDateTime(new Date(2026, 0, 15, 8, 0).getTime(), 'zh-CN')
    expect(text).toContain('2026')
    expect(text).toContain('01')
    expect(text).toContain('15')
    expect(text).toContain('08:00')
  })

  it('are empty when missing', () => {
    expect(visitTime(null, now, 'zh-CN')).toBe('')
    expect(visitTime(Number.NaN, now, 'en')).toBe('')
    expect(visitDateTime(undefined, 'en')).toBe('')
  })
})
