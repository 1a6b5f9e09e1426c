// Untrusted message addresses: only http(s) becomes a link; images only from this server.
import { describe, expect, it } from 'vitest'
import { safeHttpUrl, safeImageSrc } from './links'

describe('link sanitiser', () => {
  it('keeps http and https links', () => {
    expect(safeHttpUrl('https://bank.example/loans?a=1')).toBe('https://bank.example/loans?a=1')
    expect(safeHttpUrl('  http://10.0.0.1:8080/x ')).toBe('http://10.0.0.1:8080/x')
    expect(safeHttpUrl('HTTPS://Bank.Example')).toBe('https://bank.example/')
  })

  it('turns script and other schemes into plain text', () => {
    for (const bad of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      'javascript://bank.example/%0Aalert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      '//evil.example/x',
      '/relative/path',
      'https:evil.example',
      'http://',
      '',
      42,
      null,
      undefined,
      { href: 'https://x' },
    ]) {
      expect(safeHttpUrl(bad), String(bad)).toBeNull()
    }
  })

  it('allows only same-origin image paths', () => {
    expect(safeImageSrc('/api/v1/attachments/5')).toBe('/api/v1/attachments/5')
    expect(safeImageSrc('https://cdn.example/a.png')).toBeNull()
    expect(safeImageSrc('//cdn.example/a.png')).toBeNull()
    expect(safeImageSrc('/\\cdn.example/a.png')).toBeNull()
    expect(safeImageSrc('javascript:alert(1)')).toBeNull()
    expect(safeImageSrc(undefined)).toBeNull()
  })
})
