/**
 * The emoji picker's built-in set: common emoji agents use with customers, shipped with the page
 * (no emoji data or images are fetched; the system font draws them).
 */
export const EMOJI: readonly string[] = [
  '😀', '😃', '😄', '😁', '😊', '🙂', '😉', '😍',
  '😘', '😋', '😎', '🤗', '🤔', '😐', '😅', '😂',
  '🤣', '😢', '😭', '😮', '😱', '😡', '😴', '🙄',
  '😇', '🥰', '🤝', '👍', '👎', '👌', '✌️', '🙏',
  '👏', '💪', '👋', '🙌', '❤️', '💔', '💯', '✨',
  '🎉', '🎁', '🌹', '🌞', '⭐', '🔥', '💡', '📌',
  '✅', '❌', '⚠️', '❓', '❗', '⏰', '📞', '📧',
  '📦', '🚚', '💰', '💳', '🏦', '📄', '📅', '🔒',
]
