// The WeChat Official Account channel in real Chromium against the real server and the fake
// WeChat server: a system administrator opens the inbox's 微信 tab, copies nothing by hand but
// checks that the callback URL, Token and EncodingAESKey are shown, enters the AppID and
// AppSecret (a wrong secret first: the connection test names WeChat's code), saves and tests;
// a customer writes through (fake) WeChat, encrypted; the agent sees the conversation with its
// reply-window notice and answers; the fake receives the customer-service message.
//
//   ATRIUM_URL=… ATRIUM_ADMIN=… ATRIUM_AGENT=… ATRIUM_PASSWORD=… ATRIUM_INBOX=… ATRIUM_TOKEN=… \
//   ATRIUM_FAKE=… ATRIUM_APP_ID=… ATRIUM_APP_SECRET=… node --test tests/browser/wechat.test.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openBrowser, openLoginPage, screenshot, submitSignIn } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const FAKE = env('ATRIUM_FAKE').replace(/\/+$/, '')
const NAMES = [
  'ATRIUM_URL',
  'ATRIUM_ADMIN',
  'ATRIUM_AGENT',
  'ATRIUM_PASSWORD',
  'ATRIUM_INBOX',
  'ATRIUM_TOKEN',
  'ATRIUM_FAKE',
  'ATRIUM_APP_ID',
  'ATRIUM_APP_SECRET',
]
const missing = NAMES.filter((name) => env(name).length === 0)

async function fakeJson(path, body) {
  const res = await fetch(`${FAKE}${path}`, body === undefined ? {} : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  assert.ok(res.ok, `${path}: ${res.status}`)
  return res.json()
}

/** Fill an Element Plus input by its test id (on the input itself or on its wrapper). */
async function fill(page, id, value) {
  const el = page.getByTestId(id)
  const tag = await el.evaluate((e) => e.tagName)
  await (tag === 'INPUT' ? el : el.locator('input')).fill(value)
}

describe('WeChat Official Account', { skip: missing.length > 0 ? `missing ${missing.join(', ')}` : false }, () => {
  let browser
  before(async () => {
    browser = await openBrowser()
  })
  after(async () => {
    await browser?.close()
  })

  it('is connected in settings, and a WeChat customer and an agent talk', async () => {
    const admin = await openLoginPage(browser, URL_BASE)
    await submitSignIn(admin, env('ATRIUM_ADMIN'), env('ATRIUM_PASSWORD'))
    await admin.waitForURL((url) => url.pathname.startsWith('/settings'))
    await admin.getByText('渠道接入', { exact: true }).first().click()
    await admin.waitForURL((url) => url.pathname === '/settings/inboxes')
    const row = admin.locator(`[data-testid="inbox-row"][data-inbox-id="${env('ATRIUM_INBOX')}"]`)
    await row.waitFor()
    await admin.locator('tr', { has: row }).getByTestId('inbox-edit').click()
    await admin.getByTestId('inbox-tab-wechat').click()
    await admin.getByTestId('wechat-connection').waitFor()
    // What to paste into the WeChat console.
    const callback = (await admin.getByTestId('wechat-callback-url').innerText()).trim()
    assert.equal(callback, `${URL_BASE}/hooks/wechat/${env('ATRIUM_INBOX')}`)
    assert.equal((await admin.getByTestId('wechat-token').innerText()).trim(), env('ATRIUM_TOKEN'))
    assert.equal((await admin.getByTestId('wechat-aes-key').innerText()).trim().length, 43)

    // A wrong AppSecret: the test names WeChat's answer.
    await fill(admin, 'wechat-app-id', env('ATRIUM_APP_ID'))
    await fill(admin, 'wechat-app-secret', 'not-the-secret')
    await fill(admin, 'wechat-api-base', FAKE)
    await admin.getByTestId('wechat-save').click()
    await admin.getByTestId('wechat-test').click()
    const result = admin.getByTestId('wechat-test-result')
    await result.getByText('40125').waitFor()
    await screenshot(admin, 'wechat-settings-test-failed-zh.png')
    await fill(admin, 'wechat-app-secret', env('ATRIUM_APP_SECRET'))
    await admin.getByTestId('wechat-save').click()
    await admin.getByTestId('wechat-test').click()
    await result.locator('.el-alert--success').waitFor()
    assert.doesNotMatch(await result.innerText(), /40125/)
    await screenshot(admin, 'wechat-settings-connected-zh.png')

    // A customer writes to the Official Account (encrypted, safe mode).
    const agent = await openLoginPage(browser, URL_BASE)
    await submitSignIn(agent, env('ATRIUM_AGENT'), env('ATRIUM_PASSWORD'))
    await agent.waitForURL((url) => url.pathname.startsWith('/conversations'))
    await agent.getByTestId('status-switch').click()
    await agent.getByTestId('status-option-online').click()
    const pushed = await fakeJson('/fake/push', { openid: 'oBrowser01', text: '你好，请问明天的专家号还有吗？' })
    assert.equal(pushed.body, 'success')
    const conv = agent.locator('[data-testid^="conv-row-"]').first()
    await conv.waitFor({ timeout: 20_000 })
    await conv.locator('a').first().click()
    await agent.getByTestId('conversation-header').waitFor()
    await agent.getByText('你好，请问明天的专家号还有吗？').first().waitFor()
    await agent.getByTestId('reply-window').waitFor()
    const input = agent.getByTestId('composer-input')
    await input.click()
    await input.fill('您好，明天上午还有 3 个专家号。')
    await agent.getByTestId('composer-send').click()
    await agent.waitForSelector('[data-testid^="message-"][data-direction="outgoing"][data-delivery="sent"]', { timeout: 20_000 })
    await screenshot(agent, 'wechat-workspace-reply-zh.png')
    const sends = await fakeJson('/fake/sends')
    assert.deepEqual(sends.sends.at(-1), {
      touser: 'oBrowser01',
      msgtype: 'text',
      text: { content: '您好，明天上午还有 3 个专家号。' },
    })

    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })
})
