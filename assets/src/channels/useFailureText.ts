import { useI18n } from 'vue-i18n'
import { explainFailure } from './wechat'

/**
 * A delivery failure reason in the reader's language when it is a WeChat or WeCom code this
 * client explains (`微信 45015：…`, `企业微信 fail_type 4：…`), else as the server wrote it.
 */
export function useFailureText(): (reason: string) => string {
  const { t } = useI18n()
  return (reason) => {
    const known = explainFailure(reason)
    return known === null ? reason : t(known.label, { code: known.code, text: t(known.key) })
  }
}
