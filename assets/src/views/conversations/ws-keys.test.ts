// The workspace builds message keys from server values (statuses, channels, delivery states,
// system events…): every value the client knows has its message in both languages.
import { describe, expect, it } from 'vitest'
import zhCN from '../../i18n/zh-CN'
import en from '../../i18n/en'
import {
  AGENT_STATUSES,
  ALERT_KINDS,
  CHANNEL_KINDS,
  CONVERSATION_STATUSES,
  CONVERSATION_VIEWS,
  DELIVERY_STATES,
  LIST_SORTS,
  MESSAGE_KINDS,
  PRIORITIES,
  SEARCH_ENGINES,
  VISITOR_DEVICE_KINDS,
} from '../../api/workspace-types'
import { SYSTEM_EVENT_KEYS } from './system-events'
import { WORKSPACE_ERROR_KEYS } from './errors'
import { SHORTCUTS } from './shortcuts'
import { SNOOZE_PRESETS } from './conversation-model'
import { CARD_FIELDS, IDENTITY_KINDS } from '../contacts/contacts-model'
import { deviceKindKey, engineKey } from './visitor-context'

function text(messages: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>(
    (node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined),
    messages,
  )
}

describe('workspace message keys built at run time', () => {
  const keys = [
    ...CONVERSATION_VIEWS.map((v) => `ws.views.${v}`),
    ...CONVERSATION_STATUSES.map((s) => `ws.status.${s}`),
    ...LIST_SORTS.map((s) => `ws.sort.${s}`),
    ...PRIORITIES.map((p) => `ws.priority.${p}`),
    ...ALERT_KINDS.flatMap((a) => [`ws.alert.${a}`, `ws.alertHint.${a}`]),
    ...MESSAGE_KINDS.map((k) => `ws.kind.${k}`),
    ...DELIVERY_STATES.map((d) => `ws.delivery.${d}`),
    ...CHANNEL_KINDS.map((c) => `ws.channel.${c}`),
    ...AGENT_STATUSES.flatMap((s) => [`ws.agentStatus.${s}`, `ws.agent.hints.${s}`]),
    ...SYSTEM_EVENT_KEYS,
    ...WORKSPACE_ERROR_KEYS,
    ...SHORTCUTS.map((s) => `ws.shortcuts.${s.action}`),
    ...SNOOZE_PRESETS.map((p) => `ws.snooze.presets.${p}`),
    ...CARD_FIELDS.map((f) => `ws.contact.fields.${f}`),
    ...[...IDENTITY_KINDS, 'other'].map((k) => `ws.identity.${k}`),
    ...VISITOR_DEVICE_KINDS.map(deviceKindKey),
    ...SEARCH_ENGINES.map((e) => engineKey(e) ?? `missing engine ${e}`),
    ...['emptyKey', 'keyTooLong', 'duplicateKey', 'valueTooLong', 'tooMany'].map((p) => `ws.attributes.problems.${p}`),
    ...['newConversation', 'assigned', 'mention', 'overdue'].map((n) => `ws.notify.${n}`),
    ...['open', 'pending', 'snoozed', 'resolved'].map((s) => `ws.status.${s}`),
    ...['claimed', 'resolved', 'reopened', 'pendingDone', 'snoozed', 'assigned', 'returned', 'transferred'].map((a) => `ws.actions.${a}`),
    ...['conflictClaimed', 'conflictStatus', 'conflictResolved', 'conflictResend', 'conflictRecall'].map((a) => `ws.actions.${a}`),
  ]

  it('has each in zh-CN and en', () => {
    const missing = keys.filter((k) => typeof text(zhCN, k) !== 'string' || typeof text(en, k) !== 'string')
    expect(missing).toEqual([])
  })

  it('uses the same placeholders in both languages', () => {
    const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort()
    const walk = (node: unknown, path: string): string[] =>
      typeof node === 'string'
        ? [path]
        : Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => walk(v, `${path}.${k}`))
    const differing = walk(zhCN.ws, 'ws').filter((k) => {
      const zh = text(zhCN, k)
      const e = text(en, k)
      return typeof zh === 'string' && typeof e === 'string' && placeholders(zh).join() !== placeholders(e).join()
    })
    expect(differing).toEqual([])
  })
})
