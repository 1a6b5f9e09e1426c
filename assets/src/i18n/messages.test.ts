// zh-CN and en must define exactly the same message keys.
import { describe, expect, it } from 'vitest'
import zhCN from './zh-CN'
import en from './en'

function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([key, child]) => keyPaths(child, prefix === '' ? key : `${prefix}.${key}`))
    .sort()
}

describe('locale messages', () => {
  it('zh-CN and en have identical key sets', () => {
    const zh = keyPaths(zhCN)
    const english = keyPaths(en)
    expect(english.filter((k) => !zh.includes(k))).toEqual([])
    expect(zh.filter((k) => !english.includes(k))).toEqual([])
  })

  it('has no empty texts', () => {
    for (const messages of [zhCN, en]) {
      for (const path of keyPaths(messages)) {
        const text = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], messages)
        expect(typeof text === 'string' && text.trim().length > 0, path).toBe(true)
      }
    }
  })

  it('has a translation for every error code the client knows', async () => {
    const { KNOWN_ERROR_CODES } = await import('../api/types')
    const errorKeys = Object.keys(zhCN.errors)
    for (const code of KNOWN_ERROR_CODES) expect(errorKeys).toContain(code)
  })
})
