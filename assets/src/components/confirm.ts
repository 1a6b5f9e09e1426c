/** A translated yes/no question before a consequential action; resolves `true` on yes. */
import { ElMessageBox } from 'element-plus'
import { i18n } from '../i18n'

export async function confirmAction(
  message: string,
  title: string,
  confirmText: string,
  danger = false,
): Promise<boolean> {
  const { t } = i18n.global
  try {
    await ElMessageBox.confirm(message, title, {
      confirmButtonText: confirmText,
      cancelButtonText: t('common.cancel'),
      type: danger ? 'warning' : 'info',
      confirmButtonClass: danger ? 'el-button--danger' : undefined,
      autofocus: false,
    })
    return true
  } catch {
    return false
  }
}
