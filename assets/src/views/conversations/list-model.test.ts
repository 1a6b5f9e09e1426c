// The conversation list's rules: tabs by permission, order (pinned first, sort modes), realtime
// updates moving and removing rows, paging, unread counting.
import { describe, expect, it } from 'vitest'
import type { ConversationView, MessageView } from '../../api/workspace-types'
import {
  DEFAULT_FILTER,
  allowedViews,
  appendPage,
  applyMessage,
  compareConversations,
  filterQuery,
  markReadLocally,
  matchesFilter,
  mergeEvent,
  mergeFreshPage,
  neighbourId,
  previewOf,
  setPinnedLocally,
  sortConversations,
  totalUnread,
  upsertConversation,
  type ListFilter,
  type MergeContext,
  type Viewer,
} from './list-model'

const ME = 4

function row(id: number, over: Partial<ConversationView> = {}): ConversationView {
  return {
    id,
    cursor: `c${id}`,
    contact: { id: 100 + id, name: '张**', vip: false },
    inbox: { id: 2, name: '官网', channel: 'web' },
    team_id: 3,
    assignee: { id: ME, name: '李四' },
    status: 'open',
    priority: 'normal',
    labels: [],
    waiting_since: null,
    last_activity_at: 1_000 * id,
    last_message: null,
    unread: 0,
    pinned: false,
    alert: null,
    queue: null,
    queued_at: null,
    snoozed_until: null,
    created_at: 0,
    updated_at: 10,
    ...over,
  }
}

const viewer: Viewer = { userId: ME, teamIds: new Set([3]) }
const ids = (rows: readonly ConversationView[]): number[] => rows.map((r) => r.id)

function ctx(filter: Partial<ListFilter> = {}, hasMore = false): MergeContext {
  return { filter: { ...DEFAULT_FILTER, ...filter }, viewer, hasMore }
}

describe('tabs', () => {
  it('shows "all" only with conversations:all', () => {
    expect(allowedViews(new Set(['conversations:read']))).toEqual(['mine', 'unassigned', 'teams'])
    expect(allowedViews(new Set(['conversations:read', 'conversations:all']))).toEqual([
      'mine',
      'unassigned',
      'teams',
      'all',
    ])
    expect(allowedViews(new Set(['audit:read']))).toEqual([])
  })

  it('sends only the chosen filters', () => {
    expect(filterQuery(DEFAULT_FILTER)).toEqual({
      view: 'mine',
      status: 'open',
      sort: 'activity',
      inbox_id: undefined,
      label: undefined,
      priority: undefined,
    })
    expect(filterQuery({ ...DEFAULT_FILTER, inboxId: 2, label: 'vip', priority: 'high' })).toMatchObject({
      inbox_id: 2,
      label: 'vip',
      priority: 'high',
    })
  })
})

describe('order', () => {
  it('puts pinned rows first, then the newest activity', () => {
    const rows = [row(1), row(2, { pinned: true }), row(3), row(4, { pinned: true })]
    expect(ids(sortConversations(rows, 'activity'))).toEqual([4, 2, 3, 1])
  })

  it('sorts by the longest wait, rows nobody waits on last', () => {
    const rows = [
      row(1, { waiting_since: 500 }),
      row(2, { waiting_since: null }),
      row(3, { waiting_since: 100 }),
      row(4, { waiting_since: 900, pinned: true }),
    ]
    expect(ids(sortConversations(rows, 'waiting'))).toEqual([4, 3, 1, 2])
  })

  it('is stable on ties', () => {
    const a = row(1, { last_activity_at: 5 })
    const b = row(2, { last_activity_at: 5 })
    expect(compareConversations(a, b, 'activity')).toBeGreaterThan(0)
    expect(compareConversations(b, a, 'waiting')).toBeLessThan(0)
  })
})

