/**
 * A short chime generated with the Web Audio API (no audio file to ship or fetch). Browsers only
 * let a page make sound after a user gesture, so {@link unlockAudio} is called from one (the
 * first click or key press in the workspace); until then the chime is silently skipped.
 */
import type { AttentionKind } from './attention'

let context: AudioContext | null = null

/** Creates or resumes the audio context; call from a user gesture. */
export function unlockAudio(): void {
  if (typeof window === 'undefined' || typeof window.AudioContext !== 'function') return
  try {
    context ??= new window.AudioContext()
    if (context.state === 'suspended') void context.resume()
  } catch {
    context = null
  }
}

/** Notes (Hz) of each chime: rising for new work, a double tap for mentions, falling for a wait. */
const CHIMES: Record<AttentionKind, readonly number[]> = {
  new_conversation: [660, 880],
  assigned: [523, 784],
  mention: [880, 880],
  overdue: [784, 659, 523],
}

const NOTE_S = 0.12
const GAP_S = 0.05
const VOLUME = 0.15

export function playChime(kind: AttentionKind): void {
  const ctx = context
  if (ctx === null || ctx.state !== 'running') return
  let at = ctx.currentTime + 0.01
  for (const frequency of CHIMES[kind]) {
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.type = 'sine'
    osc.frequency.value = frequency
    // Short attack and exponential release: a soft "ding" instead of a click.
    gain.gain.setValueAtTime(0.0001, at)
    gain.gain.exponentialRampToValueAtTime(VOLUME, at + 0.01)
    gain.gain.exponentialRampToValueAtTime(0.0001, at + NOTE_S)
    osc.connect(gain)
    gain.connect(ctx.destination)
    osc.start(at)
    osc.stop(at + NOTE_S + 0.02)
    at += NOTE_S + GAP_S
  }
}
