import { describe, expect, it } from 'vitest'
import { WEBHOOK_EVENTS, type Webhook } from '../../api/settings2-types'
import { emptyForm, formOf, requestOf, validateWebhook } from './webhooks'

describe('webhook form', () => {
  it('starts with every event, every inbox, enabled, PII masked', () => {
    const f = emptyForm()
    expect(f.events).toEqual([...WEBHOOK_EVENTS])
    expect(f.inboxId).toBeNull()
    expect(f.enabled).toBe(true)
    expect(f.includePii).toBe(false)
    expect(validateWebhook(f)).toEqual(['name_required', 'url_required'])
  })

  it('refuses what the server would refuse', () => {
    const f = { ...emptyForm(), name: '  CRM  ', url: 'ftp://crm.example/hook' }
    expect(validateWebhook(f)).toEqual(['url_scheme'])
    expect(validateWebhook({ ...f, url: 'http://' })).toEqual(['url_scheme'])
    expect(validateWebhook({ ...f, url: 'https://crm.bank.local/atrium', events: [] })).toEqual(['events_required'])
    expect(validateWebhook({ ...f, url: 'https://crm.bank.local/atrium', events: ['message.deleted'] })).toEqual([
      'events_required',
    ])
    expect(validateWebhook({ ...f, name: '名'.repeat(61), url: 'https://x.example/h' })).toEqual(['name_too_long'])
    expect(validateWebhook({ ...f, url: 'https://x.example/' + 'a'.repeat(2000) })).toEqual(['url_too_long'])
    expect(validateWebhook({ ...f, name: '名'.repeat(60), url: 'http://10.1.2.3:8080/h' })).toEqual([])
  })

  it('sends trimmed fields and the known events in their canonical order', () => {
    const f = {
      ...emptyForm(),
      name: ' CRM ',
      url: ' https://crm.bank.local/atrium ',
      events: ['csat.submitted', 'bogus', 'conversation.created'],
      inboxId: 7,
    }
    expect(requestOf(f)).toEqual({
      name: 'CRM',
      url: 'https://crm.bank.local/atrium',
      events: ['conversation.created', 'csat.submitted'],
      inbox_id: 7,
      include_pii: false,
      enabled: true,
    })
  })

  it('round-trips a stored subscription', () => {
    const w: Webhook = {
      id: 3,
      name: 'CRM',
      url: 'https://crm.bank.local/atrium',
      events: ['message.created'],
      inbox_id: null,
      include_pii: true,
      enabled: false,
      pending: 2,
      failed: 1,
      created_at: 1,
      updated_at: 2,
    }
    const f = formOf(w)
    expect(requestOf(f)).toEqual({
      name: 'CRM',
      url: 'https://crm.bank.local/atrium',
      events: ['message.created'],
      inbox_id: null,
      include_pii: true,
      enabled: false,
    })
    f.events.push('csat.submitted')
    expect(w.events).toEqual(['message.created'])
  })
})
