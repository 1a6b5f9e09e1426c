/**
 * Files the server sends (audit exports) and files the page makes (recovery codes): reading the
 * name from `Content-Disposition` and handing a blob to the browser's download machinery.
 */

/**
 * The file name of a `Content-Disposition` header (RFC 6266): `filename*` (RFC 5987, UTF-8)
 * wins over `filename`. Path parts are dropped so a name can never point elsewhere. `null` when
 * the header is missing or names no file.
 */
export function filenameFromContentDisposition(header: string | null | undefined): string | null {
  if (header === null || header === undefined) return null
  let extended: string | null = null
  let plain: string | null = null
  for (const part of splitParameters(header)) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim().toLowerCase()
    const value = part.slice(eq + 1).trim()
    if (name === 'filename*') {
      const match = /^([A-Za-z0-9_-]+)'[^']*'(.*)$/.exec(value)
      if (match !== null && match[1]?.toLowerCase() === 'utf-8') {
        try {
          extended = decodeURIComponent(match[2] ?? '')
        } catch {
          // A malformed percent-encoding: fall back to the plain name.
        }
      }
    } else if (name === 'filename') {
      plain = unquote(value)
    }
  }
  const chosen = extended ?? plain
  if (chosen === null) return null
  const base = chosen.split(/[\\/]/).pop()?.trim() ?? ''
  return base.length === 0 || base === '.' || base === '..' ? null : base
}

/** Splits on `;` outside double quotes. */
function splitParameters(header: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < header.length; i += 1) {
    const c = header.charAt(i)
    if (c === '\\' && quoted && i + 1 < header.length) {
      current += c + header.charAt(i + 1)
      i += 1
    } else if (c === '"') {
      quoted = !quoted
      current += c
    } else if (c === ';' && !quoted) {
      parts.push(current)
      current = ''
    } else {
      current += c
    }
  }
  parts.push(current)
  return parts
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1')
  }
  return value
}

/** Makes the browser save `blob` as `filename` (a temporary `blob:` link, clicked, revoked). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  link.hidden = true
  document.body.appendChild(link)
  link.click()
  link.remove()
  // Revoke later: some browsers start reading the blob only after the click handler returns.
  window.setTimeout(() => URL.revokeObjectURL(url), 30_000)
}
