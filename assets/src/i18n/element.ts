// Element Plus's own strings (pagination, empty states, date pickers…) in the interface language.
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import en from 'element-plus/es/locale/lang/en'
import type { Language } from 'element-plus/es/locale'

export function elementLocale(locale: string): Language {
  return locale === 'en' ? en : zhCn
}
