// The website chat widget end to end in real Chromium against the real server (issue "Website
// chat widget, open API channel, and signed webhooks", must show 1 and 3): a host page served
// from another origin (another local port, with hostile CSS of its own) embeds the snippet; a
// visitor chats; an agent in the workspace sees the message and replies; the visitor sees the
// reply; a page reload keeps the history; resolving brings the rating form. An XSS corpus goes
// both ways and renders as text on both sides: no script runs, no dialog opens.
//
//   ATRIUM_URL=… ATRIUM_AGENT=… ATRIUM_AGENT_PASSWORD=… ATRIUM_WEB_INBOX=… ATRIUM_HOST_PORT=… \
//   node --test tests/browser/widget.test.mjs
//
// Run by `cargo test` (tests/it/browser.rs), which seeds the server and checks the stored rating.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { MOBILE, openBrowser, openLoginPage, screenshot, submitSignIn } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const NAMES = ['ATRIUM_URL', 'ATRIUM_AGENT', 'ATRIUM_AGENT_PASSWORD', 'ATRIUM_WEB_INBOX', 'ATRIUM_HOST_PORT']
const missing = NAMES.filter((name) => env(name).length === 0)

/** What a hostile visitor or agent might write; each must show as the very same text. */
export const XSS_CORPUS = [
  '<script>window.__xss = "script"</script>',
  '<img src=x onerror="window.__xss = \'img\'">',
  '<svg onload="window.__xss = \'svg\'"><circle r="9"/></svg>',
  '<a href="javascript:window.__xss=\'link\'">点我领奖</a>',
  '[点我](javascript:window.__xss=1)',
  '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
  '"><style>*{display:none}</style>',
  '订单\u202E3pm.exe\u202C 零宽\u200B\u200D字符 \u2067隔离\u2069',
]

