// End-to-end check of the agent workspace in real Chromium against the real server (issue
// "Conversation engine, routing and the agent workspace", must show 1): two agents signed in, three
// customers writing through the open API channel; routing gives each agent one conversation
// (capacity 1) and queues the third; an agent answers with a canned reply; the conversation is
// transferred with a note and keeps its history; the freed agent gets the queued customer; the
// other agent resolves. The customer side (the webhook) is checked by the Rust test that runs
// this file.
//
//   ATRIUM_URL=http://127.0.0.1:PORT ATRIUM_AGENT_A=li.lei ATRIUM_AGENT_A_ID=3 \
//   ATRIUM_AGENT_B=han.meimei ATRIUM_AGENT_B_ID=4 ATRIUM_AGENT_PASSWORD='…' \
//   ATRIUM_INBOX_ID=5 ATRIUM_INBOX_TOKEN='…' node --test tests/browser/workspace.test.mjs
//
// Run by `cargo test` (tests/it/browser.rs), which seeds the server. Screenshots go to
// ATRIUM_SCREENSHOT_DIR (default target/browser).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openBrowser, openLoginPage, screenshot, submitSignIn } from './harness.mjs'

const env = (name) => process.env[name] ?? ''
const URL_BASE = env('ATRIUM_URL').replace(/\/+$/, '')
const AGENT_A = env('ATRIUM_AGENT_A')
const AGENT_B = env('ATRIUM_AGENT_B')
const AGENT_B_ID = env('ATRIUM_AGENT_B_ID')
const PASSWORD = env('ATRIUM_AGENT_PASSWORD')
const INBOX_ID = env('ATRIUM_INBOX_ID')
const INBOX_TOKEN = env('ATRIUM_INBOX_TOKEN')
const missing = ['ATRIUM_URL', 'ATRIUM_AGENT_A', 'ATRIUM_AGENT_B', 'ATRIUM_AGENT_B_ID', 'ATRIUM_AGENT_PASSWORD', 'ATRIUM_INBOX_ID', 'ATRIUM_INBOX_TOKEN'].filter(
  (name) => env(name).length === 0,
)

