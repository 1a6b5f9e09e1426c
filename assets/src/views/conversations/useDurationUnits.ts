import { computed, type ComputedRef } from 'vue'
import { useI18n } from 'vue-i18n'
import type { DurationUnits } from './waiting'

/** The duration unit words of the interface language ("5m" / "5分"). */
export function useDurationUnits(): ComputedRef<DurationUnits> {
  const { t, locale } = useI18n()
  return computed(() => {
    void locale.value // re-create when the language changes
    return {
      days: (n: number) => t('ws.time.days', { n }),
      hours: (n: number) => t('ws.time.hours', { n }),
      minutes: (n: number) => t('ws.time.minutes', { n }),
      seconds: (n: number) => t('ws.time.seconds', { n }),
    }
  })
}
