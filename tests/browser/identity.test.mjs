// End-to-end check of sign-in with two-factor authentication and the idle timeout, in real
// Chromium against the real server, under the production CSP.
//
//   ATRIUM_URL=http://127.0.0.1:8080 \
//   ATRIUM_ADMIN_USER=admin ATRIUM_ADMIN_PASSWORD='…' \
//   ATRIUM_IDLE_SECS=3 \
//   node --test tests/browser/identity.test.mjs
//
// The server must run with `auth.idle_timeout` = ATRIUM_IDLE_SECS seconds (e.g.
// ATRIUM_AUTH__IDLE_TIMEOUT=3s), and ATRIUM_ADMIN_USER must be a system administrator who has
// not enrolled 2FA yet (fresh from `atrium admin create` or the setup page), so signing in lands
// on the forced enrolment. Should the account also have to change its password first (a generated
// initial password), the test does that too and prints nothing secret. Without these variables
// the browser part is skipped. Screenshots go to ATRIUM_SCREENSHOT_DIR (default target/browser).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { openBrowser, openLoginPage, screenshot } from './harness.mjs'

const URL_BASE = (process.env.ATRIUM_URL ?? '').replace(/\/+$/, '')
const ADMIN_USER = process.env.ATRIUM_ADMIN_USER ?? ''
const ADMIN_PASSWORD = process.env.ATRIUM_ADMIN_PASSWORD ?? ''
const IDLE_SECS = Number(process.env.ATRIUM_IDLE_SECS ?? '0')

const missing = [
  ['ATRIUM_URL', URL_BASE],
  ['ATRIUM_ADMIN_USER', ADMIN_USER],
  ['ATRIUM_ADMIN_PASSWORD', ADMIN_PASSWORD],
  ['ATRIUM_IDLE_SECS', IDLE_SECS > 0 ? 'ok' : ''],
]
  .filter(([, value]) => value.length === 0)
  .map(([name]) => name)

// --- RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) -------------------------------------

/** RFC 4648 base32 (upper or lower case, `=` padding and spaces ignored) to bytes. */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const clean = text.toUpperCase().replace(/[\s=]/g, '')
  let bits = 0
  let value = 0
  const out = []
  for (const char of clean) {
    const index = alphabet.indexOf(char)
    if (index < 0) throw new Error(`not base32: ${char}`)
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** The 30-second time step of a Unix time in milliseconds. */
export function totpStep(ms) {
  return Math.floor(ms / 1000 / 30)
}

/** RFC 4226 HOTP value of `step` for `key` (bytes), `digits` long. */
export function hotp(key, step, digits = 6) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

// ------------------------------------------------------------------------------------------------

describe('TOTP helper', () => {
  it('matches the RFC 6238 SHA-1 test vectors', () => {
    const key = Buffer.from('12345678901234567890')
    assert.equal(hotp(key, totpStep(59_000), 8), '94287082')
    assert.equal(hotp(key, totpStep(1_111_111_109_000), 8), '07081804')
    assert.equal(hotp(key, totpStep(20_000_000_000_000), 8), '65353130')
    assert.equal(hotp(key, totpStep(59_000)), '287082')
  })

  it('decodes base32', () => {
    assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), Buffer.from('12345678901234567890'))
    assert.deepEqual(base32Decode('mzxw 6ytb oi======'), Buffer.from('foobar'))
  })
})

