import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { base32Decode, hotp, totpStep } from './identity.test.mjs'
export const U = 'http://127.0.0.1:18091'
const SECRETS = '/tmp/fe-secrets.json'
const secrets = existsSync(SECRETS) ? JSON.parse(readFileSync(SECRETS, 'utf8')) : {}
const lastStep = {}
async function code(user) {
  const key = base32Decode(secrets[user])
  let step = totpStep(Date.now())
  if (lastStep[user] !== undefined && step <= lastStep[user]) {
    await new Promise((r) => setTimeout(r, (lastStep[user] + 1) * 30000 - Date.now() + 200))
    step = totpStep(Date.now())
  }
  lastStep[user] = step
  return hotp(key, step)
}
export async function login(page, user, pw, locale = 'zh-CN') {
  await page.goto(`${U}/login`)
  await page.evaluate((l) => { localStorage.setItem('atrium.locale', l) }, locale)
  await page.goto(`${U}/login`)
  await page.locator('input[name=username]').fill(user)
  await page.locator('input[name=password]').fill(pw)
  await page.locator('button[type=submit]').click()
  await page.waitForTimeout(1200)
  if (await page.locator('input[name=totp]').count()) {
    await page.locator('input[name=totp]').fill(await code(user))
    await page.locator('button[type=submit]').click()
    await page.waitForTimeout(1200)
  }
  if (new URL(page.url()).pathname === '/enrol-2fa') {
    await page.locator('input[name=password]').fill(pw)
    await page.locator('button[type=submit]').click()
    const box = page.getByTestId('totp-secret')
    await box.waitFor()
    secrets[user] = await box.getAttribute('data-secret')
    writeFileSync(SECRETS, JSON.stringify(secrets))
    await page.locator('input[name=totp]').fill(await code(user))
    await page.locator('button[type=submit]').click()
    await page.getByTestId('recovery-saved').click()
    await page.getByTestId('recovery-done').click()
    await page.waitForTimeout(1000)
  }
}
