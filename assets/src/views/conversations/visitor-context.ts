/**
 * How the contact panel words a website visitor's context (`GET /conversations/{id}/visitor`):
 * the device line, the search engine's name, the host of an address, page labels and times.
 *
 * Page addresses and titles, and the referrer, are whatever the visitor's browser reported:
 * untrusted text. They are only ever shown as text (interpolation, never `v-html`, never an
 * `href` — a `javascript:` address or a look-alike phishing page must not be one click away),
 * with direction overrides and invisible characters made visible ({@link revealControls}).
 */
import { SEARCH_ENGINES, VISITOR_DEVICE_KINDS, type VisitorDevice, type VisitorPage } from '../../api/workspace-types'
import { revealControls } from '../../text/controls'

/** Pages listed before "show all". */
export const PAGES_SHOWN = 10

/** The message key of a device kind (an unknown kind is "other"). */
export function deviceKindKey(kind: string): string {
  const known = (VISITOR_DEVICE_KINDS as readonly string[]).includes(kind) ? kind : 'other'
  return `ws.visitor.device.${known}`
}

/** The message key of a search engine's name, or `null` for one the client does not know. */
export function engineKey(engine: string): string | null {
  return (SEARCH_ENGINES as readonly string[]).includes(engine) ? `ws.visitor.engine.${engine}` : null
}

/**
 * `手机 · iOS 17.4 · WeChat 8.0.49`: the translated kind, then the system and the browser where
 * known.
 */
export function deviceLine(device: VisitorDevice, kindName: string): string {
  return [kindName, device.os, device.browser]
    .map((part) => revealControls(part.trim()))
    .filter((part) => part.length > 0)
    .join(' · ')
}

/**
 * The host of an address (`www.baidu.com`, with the port when there is one), or `null` when it is
 * not an http(s) address. International names stay in their `xn--` form, which look-alike
 * characters cannot fake.
 */
export function hostOf(address: string): string | null {
  let url: URL
  try {
    url = new URL(address.trim())
  } catch {
    return null
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host.length === 0) return null
  return url.host
}

/** An address as shown: as written, with hidden characters made visible. */
export function shownUrl(address: string): string {
  return revealControls(address)
}

/** A page as listed: its title, or its address when it has none. */
export function pageLabel(page: VisitorPage): string {
  const title = page.title?.trim() ?? ''
  return revealControls(title.length > 0 ? title : page.url)
}

/** The pages to list: the newest {@link PAGES_SHOWN} unless all were asked for. */
export function shownPages<T>(pages: readonly T[], all: boolean): readonly T[] {
  return all ? pages : pages.slice(0, PAGES_SHOWN)
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string, withDate: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${withDate ? 'date' : 'time'}`
  let f = formatters.get(key)
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, {
      ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    })
    formatters.set(key, f)
  }
  return f
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/**
 * When a page was opened: `14:05` on the day of `now`, else with the date (`2026/03/01 14:05`);
 * `''` for a missing time.
 */
export function visitTime(ms: number | null | undefined, now: number, locale: string): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return ''
  const at = new Date(ms)
  return formatter(locale, !sameDay(at, new Date(now))).format(at)
}

/** The first visit's date and time (`2026/03/01 14:05`); `''` for a missing time. */
export function visitDateTime(ms: number | null | undefined, locale: string): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return ''
  return formatter(locale, true).format(new Date(ms))
}
