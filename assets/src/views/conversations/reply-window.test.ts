// WeChat's 48-hour reply window as the composer's notice tells it.
import { describe, expect, it } from 'vitest'
import type { ConversationView } from '../../api/workspace-types'
import { CLOSING_SOON_MS, REPLY_WINDOW_MS, keepReplyWindow, replyWindowState, windowAfterMessage } from './reply-window'

const HOUR = 3_600_000
const NOW = 1_700_000_000_000

describe('reply window state', () => {
  it('says nothing for channels without one', () => {
    expect(replyWindowState(undefined, NOW)).toBeNull()
    expect(replyWindowState(null, NOW)).toBeNull()
  })

  it('is open until it closes, warning in the last two hours', () => {
    expect(replyWindowState({ open: true, closes_at: NOW + 30 * HOUR }, NOW)).toEqual({
      state: 'open',
      closesAt: NOW + 30 * HOUR,
      leftMs: 30 * HOUR,
      soon: false,
    })
    expect(replyWindowState({ open: true, closes_at: NOW + CLOSING_SOON_MS }, NOW)).toMatchObject({ state: 'open', soon: false })
    expect(replyWindowState({ open: true, closes_at: NOW + CLOSING_SOON_MS - 1 }, NOW)).toMatchObject({ state: 'open', soon: true })
    expect(replyWindowState({ open: true, closes_at: NOW + 1 }, NOW)).toMatchObject({ state: 'open', soon: true, leftMs: 1 })
  })

  it('closes when the clock passes it, or when the server says so', () => {
    expect(replyWindowState({ open: true, closes_at: NOW }, NOW)).toEqual({ state: 'closed', never: false })
    expect(replyWindowState({ open: true, closes_at: NOW - HOUR }, NOW)).toEqual({ state: 'closed', never: false })
    // The server's clock decides: closed there is closed here, whatever this browser's clock says.
    expect(replyWindowState({ open: false, closes_at: NOW + HOUR }, NOW)).toEqual({ state: 'closed', never: false })
  })

  it('is closed when the customer never wrote', () => {
    expect(replyWindowState({ open: false, closes_at: null }, NOW)).toEqual({ state: 'closed', never: true })
    expect(replyWindowState({ open: true, closes_at: null }, NOW)).toBeNull()
  })
})

describe('reply window over time', () => {
  it('opens again for 48 hours when the customer writes', () => {
    const closed = { open: false, closes_at: NOW - 10 * HOUR }
    expect(windowAfterMessage(closed, { direction: 'incoming', created_at: NOW }, NOW)).toEqual({
      open: true,
      closes_at: NOW + REPLY_WINDOW_MS,
    })
    expect(windowAfterMessage({ open: false, closes_at: null }, { direction: 'incoming', created_at: NOW }, NOW)).toEqual({
      open: true,
      closes_at: NOW + REPLY_WINDOW_MS,
    })
  })

  it('is not moved by replies, notes or an older message', () => {
    const open = { open: true, closes_at: NOW + 40 * HOUR }
    expect(windowAfterMessage(open, { direction: 'outgoing', created_at: NOW }, NOW)).toBe(open)
    expect(windowAfterMessage(open, { direction: 'note', created_at: NOW }, NOW)).toBe(open)
    expect(windowAfterMessage(open, { direction: 'incoming', created_at: NOW - 20 * HOUR }, NOW)).toBe(open)
    expect(windowAfterMessage(undefined, { direction: 'incoming', created_at: NOW }, NOW)).toBeUndefined()
  })

  it('is kept by the rows events and actions answer', () => {
    const row = { id: 7, updated_at: 1 } as ConversationView
    const shown = { ...row, reply_window: { open: true, closes_at: NOW } }
    expect(keepReplyWindow(shown, { ...row, updated_at: 2 }).reply_window).toEqual({ open: true, closes_at: NOW })
    const fresh = { open: false, closes_at: NOW - 1 }
    expect(keepReplyWindow(shown, { ...row, reply_window: fresh }).reply_window).toBe(fresh)
    expect(keepReplyWindow({ ...shown, id: 8 }, row)).not.toHaveProperty('reply_window')
    expect(keepReplyWindow(null, row)).toBe(row)
  })
})
