/**
 * One contact's card as the panel and the contact page show it: loaded masked, revealed on an
 * explicit, audited request (with a reason) and masked again after a while or on leaving, and
 * edited (VIP flag, custom attributes) with `contacts:write`. The server answers edits with 204,
 * so the card is reloaded after each.
 */
import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import type { Id } from '../../api/types'
import type { ContactView } from '../../api/workspace-types'
import { workspaceApi } from '../../api/workspace'
import { withRevealed } from './contacts-model'

/** Revealed PII goes back to masked after this long. */
export const REVEAL_MS = 120_000

export function useContact(id: Ref<Id | null>) {
  const contact = ref<ContactView | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const revealedUntil = ref<number | null>(null)
  let generation = 0
  let maskTimer: number | undefined

  function clearReveal(): void {
    window.clearTimeout(maskTimer)
    revealedUntil.value = null
  }

  async function load(): Promise<void> {
    const gen = ++generation
    const current = id.value
    clearReveal()
    error.value = null
    if (current === null) {
      contact.value = null
      return
    }
    loading.value = true
    try {
      const answer = await workspaceApi.contact(current)
      if (gen === generation) contact.value = answer
    } catch (e) {
      if (gen === generation) {
        contact.value = null
        error.value = e
      }
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  /** Shows the PII in full (audited with `reason`); masks it again after {@link REVEAL_MS}. */
  async function reveal(reason: string): Promise<void> {
    const current = contact.value
    if (current === null) return
    const revealed = await workspaceApi.reveal(current.id, { reason })
    if (contact.value?.id !== current.id) return
    contact.value = withRevealed(contact.value, revealed)
    window.clearTimeout(maskTimer)
    revealedUntil.value = Date.now() + REVEAL_MS
    maskTimer = window.setTimeout(() => void hide(), REVEAL_MS)
  }

  /** Masks the card again (reloads the masked view). */
  async function hide(): Promise<void> {
    clearReveal()
    await load()
  }

  /** Saves a change, then reloads the card (still revealed if it was: the edit does not mask). */
  async function update(body: { vip?: boolean; attributes?: Record<string, unknown>; name?: string }): Promise<void> {
    const current = contact.value
    if (current === null) return
    await workspaceApi.updateContact(current.id, body)
    const wasRevealed = revealedUntil.value !== null
    const fresh = await workspaceApi.contact(current.id)
    if (contact.value?.id !== current.id) return
    contact.value = wasRevealed && contact.value !== null ? { ...fresh, ...pii(contact.value) } : fresh
  }

  watch(id, () => void load(), { immediate: true })
  onBeforeUnmount(() => {
    generation += 1
    window.clearTimeout(maskTimer)
  })

  return { contact, loading, error, revealedUntil, reload: load, reveal, hide, update }
}

function pii(c: ContactView): Partial<ContactView> {
  return { name: c.name, phone: c.phone, email: c.email, id_number: c.id_number, address: c.address, masked: c.masked }
}