describe('sign-in with 2FA and the idle timeout', { skip: missing.length > 0 ? `set ${missing.join(', ')}` : false }, () => {
  let browser

  before(async () => {
    browser = await openBrowser()
  })

  after(async () => {
    await browser?.close()
  })

  it('enrols 2FA when forced, signs in with a code, and signs out after inactivity', async () => {
    const page = await openLoginPage(browser, URL_BASE)

    const signIn = page.getByRole('button', { name: '登录', exact: true })
    await page.getByLabel('用户名', { exact: true }).fill(ADMIN_USER)
    await page.getByLabel('密码', { exact: true }).fill(ADMIN_PASSWORD)
    await signIn.click()

    // A generated initial password must be changed first; then the enrolment is forced.
    let password = ADMIN_PASSWORD
    await page.waitForURL((url) => ['/change-password', '/enrol-2fa'].includes(url.pathname))
    if (new URL(page.url()).pathname === '/change-password') {
      password = `${ADMIN_PASSWORD}-Nq7#t`
      await page.getByTestId('password-policy').waitFor()
      await page.getByLabel('当前密码', { exact: true }).fill(ADMIN_PASSWORD)
      await page.getByLabel('新密码', { exact: true }).fill(password)
      await page.getByLabel('确认新密码', { exact: true }).fill(password)
      await page.getByRole('button', { name: '修改密码并继续' }).click()
      await page.waitForURL((url) => url.pathname === '/enrol-2fa')
    }

    // The guard keeps a restricted session on its page.
    await page.goto(`${URL_BASE}/settings/users`)
    await page.waitForURL((url) => url.pathname === '/enrol-2fa')
    await page.getByRole('heading', { name: '请启用双因素认证' }).waitFor()

    // Step 1: the password again. Step 2: the QR code and the secret.
    await page.getByLabel('当前密码', { exact: true }).fill(password)
    await page.getByRole('button', { name: '下一步' }).click()
    const secretBox = page.getByTestId('totp-secret')
    await secretBox.waitFor()
    const qr = page.getByTestId('totp-qr')
    await qr.waitFor()
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/)
    const secret = (await secretBox.getAttribute('data-secret')) ?? ''
    assert.match(secret, /^[A-Z2-7]+=*$/, 'the secret is base32')
    assert.equal(((await secretBox.textContent()) ?? '').replace(/\s+/g, ''), secret)
    await screenshot(page, 'identity-enrol-zh.png')

    const key = base32Decode(secret)
    const enrolStep = totpStep(Date.now())
    await page.getByLabel('动态验证码', { exact: true }).fill(hotp(key, enrolStep))
    await page.getByRole('button', { name: '验证并启用' }).click()

    // Step 3: ten recovery codes, shown once.
    const codes = page.getByTestId('recovery-codes').locator('li')
    await codes.first().waitFor()
    const shown = await codes.allTextContents()
    assert.equal(shown.length, 10)
    for (const code of shown) assert.match(code.trim(), /^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$/)
    await page.getByRole('button', { name: '下载为文本文件' }).waitFor()
    await screenshot(page, 'identity-recovery-codes-zh.png')
    const done = page.getByTestId('recovery-done')
    assert.equal(await done.isDisabled(), true, 'continuing needs the "saved" tick')
    await page.getByText('我已妥善保存这些恢复码').click()
    await done.click()

    // The workspace of a system administrator: users, roles, teams; no conversations.
    await page.waitForURL((url) => url.pathname === '/settings/users')
    const nav = page.getByRole('navigation', { name: '主导航' })
    await nav.getByText('用户', { exact: true }).waitFor()
    assert.equal(await nav.getByText('会话', { exact: true }).count(), 0, 'no conversations for a sysadmin')
    assert.equal(await nav.getByText('审计日志', { exact: true }).count(), 0, 'no audit log for a sysadmin')
    const row = page.getByTestId('users-table').locator('tr', { hasText: ADMIN_USER }).first()
    await row.getByText('已启用双因素').waitFor()
    await screenshot(page, 'identity-users-zh.png')

    // Sign out through the user menu.
    await page.getByTestId('user-menu').click()
    await page.getByRole('menuitem', { name: '退出登录' }).click()
    await page.waitForURL((url) => url.pathname === '/login')

    // Sign in again: password, then a code of a later step (the server refuses a reused step).
    await page.getByLabel('用户名', { exact: true }).fill(ADMIN_USER)
    await page.getByLabel('密码', { exact: true }).fill(password)
    await signIn.click()
    const codeInput = page.getByLabel('动态验证码', { exact: true })
    await codeInput.waitFor()
    await page.getByText('请输入动态验证码以完成登录。', { exact: true }).waitFor()
    const waitMs = (enrolStep + 1) * 30_000 - Date.now()
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs + 200))
    await codeInput.fill(hotp(key, totpStep(Date.now())))
    await signIn.click()
    await page.waitForURL((url) => url.pathname === '/settings/users')
    await page.getByTestId('users-table').waitFor()
    await nav.getByText('用户', { exact: true }).waitFor()

    // Hands off: after the idle timeout the tab lands on sign-in, saying why.
    await page.waitForURL((url) => url.pathname === '/login', { timeout: (IDLE_SECS + 15) * 1000 })
    const notice = page.getByTestId('session-ended')
    await notice.waitFor()
    assert.match((await notice.textContent()) ?? '', /长时间未操作/)
    assert.equal(new URL(page.url()).searchParams.get('redirect'), '/settings/users')
    await screenshot(page, 'identity-signed-out-idle-zh.png')

    // The server agrees: the session is gone.
    const status = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status)
    assert.equal(status, 401)

    const problems = browser.takeProblems()
    assert.deepEqual(problems, [], `problems in the browser:\n${problems.map((p) => `${p.kind}: ${p.detail}`).join('\n')}`)
  })
})