/** How the corpus is shown: direction overrides and invisible characters as visible markers. */
function shown(text) {
  return text.replace(/[\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/gu, (c) =>
    `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`,
  )
}

/** The host site: another origin, its own aggressive styles, the snippet. */
function hostPage() {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某银行官网</title>
<style>
  * { font-size: 22px !important; color: #c00 !important; }
  iframe { border: 8px solid lime !important; }
  button { background: yellow !important; }
</style></head>
<body>
  <h1>欢迎访问某银行</h1>
  <p>理财产品、信用卡、个人贷款。</p>
  <script src="${URL_BASE}/widget.js" data-inbox="${env('ATRIUM_WEB_INBOX')}" async></script>
</body></html>`
}

async function signInAgent(browser) {
  const page = await openLoginPage(browser, URL_BASE)
  await submitSignIn(page, env('ATRIUM_AGENT'), env('ATRIUM_AGENT_PASSWORD'))
  await page.waitForURL((url) => url.pathname.startsWith('/conversations'))
  await page.getByTestId('conversations-view').waitFor()
  await page.getByTestId('status-switch').click()
  await page.getByTestId('status-option-online').click()
  await page.waitForFunction(
    () => document.querySelector('[data-testid="status-switch"]')?.getAttribute('data-status') === 'online',
  )
  return page
}

/** Nothing from the corpus ran, and no dialog opened, on `page` and its frames. */
async function assertInert(page, dialogs, where) {
  for (const frame of page.frames()) {
    const ran = await frame.evaluate(() => window.__xss).catch(() => undefined)
    assert.equal(ran, undefined, `${where}: a script ran in ${frame.url()}`)
  }
  assert.deepEqual(dialogs, [], `${where}: a dialog opened`)
}

describe('website chat widget', { skip: missing.length > 0 ? `missing ${missing.join(', ')}` : false }, () => {
  let host
  let agentBrowser
  let visitorBrowser
  before(async () => {
    host = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(hostPage())
    })
    await new Promise((resolve) => host.listen(Number(env('ATRIUM_HOST_PORT')), '127.0.0.1', resolve))
    agentBrowser = await openBrowser()
    visitorBrowser = await openBrowser()
  })
  after(async () => {
    await agentBrowser?.close()
    await visitorBrowser?.close()
    await new Promise((resolve) => host?.close(resolve))
  })

  it('a visitor on another site chats with an agent, keeps the history and rates the conversation', async (t) => {
    const agent = await signInAgent(agentBrowser)
    // Requests the agent's page has sent and not seen answered, reported if the test fails.
    const pending = new Map()
    agent.on('request', (r) => pending.set(r, Date.now()))
    agent.on('requestfinished', (r) => pending.delete(r))
    agent.on('requestfailed', (r) => pending.delete(r))
    t.after(() => {
      for (const [r, at] of pending) console.log(`agent request still pending after ${Date.now() - at} ms: ${r.method()} ${r.url()}`)
    })
    const agentDialogs = []
    agent.on('dialog', (d) => {
      agentDialogs.push(d.message())
      void d.dismiss()
    })

    // The visitor opens the host site; the launcher shows in the corner, inside Atrium's frame.
    const visitor = await visitorBrowser.context.newPage()
    // Replies come over the chat window's WebSocket.
    const sockets = []
    visitor.on('websocket', (ws) => sockets.push(ws.url()))
    const visitorDialogs = []
    visitor.on('dialog', (d) => {
      visitorDialogs.push(d.message())
      void d.dismiss()
    })
    const hostUrl = `http://127.0.0.1:${env('ATRIUM_HOST_PORT')}/products`
    await visitor.goto(hostUrl)
    const chat = visitor.frameLocator('iframe[data-atrium-widget]')
    await chat.locator('.launcher').click()
    await chat.locator('.panel').waitFor()
    // The host page's `button { background: yellow }` does not reach into the window.
    const sendBg = await chat.locator('.send').evaluate((b) => getComputedStyle(b).backgroundColor)
    assert.notEqual(sendBg, 'rgb(255, 255, 0)')
    // Nor does `iframe { border: 8px solid lime !important }`: the frame lives in a shadow root.
    const border = await visitor.locator('iframe[data-atrium-widget]').evaluate((f) => getComputedStyle(f).borderTopWidth)
    assert.equal(border, '0px')
    const box = await visitor.locator('iframe[data-atrium-widget]').boundingBox()
    assert.ok(box !== null && box.width >= 380 && box.height >= 400, `the window opened: ${JSON.stringify(box)}`)

    // The visitor writes, then sends the XSS corpus.
    const input = chat.locator('.input')
    await input.fill('您好，我的网银转账一直失败')
    await input.press('Enter')
    for (const line of XSS_CORPUS) {
      await input.fill(line)
      await input.press('Enter')
    }
    await chat.locator('.msg.mine .bubble', { hasText: '您好，我的网银转账一直失败' }).waitFor()
    for (const line of XSS_CORPUS) {
      await chat.locator('.msg.mine:not(.sending) .bubble').filter({ hasText: shown(line).slice(0, 12) }).first().waitFor()
    }
    const mine = await chat.locator('.msg.mine .bubble').allTextContents()
    assert.ok(mine.includes(shown(XSS_CORPUS.at(-1))), `the override shows as a marker: ${mine.at(-1)}`)

    // The agent gets the conversation (routing: online, capacity free) and sees every line as text.
    await agent.getByTestId('tab-mine').click()
    const row = agent.locator('[data-testid^="conv-row-"]').first()
    await row.waitFor({ timeout: 20_000 })
    await row.locator('a').first().click()
    await agent.getByTestId('conversation-header').waitFor()
    const history = agent.getByTestId('conversation-history')
    await history.getByText('您好，我的网银转账一直失败').waitFor()
    for (const line of XSS_CORPUS) {
      await history.getByText(shown(line), { exact: true }).first().waitFor()
    }
    assert.ok(shown(XSS_CORPUS.at(-1)).includes('⟨U+202E⟩'), 'the direction override is visible, not obeyed')
    await assertInert(agent, agentDialogs, 'workspace')
    // Beside it, where the visitor is: the host page they landed on, their browser.
    const visitorPanel = agent.getByTestId('visitor-panel')
    await visitorPanel.getByTestId('visitor-landing').getByText('某银行官网').waitFor({ timeout: 20_000 })
    assert.match(await visitorPanel.getByTestId('visitor-device').innerText(), /Chrome/)
    await visitorPanel.getByTestId('visitor-page').first().waitFor()
    // The agent has the conversation open: the visitor sees their latest message was read.
    await chat.locator('[data-testid="read-receipt"].read', { hasText: '已读' }).waitFor({ timeout: 20_000 })
    assert.ok(
      sockets.some((u) => u.endsWith(`/hooks/web/${env('ATRIUM_WEB_INBOX')}/ws`)),
      `the window receives over its socket: ${JSON.stringify(sockets)}`,
    )

    // The agent answers, also with the corpus.
    const composer = agent.getByTestId('composer-input')
    const sent = () => agent.waitForSelector('[data-testid="composer-send"]:not(.is-loading)')
    await composer.fill('您好，请提供交易流水号，我帮您查询。')
    await agent.getByTestId('composer-send').click()
    for (const line of XSS_CORPUS.slice(0, 4)) {
      await sent()
      await composer.fill(line)
      await agent.getByTestId('composer-send').click()
    }
    await sent()
    await screenshot(agent, 'widget-agent-zh.png')

    // The visitor sees the replies, as text.
    await chat.locator('.msg.theirs .bubble', { hasText: '请提供交易流水号' }).waitFor({ timeout: 20_000 })
    for (const line of XSS_CORPUS.slice(0, 4)) {
      await chat.locator('.msg.theirs .bubble').filter({ hasText: line.slice(0, 12) }).first().waitFor()
    }
    const texts = await chat.locator('.msg.theirs .bubble').allTextContents()
    for (const line of XSS_CORPUS.slice(0, 4)) assert.ok(texts.includes(line), `shown verbatim: ${line}`)
    assert.equal(await chat.locator('.messages img, .messages svg, .messages script, .messages iframe, .messages a').count(), 0)
    await assertInert(visitor, visitorDialogs, 'widget')
    await screenshot(visitor, 'widget-visitor-zh.png')
    // The visitor has the window open: the agent sees the replies as read.
    await history.locator('[data-delivery="read"]').first().waitFor({ timeout: 20_000 })

    // The visitor sends a picture and an emoji; the agent sees both.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAMUlEQVR42u3OQQ0AAAgEoEtiOsMayxbOBxsBSPW8EiEhISEhISEhISEhISEhISGhSwvxebxqvcg86AAAAABJRU5ErkJggg==',
      'base64',
    )
    await chat.locator('.file-input').setInputFiles({ name: '转账截图.png', mimeType: 'image/png', buffer: png })
    const pic = chat.locator('.msg.mine img.pic[src^="blob:"]')
    await pic.waitFor()
    assert.ok(
      await pic.evaluate((i) => new Promise((ok) => (i.complete ? ok(i.naturalWidth) : i.addEventListener('load', () => ok(i.naturalWidth))))) === 48,
      'the picture shows in the window',
    )
    await chat.locator('.emoji-button').click()
    await chat.locator('.emoji-panel .emoji', { hasText: '👍' }).click()
    await input.press('Enter')
    await chat.locator('.msg.mine .bubble', { hasText: '👍' }).waitFor()
    await history.locator('img.msg-thumb[alt="转账截图.png"]').waitFor({ timeout: 20_000 })
    await history.getByText('👍', { exact: true }).waitFor()
    await screenshot(visitor, 'widget-files-zh.png')

    // A reload keeps the history.
    await visitor.reload()
    await chat.locator('.launcher').click()
    await chat.locator('.msg.theirs .bubble', { hasText: '请提供交易流水号' }).waitFor()
    await chat.locator('.msg.mine .bubble', { hasText: '您好，我的网银转账一直失败' }).waitFor()

    // The agent resolves: the visitor is asked to rate, and rates.
    await agent.getByTestId('resolve-button').click()
    await agent.waitForFunction(
      () => document.querySelector('[data-testid="conversation-header"]')?.getAttribute('data-status') === 'resolved',
    )
    await chat.locator('.rating .star').first().waitFor({ timeout: 20_000 })
    await screenshot(visitor, 'widget-csat-zh.png')
    await chat.locator('.rating .star[data-rating="5"]').click()
    await chat.locator('.rate-comment').fill('解答很及时 <b>谢谢</b>')
    await chat.locator('.rate-submit').click()
    await chat.getByText('感谢您的评价！').waitFor()
    await screenshot(visitor, 'widget-rated-zh.png')
    // The agent sees the rating in the history.
    await history.getByText('客户评价：5 星（满分 5 星）').waitFor({ timeout: 20_000 })
    await assertInert(agent, agentDialogs, 'workspace')
    await assertInert(visitor, visitorDialogs, 'widget')

    // On a phone the window takes the whole screen, with the same history.
    const phone = await visitorBrowser.context.newPage()
    await phone.setViewportSize(MOBILE)
    await phone.goto(hostUrl)
    const phoneChat = phone.frameLocator('iframe[data-atrium-widget]')
    await phoneChat.locator('.launcher').click()
    await phoneChat.locator('.msg.theirs .bubble', { hasText: '请提供交易流水号' }).waitFor()
    const full = await phone.locator('iframe[data-atrium-widget]').boundingBox()
    assert.ok(full !== null && full.width === MOBILE.width && full.height === MOBILE.height, `full screen: ${JSON.stringify(full)}`)
    await screenshot(phone, 'widget-mobile-zh.png')

    // Behind a proxy that refuses WebSockets the window long-polls instead: the same chat.
    const pollingBrowser = await openBrowser()
    t.after(() => pollingBrowser.close())
    await pollingBrowser.context.addInitScript(() => {
      window.WebSocket = class {
        constructor() {
          throw new DOMException('blocked by the proxy', 'SecurityError')
        }
      }
    })
    const polling = await pollingBrowser.context.newPage()
    const polls = []
    polling.on('request', (r) => {
      if (r.url().includes('/messages?') && r.url().includes('wait=25')) polls.push(r.url())
    })
    await polling.goto(hostUrl)
    const pollingChat = polling.frameLocator('iframe[data-atrium-widget]')
    await pollingChat.locator('.launcher').click()
    await pollingChat.locator('.input').fill('公司代理不让用 WebSocket，也能咨询吗？')
    await pollingChat.locator('.input').press('Enter')
    await agent.getByTestId('tab-mine').click()
    const pollingRow = agent.locator('[data-testid^="conv-row-"]', { hasText: '公司代理' }).first()
    await pollingRow.waitFor({ timeout: 20_000 })
    await pollingRow.locator('a').first().click()
    await history.getByText('公司代理不让用 WebSocket，也能咨询吗？').waitFor()
    await sent()
    await composer.fill('可以的，消息会照常送达。')
    await agent.getByTestId('composer-send').click()
    await pollingChat.locator('.msg.theirs .bubble', { hasText: '可以的，消息会照常送达。' }).waitFor({ timeout: 20_000 })
    assert.ok(polls.length > 0, 'the window waited with long polls')
    await pollingChat.locator('[data-testid="read-receipt"].read').waitFor({ timeout: 20_000 })
    const pollingProblems = pollingBrowser.takeProblems()
    assert.deepEqual(pollingProblems, [], `problems in the long-polling browser:\n${pollingProblems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)

    for (const browser of [agentBrowser, visitorBrowser]) {
      const problems = browser.takeProblems()
      assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
    }
  })
})