/** A customer's message through the open API channel; returns the server's answer. */
async function customerSays(customer, name, messageId, body) {
  const response = await fetch(`${URL_BASE}/hooks/api/${INBOX_ID}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INBOX_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message_id: messageId, contact: { id: customer, name }, body }),
  })
  assert.equal(response.status, 201, await response.clone().text())
  return response.json()
}

/** Signs an agent in (zh-CN) and opens the conversations area; sets the status to online. */
async function signIn(browser, username) {
  const page = await openLoginPage(browser, URL_BASE)
  await submitSignIn(page, username, PASSWORD)
  await page.waitForURL((url) => url.pathname.startsWith('/conversations'))
  await page.getByTestId('conversations-view').waitFor()
  const status = page.getByTestId('status-switch')
  await status.click()
  await page.getByTestId('status-option-online').click()
  await page.waitForFunction(
    () => document.querySelector('[data-testid="status-switch"]')?.getAttribute('data-status') === 'online',
  )
  return page
}

/** The conversation ids in the page's current list tab. */
async function rowIds(page) {
  return page.$$eval('[data-testid^="conv-row-"]', (rows) =>
    rows.map((r) => Number(r.getAttribute('data-testid').slice('conv-row-'.length))),
  )
}

async function waitForRows(page, predicate, what) {
  const deadline = Date.now() + 20_000
  let ids = []
  while (Date.now() < deadline) {
    ids = await rowIds(page)
    if (predicate(ids)) return ids
    await page.waitForTimeout(100)
  }
  assert.fail(`${what}: the list shows ${JSON.stringify(ids)}`)
}

describe('agent workspace, end to end', { skip: missing.length > 0 ? `set ${missing.join(', ')}` : false }, () => {
  let a
  let b

  before(async () => {
    a = await openBrowser()
    b = await openBrowser()
  })

  after(async () => {
    await a?.close()
    await b?.close()
  })

  it('routes within capacity, answers with a canned reply, transfers with history and resolves', { timeout: 180_000 }, async () => {
    const pageA = await signIn(a, AGENT_A)
    const pageB = await signIn(b, AGENT_B)

    // Three customers write.
    const c1 = await customerSays('cust-1', '张三', 'e2e-1', '你好，我的信用卡账单好像多扣了一笔')
    const c2 = await customerSays('cust-2', '李四', 'e2e-2', '请问分期手续费怎么算？')
    const c3 = await customerSays('cust-3', '王五', 'e2e-3', '我想提高临时额度')
    const conversations = [c1, c2, c3].map((c) => c.conversation_id)

    // Capacity 1 each: one conversation per agent, in their "mine" tab, live; the third waits.
    const mineA = await waitForRows(pageA, (ids) => ids.length === 1, 'agent A gets one conversation')
    const mineB = await waitForRows(pageB, (ids) => ids.length === 1, 'agent B gets one conversation')
    assert.notEqual(mineA[0], mineB[0])
    for (const id of [mineA[0], mineB[0]]) assert.ok(conversations.slice(0, 2).includes(id), `first come, first served: ${id}`)
    const queued = conversations[2]
    await pageB.getByTestId('tab-unassigned').click()
    await waitForRows(pageB, (ids) => ids.includes(queued), 'the third customer waits in the queue')
    await screenshot(pageB, 'workspace-queue-zh.png')
    await pageB.getByTestId('tab-mine').click()
    await waitForRows(pageB, (ids) => ids.length === 1, 'agent B mine again')

    // Agent A opens their conversation and answers with a canned reply ("/" search).
    const mine = mineA[0]
    await pageA.getByTestId(`conv-row-${mine}`).locator('a').first().click()
    await pageA.getByTestId('conversation-header').waitFor()
    const input = pageA.getByTestId('composer-input')
    await input.click()
    await input.fill('/hel')
    await pageA.getByTestId('canned-item-hello').click()
    await pageA.waitForFunction(
      () => (document.querySelector('[data-testid="composer-input"]')?.value ?? '').includes('很高兴为您服务'),
    )
    const text = await input.inputValue()
    assert.match(text, /^张\*\*?您好，我是李雷，很高兴为您服务。$/u, text)
    await pageA.getByTestId('composer-send').click()
    // The reply reaches the customer system (sent), shown on the message.
    await pageA.waitForSelector('[data-testid^="message-"][data-direction="outgoing"][data-delivery="sent"]', { timeout: 20_000 })
    await screenshot(pageA, 'workspace-agent-a-reply-zh.png')

    // Transfer to agent B with a note.
    await pageA.getByTestId('transfer-button').click()
    const dialog = pageA.getByTestId('transfer-dialog')
    await dialog.waitFor()
    await pageA.getByTestId('transfer-agent').click()
    await pageA.getByTestId(`transfer-agent-option-${AGENT_B_ID}`).click()
    await pageA.getByTestId('transfer-note').fill('客户对账单有疑问，已致歉，请继续核实')
    await screenshot(pageA, 'workspace-transfer-dialog-zh.png')
    await pageA.getByTestId('transfer-confirm').click()
    await dialog.waitFor({ state: 'hidden' })

    // Agent B now holds it, with the whole history and the note.
    await waitForRows(pageB, (ids) => ids.includes(mine), 'the transferred conversation reaches agent B')
    await pageB.getByTestId(`conv-row-${mine}`).locator('a').first().click()
    await pageB.getByTestId('conversation-header').waitFor()
    const history = pageB.getByTestId('conversation-history')
    await history.getByText('你好，我的信用卡账单好像多扣了一笔').waitFor()
    await history.getByText(text).waitFor()
    await history.getByText('客户对账单有疑问，已致歉，请继续核实').waitFor()
    await screenshot(pageB, 'workspace-agent-b-transferred-zh.png')

    // Agent A's capacity is free again: routing gives them the queued customer.
    await waitForRows(pageA, (ids) => ids.includes(queued), 'the queued customer reaches agent A')

    // Agent B resolves the transferred conversation.
    await pageB.getByTestId('resolve-button').click()
    await pageB.waitForFunction(
      () => document.querySelector('[data-testid="conversation-header"]')?.getAttribute('data-status') === 'resolved',
    )
    await screenshot(pageB, 'workspace-resolved-zh.png')

    for (const browser of [a, b]) {
      const problems = browser.takeProblems()
      assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
    }
  })
})
