// The chat window's forms in real Chromium (issue "Website chat widget…"): the pre-chat form an
// inbox asks before an anonymous visitor's first message (checked in the window, then chatting),
// and, outside business hours, the leave-a-message form (in English: the inbox's language).
//
//   ATRIUM_URL=… ATRIUM_PRECHAT_INBOX=… ATRIUM_CLOSED_INBOX=… ATRIUM_HOST_PORT=… \
//   node --test tests/browser/widget-forms.test.mjs
//
// Run by `cargo test` (tests/it/browser.rs), which seeds the inboxes and checks what was stored.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { MOBILE, openBrowser, screenshot } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const NAMES = ['ATRIUM_URL', 'ATRIUM_PRECHAT_INBOX', 'ATRIUM_CLOSED_INBOX', 'ATRIUM_INVITE_INBOX', 'ATRIUM_HOST_PORT']
const missing = NAMES.filter((name) => env(name).length === 0)

/** The host site: `/?inbox=N` embeds that inbox's window. */
function hostPage(inbox) {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某医院预约</title></head>
<body><h1>门诊预约</h1>
<script src="${URL_BASE}/widget.js" data-inbox="${inbox}" async></script>
</body></html>`
}

describe('chat window forms', { skip: missing.length > 0 ? `missing ${missing.join(', ')}` : false }, () => {
  let host
  let browser
  const hostUrl = (inbox, path = '/') => `http://127.0.0.1:${env('ATRIUM_HOST_PORT')}${path}?inbox=${inbox}`
  before(async () => {
    host = createServer((req, res) => {
      const inbox = new URL(req.url ?? '/', 'http://x').searchParams.get('inbox') ?? ''
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(hostPage(Number(inbox)))
    })
    await new Promise((resolve) => host.listen(Number(env('ATRIUM_HOST_PORT')), '127.0.0.1', resolve))
    browser = await openBrowser()
  })
  after(async () => {
    await browser?.close()
    await new Promise((resolve) => host?.close(resolve))
  })

  it('asks the pre-chat fields before the first message, then chats', async () => {
    const page = await browser.context.newPage()
    await page.goto(hostUrl(env('ATRIUM_PRECHAT_INBOX')))
    const chat = page.frameLocator('iframe[data-atrium-widget]')
    await chat.locator('.launcher').click()
    const form = chat.getByTestId('prechat-form')
    await form.waitFor()
    assert.equal(await chat.locator('.composer').isHidden(), true, 'no composer before the form')
    assert.deepEqual(await form.locator('input').evaluateAll((l) => l.map((i) => i.name)), ['name', 'phone'])
    // Sent empty: the required name is asked for.
    await form.locator('.form-submit').click()
    await form.locator('.form-error', { hasText: '请填写姓名' }).waitFor()
    await form.locator('input[name="name"]').fill('张医生的患者')
    await form.locator('input[name="phone"]').fill('电话')
    await form.locator('.form-submit').click()
    await form.locator('.form-error', { hasText: '请检查手机号或邮箱的格式' }).waitFor()
    // The refused phone number is the only problem the page had so far.
    const refused = browser.takeProblems()
    assert.ok(
      refused.length === 1 && refused[0].detail.includes('422') && refused[0].detail.includes('/profile'),
      JSON.stringify(refused),
    )
    await screenshot(page, 'widget-prechat-zh.png')
    await form.locator('input[name="phone"]').fill('13912345678')
    await form.locator('.form-submit').click()
    await form.waitFor({ state: 'detached' })
    await chat.locator('.input').fill('请问明天上午的专家号还有吗？')
    await chat.locator('.input').press('Enter')
    await chat.locator('.msg.mine .bubble', { hasText: '专家号' }).waitFor()
    // A reload: the form is not asked again.
    await page.reload()
    await chat.locator('.launcher').click()
    await chat.locator('.msg.mine .bubble', { hasText: '专家号' }).waitFor()
    assert.equal(await chat.getByTestId('prechat-form').count(), 0)
    await page.close()
  })

  it('outside business hours, a visitor leaves a message with a way to reach them', async () => {
    const page = await browser.context.newPage()
    await page.setViewportSize(MOBILE)
    await page.goto(hostUrl(env('ATRIUM_CLOSED_INBOX')))
    const chat = page.frameLocator('iframe[data-atrium-widget]')
    await chat.locator('.launcher').click()
    const form = chat.getByTestId('leave-form')
    await form.waitFor()
    await form.getByText('We are closed right now').waitFor()
    await form.locator('textarea[name="body"]').fill('Please call me back about my test results.')
    await form.locator('.form-submit').click()
    await form.locator('.form-error', { hasText: 'at least a phone number or an email address' }).waitFor()
    await form.locator('input[name="name"]').fill('Ms Li')
    await form.locator('input[name="email"]').fill('li@example.com')
    await screenshot(page, 'widget-leave-message-en.png')
    await form.locator('.form-submit').click()
    await chat.getByText('we have your message').waitFor()
    await chat.locator('.msg.mine .bubble', { hasText: 'Please call me back' }).waitFor()
    assert.equal(await chat.getByTestId('leave-form').count(), 0)
    await screenshot(page, 'widget-leave-message-sent-en.png')
    await page.close()
  })

  it('invites a visitor on a matching page to chat, once', async () => {
    const page = await browser.context.newPage()
    await page.goto(hostUrl(env('ATRIUM_INVITE_INBOX'), '/loans/apply'))
    const frame = page.locator('iframe[data-atrium-widget]')
    const chat = page.frameLocator('iframe[data-atrium-widget]')
    const invite = chat.locator('.invite-text', { hasText: '想了解贷款利率吗？' })
    await invite.waitFor({ timeout: 15_000 })
    const box = await frame.boundingBox()
    assert.ok(box !== null && box.width > 200 && box.height > 200, `room for the invitation: ${JSON.stringify(box)}`)
    await screenshot(page, 'widget-invitation-zh.png')
    await invite.click()
    await chat.locator('.panel').waitFor()
    await chat.locator('.welcome.invited', { hasText: '想了解贷款利率吗？' }).waitFor()
    await chat.locator('.input').fill('是的，想了解一下')
    await chat.locator('.input').press('Enter')
    await chat.locator('.msg.mine .bubble', { hasText: '想了解一下' }).waitFor()
    // Once per browser session: not again on the next page.
    await page.goto(hostUrl(env('ATRIUM_INVITE_INBOX'), '/loans'))
    await chat.locator('.launcher').waitFor()
    await page.waitForTimeout(2500)
    assert.equal(await chat.locator('.invite').isVisible(), false)
    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })
})
