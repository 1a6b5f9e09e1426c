/**
 * The chat window inside the widget's iframe (served by Atrium at `/widget/{inbox}`, so the host
 * page's CSS and scripts cannot reach it). Plain DOM: every text is set with `textContent`, so
 * nothing a visitor or an agent writes is ever parsed as HTML.
 *
 * Talks to its parent (the loader, `widget.js`) with `postMessage`: `ready` → the parent answers
 * `init` (the page the visitor is on and the host site's signed user, if any); `resize` tells it
 * the window opened or closed. Talks to Atrium with the visitor API (`/hooks/web/{inbox}/…`):
 * replies arrive over a WebSocket, or by long polling where a proxy refuses WebSockets.
 */
import './frame.css'
import { ChatModel, EMOJI, fileSize, type Pending, type Poll, type WidgetAttachment, type WidgetMessage } from './model'
import { pickLocale, translate, type WidgetKey, type WidgetLocale } from './i18n'
import { revealControls } from '../text/controls'
import { el } from './dom'
import { buildForm, formProblem, formToShow, type BuiltForm, type FormKind, type PrechatConfig } from './forms'
import { isReturning, pickInvitation, type Invitation } from './invite'

interface Config {
  inbox_id: number
  title: string
  color: string
  position: 'left' | 'right'
  welcome: string
  language: string
  require_identity: boolean
  open: boolean
  /** Largest file a visitor may send, in bytes. */
  max_file_bytes: number
  prechat: PrechatConfig
  leave_message: boolean
  invitations: Invitation[]
}

interface Identity {
  user_id: string
  signature: string
  name?: string
  email?: string
  phone?: string
}

interface Init {
  identity?: Identity | null
  page?: { url?: string; referrer?: string; title?: string }
}

const inbox = Number(location.pathname.split('/').filter(Boolean)[1] ?? 'NaN')
const tokenKey = `atrium.widget.${inbox}.token`
const model = new ChatModel()
let locale: WidgetLocale = 'zh-CN'
let config: Config | null = null
let token = ''
let page: Init['page'] = {}
let opened = false
let rated = false
/** The host site identified the visitor (no pre-chat form then). */
let identified = false
/** The first news arrived (the history is known). */
let loaded = false
const prechatKey = `atrium.widget.${inbox}.prechat`
/** Left a message in this page (thanked, then chatting as usual). */
let left = false
/** Only the host site's signed-in users may chat, and this visitor is not one. */
let blocked = false
let shownForm: { kind: FormKind; built: BuiltForm } | null = null
/** The invitation shown to this visitor (also greets them in the window). */
let invitedWith: string | null = null

const say = (key: WidgetKey, params?: Record<string, string | number>): string => translate(locale, key, params)


function toParent(message: Record<string, unknown>): void {
  if (window.parent !== window) window.parent.postMessage({ source: 'atrium-widget', ...message }, '*')
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code)
  }
}

