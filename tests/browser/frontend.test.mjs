// End-to-end checks of the web front-end in real Chromium under the production CSP.
//
//   ATRIUM_URL=http://127.0.0.1:18080 node --test tests/browser/
//
// Without ATRIUM_URL the development static server (static-server.mjs) serves assets/dist.
// Screenshots go to ATRIUM_SCREENSHOT_DIR (default target/browser).
import { after, afterEach, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  DESKTOP,
  MOBILE,
  horizontalOverflow,
  openBrowser,
  screenshot,
  startFakeSessionServer,
  startTarget,
} from './harness.mjs'

const ERROR_CODES = [
  'invalid_credentials',
  'account_locked',
  'rate_limited',
  'totp_required',
  'totp_invalid',
  'password_expired',
  'not_found',
  'internal',
  'network_error',
  'bad_request',
]
const CJK = /[\u4e00-\u9fff]/

let target
let browser

/** Opens `path` in a new tab with the interface language preset (`null` = nothing stored). */
async function openPage(path, { locale = null, viewport = DESKTOP } = {}) {
  const page = await browser.context.newPage()
  await page.setViewportSize(viewport)
  await page.goto(`${target.url}/login`)
  await page.evaluate((value) => {
    window.localStorage.clear()
    if (value !== null) window.localStorage.setItem('atrium.locale', value)
  }, locale)
  await page.goto(`${target.url}${path}`)
  return page
}

function assertNoOverflow(overflow, where) {
  assert.ok(overflow <= 0, `${where}: page is ${overflow}px wider than the viewport`)
}

