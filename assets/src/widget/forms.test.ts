import { describe, expect, it } from 'vitest'
import { formFields, formProblem, formToShow, type PrechatConfig } from './forms'

const off: PrechatConfig = { name: 'off', phone: 'off', email: 'off' }
const asks: PrechatConfig = { name: 'required', phone: 'optional', email: 'off' }
const state = {
  open: true,
  leaveMessage: true,
  prechat: asks,
  identified: false,
  hasMessages: false,
  conversationOpen: false,
  prechatDone: false,
  left: false,
}
const values = { name: '', phone: '', email: '', body: '' }

describe('visitor forms', () => {
  it('asks the pre-chat fields before an anonymous visitor\'s first message, once', () => {
    expect(formToShow(state)).toBe('prechat')
    expect(formToShow({ ...state, prechat: off })).toBeNull()
    expect(formToShow({ ...state, identified: true })).toBeNull()
    expect(formToShow({ ...state, hasMessages: true })).toBeNull()
    expect(formToShow({ ...state, prechatDone: true })).toBeNull()
  })

  it('offers leaving a message while closed, unless a conversation is open or one was left', () => {
    const closed = { ...state, open: false }
    expect(formToShow(closed)).toBe('leave')
    expect(formToShow({ ...closed, hasMessages: true })).toBe('leave')
    expect(formToShow({ ...closed, conversationOpen: true, hasMessages: true })).toBeNull()
    expect(formToShow({ ...closed, left: true, prechat: off })).toBeNull()
    expect(formToShow({ ...closed, leaveMessage: false, prechat: off })).toBeNull()
  })

  it('shows the fields the inbox asks for and checks them', () => {
    expect(formFields('prechat', asks)).toEqual([
      { field: 'name', required: true },
      { field: 'phone', required: false },
    ])
    expect(formFields('leave', off).map((f) => f.field)).toEqual(['name', 'phone', 'email'])
    expect(formProblem('prechat', asks, values)).toEqual({ key: 'formRequired', field: 'name' })
    expect(formProblem('prechat', asks, { ...values, name: '王小明' })).toBeNull()
    expect(formProblem('leave', asks, { ...values, body: '请回电' })).toEqual({ key: 'leaveHint' })
    expect(formProblem('leave', asks, { ...values, email: 'li@example.com' })).toEqual({ key: 'formRequired', field: 'body' })
    expect(formProblem('leave', asks, { ...values, phone: '13800138000', body: '请回电' })).toBeNull()
  })
})
