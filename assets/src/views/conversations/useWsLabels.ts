/**
 * Names the workspace shows for values that come from the server: a contact without a name, a
 * channel kind, an agent status. Unknown values (a channel added to the server later) show as
 * they are rather than as a raw message key.
 */
import { useI18n } from 'vue-i18n'
import type { Id } from '../../api/types'
import { CHANNEL_KINDS } from '../../api/workspace-types'

/** The last six digits of an id, for a label ("…778944"); short ids as they are. */
export function shortId(id: Id): string {
  const text = String(id)
  return text.length > 6 ? `…${text.slice(-6)}` : text
}

export function useWsLabels() {
  const { t } = useI18n()

  /**
   * The (masked) name, or "访客 …778944" for a contact without one: ids are long, the last six
   * digits tell visitors apart in a list (the card shows the whole id).
   */
  function contactName(contact: { id: Id; name: string | null }): string {
    const name = contact.name?.trim()
    return name !== undefined && name.length > 0 ? name : t('ws.contact.anonymous', { id: shortId(contact.id) })
  }

  function channelName(kind: string): string {
    return (CHANNEL_KINDS as readonly string[]).includes(kind) ? t(`ws.channel.${kind}`) : kind
  }

  /** "官网（网页）" for an inbox; "渠道已删除" when the conversation lost its inbox. */
  function inboxName(inbox: { name: string; channel: string } | null): string {
    if (inbox === null) return t('ws.conversation.noInbox')
    return t('ws.conversation.inboxChannel', { inbox: inbox.name, channel: channelName(inbox.channel) })
  }

  return { contactName, channelName, inboxName }
}