describe('filters', () => {
  it('matches each view', () => {
    const mine = row(1)
    const queued = row(2, { assignee: null, team_id: 3 })
    const otherTeam = row(3, { assignee: { id: 9, name: 'x' }, team_id: 8 })
    const f = (view: ListFilter['view']): ListFilter => ({ ...DEFAULT_FILTER, view })
    expect([mine, queued, otherTeam].filter((r) => matchesFilter(r, f('mine'), viewer)).map((r) => r.id)).toEqual([1])
    expect([mine, queued, otherTeam].filter((r) => matchesFilter(r, f('unassigned'), viewer)).map((r) => r.id)).toEqual([2])
    expect([mine, queued, otherTeam].filter((r) => matchesFilter(r, f('teams'), viewer)).map((r) => r.id)).toEqual([1, 2])
    expect([mine, queued, otherTeam].filter((r) => matchesFilter(r, f('all'), viewer)).map((r) => r.id)).toEqual([1, 2, 3])
    expect(matchesFilter(otherTeam, f('teams'), { userId: ME, teamIds: null })).toBe(true)
  })

  it('matches status, inbox, label and priority', () => {
    const r = row(1, { labels: ['billing'], priority: 'high' })
    expect(matchesFilter(r, { ...DEFAULT_FILTER, status: 'resolved' }, viewer)).toBe(false)
    expect(matchesFilter(r, { ...DEFAULT_FILTER, inboxId: 7 }, viewer)).toBe(false)
    expect(matchesFilter(r, { ...DEFAULT_FILTER, label: 'billing', priority: 'high', inboxId: 2 }, viewer)).toBe(true)
    expect(matchesFilter(r, { ...DEFAULT_FILTER, label: 'loans' }, viewer)).toBe(false)
    expect(matchesFilter(r, { ...DEFAULT_FILTER, priority: 'low' }, viewer)).toBe(false)
  })

  it('keeps a conversation whose inbox was deleted out of inbox filters only', () => {
    const orphan = row(1, { inbox: null })
    expect(matchesFilter(orphan, DEFAULT_FILTER, viewer)).toBe(true)
    expect(matchesFilter(orphan, { ...DEFAULT_FILTER, inboxId: 2 }, viewer)).toBe(false)
  })
})

describe('realtime updates', () => {
  it('inserts a new conversation in its place', () => {
    const rows = [row(3), row(1)]
    const { unread: _u, pinned: _p, ...event } = row(2)
    expect(ids(upsertConversation(rows, event, ctx()))).toEqual([3, 2, 1])
    expect(upsertConversation(rows, event, ctx()).find((r) => r.id === 2)?.unread).toBe(0)
  })

  it('moves an updated row and keeps its unread count and pin', () => {
    const rows = [row(3), row(2), row(1, { unread: 4, pinned: false })]
    const { unread: _u, pinned: _p, ...event } = row(1, { last_activity_at: 99_000, updated_at: 20 })
    const next = upsertConversation(rows, event, ctx())
    expect(ids(next)).toEqual([1, 3, 2])
    expect(next[0]?.unread).toBe(4)
    expect(next[0]?.cursor).toBe('c1')
  })

  it('keeps a pinned row on top whatever its activity', () => {
    const rows = [row(1, { pinned: true }), row(5)]
    const { unread: _u, pinned: _p, ...event } = row(1, { last_activity_at: 1, updated_at: 20 })
    expect(ids(upsertConversation(rows, event, ctx()))).toEqual([1, 5])
  })

  it('removes a row that no longer matches (claimed by someone else)', () => {
    const rows = [row(2, { assignee: null }), row(1, { assignee: null })]
    const { unread: _u, pinned: _p, ...event } = row(2, { assignee: { id: 9, name: 'x' }, updated_at: 20 })
    expect(ids(upsertConversation(rows, event, ctx({ view: 'unassigned' })))).toEqual([1])
  })

  it('ignores an event older than the row shown', () => {
    const rows = [row(1, { updated_at: 50, priority: 'urgent' })]
    const { unread: _u, pinned: _p, ...event } = row(1, { updated_at: 40, priority: 'low' })
    expect(upsertConversation(rows, event, ctx())[0]?.priority).toBe('urgent')
    expect(mergeEvent(rows[0], event)).toBeNull()
  })

  it('leaves rows sorting below the loaded pages to paging', () => {
    const rows = [row(9), row(8)]
    const { unread: _u, pinned: _p, ...old } = row(2)
    expect(ids(upsertConversation(rows, old, ctx({}, true)))).toEqual([9, 8])
    expect(ids(upsertConversation(rows, old, ctx({}, false)))).toEqual([9, 8, 2])
  })

  it('appends pages without duplicates', () => {
    const rows = [row(9), row(5)]
    expect(ids(appendPage(rows, [row(5), row(4), row(3)], 'activity'))).toEqual([9, 5, 4, 3])
  })
})

