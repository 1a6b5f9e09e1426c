import { describe, expect, it } from 'vitest'
import { sameAs } from './validators'

describe('sameAs', () => {
  it('passes on equal values and fails with the message otherwise', () => {
    let target = 'Secret-1'
    const check = sameAs(
      () => target,
      () => 'differs',
    )
    const run = (v: string): Error | undefined => {
      let out: Error | undefined
      check(null, v, (e) => {
        out = e
      })
      return out
    }
    expect(run('Secret-1')).toBeUndefined()
    expect(run('Secret-2')?.message).toBe('differs')
    target = 'Secret-2'
    expect(run('Secret-2')).toBeUndefined()
  })
})
