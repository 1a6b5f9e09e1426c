/**
 * Direction overrides, isolates and invisible characters can make a message read as something it
 * is not (`订单\u202E3pm.exe` shows as `订单exe.mp3`). Wherever customer or agent text is shown,
 * they are replaced by a visible marker such as `⟨U+202E⟩`, so the text stays what was written
 * and nobody is deceived. Joiners used inside emoji (U+200C, U+200D) are left alone.
 */
const TRICKS = /[\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/gu

export function revealControls(text: string): string {
  return text.replace(TRICKS, (c) => `⟨U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`)
}