/** A visitor API call: a JSON body, or a form (multipart, its type set by the browser). */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const form = body instanceof FormData
  if (body !== undefined && !form) headers['content-type'] = 'application/json'
  if (token !== '') headers.authorization = `Bearer ${token}`
  const res = await fetch(`/hooks/web/${inbox}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    credentials: 'omit',
  })
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as { code?: string }
    throw new HttpError(res.status, e.code ?? 'error')
  }
  return (res.status === 204 ? undefined : await res.json()) as T
}

/** Send a file as one message. */
async function uploadFile<T>(clientId: string, file: File): Promise<T> {
  const form = new FormData()
  form.append('file', file, file.name)
  return call<T>('POST', `/files?client_id=${encodeURIComponent(clientId)}`, form)
}

/** Files fetched with the visitor's token, as object URLs (kept for the page's life). */
const fileUrls = new Map<number, Promise<string>>()
function fileUrl(id: number): Promise<string> {
  let u = fileUrls.get(id)
  if (u === undefined) {
    u = fetch(`/hooks/web/${inbox}/files/${id}`, { headers: { authorization: `Bearer ${token}` }, credentials: 'omit' }).then(async (res) => {
      if (!res.ok) throw new HttpError(res.status, 'file')
      return URL.createObjectURL(await res.blob())
    })
    u.catch(() => fileUrls.delete(id))
    fileUrls.set(id, u)
  }
  return u
}

// ---------------------------------------------------------------- DOM

const root = document.getElementById('atrium-chat') ?? document.body
const launcher = el('button', 'launcher')
launcher.type = 'button'
const invite = el('div', 'invite')
invite.hidden = true
const inviteText = el('button', 'invite-text')
inviteText.type = 'button'
const inviteClose = el('button', 'invite-close', '×')
inviteClose.type = 'button'
invite.append(inviteText, inviteClose)
const panel = el('section', 'panel')
const header = el('header', 'header')
const title = el('h1', 'title')
const closeButton = el('button', 'close', '×')
closeButton.type = 'button'
const notice = el('div', 'notice')
notice.hidden = true
const list = el('ol', 'messages')
list.setAttribute('aria-live', 'polite')
const rating = el('div', 'rating')
const composer = el('form', 'composer')
const input = el('textarea', 'input')
const sendButton = el('button', 'send')
sendButton.type = 'submit'
const tools = el('div', 'tools')
const emojiButton = el('button', 'tool emoji-button', '😊')
emojiButton.type = 'button'
const attachButton = el('button', 'tool attach')
attachButton.type = 'button'
const fileInput = el('input', 'file-input')
fileInput.type = 'file'
fileInput.hidden = true
const emojiPanel = el('div', 'emoji-panel')
emojiPanel.hidden = true
tools.append(emojiButton, attachButton, fileInput)
header.append(title, closeButton)
composer.append(tools, input, sendButton)
const formSlot = el('div', 'form-slot')
panel.append(header, notice, list, rating, formSlot, emojiPanel, composer)
root.append(invite, launcher, panel)

/** A 24 × 24 icon of one path. */
function icon(d: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(ns, 'path')
  path.setAttribute('d', d)
  svg.append(path)
  return svg
}
launcher.append(icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'))
attachButton.append(icon('M16.5 6.5 8.6 14.4a1.5 1.5 0 0 0 2.1 2.1l7.6-7.6a3 3 0 0 0-4.2-4.2l-7.9 7.9a4.5 4.5 0 0 0 6.4 6.4l6.4-6.4'))

function setOpen(open: boolean): void {
  opened = open
  if (open) invite.hidden = true
  document.body.classList.toggle('is-open', open)
  toParent({ type: 'resize', open, invite: !invite.hidden, position: config?.position ?? 'right' })
  if (open) {
    input.focus()
    scrollToEnd()
    sendReceipt()
  }
}

function showNotice(key: WidgetKey | null): void {
  const max = fileSize(config?.max_file_bytes ?? 0)
  notice.textContent = key === null ? '' : say(key, { max })
  notice.hidden = key === null
}

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
}

function bubble(m: WidgetMessage): HTMLLIElement {
  const mine = m.direction === 'incoming'
  const li = el('li', `msg ${mine ? 'mine' : 'theirs'}`)
  li.dataset.id = String(m.id)
  if (!mine) li.append(el('div', 'who', m.sender ?? say('automatic')))
  const b = el('div', m.recalled ? 'bubble recalled' : 'bubble', m.recalled ? say('recalled') : revealControls(m.body))
  if (!m.recalled) for (const a of m.attachments ?? []) b.append(attachment(a))
  if (b.textContent === '' && b.childElementCount > 0) b.classList.add('only-files')
  li.append(b, el('div', 'at', time(m.created_at)))
  const last = model.lastMine
  if (mine && last !== null && last.id === m.id) {
    const r = el('div', last.read ? 'receipt read' : 'receipt', say(last.read ? 'read' : 'unread'))
    r.dataset.testid = 'read-receipt'
    li.append(r)
  }
  return li
}

/** A picture shown inline, another file as a download button. */
function attachment(a: WidgetAttachment): HTMLElement {
  if (a.content_type.startsWith('image/')) {
    const img = el('img', 'pic')
    img.alt = revealControls(a.name)
    img.dataset.attachment = String(a.id)
    fileUrl(a.id).then(
      (u) => (img.src = u),
      () => img.replaceWith(el('span', 'file-error', say('fileFailed'))),
    )
    img.addEventListener('load', () => {
      if (list.scrollHeight - list.scrollTop - list.clientHeight < img.height + 60) scrollToEnd()
    })
    return img
  }
  const f = el('button', 'file')
  f.type = 'button'
  f.dataset.attachment = String(a.id)
  f.setAttribute('aria-label', say('download', { name: revealControls(a.name) }))
  f.append(el('span', 'file-name', revealControls(a.name)), el('span', 'file-size', fileSize(a.size)))
  f.addEventListener('click', () => {
    fileUrl(a.id).then(
      (u) => {
        const link = el('a')
        link.href = u
        link.download = a.name
        link.click()
      },
      () => showNotice('fileFailed'),
    )
  })
  return f
}

function pendingBubble(p: Pending): HTMLLIElement {
  const li = el('li', `msg mine ${p.state}`)
  li.append(el('div', 'bubble', `${p.file !== undefined ? '📎 ' : ''}${revealControls(p.body)}`))
  const state = el('button', 'state', p.state === 'failed' ? say('failed') : say('sending'))
  state.type = 'button'
  state.disabled = p.state !== 'failed'
  state.addEventListener('click', () => void deliver(p))
  li.append(state)
  return li
}

function scrollToEnd(): void {
  list.scrollTop = list.scrollHeight
}

function render(): void {
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40
  list.replaceChildren()
  if (config !== null && config.welcome.trim() !== '') list.append(el('li', 'welcome', config.welcome))
  if (invitedWith !== null) list.append(el('li', 'welcome invited', invitedWith))
  for (const m of model.messages) list.append(bubble(m))
  for (const p of model.pending) list.append(pendingBubble(p))
  // While closed nobody is being found: no queue place then (the notice says so).
  const q = config === null || config.open ? model.queue : null
  if (q !== null) {
    const ahead = q.position - 1
    const text = ahead > 0 ? say('queue', { n: ahead }) : say('queueNext')
    list.append(el('li', 'system queue', q.minutes > 0 ? `${text}${locale === 'en' ? ' ' : ''}${say('queueWait', { m: q.minutes })}` : text))
  }
  if (model.agentTyping()) {
    list.append(el('li', 'system typing', say('agentTyping')))
    // Gone by itself when not repeated.
    setTimeout(() => {
      if (!model.agentTyping()) render()
    }, 6100)
  }
  if (model.conversation?.status === 'resolved' && !model.wantsRating && model.pending.length === 0) {
    list.append(el('li', 'system', say('resolved')))
  }
  if (left) list.append(el('li', 'system', say('leaveThanks')))
  renderRating()
  renderForm()
  if (atEnd) scrollToEnd()
}

/** The pre-chat or leave-a-message form in place of the composer, when one is due. */
function renderForm(): void {
  const kind =
    config === null || token === '' || !loaded
      ? null
      : formToShow({
          open: config.open,
          leaveMessage: config.leave_message,
          prechat: config.prechat,
          identified,
          hasMessages: model.messages.length > 0 || model.pending.length > 0,
          conversationOpen: model.conversation !== null && model.conversation.status !== 'resolved',
          prechatDone: localStorage.getItem(prechatKey) !== null,
          left,
        })
  if (shownForm?.kind !== kind) {
    formSlot.replaceChildren()
    shownForm = null
    if (kind !== null && config !== null) {
      const built = buildForm(kind, config.prechat, say, () => void submitForm(kind, built))
      formSlot.append(built.form)
      shownForm = { kind, built }
    }
  }
  composer.hidden = blocked || kind !== null
  if (kind === 'leave') notice.hidden = true
}

async function submitForm(kind: FormKind, f: BuiltForm): Promise<void> {
  if (config === null) return
  const v = f.values()
  const problem = formProblem(kind, config.prechat, v)
  if (problem !== null) {
    const field = problem.field === undefined ? '' : say(problem.field === 'body' ? 'message' : problem.field)
    f.say(say(problem.key, { field }))
    f.focus(problem.field)
    return
  }
  f.say(null)
  f.busy(true)
  const profile = { name: v.name || null, phone: v.phone || null, email: v.email || null }
  try {
    if (kind === 'prechat') {
      await call('POST', '/profile', profile)
      localStorage.setItem(prechatKey, '1')
    } else {
      await call('POST', '/leave-message', { client_id: newId(), ...profile, body: v.body })
      left = true
    }
    render()
    if (kind === 'prechat') input.focus()
  } catch (e) {
    f.say(say(e instanceof HttpError && e.status === 422 ? 'formInvalid' : e instanceof HttpError && e.status === 429 ? 'tooFast' : 'formFailed'))
  } finally {
    f.busy(false)
  }
}

function renderRating(): void {
  rating.replaceChildren()
  const conv = model.conversation
  if (rated) {
    rating.append(el('p', 'thanks', say('rateThanks')))
    rating.hidden = false
    return
  }
  rating.hidden = !model.wantsRating || conv === null
  if (rating.hidden || conv === null) return
  let chosen = 0
  rating.append(el('p', 'rate-title', say('rateTitle')))
  const stars = el('div', 'stars')
  const buttons: HTMLButtonElement[] = []
  for (let n = 1; n <= 5; n++) {
    const s = el('button', 'star', '★')
    s.type = 'button'
    s.setAttribute('aria-label', say('rateStar', { n }))
    s.dataset.rating = String(n)
    s.addEventListener('click', () => {
      chosen = n
      buttons.forEach((x, i) => x.classList.toggle('on', i < n))
      submit.disabled = false
    })
    buttons.push(s)
    stars.append(s)
  }
  const comment = el('textarea', 'rate-comment')
  comment.placeholder = say('rateComment')
  comment.maxLength = 1000
  const submit = el('button', 'rate-submit', say('rateSubmit'))
  submit.type = 'button'
  submit.disabled = true
  const error = el('p', 'rate-error')
  submit.addEventListener('click', () => {
    submit.disabled = true
    call('POST', '/csat', { conversation_id: conv.id, rating: chosen, comment: comment.value })
      .then(() => {
        rated = true
        renderRating()
      })
      .catch(() => {
        error.textContent = say('rateFailed')
        submit.disabled = false
      })
  })
  rating.append(stars, comment, submit, error)
}

// ---------------------------------------------------------------- sending

function newId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`
}

