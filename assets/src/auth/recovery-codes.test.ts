// Recovery codes as shown, copied and saved.
import { describe, expect, it } from 'vitest'
import { codeRows, recoveryCodesFilename, recoveryCodesText } from './recovery-codes'

const CODES = Array.from({ length: 10 }, (_, i) => `ab${i}d-12${i}4`)

describe('recovery codes', () => {
  it('splits into rows of two', () => {
    const rows = codeRows(CODES)
    expect(rows).toHaveLength(5)
    expect(rows[0]).toEqual(['ab0d-1204', 'ab1d-1214'])
    expect(codeRows(CODES.slice(0, 3))).toEqual([['ab0d-1204', 'ab1d-1214'], ['ab2d-1224']])
  })

  it('writes a numbered text file with a header', () => {
    const text = recoveryCodesText(CODES, {
      title: 'Atrium recovery codes',
      account: 'Account: li.na',
      created: 'Created: 2026-01-01 08:00',
      advice: 'Each code works once.',
    })
    const lines = text.split('\n')
    expect(lines.slice(0, 6)).toEqual([
      'Atrium recovery codes',
      'Account: li.na',
      'Created: 2026-01-01 08:00',
      '',
      'Each code works once.',
      '',
    ])
    expect(lines[6]).toBe(' 1. ab0d-1204')
    expect(lines[15]).toBe('10. ab9d-1294')
    expect(text.endsWith('\n')).toBe(true)
    expect(text).not.toContain('\r')
    for (const code of CODES) expect(text).toContain(code)
  })

  it('names the file after the account, safely', () => {
    expect(recoveryCodesFilename('li.na')).toBe('atrium-recovery-codes-li.na.txt')
    expect(recoveryCodesFilename('李娜')).toBe('atrium-recovery-codes.txt')
    expect(recoveryCodesFilename('../etc/passwd')).toBe('atrium-recovery-codes-etc_passwd.txt')
    expect(recoveryCodesFilename('a b/c')).toBe('atrium-recovery-codes-a_b_c.txt')
  })
})
