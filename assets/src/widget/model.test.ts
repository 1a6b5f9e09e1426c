import { describe, expect, it } from 'vitest'
import { ChatModel, fileSize, type WidgetMessage } from './model'
import { WIDGET_MESSAGES, pickLocale, translate } from './i18n'

const msg = (id: number, direction: 'incoming' | 'outgoing' = 'incoming', body = `m${id}`): WidgetMessage => ({
  id,
  direction,
  kind: 'text',
  body,
  sender: direction === 'outgoing' ? '李雷' : null,
  recalled: false,
  created_at: id,
})

describe('chat model', () => {
  it('merges polls by id in order and keeps the highest cursor', () => {
    const m = new ChatModel()
    expect(m.merge({ messages: [msg(3), msg(1)], conversation: null, after: 3 })).toBe(true)
    expect(m.messages.map((x) => x.id)).toEqual([1, 3])
    expect(m.merge({ messages: [], conversation: null, after: 3 })).toBe(false)
    m.merge({ messages: [{ ...msg(3), recalled: true, body: '' }, msg(2, 'outgoing')], conversation: null, after: 2 })
    expect(m.messages.map((x) => x.id)).toEqual([1, 2, 3])
    expect(m.messages[2]?.recalled).toBe(true)
    expect(m.after).toBe(3)
  })

  it('shows a sent message until the server returns it', () => {
    const m = new ChatModel()
    const p = m.add('c-1', '你好')
    expect(m.pending).toHaveLength(1)
    p.messageId = 10
    m.merge({ messages: [msg(9)], conversation: null, after: 9 })
    expect(m.pending).toHaveLength(1)
    expect(m.merge({ messages: [msg(10)], conversation: null, after: 10 })).toBe(true)
    expect(m.pending).toHaveLength(0)
  })

  it('tells a waiting visitor their place in the queue', () => {
    const m = new ChatModel()
    m.merge({ messages: [], conversation: { id: 5, status: 'open', rated: false, queue: { position: 3, estimated_wait_secs: 130 } }, after: 0 })
    expect(m.queue).toEqual({ position: 3, minutes: 3 })
    expect(
      m.merge({ messages: [], conversation: { id: 5, status: 'open', rated: false, queue: { position: 1, estimated_wait_secs: 0 } }, after: 0 }),
    ).toBe(true)
    expect(m.queue).toEqual({ position: 1, minutes: 0 })
    m.merge({ messages: [], conversation: { id: 5, status: 'open', rated: false, queue: null }, after: 0 })
    expect(m.queue).toBeNull()
  })

  it('shows the agent typing for a while, and not once their reply arrived', () => {
    const m = new ChatModel()
    expect(m.merge({ messages: [], conversation: null, after: 0, agent_typing: true }, 1000)).toBe(true)
    expect(m.agentTyping(1000)).toBe(true)
    expect(m.agentTyping(1000 + 6001)).toBe(false)
    m.merge({ messages: [msg(4, 'outgoing')], conversation: null, after: 4, agent_typing: true }, 2000)
    expect(m.agentTyping(2000)).toBe(false)
    m.merge({ messages: [], conversation: null, after: 4, agent_typing: true }, 3000)
    expect(m.merge({ messages: [], conversation: null, after: 4, agent_typing: false }, 3500)).toBe(true)
    expect(m.agentTyping(3500)).toBe(false)
  })

  it('offers the rating once a conversation is resolved and not rated', () => {
    const m = new ChatModel()
    m.merge({ messages: [], conversation: { id: 5, status: 'open', rated: false }, after: 0 })
    expect(m.wantsRating).toBe(false)
    expect(m.merge({ messages: [], conversation: { id: 5, status: 'resolved', rated: false }, after: 0 })).toBe(true)
    expect(m.wantsRating).toBe(true)
    m.merge({ messages: [], conversation: { id: 5, status: 'resolved', rated: true }, after: 0 })
    expect(m.wantsRating).toBe(false)
  })
})

describe('widget texts', () => {
  it('has every text in both languages', () => {
    expect(Object.keys(WIDGET_MESSAGES.en).sort()).toEqual(Object.keys(WIDGET_MESSAGES['zh-CN']).sort())
    for (const text of Object.values(WIDGET_MESSAGES.en)) expect(text.length).toBeGreaterThan(0)
  })

  it('uses the inbox language, else the browser language, else Chinese', () => {
    expect(pickLocale('en', ['zh-CN'])).toBe('en')
    expect(pickLocale('', ['en-GB', 'zh'])).toBe('en')
    expect(pickLocale('', ['zh-TW'])).toBe('zh-CN')
    expect(pickLocale('', ['fr'])).toBe('zh-CN')
    expect(translate('zh-CN', 'rateStar', { n: 4 })).toBe('4 星')
  })

  it('reports each reply once as delivered and once as read, and never read then delivered', () => {
    const m = new ChatModel()
    m.merge({ messages: [msg(1), msg(2, 'outgoing')], conversation: null, after: 2 })
    expect(m.receipt(false)).toEqual({ up_to: 2, state: 'delivered' })
    expect(m.receipt(false)).toBeNull()
    expect(m.receipt(true)).toEqual({ up_to: 2, state: 'read' })
    expect(m.receipt(true)).toBeNull()
    m.merge({ messages: [msg(3, 'outgoing')], conversation: null, after: 3 })
    expect(m.receipt(true)).toEqual({ up_to: 3, state: 'read' })
    expect(m.receipt(false)).toBeNull()
  })

  it('shows whether an agent read the visitor\'s latest message', () => {
    const m = new ChatModel()
    m.merge({ messages: [msg(1), msg(2, 'outgoing'), msg(3)], conversation: null, after: 3 })
    expect(m.lastMine).toEqual({ id: 3, read: false })
    expect(m.merge({ messages: [], conversation: null, after: 3, agent_read_up_to: 3 })).toBe(true)
    expect(m.lastMine).toEqual({ id: 3, read: true })
    expect(m.merge({ messages: [], conversation: null, after: 3, agent_read_up_to: 2 })).toBe(false)
  })

  it('says file sizes for people', () => {
    expect([980, 12_600, 4_718_592].map(fileSize)).toEqual(['980 B', '12.3 KB', '4.5 MB'])
  })

  it('drops a sending copy when the stored message comes back before the send answers', () => {
    const m = new ChatModel()
    m.add('c-9', '你好')
    expect(m.merge({ messages: [msg(4, 'incoming', '你好')], conversation: null, after: 4, client_ids: { '4': 'c-9' } })).toBe(true)
    expect(m.pending).toHaveLength(0)
    expect(m.messages.map((x) => x.id)).toEqual([4])
  })
})
