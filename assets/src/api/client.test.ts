// The typed client against a stubbed fetch: CSRF header, error bodies, session ends, files.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, buildQuery, isSessionEnd, observeClient, setCsrfToken } from './client'

interface Call {
  url: string
  init: RequestInit
}

let calls: Call[] = []

function answer(status: number, body: unknown, headers: Record<string, string> = {}): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
      return new Response(status === 204 ? null : text, { status, headers })
    }),
  )
}

function header(call: Call | undefined, name: string): string | undefined {
  return (call?.init.headers as Record<string, string> | undefined)?.[name]
}

const SESSION = {
  user: { id: 1, username: 'li.na', display_name: '李娜', roles: ['agent'], permissions: ['conversations:read'] },
  csrf_token: 'csrf-1',
  must_change_password: false,
  totp_enrolment_required: true,
  idle_timeout_secs: 900,
  expires_at: 1790000000000,
}

describe('api client', () => {
  const ended: ApiError[] = []
  let answered = 0

  beforeEach(() => {
    calls = []
    ended.length = 0
    answered = 0
    setCsrfToken(null)
    observeClient({ onSessionEnded: (e) => ended.push(e), onAnswered: () => (answered += 1) })
  })

  afterEach(() => {
    vi.unstubAllGlobals()
    observeClient({})
  })

  it('builds queries from the filled-in values only', () => {
    expect(buildQuery({})).toBe('')
    expect(buildQuery({ from: 1, to: undefined, actor: '', q: 'li na&x', outcome: null })).toBe(
      '?from=1&q=li+na%26x',
    )
  })

  it('remembers the CSRF token of a sign-in and sends it on changes only', async () => {
    answer(200, SESSION)
    const session = await api.login({ username: 'li.na', password: 'pw', recovery_code: 'abcd-1234' })
    expect(session.totp_enrolment_required).toBe(true)
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      username: 'li.na',
      password: 'pw',
      recovery_code: 'abcd-1234',
    })
    answer(200, { secret: 'ABC', otpauth_uri: 'otpauth://totp/x' })
    await api.totpSetup('pw')
    expect(header(calls[1], 'X-CSRF-Token')).toBe('csrf-1')
    answer(200, [])
    await api.mySessions()
    expect(header(calls[2], 'X-CSRF-Token')).toBeUndefined()
  })

  it('turns error bodies into ApiErrors with their details', async () => {
    answer(422, { code: 'password_policy', message: 'nope', request_id: 'r-1', details: ['too_short'] })
    const error = await api.changePassword({ current_password: 'a', new_password: 'b' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    const e = error as ApiError
    expect([e.code, e.status, e.requestId, e.details]).toEqual(['password_policy', 422, 'r-1', ['too_short']])
    expect(e.isKnown).toBe(true)
    expect(ended).toEqual([])
  })

  it('reports a session end for 401 session_expired, not for a wrong password', async () => {
    answer(401, { code: 'session_expired', message: 'ended' })
    await api.users().catch(() => undefined)
    expect(ended.map((e) => e.code)).toEqual(['session_expired'])

    answer(401, { code: 'reauth_failed', message: 'wrong' })
    await api.totpSetup('wrong').catch(() => undefined)
    answer(401, { code: 'invalid_credentials', message: 'wrong' })
    await api.login({ username: 'x', password: 'y' }).catch(() => undefined)
    expect(ended).toHaveLength(1)
  })

  it('does not report the sign-in probe or the logout as a session end', async () => {
    answer(401, { code: 'unauthorized', message: 'sign in first' })
    await api.session(true).catch(() => undefined)
    await api.logout().catch(() => undefined)
    expect(ended).toEqual([])
    await api.session().catch(() => undefined)
    expect(ended.map((e) => e.code)).toEqual(['unauthorized'])
  })

  it('counts answered requests for the idle timer, but not anonymous ones', async () => {
    answer(200, [])
    await api.teams()
    answer(403, { code: 'forbidden' })
    await api.roles().catch(() => undefined)
    answer(200, { expires_at: 1 })
    await api.checkSetupToken('tok/en')
    expect(answered).toBe(2)
    expect(calls[2]?.url).toBe('/api/v1/setup/tok%2Fen')
  })

  it('classifies session ends', () => {
    expect(isSessionEnd(new ApiError('session_expired', 401, ''))).toBe(true)
    expect(isSessionEnd(new ApiError('unauthorized', 401, ''))).toBe(true)
    expect(isSessionEnd(new ApiError('http_401', 401, ''))).toBe(true)
    expect(isSessionEnd(new ApiError('totp_invalid', 401, ''))).toBe(false)
    expect(isSessionEnd(new ApiError('forbidden', 403, ''))).toBe(false)
    expect(isSessionEnd(new Error('x'))).toBe(false)
  })

  it('gives a non-JSON failure an http_ code and keeps the request id header', async () => {
    answer(502, '<html>bad gateway</html>', { 'X-Request-Id': 'r-9' })
    const e = (await api.users().catch((x: unknown) => x)) as ApiError
    expect([e.code, e.status, e.requestId, e.isKnown]).toEqual(['http_502', 502, 'r-9', false])
  })

  it('sends audit filters as a query', async () => {
    answer(200, { records: [], next_before: null })
    await api.audit({ from: 1, to: 2, outcome: 'denied', before: 99, limit: 50 })
    expect(calls[0]?.url).toBe('/api/v1/audit?from=1&to=2&outcome=denied&before=99&limit=50')
  })

  it('downloads the export under the server-given name', async () => {
    answer(200, 'AAE1', {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': 'attachment; filename="atrium-audit-1-2.aae"',
    })
    const file = await api.exportAudit({ from: 1, to: 2, passphrase: 'correct horse battery' })
    expect(file.filename).toBe('atrium-audit-1-2.aae')
    expect(await file.blob.text()).toBe('AAE1')
    expect(header(calls[0], 'Accept')).toBe('application/octet-stream')

    answer(200, 'AAE1', { 'Content-Type': 'application/octet-stream' })
    expect((await api.exportAudit({ from: 3, to: 4, passphrase: 'x' })).filename).toBe(
      'atrium-audit-3-4.aae',
    )
  })
})
