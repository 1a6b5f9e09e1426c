import { describe, expect, it } from 'vitest'
import type { ContactSummary, ContactView } from '../../api/workspace-types'
import {
  appendContacts,
  attributeRows,
  attributesFromRows,
  conversationOrigin,
  identityKindKey,
  normaliseQuery,
  withRevealed,
} from './contacts-model'

describe('custom attributes', () => {
  it('round-trips values keeping numbers and yes/no', () => {
    const rows = attributeRows({ 等级: 'gold', 积分: 1200, 已实名: true, 备注: null })
    expect(rows.map((r) => r.key)).toEqual(['备注', '等级', '积分', '已实名'].sort((a, b) => a.localeCompare(b)))
    expect(attributesFromRows(rows)).toEqual({
      attributes: { 等级: 'gold', 积分: 1200, 已实名: true, 备注: '' },
      problem: null,
    })
  })

  it('turns an edited number that no longer reads as one into text', () => {
    expect(attributesFromRows([{ key: 'n', value: '12a', type: 'number' }]).attributes).toEqual({ n: '12a' })
  })

  it('drops blank rows and reports what the server would refuse', () => {
    expect(attributesFromRows([{ key: ' ', value: ' ', type: 'string' }]).attributes).toEqual({})
    expect(attributesFromRows([{ key: '', value: 'x', type: 'string' }]).problem).toBe('emptyKey')
    expect(attributesFromRows([{ key: 'k'.repeat(41), value: 'x', type: 'string' }]).problem).toBe('keyTooLong')
    expect(attributesFromRows([{ key: 'a', value: '1', type: 'string' }, { key: ' a', value: '2', type: 'string' }]).problem).toBe('duplicateKey')
    expect(attributesFromRows([{ key: 'a', value: 'v'.repeat(501), type: 'string' }]).problem).toBe('valueTooLong')
    const many = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v', type: 'string' as const }))
    expect(attributesFromRows(many).problem).toBe('tooMany')
  })
})

describe('reveal', () => {
  it('replaces the masked fields and keeps the rest', () => {
    const card: ContactView = {
      id: 1, name: '张*', phone: '138****8000', email: null, id_number: null, address: null,
      vip: true, attributes: { a: 1 }, identities: [], conversations: [], masked: true,
    }
    const shown = withRevealed(card, { id: 1, name: '张三', phone: '13800138000', email: null, id_number: null, address: null, masked: false })
    expect(shown).toMatchObject({ name: '张三', phone: '13800138000', vip: true, attributes: { a: 1 }, masked: false })
  })
})

describe('contact list', () => {
  const row = (id: number): ContactSummary => ({
    id, name: null, phone: null, email: null, vip: false, last_activity_at: null, conversations: 0, cursor: String(id),
  })
  it('appends pages without repeats', () => {
    expect(appendContacts([row(1), row(2)], [row(2), row(3)]).map((r) => r.id)).toEqual([1, 2, 3])
  })
  it('normalises the query', () => {
    expect(normaliseQuery('  138 ')).toBe('138')
    expect(Array.from(normaliseQuery('张'.repeat(200))).length).toBe(100)
  })
})

describe('timeline origin', () => {
  it('names the inbox and channel of the conversation', () => {
    const convs = [{ id: 5, inbox: { id: 2, name: '官网', channel: 'web' }, status: 'open' as const }]
    expect(conversationOrigin(convs, 5, (c) => `[${c}]`)).toEqual({ inbox: '官网', channel: '[web]', id: 5 })
    expect(conversationOrigin(convs, 6, (c) => c)).toEqual({ inbox: null, channel: null, id: 6 })
  })
  it('has a key for every identity kind', () => {
    expect(identityKindKey('openid')).toBe('ws.identity.openid')
    expect(identityKindKey('fax')).toBe('ws.identity.other')
  })
})
