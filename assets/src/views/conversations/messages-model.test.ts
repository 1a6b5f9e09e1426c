// Message history merging and presentation helpers.
import { describe, expect, it } from 'vitest'
import type { MessageView } from '../../api/workspace-types'
import {
  attributeText,
  formatBytes,
  formatCoordinates,
  isInlineImage,
  mergeMessages,
  newestId,
  unsupportedContent,
} from './messages-model'

const m = (id: number, created_at: number, over: Partial<MessageView> = {}): MessageView => ({
  id,
  conversation_id: 1,
  direction: 'incoming',
  kind: 'text',
  body: `m${id}`,
  content: null,
  attachments: [],
  sender: null,
  delivery: null,
  failure_reason: null,
  recalled: false,
  mentions: [],
  created_at,
  ...over,
})

describe('message history', () => {
  it('merges older pages and new messages in time order without duplicates', () => {
    const page = [m(3, 30), m(4, 40)]
    const older = [m(1, 10), m(2, 20), m(3, 30)]
    const merged = mergeMessages(mergeMessages(page, older), [m(5, 50), m(4, 40)])
    expect(merged.map((x) => x.id)).toEqual([1, 2, 3, 4, 5])
    expect(newestId(merged)).toBe(5)
    expect(newestId([])).toBeNull()
  })

  it('replaces a message by its newer version (delivery, recall)', () => {
    const merged = mergeMessages([m(1, 10, { delivery: 'sent' })], [m(1, 10, { delivery: 'failed', failure_reason: '48h window closed' })])
    expect(merged).toHaveLength(1)
    expect(merged[0]?.delivery).toBe('failed')
  })
})

describe('presentation', () => {
  it('shows only safe raster images inline', () => {
    expect(isInlineImage({ content_type: 'image/png' })).toBe(true)
    expect(isInlineImage({ content_type: 'IMAGE/JPEG' })).toBe(true)
    expect(isInlineImage({ content_type: 'image/svg+xml' })).toBe(false)
    expect(isInlineImage({ content_type: 'application/pdf' })).toBe(false)
  })

  it('formats sizes, coordinates and attribute values', () => {
    expect(formatBytes(12)).toBe('12 B')
    expect(formatBytes(2048)).toBe('2 KB')
    expect(formatBytes(5 * 1024 * 1024 + 100_000)).toBe('5.1 MB')
    expect(formatCoordinates(31.23041, 121.47372)).toBe('31.2304, 121.4737')
    expect(attributeText({ a: 1 })).toBe('{"a":1}')
    expect(attributeText(true)).toBe('true')
    expect(attributeText('<b>x</b>')).toBe('<b>x</b>')
    expect(attributeText(null)).toBe('')
  })
})

describe('unsupported messages', () => {
  it('reads the type and the raw payload as text', () => {
    const raw = '<xml><MsgType><![CDATA[shop_card]]></MsgType><script>alert(1)</script></xml>'
    expect(unsupportedContent({ type: 'shop_card', raw })).toEqual({ type: 'shop_card', raw })
    expect(unsupportedContent({ type: ' voice2 ', raw: 7 })).toEqual({ type: 'voice2', raw: '' })
    expect(unsupportedContent(null)).toEqual({ type: '', raw: '' })
    expect(unsupportedContent('text')).toEqual({ type: '', raw: '' })
  })
})
