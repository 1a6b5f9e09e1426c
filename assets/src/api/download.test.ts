// File names from Content-Disposition.
import { describe, expect, it } from 'vitest'
import { filenameFromContentDisposition as name } from './download'

describe('Content-Disposition', () => {
  it('reads plain and quoted names', () => {
    expect(name('attachment; filename="atrium-audit-1-2.aae"')).toBe('atrium-audit-1-2.aae')
    expect(name('attachment; filename=atrium-audit-1-2.aae')).toBe('atrium-audit-1-2.aae')
    expect(name('attachment;filename="a;b.aae"')).toBe('a;b.aae')
    expect(name('attachment; filename="say \\"hi\\".txt"')).toBe('say "hi".txt')
  })

  it('prefers the UTF-8 extended name', () => {
    expect(name("attachment; filename=\"audit.aae\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1.aae")).toBe(
      '审计.aae',
    )
    expect(name("attachment; filename*=utf-8'zh'x%20y.aae")).toBe('x y.aae')
    // A broken encoding falls back to the plain name.
    expect(name("attachment; filename=\"ok.aae\"; filename*=UTF-8''%E5%AE")).toBe('ok.aae')
  })

  it('never returns a path', () => {
    expect(name('attachment; filename="../../etc/passwd"')).toBe('passwd')
    expect(name('attachment; filename="C:\\\\temp\\\\x.aae"')).toBe('x.aae')
    expect(name('attachment; filename=".."')).toBeNull()
  })

  it('returns null without a name', () => {
    expect(name(null)).toBeNull()
    expect(name(undefined)).toBeNull()
    expect(name('inline')).toBeNull()
    expect(name('attachment; filename=""')).toBeNull()
  })
})
