// Event webhooks in real Chromium against the real server: a system administrator opens
// Settings → 事件推送, subscribes the customer system's URL to every event (the signing secret is
// shown once), a customer writes through the API inbox, the receiver refuses the events, the
// page shows them failed with the receiver's answer, and the administrator sends one again.
// The Rust test that runs this file owns the receiver: it refuses the first two deliveries and
// accepts the rest, and checks that the resent event arrived again with the same event id.
//
//   ATRIUM_URL=… ATRIUM_ADMIN=… ATRIUM_ADMIN_PASSWORD=… ATRIUM_HOOK_URL=… ATRIUM_INBOX=… \
//   ATRIUM_INBOX_TOKEN=… node --test tests/browser/webhooks.test.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openBrowser, openLoginPage, screenshot, submitSignIn } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const NAMES = ['ATRIUM_URL', 'ATRIUM_ADMIN', 'ATRIUM_ADMIN_PASSWORD', 'ATRIUM_HOOK_URL', 'ATRIUM_INBOX', 'ATRIUM_INBOX_TOKEN', 'ATRIUM_WEB_INBOX']
const missing = NAMES.filter((name) => env(name).length === 0)

describe('event webhooks', { skip: missing.length > 0 ? `missing ${missing.join(', ')}` : false }, () => {
  let browser
  before(async () => {
    browser = await openBrowser()
  })
  after(async () => {
    await browser?.close()
  })

  it('subscribes a URL, shows refused events with the reason and sends one again', async () => {
    const page = await openLoginPage(browser, URL_BASE)
    await submitSignIn(page, env('ATRIUM_ADMIN'), env('ATRIUM_ADMIN_PASSWORD'))
    await page.waitForURL((url) => url.pathname.startsWith('/settings'))
    await page.getByText('事件推送', { exact: true }).first().click()
    await page.waitForURL((url) => url.pathname === '/settings/webhooks')
    await page.getByTestId('webhooks-table').getByText('还没有事件推送').waitFor()

    // Create: the form refuses an address that is not http(s) before asking the server.
    await page.getByTestId('webhook-create').click()
    const dialog = page
    await dialog.getByTestId('webhook-name').fill('CRM 系统')
    await dialog.getByTestId('webhook-url').fill('ftp://crm.example/hook')
    await dialog.getByTestId('webhook-save').click()
    await dialog.getByText('请输入以 http:// 或 https:// 开头的完整地址').waitFor()
    await dialog.getByTestId('webhook-url').fill(env('ATRIUM_HOOK_URL'))
    // Without pii:reveal the PII switch stays off.
    assert.match((await dialog.getByTestId('webhook-pii').getAttribute('class')) ?? '', /is-disabled/)
    await screenshot(page, 'webhooks-create-zh.png')
    await dialog.getByTestId('webhook-save').click()
    const secret = (await page.getByTestId('webhook-secret').innerText()).trim()
    assert.ok(secret.length >= 32, `a secret is shown: ${secret}`)
    await screenshot(page, 'webhooks-secret-zh.png')
    await page.getByRole('button', { name: '完成' }).click()
    await page.getByTestId('webhook-row').getByText('CRM 系统').waitFor()

    // A customer writes: conversation.created and message.created are refused by the receiver.
    const res = await fetch(`${URL_BASE}/hooks/api/${env('ATRIUM_INBOX')}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env('ATRIUM_INBOX_TOKEN')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: 'web-1', contact: { id: 'u-1' }, body: '我的卡被锁了' }),
    })
    assert.equal(res.status, 201)
    const failed = page.getByTestId('webhook-failed').first()
    for (let i = 0; i < 50 && (await failed.innerText()).trim() !== '失败 2'; i++) {
      await page.waitForTimeout(200)
      await page.getByRole('button', { name: '刷新' }).click()
    }
    assert.equal((await failed.innerText()).trim(), '失败 2')

    // The events list shows the receiver's answer; send the first one again.
    await page.getByTestId('webhook-events-open').first().click()
    const drawer = page
    await drawer.getByTestId('webhook-event-reason').first().waitFor()
    assert.equal(await drawer.getByTestId('webhook-event-reason').first().innerText(), 'webhook answered HTTP 410')
    assert.equal(await drawer.getByTestId('webhook-event-resend').count(), 2)
    await screenshot(page, 'webhooks-failed-zh.png')
    await drawer.getByTestId('webhook-event-resend').first().click()
    await page.getByText('已重新排队推送').waitFor()
    for (let i = 0; i < 50 && (await drawer.getByTestId('webhook-event-resend').count()) !== 1; i++) {
      await page.waitForTimeout(100)
    }
    assert.equal(await drawer.getByTestId('webhook-event-resend').count(), 1)

    // The web inbox's widget settings: the snippet and a live preview of the chat window.
    await page.keyboard.press('Escape')
    await page.getByText('渠道接入', { exact: true }).first().click()
    await page.waitForURL((url) => url.pathname === '/settings/inboxes')
    const webRow = page.locator(`[data-testid="inbox-row"][data-inbox-id="${env('ATRIUM_WEB_INBOX')}"]`)
    await webRow.waitFor()
    await page.locator('tr', { has: webRow }).getByTestId('inbox-edit').click()
    await page.getByTestId('inbox-tab-widget').click()
    const snippet = await page.getByTestId('widget-snippet').innerText()
    assert.equal(snippet, `<script src="${URL_BASE}/widget.js" data-inbox="${env('ATRIUM_WEB_INBOX')}" async></script>`)
    await page.frameLocator('iframe.preview').locator('.panel').waitFor()
    await screenshot(page, 'inbox-widget-settings-zh.png')
    // The pre-chat form: ask for the name (required); the window's configuration says so.
    const name = page.getByTestId('widget-prechat-name')
    await name.scrollIntoViewIfNeeded()
    await name.getByText('必填').click()
    await screenshot(page, 'inbox-widget-prechat-zh.png')
    // A proactive invitation rule.
    await page.getByTestId('widget-invitation-add').click()
    await page.getByTestId('widget-invitation-message').last().fill('需要帮您看看理财产品吗？')
    await page.getByTestId('widget-invitation-url').last().fill('/wealth')
    await page.getByTestId('inbox-save').click()
    await page.getByTestId('inbox-save').waitFor({ state: 'hidden' })
    const cfg = await page.evaluate(async (inbox) => (await fetch(`/hooks/web/${inbox}/config`)).json(), env('ATRIUM_WEB_INBOX'))
    assert.deepEqual(cfg.prechat, { name: 'required', phone: 'off', email: 'off' })
    assert.equal(cfg.leave_message, true)
    assert.deepEqual(cfg.invitations, [{ message: '需要帮您看看理财产品吗？', delay_secs: 30, url_contains: '/wealth', returning_only: false }])

    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })
})
