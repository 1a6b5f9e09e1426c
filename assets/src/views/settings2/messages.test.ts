// The settings2 messages: every key built at run time from a server value exists in both
// languages, both languages use the same placeholders, and no message holds a character the
// vue-i18n message compiler would take as syntax (or refuse as HTML).
import { describe, expect, it } from 'vitest'
import zhCN from '../../i18n/settings2/zh-CN'
import en from '../../i18n/settings2/en'
import {
  AGENT_STATUSES,
  CHANNEL_KINDS,
  CREATABLE_CHANNELS,
  PRECHAT_FIELDS,
  PRECHAT_MODES,
  ROUTING_MODES,
} from '../../api/settings2-types'
import { ALERTS, PRIORITIES } from '../supervisor/supervisor'
import { DURATION_UNITS } from './duration'
import { INBOX_TABS } from './inbox-form'
import { RULE_CONDITIONS } from './routing-form'

function get(messages: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>(
    (node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    messages,
  )
}

function paths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => paths(v, prefix === '' ? k : `${prefix}.${k}`))
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort()

describe('settings2 messages', () => {
  it('has the keys built from known values', () => {
    const keys = [
      ...CHANNEL_KINDS.map((c) => `channels.${c}`),
      ...CREATABLE_CHANNELS.map((c) => `inboxes.channelHints.${c}`),
      ...INBOX_TABS.map((tab) => `inboxes.tabs.${tab}`),
      ...ROUTING_MODES.map((m) => `routing.modes.${m}`),
      ...ROUTING_MODES.map((m) => `routing.modeHints.${m}`),
      ...PRECHAT_FIELDS.map((f) => `inboxes.prechatFields.${f}`),
      ...PRECHAT_MODES.map((m) => `inboxes.prechatModes.${m}`),
      ...RULE_CONDITIONS.flatMap((c) => ['conditions', 'conditionHints', 'conditionPlaceholders'].map((g) => `routing.${g}.${c}`)),
      ...AGENT_STATUSES.map((s) => `agents.statuses.${s}`),
      ...PRIORITIES.map((p) => `supervisor.priorities.${p}`),
      ...ALERTS.map((a) => `supervisor.alerts.${a}`),
      ...DURATION_UNITS.map((u) => `common.units.${u}`),
      ...['personal', 'shared'].map((s) => `canned.none.${s}`),
      ...['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `hours.days.${d}`),
    ]
    for (const key of keys) {
      expect(typeof get(zhCN, key), `zh-CN ${key}`).toBe('string')
      expect(typeof get(en, key), `en ${key}`).toBe('string')
    }
  })

  it('uses the same placeholders in both languages', () => {
    const differing = paths(zhCN).filter((key) => {
      const zh = get(zhCN, key)
      const english = get(en, key)
      return typeof zh === 'string' && typeof english === 'string' && placeholders(zh).join() !== placeholders(english).join()
    })
    expect(differing).toEqual([])
  })

  it('writes no character the message compiler treats as syntax', () => {
    for (const messages of [zhCN, en]) {
      for (const key of paths(messages)) {
        const text = String(get(messages, key))
        expect(/[@$|<>]/.test(text), key).toBe(false)
        expect(text.replace(/\{\w+\}/g, ''), key).not.toMatch(/[{}]/)
      }
    }
  })
})
