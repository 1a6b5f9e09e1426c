/**
 * The composer's attachments: each file uploads at once (with progress) to
 * `POST /attachments?conversation_id=`, and a refused one shows why in words (too large, type
 * not allowed, extension not matching the content). Sent messages carry the finished ones.
 */
import { computed, reactive } from 'vue'
import type { Id } from '../../api/types'
import type { AttachmentView } from '../../api/workspace-types'
import { workspaceApi } from '../../api/workspace'
import { workspaceErrorText } from './errors'

export interface Upload {
  key: number
  name: string
  size: number
  progress: number
  state: 'uploading' | 'done' | 'error'
  error: string
  attachment: AttachmentView | null
  abort: AbortController
}

export function useUploads(conversationId: () => Id) {
  const uploads = reactive<Upload[]>([])
  let uploadKey = 0
  const uploading = computed(() => uploads.some((u) => u.state === 'uploading'))
  const ready = computed(() =>
    uploads.flatMap((u) => (u.state === 'done' && u.attachment !== null ? [u.attachment] : [])),
  )

  function upload(file: File): void {
    const entry = reactive<Upload>({
      key: ++uploadKey,
      name: file.name,
      size: file.size,
      progress: 0,
      state: 'uploading',
      error: '',
      attachment: null,
      abort: new AbortController(),
    })
    uploads.push(entry)
    workspaceApi
      .uploadAttachment(
        conversationId(),
        file,
        (fraction) => (entry.progress = Math.round(fraction * 100)),
        entry.abort.signal,
      )
      .then((attachment) => {
        entry.attachment = attachment
        entry.state = 'done'
        entry.progress = 100
      })
      .catch((error: unknown) => {
        entry.state = 'error'
        entry.error = workspaceErrorText(error)
      })
  }

  function remove(key: number): void {
    const index = uploads.findIndex((u) => u.key === key)
    if (index === -1) return
    uploads[index]?.abort.abort()
    uploads.splice(index, 1)
  }

  /** Forgets every upload (sent, or the conversation changed: unfinished ones are aborted). */
  function clear(): void {
    for (const u of uploads) u.abort.abort()
    uploads.splice(0, uploads.length)
  }

  return { uploads, uploading, ready, upload, remove, clear }
}
