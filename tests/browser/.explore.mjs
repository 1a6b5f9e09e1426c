import { openBrowser, screenshot } from './harness.mjs'
import { U, login } from './.explore-lib.mjs'
const b = await openBrowser()
const page = await b.context.newPage()
page.on('console', (m) => { if (m.type() !== 'log') console.log('console', m.type(), m.text()) })
const step = process.env.STEP ?? 'auditor'
try {
  if (step === 'auditor') {
    await login(page, 'auditor1', 'Atrium-Test-Pass-2026!')
    console.log('landed', page.url())
    await screenshot(page, 'e-auditor-landing.png')
    await page.goto(`${U}/settings/audit`)
    await page.waitForTimeout(1500)
    await screenshot(page, 'e-audit.png')
    await page.locator('.el-table__expand-icon').first().click()
    await page.getByTestId('audit-verify').click()
    await page.waitForTimeout(1500)
    await screenshot(page, 'e-audit-expanded.png')
  }
}
finally {
  console.log('problems', JSON.stringify(b.takeProblems(), null, 1))
  await b.close()
}