async function deliver(p: Pending): Promise<void> {
  p.state = 'sending'
  render()
  try {
    const r =
      p.file !== undefined
        ? await uploadFile<{ message_id: number }>(p.clientId, p.file)
        : await call<{ message_id: number }>('POST', '/messages', {
            client_id: p.clientId,
            body: p.body,
            page: { url: page?.url ?? null, language: navigator.language },
          })
    // The waiting request returns with it (the server wakes it), in every open tab.
    p.messageId = r.message_id
  } catch (e) {
    p.state = 'failed'
    if (e instanceof HttpError && e.status === 429) showNotice('tooFast')
    else if (e instanceof HttpError && e.status === 413) showNotice('fileTooLarge')
    else if (e instanceof HttpError && e.status === 415) showNotice('fileType')
  }
  render()
}

attachButton.addEventListener('click', () => fileInput.click())
fileInput.addEventListener('change', () => {
  const files = Array.from(fileInput.files ?? [])
  fileInput.value = ''
  if (token === '') return
  for (const f of files) {
    if (config !== null && f.size > config.max_file_bytes) {
      showNotice('fileTooLarge')
      continue
    }
    rated = false
    void deliver(model.add(newId(), f.name, f))
  }
})

for (const e of EMOJI) {
  const b = el('button', 'emoji', e)
  b.type = 'button'
  b.addEventListener('click', () => {
    const at = input.selectionStart ?? input.value.length
    input.setRangeText(e, at, input.selectionEnd ?? at, 'end')
    emojiPanel.hidden = true
    input.focus()
  })
  emojiPanel.append(b)
}
emojiButton.addEventListener('click', () => {
  emojiPanel.hidden = !emojiPanel.hidden
})

