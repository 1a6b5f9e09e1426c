// The administrators' dead-letter view in real Chromium against the real server: a system
// administrator opens Settings → 投递失败, sees the reply the customer system refused with its
// reason (and not its content), and sends it again; the row leaves the list. The Rust test that
// runs this file seeds the failed delivery and checks that the receiver got it once more with the
// same event id.
//
//   ATRIUM_URL=http://127.0.0.1:PORT ATRIUM_ADMIN=sys.admin ATRIUM_ADMIN_PASSWORD='…' \
//   ATRIUM_EVENT_ID=atrium-out-… node --test tests/browser/deliveries.test.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openBrowser, openLoginPage, screenshot, submitSignIn } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const ADMIN = env('ATRIUM_ADMIN')
const PASSWORD = env('ATRIUM_ADMIN_PASSWORD')
const EVENT_ID = env('ATRIUM_EVENT_ID')
const missing = ['ATRIUM_URL', 'ATRIUM_ADMIN', 'ATRIUM_ADMIN_PASSWORD', 'ATRIUM_EVENT_ID'].filter(
  (name) => env(name).length === 0,
)

describe('failed deliveries', { skip: missing.length > 0 ? `missing ${missing.join(', ')}` : false }, () => {
  let browser
  before(async () => {
    browser = await openBrowser()
  })
  after(async () => {
    await browser?.close()
  })

  it('lists the refused reply with its reason and sends it again', async () => {
    const page = await openLoginPage(browser, URL_BASE)
    await submitSignIn(page, ADMIN, PASSWORD)
    await page.waitForURL((url) => url.pathname.startsWith('/settings'))
    // The settings navigation offers the page; open it.
    await page.getByText('投递失败', { exact: true }).first().click()
    await page.waitForURL((url) => url.pathname === '/settings/deliveries')
    const table = page.getByTestId('deliveries-table')
    await table.getByText(EVENT_ID).waitFor()
    assert.equal(await page.getByTestId('delivery-reason').first().innerText(), 'webhook answered HTTP 400')
    const text = await page.locator('main').innerText()
    assert.ok(!text.includes('机密内容'), 'the message content is not shown')
    await screenshot(page, 'deliveries-failed-zh.png')

    await page.getByTestId('delivery-resend').first().click()
    await page.getByText('已重新排队投递').waitFor()
    await table.getByText('没有投递失败的消息').waitFor()
    await screenshot(page, 'deliveries-resent-zh.png')

    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })
})
