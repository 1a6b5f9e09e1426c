import { describe, expect, it } from 'vitest'
import { SYSTEM_EVENT_KEYS, SYSTEM_EVENTS, describeSystemEvent } from './system-events'

const names = { team: (id: number) => (id === 3 ? '信用卡组' : null) }
const time = (ms: number) => `T${ms}`

function describe_(content: unknown) {
  return describeSystemEvent({ content: content as never }, names, time)
}

describe('system events', () => {
  it('says who transferred to whom, with the note apart', () => {
    expect(
      describe_({
        event: 'transferred',
        actor: { id: 1, name: '李四' },
        to: { id: 2, name: '王五' },
        team: { id: 3, name: '信用卡组' },
        note: ' 客户要办卡 ',
      }),
    ).toEqual({
      key: 'ws.event.transferred.both',
      params: { actor: '李四', to: '王五', team: '信用卡组' },
      note: '客户要办卡',
    })
    expect(describe_({ event: 'transferred', actor: { id: 1, name: '李四' }, to: null, team: { id: 3, name: 'A' }, note: '' })?.key).toBe(
      'ws.event.transferred.team',
    )
  })

  it('tells the system from a person', () => {
    expect(describe_({ event: 'assigned', actor: null, to: { id: 2, name: '王五' } })).toEqual({
      key: 'ws.event.assigned.system',
      params: { to: '王五' },
      note: null,
    })
    expect(describe_({ event: 'resolved', actor: { id: 1, name: '李四' }, until: null })?.key).toBe('ws.event.resolved.user')
    expect(describe_({ event: 'claimed', actor: { id: 1, name: '李四' }, to: { id: 1, name: '李四' } })?.params).toEqual({ actor: '李四' })
  })

  it('formats the snooze time and names the overflow team from the known teams', () => {
    expect(describe_({ event: 'snoozed', actor: { id: 1, name: 'A' }, until: 5 })).toEqual({
      key: 'ws.event.snoozed.user',
      params: { actor: 'A', until: 'T5' },
      note: null,
    })
    expect(describe_({ event: 'overflowed', actor: null, team: { id: 3 } })?.params).toEqual({ team: '信用卡组' })
    expect(describe_({ event: 'overflowed', actor: null, team: { id: 9 } })?.key).toBe('ws.event.overflowed.plain')
  })

  it('knows the reroute reasons', () => {
    expect(describe_({ event: 'rerouted', actor: null, reason: 'agent_offline' })?.key).toBe('ws.event.rerouted.agent_offline')
    expect(describe_({ event: 'rerouted', actor: null, reason: 'weird' })?.key).toBe('ws.event.rerouted.other')
  })

  it('shows the customer\'s rating with the comment apart', () => {
    expect(describe_({ event: 'csat', rating: 4, comment: ' 解答清楚 ' })).toEqual({
      key: 'ws.event.csat',
      params: { rating: '4' },
      note: '解答清楚',
    })
    expect(describe_({ event: 'csat', rating: 5, comment: '' })?.note).toBeNull()
    expect(describe_({ event: 'csat', rating: 'five' })?.key).toBe('ws.event.csatPlain')
  })

  it('leaves unknown or malformed content to the body', () => {
    expect(describe_(null)).toBeNull()
    expect(describe_({ event: 'exploded' })).toBeNull()
    expect(describe_({ latitude: 1, longitude: 2 })).toBeNull()
  })

  it('only returns listed keys', () => {
    const samples = SYSTEM_EVENTS.flatMap((event) => [
      { event, actor: null },
      { event, actor: { id: 1, name: 'A' }, to: { id: 2, name: 'B' }, team: { id: 3, name: 'C' }, until: 1, reason: 'agent_offline' },
      { event, actor: { id: 1, name: 'A' }, team: { id: 3 } },
    ])
    for (const content of samples) {
      const text = describe_(content)
      expect(text).not.toBeNull()
      expect(SYSTEM_EVENT_KEYS).toContain(text!.key)
    }
  })
})
