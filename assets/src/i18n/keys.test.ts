// Every message key the code names exists (a typo would show the raw key to the user), and the
// keys built at run time from server values exist for every value the client knows.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import zhCN from './zh-CN'
import en from './en'
import { ADMIN_CLASSES, AUDIT_OUTCOMES, PASSWORD_RULE_CODES } from '../api/types'
import { WORKSPACE_AREAS } from '../workspace-areas'

const SRC = fileURLToPath(new URL('..', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.(ts|vue)$/.test(name) && !name.endsWith('.test.ts') ? [path] : []
  })
}

function has(messages: unknown, key: string): boolean {
  const value = key.split('.').reduce<unknown>(
    (node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    messages,
  )
  return typeof value === 'string'
}

/** Literal keys: t('a.b'), te('a.b'), titleKey: 'a.b', key: 'a.b'. */
function literalKeys(text: string): string[] {
  const found: string[] = []
  const patterns = [/\bte?\(\s*'([A-Za-z0-9_.]+)'/g, /\b(?:titleKey|key):\s*'([A-Za-z0-9_]+\.[A-Za-z0-9_.]+)'/g]
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) if (match[1] !== undefined) found.push(match[1])
  }
  return found
}

describe('message keys used by the code', () => {
  const files = sources(SRC)

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  it('has every literal key in both languages', () => {
    const missing: string[] = []
    for (const file of files) {
      for (const key of literalKeys(readFileSync(file, 'utf8'))) {
        if (!has(zhCN, key) || !has(en, key)) missing.push(`${file.slice(SRC.length)}: ${key}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('has the keys built from known values', () => {
    const keys = [
      ...ADMIN_CLASSES.map((c) => `roles.class.${c}`),
      ...AUDIT_OUTCOMES.map((o) => `audit.outcomes.${o}`),
      ...[...PASSWORD_RULE_CODES, 'unknown'].map((r) => `password.rules.${r}`),
      ...WORKSPACE_AREAS.map((a) => `workspace.empty.${a.name}`),
      ...WORKSPACE_AREAS.map((a) => `nav.${a.name}`),
      ...['sequence_gap', 'chain_broken', 'hash_mismatch', 'mac_mismatch'].map((b) => `audit.breaks.${b}`),
    ]
    for (const key of keys) {
      expect(has(zhCN, key), key).toBe(true)
      expect(has(en, key), key).toBe(true)
    }
  })

  it('names every permission of the built-in roles', () => {
    const permissions = [
      'conversations:read', 'conversations:reply', 'conversations:assign', 'conversations:all',
      'contacts:read', 'contacts:write', 'pii:reveal', 'reports:read', 'teams:read', 'users:read',
      'roles:read', 'channels:read', 'settings:read', 'users:write', 'teams:write', 'channels:write',
      'settings:write', 'roles:write', 'roles:assign_admin', 'keys:manage', 'audit:read', 'audit:export',
    ]
    for (const p of permissions) {
      expect(has(zhCN, `permissions.names.${p.replace(/[^A-Za-z0-9]/g, '_')}`), p).toBe(true)
      expect(has(zhCN, `permissions.groups.${p.split(':')[0]}`), p).toBe(true)
    }
  })
})