composer.addEventListener('submit', (e) => {
  e.preventDefault()
  const body = input.value.trim()
  if (body === '' || token === '') return
  input.value = ''
  rated = false
  clearTimeout(typingStop)
  if (typingSentAt !== 0) sayTyping(false)
  typingSentAt = 0
  void deliver(model.add(newId(), body))
})

// The visitor's typing, for the agent: said at most every 3 s while typing, and stopped after
// 4 s without a key or when the message is sent.
let typingSentAt = 0
let typingStop: ReturnType<typeof setTimeout> | undefined
function sayTyping(typing: boolean): void {
  if (token === '') return
  if (!sendFrame({ type: 'typing', typing })) call('POST', '/typing', { typing }).catch(() => undefined)
}
input.addEventListener('input', () => {
  const now = Date.now()
  if (input.value.trim() !== '' && now - typingSentAt > 3000) {
    typingSentAt = now
    sayTyping(true)
  }
  clearTimeout(typingStop)
  typingStop = setTimeout(() => {
    if (typingSentAt !== 0) sayTyping(false)
    typingSentAt = 0
  }, 4000)
})

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault()
    composer.requestSubmit()
  }
})

// ---------------------------------------------------------------- receiving

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The socket while it is open. */
let socket: WebSocket | null = null

