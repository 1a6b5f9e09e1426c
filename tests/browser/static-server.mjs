// Development stand-in for the Atrium server, for front-end work before (or without) the Rust
// binary: serves assets/dist with the production Content-Security-Policy, falls back to
// index.html for client-side routes, answers /api/openapi.json with a hand-written document and
// every other /api/* path with the server's 404 error body.
//
//   node tests/browser/static-server.mjs [--port 18080] [--fake-session]
//
// --fake-session makes GET /api/v1/auth/session answer 200 with a fixed user, POST
// /api/v1/auth/logout answer 204, and POST /api/v1/auth/login accept zhangwei / correct-horse
// with the TOTP code 123456 (asking for it with `totp_required` first), so the workspace frame
// and the two-step sign-in can be looked at.
// Listens on 127.0.0.1 only. Not part of the product.
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
export const DIST_DIR = resolve(here, '../../assets/dist')
const OPENAPI_FIXTURE = join(here, 'openapi-fixture.json')

/** Exactly what the Rust server sends; keep in step with src/http (security headers). */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'self'; object-src 'none'"

// A supervisor (src/domain/access.rs): every workspace area, and users and teams under settings.
const FAKE_USER = {
  id: 1,
  username: 'zhangwei',
  display_name: '张伟',
  roles: ['supervisor'],
  permissions: [
    'conversations:read',
    'conversations:reply',
    'conversations:assign',
    'contacts:read',
    'contacts:write',
    'pii:reveal',
    'reports:read',
    'teams:read',
    'users:read',
  ],
}
const FAKE_SESSION = {
  user: FAKE_USER,
  csrf_token: 'dev-csrf-token',
  must_change_password: false,
  totp_enrolment_required: false,
  idle_timeout_secs: 900,
  expires_at: Date.now() + 12 * 3600 * 1000,
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
}

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    ...extra,
  })
  res.end(body)
}

function sendError(res, status, code, message) {
  const requestId = randomUUID()
  const body = JSON.stringify({ code, message, request_id: requestId })
  send(res, status, 'application/json', body, { 'X-Request-Id': requestId })
}

async function readBody(req) {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function serveFile(res, file, method, immutable = false) {
  const body = await readFile(file)
  const type = TYPES[extname(file)] ?? 'application/octet-stream'
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': body.length,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  })
  res.end(method === 'HEAD' ? undefined : body)
}

async function isFile(path) {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Creates (does not start) the server. */
export function createStaticServer({ distDir = DIST_DIR, fakeSession = false } = {}) {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const path = decodeURIComponent(url.pathname)
      const method = req.method ?? 'GET'

      if (path === '/api/openapi.json') {
        return send(res, 200, 'application/json', await readFile(OPENAPI_FIXTURE, 'utf8'))
      }
      if (fakeSession && path === '/api/v1/auth/session' && method === 'GET') {
        return send(res, 200, 'application/json', JSON.stringify(FAKE_SESSION))
      }
      if (fakeSession && path === '/api/v1/auth/login' && method === 'POST') {
        let credentials = {}
        try {
          credentials = JSON.parse(await readBody(req))
        } catch {
          return sendError(res, 400, 'bad_request', 'body is not JSON')
        }
        if (credentials.username !== FAKE_USER.username || credentials.password !== 'correct-horse') {
          return sendError(res, 401, 'invalid_credentials', 'invalid username or password')
        }
        if (credentials.totp === undefined) return sendError(res, 401, 'totp_required', 'second factor required')
        if (credentials.totp !== '123456') return sendError(res, 401, 'totp_invalid', 'wrong code')
        return send(res, 200, 'application/json', JSON.stringify(FAKE_SESSION))
      }
      if (fakeSession && path === '/api/v1/auth/logout' && method === 'POST') {
        await readBody(req)
        if (req.headers['x-csrf-token'] !== 'dev-csrf-token') {
          return sendError(res, 403, 'csrf_failed', 'missing or wrong CSRF token')
        }
        res.writeHead(204, { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' })
        return res.end()
      }
      if (path === '/api' || path.startsWith('/api/')) {
        await readBody(req)
        return sendError(res, 404, 'not_found', 'no such endpoint')
      }
      if (path === '/healthz' || path === '/readyz') return send(res, 200, 'text/plain; charset=utf-8', 'ok')
      if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'method not allowed')

      const file = normalize(join(distDir, path))
      if (!file.startsWith(distDir + sep)) return sendError(res, 400, 'bad_request', 'bad path')
      if (await isFile(file)) return await serveFile(res, file, method, path.startsWith('/assets/'))
      // Missing build files are real 404s; every other path is a client-side route.
      if (path.startsWith('/assets/') || extname(path) !== '') {
        return sendError(res, 404, 'not_found', 'no such file')
      }
      return await serveFile(res, join(distDir, 'index.html'), method)
    } catch (error) {
      console.error('static-server:', error)
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error')
      else res.destroy()
    }
  })
}

/** Starts a server on 127.0.0.1 and resolves to its base URL. */
export async function startStaticServer({ port = 0, ...options } = {}) {
  const server = createStaticServer(options)
  await new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolveListen)
  })
  const address = server.address()
  return { server, url: `http://127.0.0.1:${address.port}` }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const portIndex = args.indexOf('--port')
  const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 18080
  const { url } = await startStaticServer({ port, fakeSession: args.includes('--fake-session') })
  console.log(`serving ${DIST_DIR} at ${url}`)
}