describe('quiet refresh', () => {
  it('replaces the first page with the fresh one: new previews in, rows gone out', () => {
    const loaded = [row(9), row(8), row(7), row(6)]
    const page = [
      row(10),
      row(8, { last_message: { direction: 'incoming', kind: 'text', preview: '新消息' }, unread: 2 }),
      row(6),
    ]
    const merged = mergeFreshPage(loaded, page, 'activity', true)
    expect(ids(merged)).toEqual([10, 8, 6])
    expect(merged[1]?.last_message?.preview).toBe('新消息')
    expect(merged[1]?.unread).toBe(2)
  })

  it('keeps the older pages loaded by scrolling when the fresh page is full', () => {
    // Loaded: 9…3 (two pages); fresh first page 11, 9, 6: 11 and 6 are new, 8 and 7 left the
    // list; 5, 4, 3 sort below the page and stay (what happened to them shows on scrolling).
    const loaded = [row(9), row(8), row(7), row(5), row(4), row(3)]
    const page = [row(11), row(9), row(6)]
    expect(ids(mergeFreshPage(loaded, page, 'activity', false))).toEqual([11, 9, 6, 5, 4, 3])
    // A row of an older page that moved up comes with the fresh page, once.
    const moved = [row(5, { last_activity_at: 20_000 }), row(9), row(8)]
    expect(ids(mergeFreshPage(loaded, moved, 'activity', false))).toEqual([5, 9, 8, 7, 4, 3])
  })

  it('takes an empty answer as an empty list, and follows the sort', () => {
    expect(mergeFreshPage([row(1), row(2)], [], 'activity', true)).toEqual([])
    const waiting = [row(1, { waiting_since: 50 }), row(2, { waiting_since: 10 }), row(3)]
    expect(ids(mergeFreshPage([], waiting, 'waiting', true))).toEqual([2, 1, 3])
  })
})

describe('unread counting', () => {
  const msg = (conversation_id: number, direction: MessageView['direction'], created_at = 50_000): MessageView => ({
    id: 1,
    conversation_id,
    direction,
    kind: 'text',
    body: '你好，\n我想问一下',
    content: null,
    attachments: [],
    sender: null,
    delivery: null,
    failure_reason: null,
    recalled: false,
    mentions: [],
    created_at,
  })

  it('counts incoming messages of conversations not being viewed', () => {
    let rows = [row(1), row(2)]
    rows = applyMessage(rows, msg(1, 'incoming'), null)
    rows = applyMessage(rows, msg(1, 'incoming'), null)
    rows = applyMessage(rows, msg(2, 'incoming'), 2)
    rows = applyMessage(rows, msg(2, 'outgoing'), null)
    rows = applyMessage(rows, msg(2, 'note'), null)
    expect(rows.map((r) => r.unread)).toEqual([2, 0])
    expect(totalUnread(rows)).toBe(2)
    expect(rows[0]?.last_message?.preview).toBe('你好， 我想问一下')
    expect(rows[0]?.last_activity_at).toBe(50_000)
    expect(totalUnread(markReadLocally(rows, 1))).toBe(0)
  })

  it('shortens long previews', () => {
    expect(previewOf({ body: 'a'.repeat(100) }, 10)).toBe(`${'a'.repeat(9)}…`)
  })
})

describe('pinning and navigation', () => {
  it('moves a pinned row up and an unpinned one back', () => {
    const rows = [row(3), row(2), row(1)]
    const pinned = setPinnedLocally(rows, 1, true, 'activity')
    expect(ids(pinned)).toEqual([1, 3, 2])
    expect(ids(setPinnedLocally(pinned, 1, false, 'activity'))).toEqual([3, 2, 1])
  })

  it('finds the next and previous conversation, staying at the ends', () => {
    const rows = [row(3), row(2), row(1)]
    expect(neighbourId(rows, null, 1)).toBe(3)
    expect(neighbourId(rows, 3, 1)).toBe(2)
    expect(neighbourId(rows, 2, -1)).toBe(3)
    expect(neighbourId(rows, 3, -1)).toBe(3)
    expect(neighbourId(rows, 1, 1)).toBe(1)
    expect(neighbourId(rows, 42, 1)).toBe(3)
    expect(neighbourId([], 1, 1)).toBeNull()
  })
})