describe('web front-end', () => {
  before(async () => {
    target = await startTarget()
    browser = await openBrowser()
  })

  after(async () => {
    await browser?.close()
    await target?.close()
  })

  // Every test fails on any CSP violation, uncaught page error or unexpected console error.
  afterEach(async () => {
    for (const page of browser.context.pages()) await page.close()
    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })

  it('renders the sign-in page in zh-CN by default', async () => {
    const page = await openPage('/login')
    await page.getByRole('button', { name: '登录', exact: true }).waitFor()
    await page.getByText('全渠道客服工作台', { exact: true }).waitFor()
    await page.getByText('Atrium', { exact: true }).first().waitFor()
    // The labels are associated with their inputs (accessible names).
    await page.getByLabel('用户名', { exact: true }).waitFor()
    await page.getByLabel('密码', { exact: true }).waitFor()
    await page.getByRole('link', { name: 'API 文档' }).waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN')
    assert.match(await page.title(), /登录/)
    assertNoOverflow(await horizontalOverflow(page), 'sign-in 1280x800')
    await screenshot(page, 'signin-zh.png')

    await page.setViewportSize(MOBILE)
    await page.getByRole('button', { name: '登录', exact: true }).waitFor()
    assertNoOverflow(await horizontalOverflow(page), 'sign-in 390x844')
    await screenshot(page, 'signin-zh-mobile.png')
  })

  it('switches to English and keeps the choice after a reload', async () => {
    const page = await openPage('/login')
    await page.getByText('English', { exact: true }).click()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.getByLabel('Username', { exact: true }).waitFor()
    await page.getByLabel('Password', { exact: true }).waitFor()
    await page.getByText('Omnichannel customer service', { exact: true }).waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
    await screenshot(page, 'signin-en.png')

    await page.reload()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.getByLabel('Username', { exact: true }).waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
    assert.equal(await page.evaluate(() => window.localStorage.getItem('atrium.locale')), 'en')

    await page.getByText('中文', { exact: true }).click()
    await page.getByRole('button', { name: '登录', exact: true }).waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN')
  })

  it('validates the form and shows a translated error from the server', async () => {
    const page = await openPage('/login', { locale: 'zh-CN' })
    const submit = page.getByRole('button', { name: '登录', exact: true })
    await submit.click()
    await page.getByText('请输入用户名', { exact: true }).first().waitFor()

    await page.getByLabel('用户名', { exact: true }).fill('zhangwei')
    await page.getByLabel('密码', { exact: true }).fill('not-the-password-42')
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login'),
      submit.click(),
    ])
    assert.ok(response.status() >= 400, `login answered ${response.status()}`)
    const body = await response.json()
    assert.equal(typeof body.code, 'string')
    // The fields are filled now: no stale "required" messages may stay on screen.
    await page.getByText('请输入用户名', { exact: true }).waitFor({ state: 'hidden' })
    await page.getByText('请输入密码', { exact: true }).waitFor({ state: 'hidden' })

    const alert = page.getByRole('alert').filter({ hasText: /\S/ }).first()
    await alert.waitFor()
    const title = (await alert.locator('.el-alert__title').textContent())?.trim() ?? ''
    assert.ok(title.length > 0, 'the error message is empty')
    assert.ok(CJK.test(title), `the error message is not translated to Chinese: ${title}`)
    for (const code of ERROR_CODES) {
      assert.ok(!title.includes(code), `the error message shows the raw code ${code}: ${title}`)
    }
    assert.ok(!/^[a-z0-9]+(_[a-z0-9]+)+$/.test(title), `raw code shown: ${title}`)
    if (typeof body.request_id === 'string' && body.request_id.length > 0) {
      await alert.getByText(body.request_id).waitFor()
    }
    // Still on the sign-in page, still usable.
    assert.equal(new URL(page.url()).pathname, '/login')
    await submit.waitFor()
    await screenshot(page, 'signin-error-zh.png')
  })

  it('sends the workspace to sign-in when there is no session', async () => {
    const page = await openPage('/conversations', { locale: 'zh-CN' })
    await page.waitForURL((url) => url.pathname === '/login')
    assert.equal(new URL(page.url()).searchParams.get('redirect'), '/conversations')
    await page.getByRole('button', { name: '登录', exact: true }).waitFor()
  })

  it('renders the API reference from /api/openapi.json', async () => {
    const page = await openPage('/api-docs.html', { locale: 'zh-CN' })
    const doc = await (await page.request.get(`${target.url}/api/openapi.json`)).json()
    const title = doc?.info?.title
    assert.equal(typeof title, 'string')
    const paths = Object.keys(doc.paths ?? {})
    assert.ok(paths.length > 0, 'the OpenAPI document has no paths')

    await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor()
    const wanted = paths.includes('/healthz') ? '/healthz' : paths[0]
    const path = page.locator('.op-path', { hasText: wanted }).first()
    await path.waitFor()
    await path.click()
    await page.getByRole('heading', { name: '响应', exact: true }).first().waitFor()
    assert.match(await page.title(), /API 文档/)
    assertNoOverflow(await horizontalOverflow(page), 'api docs 1280x800')
    await screenshot(page, 'api-docs-zh.png')

    await page.getByText('English', { exact: true }).click()
    await page.getByRole('heading', { name: 'Responses', exact: true }).first().waitFor()
    await page.setViewportSize(MOBILE)
    assertNoOverflow(await horizontalOverflow(page), 'api docs 390x844')
    await screenshot(page, 'api-docs-en-mobile.png')
  })

  it('shows the workspace frame with a session (development server only)', async (t) => {
    if (target.external) {
      t.skip('needs a signed-in session; runs against the development server only')
      return
    }
    const fake = await startFakeSessionServer()
    try {
      const page = await browser.context.newPage()
      await page.goto(`${fake.url}/`)
      await page.waitForURL((url) => url.pathname === '/conversations')
      const nav = page.getByRole('navigation', { name: '主导航' })
      for (const item of ['会话', '联系人', '知识库', '报表', '设置', '用户', '团队']) {
        await nav.getByText(item, { exact: true }).waitFor()
      }
      await page.getByText('暂无会话', { exact: true }).waitFor()
      await nav.getByText('联系人', { exact: true }).click()
      await page.waitForURL((url) => url.pathname === '/contacts')
      await page.getByText('暂无联系人', { exact: true }).waitFor()
      assertNoOverflow(await horizontalOverflow(page), 'workspace 1280x800')
      await screenshot(page, 'workspace-zh.png')

      await page.setViewportSize(MOBILE)
      await page.getByText('暂无联系人', { exact: true }).waitFor()
      assertNoOverflow(await horizontalOverflow(page), 'workspace 390x844')
      await screenshot(page, 'workspace-zh-mobile.png')

      // A supervisor holds no administrator permission: no roles, no audit log.
      assert.equal(await nav.getByText('审计日志', { exact: true }).count(), 0)
      assert.equal(await nav.getByText('角色与权限', { exact: true }).count(), 0)

      await page.getByTestId('user-menu').click()
      await page.getByRole('menuitem', { name: '退出登录' }).click()
      await page.waitForURL((url) => url.pathname === '/login')
      await page.getByRole('button', { name: '登录', exact: true }).waitFor()
    } finally {
      await fake.close()
    }
  })

  it('asks for the TOTP code when the server requires it (development server only)', async (t) => {
    if (target.external) {
      t.skip('needs an account with TOTP; runs against the development server only')
      return
    }
    const fake = await startFakeSessionServer()
    try {
      const page = await browser.context.newPage()
      await page.goto(`${fake.url}/login?redirect=/reports`)
      await page.getByLabel('用户名', { exact: true }).fill('zhangwei')
      await page.getByLabel('密码', { exact: true }).fill('correct-horse')
      await page.getByRole('button', { name: '登录', exact: true }).click()
      const totp = page.getByLabel('动态验证码', { exact: true })
      await totp.waitFor()
      await page.getByText('请输入动态验证码以完成登录。', { exact: true }).waitFor()

      await totp.fill('000000')
      await page.getByRole('button', { name: '登录', exact: true }).click()
      await page.getByText('动态验证码错误或已过期，请重新输入。', { exact: true }).waitFor()
      await screenshot(page, 'signin-totp-zh.png')

      await totp.fill('123456')
      await page.getByRole('button', { name: '登录', exact: true }).click()
      await page.waitForURL((url) => url.pathname === '/reports')
      await page.getByText('暂无报表', { exact: true }).waitFor()
      assert.match(await page.title(), /报表/)
    } finally {
      await fake.close()
    }
  })
})