/** Send a frame on the socket; false when there is no open socket (use the HTTP call). */
function sendFrame(frame: Record<string, unknown>): boolean {
  if (socket === null || socket.readyState !== WebSocket.OPEN) return false
  socket.send(JSON.stringify(frame))
  return true
}

/** The visitor sees the window (open, and the tab in view). */
const seen = (): boolean => opened && document.visibilityState === 'visible'

/** Tell the agents the replies shown were delivered, or read when the visitor sees them. */
function sendReceipt(): void {
  const r = model.receipt(seen())
  if (r === null) return
  if (!sendFrame({ type: 'receipt', ...r })) call('POST', '/receipts', r).catch(() => undefined)
}
document.addEventListener('visibilitychange', sendReceipt)

function received(p: Poll): void {
  const first = !loaded
  loaded = true
  if (model.merge(p) || first) render()
  showNotice(config !== null && !config.open ? 'offline' : null)
  if (shownForm?.kind === 'leave') notice.hidden = true
  sendReceipt()
}

type SocketEnd = 'closed' | 'refused' | 'token'

/** One socket, until it closes: `refused` when it never opened (a proxy may block WebSockets). */
function openSocket(): Promise<{ end: SocketEnd; lasted: number }> {
  return new Promise((resolve) => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    let ws: WebSocket
    try {
      ws = new WebSocket(`${scheme}//${location.host}/hooks/web/${inbox}/ws`)
    } catch {
      resolve({ end: 'refused', lasted: 0 })
      return
    }
    let openedAt = 0
    let badToken = false
    ws.onopen = () => {
      openedAt = Date.now()
      socket = ws
      ws.send(JSON.stringify({ type: 'hello', token, after: model.after }))
    }
    ws.onmessage = (e: MessageEvent) => {
      let d: { type?: string; code?: string } & Poll
      try {
        d = JSON.parse(String(e.data)) as typeof d
      } catch {
        return
      }
      if (d.type === 'news') received(d)
      else if (d.type === 'error' && d.code === 'visitor_token_invalid') badToken = true
      else if (d.type === 'error' && d.code === 'rate_limited') showNotice('tooFast')
    }
    ws.onclose = () => {
      if (socket === ws) socket = null
      const lasted = openedAt === 0 ? 0 : Date.now() - openedAt
      resolve({ end: badToken ? 'token' : openedAt === 0 ? 'refused' : 'closed', lasted })
    }
  })
}

/** Long polling for `ms` (where WebSockets do not get through). */
async function pollFor(ms: number): Promise<void> {
  const until = Date.now() + ms
  let delay = 1000
  let wait = 0
  while (Date.now() < until) {
    try {
      received(await call<Poll>('GET', `/messages?after=${model.after}&wait=${wait}`))
      delay = 1000
      wait = 25
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) {
        localStorage.removeItem(tokenKey)
        await startSession(null)
        continue
      }
      showNotice('reconnecting')
      await sleep(delay)
      delay = Math.min(delay * 2, 30_000)
    }
  }
}

/**
 * Receive for as long as the page lives: over the socket, reconnecting with back-off and
 * resuming after the last message; after two sockets in a row that never opened, by long
 * polling for five minutes before trying a socket again.
 */
async function receiveForever(): Promise<void> {
  let refused = 0
  let delay = 500
  for (;;) {
    if (refused >= 2 || typeof WebSocket !== 'function') {
      await pollFor(5 * 60_000)
      refused = 0
      continue
    }
    const { end, lasted } = await openSocket()
    if (end === 'token') {
      localStorage.removeItem(tokenKey)
      await startSession(null)
      continue
    }
    refused = end === 'refused' ? refused + 1 : 0
    // A socket that lived a while reconnects at once; one that keeps failing backs off.
    delay = lasted > 10_000 ? 500 : Math.min(delay * 2, 30_000)
    if (refused < 2) {
      showNotice('reconnecting')
      await sleep(delay)
    }
  }
}

