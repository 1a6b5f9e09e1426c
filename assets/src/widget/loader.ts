/**
 * `widget.js`: the snippet host sites embed —
 * `<script src="https://HOST/widget.js" data-inbox="ID" async></script>`.
 *
 * It only places Atrium's chat window (an iframe from Atrium's own origin) in a corner and sizes
 * it; everything else happens inside the iframe, out of the host page's reach. It makes no
 * request itself and loads nothing from anywhere else. A signed-in user of the host site is passed
 * on with `data-user-id`, `data-user-signature` (hex HMAC-SHA256 of the id under the inbox's
 * identity secret, computed by the host site's server) and optionally `data-user-name`,
 * `data-user-email`, `data-user-phone`; Atrium refuses a wrong signature.
 *
 * `window.AtriumWidget.open()` / `.close()` open and close the window from the host page.
 */
;(() => {
  const w = window as Window & { AtriumWidget?: { open(): void; close(): void } }
  const script = document.currentScript as HTMLScriptElement | null
  if (script === null || w.AtriumWidget !== undefined) return
  const inbox = script.dataset.inbox ?? ''
  if (!/^\d{1,19}$/.test(inbox)) {
    console.warn('Atrium widget: data-inbox must be the inbox id')
    return
  }
  const origin = new URL(script.src, location.href).origin
  const d = script.dataset
  const identity =
    d.userId !== undefined && d.userSignature !== undefined
      ? { user_id: d.userId, signature: d.userSignature, name: d.userName, email: d.userEmail, phone: d.userPhone }
      : null

  const frame = document.createElement('iframe')
  frame.src = `${origin}/widget/${inbox}`
  // Read out by screen readers: in the host page's language (Chinese unless it says English).
  frame.title = /^en\b/i.test(document.documentElement.lang) ? 'Chat with us' : '在线客服'
  frame.setAttribute('allow', 'clipboard-write')
  frame.setAttribute('data-atrium-widget', inbox)
  const s = frame.style
  s.position = 'fixed'
  s.bottom = '0'
  s.border = '0'
  s.zIndex = '2147483000'
  s.background = 'transparent'
  s.colorScheme = 'normal'
  let open = false
  let inviting = false
  let side: 'left' | 'right' = 'right'

  function layout(): void {
    const mobile = window.innerWidth < 600
    s.left = side === 'left' ? '0' : ''
    s.right = side === 'right' ? '0' : ''
    if (!open) {
      // Closed: the button, with room above it for an invitation while one shows.
      s.width = inviting ? `${Math.min(340, window.innerWidth)}px` : '92px'
      s.height = inviting ? '240px' : '92px'
      s.maxHeight = ''
    } else if (mobile) {
      s.width = '100%'
      s.height = '100%'
      s.maxHeight = '100dvh'
    } else {
      s.width = '400px'
      s.height = `${Math.min(680, window.innerHeight - 24)}px`
      s.maxHeight = ''
      s.bottom = '12px'
      s.left = side === 'left' ? '12px' : ''
      s.right = side === 'right' ? '12px' : ''
      return
    }
    s.bottom = '0'
  }

  function post(message: Record<string, unknown>): void {
    frame.contentWindow?.postMessage({ source: 'atrium-loader', ...message }, origin)
  }

  window.addEventListener('message', (e: MessageEvent) => {
    if (e.origin !== origin || e.source !== frame.contentWindow) return
    const m = e.data as { source?: string; type?: string; open?: boolean; invite?: boolean; position?: string }
    if (m?.source !== 'atrium-widget') return
    if (m.type === 'ready') {
      post({ type: 'init', identity, page: { url: location.href, referrer: document.referrer, title: document.title } })
    } else if (m.type === 'resize') {
      open = m.open === true
      inviting = m.invite === true
      side = m.position === 'left' ? 'left' : 'right'
      layout()
    }
  })
  window.addEventListener('resize', layout)
  layout()
  w.AtriumWidget = { open: () => post({ type: 'open' }), close: () => post({ type: 'close' }) }
  // The frame lives in a shadow root: the host page's selectors (`iframe { … !important }`) do
  // not reach it.
  const holder = document.createElement('div')
  holder.setAttribute('data-atrium-widget-host', inbox)
  holder.attachShadow({ mode: 'open' }).append(frame)
  const mount = (): void => void document.body.append(holder)
  if (document.body !== null) mount()
  else document.addEventListener('DOMContentLoaded', mount)
})()
