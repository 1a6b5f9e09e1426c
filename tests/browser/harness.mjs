// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core, a fresh
// profile per run, and a record of everything that must never happen in the front-end:
// Content-Security-Policy violations, uncaught page errors and console errors.
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { DIST_DIR, startStaticServer } from './static-server.mjs'

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const DESKTOP = { width: 1280, height: 800 }
export const MOBILE = { width: 390, height: 844 }

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** `ATRIUM_SCREENSHOT_DIR` (relative to the working directory), else `<repo>/target/browser`. */
export const SCREENSHOT_DIR =
  process.env.ATRIUM_SCREENSHOT_DIR !== undefined && process.env.ATRIUM_SCREENSHOT_DIR.length > 0
    ? resolve(process.env.ATRIUM_SCREENSHOT_DIR)
    : join(REPO_ROOT, 'target', 'browser')

/**
 * The server under test: `ATRIUM_URL` (the Rust binary), or else the development static server
 * started here on a free loopback port (needs `npm run build` in assets/ first).
 */
export async function startTarget() {
  const external = process.env.ATRIUM_URL
  if (external !== undefined && external.length > 0) {
    return { url: external.replace(/\/+$/, ''), external: true, close: async () => {} }
  }
  if (!existsSync(join(DIST_DIR, 'index.html'))) {
    throw new Error(`ATRIUM_URL is not set and ${DIST_DIR} has no build; run "npm run build" in assets/`)
  }
  const { server, url } = await startStaticServer()
  return { url, external: false, close: () => new Promise((done) => server.close(done)) }
}

/** Starts the development server with a fake signed-in session (workspace tests only). */
export async function startFakeSessionServer() {
  const { server, url } = await startStaticServer({ fakeSession: true })
  return { url, close: () => new Promise((done) => server.close(done)) }
}

/** Launches Chromium with a fresh profile and starts recording problems. */
export async function openBrowser() {
  const userDataDir = await mkdtemp(join(tmpdir(), 'atrium-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.ATRIUM_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: DESKTOP,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  context.setDefaultTimeout(10_000)

  /** @type {{kind: string, detail: string}[]} */
  const problems = []

  // Reported from the page through a CDP binding, so violations survive navigations.
  await context.exposeBinding('__atriumReportCsp', ({ page }, violation) => {
    problems.push({ kind: 'csp', detail: `${page?.url() ?? '?'}: ${JSON.stringify(violation)}` })
  })
  await context.addInitScript(() => {
    const report = (event) => {
      const violation = {
        directive: event.effectiveDirective || event.violatedDirective,
        blockedURI: event.blockedURI,
        sourceFile: event.sourceFile,
        line: event.lineNumber,
        sample: event.sample,
      }
      window.__atriumCspViolations = window.__atriumCspViolations || []
      window.__atriumCspViolations.push(violation)
      const binding = window.__atriumReportCsp
      if (typeof binding === 'function') binding(violation)
    }
    document.addEventListener('securitypolicyviolation', report, true)
  })

  const watch = (page) => {
    page.on('pageerror', (error) => {
      problems.push({ kind: 'pageerror', detail: `${page.url()}: ${error.stack ?? error.message}` })
    })
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      const text = message.text()
      const source = message.location().url ?? ''
      // Error statuses from the API (404 before an endpoint exists, 401 when signed out) are
      // logged by the browser itself; they are expected.
      if (text.startsWith('Failed to load resource') && isApiUrl(source)) return
      problems.push({ kind: 'console', detail: `${page.url()}: ${text} (${source})` })
    })
  }
  context.pages().forEach(watch)
  context.on('page', watch)

  return {
    context,
    /** Problems recorded since the last call; the list is cleared. */
    takeProblems() {
      return problems.splice(0, problems.length)
    },
    async close() {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

function isApiUrl(url) {
  try {
    return new URL(url).pathname.startsWith('/api/')
  } catch {
    return false
  }
}

/** A new page on the sign-in form of `base`, in Chinese, with nothing left in local storage. */
export async function openLoginPage(browser, base) {
  const page = await browser.context.newPage()
  await page.goto(`${base}/login`)
  await page.evaluate(() => {
    window.localStorage.clear()
    window.localStorage.setItem('atrium.locale', 'zh-CN')
  })
  await page.goto(`${base}/login`)
  return page
}

/** Fills the (Chinese) sign-in form and submits it; the caller waits for where it leads. */
export async function submitSignIn(page, username, password) {
  await page.getByLabel('用户名', { exact: true }).fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByRole('button', { name: '登录', exact: true }).click()
}

/** Saves a screenshot under SCREENSHOT_DIR and returns its path. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, name)
  await page.screenshot({ path, fullPage: false, animations: 'disabled', caret: 'hide' })
  return path
}

/** How far the page is wider than the viewport (0 when nothing overflows horizontally). */
export function horizontalOverflow(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  )
}
