// The inbox list helpers and the server's validation lines.
import { describe, expect, it } from 'vitest'
import type { InboxSummary } from '../../api/settings2-types'
import { ApiError } from '../../api/client'
import { channelKey, filterInboxes, inboundUrl } from './inboxes'
import { isConflict, validationLines } from './server-errors'

const row = (id: number, name: string, channel: string, team_id: number | null = null, disabled = false): InboxSummary => ({
  id,
  name,
  channel,
  team_id,
  created_at: 0,
  disabled,
})

describe('inboxes', () => {
  it('names known channel kinds only', () => {
    expect(channelKey('api')).toBe('settings2.channels.api')
    expect(channelKey('wecom_kf')).toBe('settings2.channels.wecom_kf')
    expect(channelKey('fax')).toBeNull()
  })

  it('builds the inbound URL from the origin and the hook path', () => {
    expect(inboundUrl('https://kefu.bank.example', 12)).toBe('https://kefu.bank.example/hooks/api/12/messages')
    expect(inboundUrl('http://10.0.0.5:8080/', 3, '/hooks/api/3/messages')).toBe('http://10.0.0.5:8080/hooks/api/3/messages')
    expect(inboundUrl('http://h', 3, null)).toBe('http://h/hooks/api/3/messages')
  })

  it('searches by name, channel name, team name or id, sorted by name', () => {
    const list = [row(1, '手机银行', 'api', 3), row(2, '官网', 'web'), row(3, 'App', 'api')]
    const channelName = (k: string): string => (k === 'api' ? '开放接口' : '网页')
    const teamName = (id: number | null): string => (id === 3 ? '信用卡组' : '')
    // Chinese collation: Han names in pinyin order (官网 guan, 手机银行 shou), then Latin.
    expect(filterInboxes(list, '', channelName, teamName).map((i) => i.id)).toEqual([2, 1, 3])
    expect(filterInboxes(list, '开放', channelName, teamName).map((i) => i.id)).toEqual([1, 3])
    expect(filterInboxes(list, '信用卡', channelName, teamName).map((i) => i.id)).toEqual([1])
    expect(filterInboxes(list, ' 2 ', channelName, teamName).map((i) => i.id)).toEqual([2])
  })

  it('keeps disabled inboxes listed', () => {
    const list = [row(1, '旧官网', 'web', null, true), row(2, '官网', 'web')]
    const none = (): string => ''
    expect(filterInboxes(list, '', none, none).map((i) => [i.id, i.disabled])).toEqual([
      [2, false],
      [1, true],
    ])
  })
})

describe('server errors', () => {
  it('reads the details of a validation_failed, or its message', () => {
    const withDetails = new ApiError('validation_failed', 422, 'invalid inbox settings', 'r1', ['name: 1 to 60 characters'])
    expect(validationLines(withDetails)).toEqual(['name: 1 to 60 characters'])
    const plain = new ApiError('validation_failed', 422, 'unknown team id', 'r2')
    expect(validationLines(plain)).toEqual(['unknown team id'])
    expect(validationLines(new ApiError('conflict', 409, 'this shortcut is taken'))).toEqual([])
    expect(validationLines(new Error('x'))).toEqual([])
    expect(isConflict(new ApiError('conflict', 409, 'taken'))).toBe(true)
    expect(isConflict(plain)).toBe(false)
  })
})
