/**
 * The first-run setup link is `http://HOST/setup#token=…`: the token sits in the fragment so it
 * never reaches a server log or a Referer header. This reads it back.
 */
export function setupTokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash)
  const token = params.get('token')?.trim() ?? ''
  return token.length === 0 ? null : token
}
