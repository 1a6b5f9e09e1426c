/**
 * The single vue-i18n instance shared by both entries (workspace and API docs).
 *
 * zh-CN is the default; the user's choice is kept in localStorage under `atrium.locale` and
 * mirrored into `<html lang>`. Messages are precompiled at build time (see vite.config.ts), so
 * the runtime-only vue-i18n build never compiles a message in the browser — required by the CSP,
 * which forbids `unsafe-eval`.
 */
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export type MessageSchema = typeof zhCN

export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'

const STORAGE_KEY = 'atrium.locale'

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

/** The stored choice, or zh-CN. Storage can be unavailable (privacy mode); that is not an error. */
function storedLocale(): AppLocale {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY)
    return isAppLocale(value) ? value : DEFAULT_LOCALE
  } catch {
    return DEFAULT_LOCALE
  }
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN, en },
  missingWarn: import.meta.env.DEV,
  fallbackWarn: import.meta.env.DEV,
})

/** The locale currently shown. */
export function currentLocale(): AppLocale {
  return i18n.global.locale.value
}

/** Switches the interface language, remembers it, and updates `<html lang>`. */
export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  try {
    window.localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    // Storage unavailable: the choice lasts until the page is reloaded.
  }
  document.documentElement.lang = locale
}

/** Sets `<html lang>` from the initial locale; called once by each entry at start-up. */
export function applyDocumentLocale(): void {
  document.documentElement.lang = currentLocale()
}
