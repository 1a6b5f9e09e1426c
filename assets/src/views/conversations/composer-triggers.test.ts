// The composer popups: where `/` and `@` open them, ranking, keyboard movement, insertion.
import { describe, expect, it } from 'vitest'
import type { AgentSummary, CannedReply } from '../../api/workspace-types'
import {
  filterAgents,
  filterCannedReplies,
  findTrigger,
  mentionedIds,
  moveIndex,
  replaceTrigger,
} from './composer-triggers'

const reply = (id: number, shortcut: string, title: string): CannedReply => ({
  id,
  shortcut,
  title,
  body: `body ${id}`,
  shared: false,
})

const REPLIES = [
  reply(1, 'hello', '问候语'),
  reply(2, 'refund', 'Refund policy'),
  reply(3, 'hours', 'Opening hours'),
  reply(4, 'loan', '贷款利率 hello'),
  reply(5, 'h', 'Short'),
]

describe('canned-reply trigger', () => {
  it('opens at the start of a line only', () => {
    expect(findTrigger('/', 1, '/')).toEqual({ start: 0, query: '' })
    expect(findTrigger('/ref', 4, '/')).toEqual({ start: 0, query: 'ref' })
    expect(findTrigger('hi\n/ho', 6, '/')).toEqual({ start: 3, query: 'ho' })
    expect(findTrigger('and/or', 6, '/')).toBeNull()
    expect(findTrigger('see http://x/y', 14, '/')).toBeNull()
    expect(findTrigger('/ref and more', 13, '/')).toBeNull()
    expect(findTrigger('no trigger', 10, '/')).toBeNull()
  })

  it('uses only the text left of the caret', () => {
    expect(findTrigger('/refund', 2, '/')).toEqual({ start: 0, query: 'r' })
  })

  it('ranks exact shortcut, then prefix, then title and anywhere', () => {
    expect(filterCannedReplies(REPLIES, 'h').map((r) => r.id)).toEqual([5, 1, 3, 4])
    expect(filterCannedReplies(REPLIES, 'HOUR').map((r) => r.id)).toEqual([3])
    expect(filterCannedReplies(REPLIES, '贷款').map((r) => r.id)).toEqual([4])
    expect(filterCannedReplies(REPLIES, 'policy').map((r) => r.id)).toEqual([2])
    expect(filterCannedReplies(REPLIES, 'zzz')).toEqual([])
    expect(filterCannedReplies(REPLIES, '')).toHaveLength(5)
    expect(filterCannedReplies(REPLIES, '', 2)).toHaveLength(2)
  })

  it('replaces the trigger with the rendered reply', () => {
    expect(replaceTrigger('/ref', { start: 0, query: 'ref' }, 4, '您好，退款…')).toEqual({
      text: '您好，退款…',
      caret: 6,
    })
    expect(replaceTrigger('a\n/h tail', { start: 2, query: 'h' }, 4, 'X')).toEqual({
      text: 'a\nX tail',
      caret: 3,
    })
  })

  it('moves the selection with wrap-around', () => {
    expect(moveIndex(0, 1, 3)).toBe(1)
    expect(moveIndex(2, 1, 3)).toBe(0)
    expect(moveIndex(0, -1, 3)).toBe(2)
    expect(moveIndex(0, 1, 0)).toBe(0)
  })
})

describe('mentions', () => {
  const agent = (id: number, name: string, status: AgentSummary['status']): AgentSummary => ({
    id,
    name,
    status,
    chosen_status: status,
    load: 0,
    capacity: 5,
    skills: [],
    teams: [],
    inboxes: [],
  })
  const agents: AgentSummary[] = [agent(1, '李四', 'online'), agent(2, 'Lisa', 'away'), agent(3, 'Ali', 'offline')]

  it('opens at the start of a word', () => {
    expect(findTrigger('@', 1, '@')).toEqual({ start: 0, query: '' })
    expect(findTrigger('ask @li', 7, '@')).toEqual({ start: 4, query: 'li' })
    expect(findTrigger('mail a@b.cn', 11, '@')).toBeNull()
  })

  it('filters agents by name without the author', () => {
    expect(filterAgents(agents, 'li', null).map((a) => a.id)).toEqual([2, 3])
    expect(filterAgents(agents, '', 1).map((a) => a.id)).toEqual([2, 3])
    expect(filterAgents(agents, '李', null).map((a) => a.id)).toEqual([1])
  })

  it('sends only the mentions still in the text', () => {
    const chosen = [
      { id: 1, name: '李四' },
      { id: 2, name: 'Lisa' },
      { id: 1, name: '李四' },
    ]
    expect(mentionedIds('@李四 请看一下', chosen)).toEqual([1])
    expect(mentionedIds('@李四 @Lisa', chosen)).toEqual([1, 2])
    expect(mentionedIds('nobody', chosen)).toEqual([])
  })
})