async function startSession(identity: Identity | null): Promise<boolean> {
  const kept = localStorage.getItem(tokenKey)
  try {
    const r = await call<{ token: string; identified: boolean }>('POST', '/session', { token: kept, identity })
    token = r.token
    identified = r.identified
  } catch (e) {
    if (e instanceof HttpError && e.code === 'identity_invalid') {
      showNotice('identityInvalid')
      return startSession(null)
    }
    if (e instanceof HttpError && e.code === 'identity_required') {
      showNotice('identityRequired')
      blocked = true
      composer.hidden = true
      return false
    }
    throw e
  }
  localStorage.setItem(tokenKey, token)
  return true
}

// The parent's messages are listened to from the start: an `open` may come before the window
// is ready, and is then applied once it is.
let gotInit: ((init: Init) => void) | null = null
let ready = false
let openWhenReady = false
window.addEventListener('message', (e: MessageEvent) => {
  if (e.source !== window.parent) return
  const d = e.data as { source?: string; type?: string } & Init
  if (d?.source !== 'atrium-loader') return
  if (d.type === 'init') gotInit?.(d)
  else if (d.type === 'open' || d.type === 'close') {
    if (ready) setOpen(d.type === 'open')
    else openWhenReady = d.type === 'open'
  }
})

function waitForInit(): Promise<Init> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({}), 1500)
    gotInit = (init) => {
      clearTimeout(timer)
      resolve(init)
    }
    toParent({ type: 'ready' })
  })
}

/**
 * Invite the visitor (the inbox's first matching rule, after its delay), once per browser
 * session, unless they opened the window or are already chatting by then.
 */
function scheduleInvitation(url: string): void {
  const seenKey = `atrium.widget.${inbox}.seen`
  const now = Date.now()
  const returning = isReturning(Number(localStorage.getItem(seenKey) ?? 'NaN') || null, now)
  localStorage.setItem(seenKey, String(now))
  const invitedKey = `atrium.widget.${inbox}.invited`
  if (config === null || blocked || sessionStorage.getItem(invitedKey) !== null) return
  const rule = pickInvitation(config.invitations, url, returning)
  if (rule === null) return
  setTimeout(() => {
    const chatting = model.pending.length > 0 || (model.conversation !== null && model.conversation.status !== 'resolved')
    if (opened || chatting || sessionStorage.getItem(invitedKey) !== null) return
    sessionStorage.setItem(invitedKey, '1')
    invitedWith = rule.message
    inviteText.textContent = rule.message
    invite.hidden = false
    toParent({ type: 'resize', open: false, invite: true, position: config?.position ?? 'right' })
    render()
  }, Math.max(0, rule.delay_secs) * 1000)
}

function dismissInvitation(): void {
  invite.hidden = true
  toParent({ type: 'resize', open: opened, invite: false, position: config?.position ?? 'right' })
}

async function start(): Promise<void> {
  config = await call<Config>('GET', '/config')
  locale = pickLocale(config.language, navigator.languages)
  document.documentElement.lang = locale
  document.documentElement.style.setProperty('--atrium-color', config.color)
  document.body.classList.add(`at-${config.position}`)
  title.textContent = config.title || say('defaultTitle')
  document.title = title.textContent
  launcher.setAttribute('aria-label', say('open'))
  closeButton.setAttribute('aria-label', say('close'))
  input.placeholder = say('placeholder')
  sendButton.textContent = say('send')
  attachButton.setAttribute('aria-label', say('attach'))
  attachButton.title = say('attach')
  emojiButton.setAttribute('aria-label', say('emoji'))
  emojiButton.title = say('emoji')
  launcher.addEventListener('click', () => setOpen(true))
  inviteText.addEventListener('click', () => setOpen(true))
  inviteClose.addEventListener('click', dismissInvitation)
  inviteClose.setAttribute('aria-label', say('close'))
  closeButton.addEventListener('click', () => setOpen(false))
  render()
  ready = true
  if (openWhenReady) setOpen(true)
  const init = await waitForInit()
  page = init.page ?? {}
  toParent({ type: 'resize', open: opened, position: config.position })
  if (!(await startSession(init.identity ?? null))) return
  // Where the visitor is, for the agents (the host page's address, title and referrer).
  const url = page.url ?? ''
  if (/^https?:\/\//i.test(url)) {
    const referrer = /^https?:\/\//i.test(page.referrer ?? '') ? page.referrer : null
    call('POST', '/visits', { url: url.slice(0, 2048), title: (page.title ?? '').slice(0, 200) || null, referrer: referrer?.slice(0, 2048) ?? null }).catch(() => undefined)
  }
  scheduleInvitation(url)
  await receiveForever()
}

void start()
