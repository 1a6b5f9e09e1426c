/**
 * Recovery codes as the user keeps them: shown in two columns on screen, copied or saved as a
 * small text file that says what they are for.
 */

/** Splits the codes into rows of `columns` for display. */
export function codeRows(codes: readonly string[], columns = 2): string[][] {
  const rows: string[][] = []
  for (let i = 0; i < codes.length; i += columns) rows.push(codes.slice(i, i + columns))
  return rows
}

export interface RecoveryFileText {
  /** First line, e.g. "Atrium recovery codes". */
  title: string
  /** "Account: li.na" */
  account: string
  /** "Created: 2026-…" */
  created: string
  /** What to do with them. */
  advice: string
}

/**
 * The text of the saved file (and of the clipboard copy): a header, then the codes numbered one
 * per line, CRLF-free so every system shows it alike.
 */
export function recoveryCodesText(codes: readonly string[], text: RecoveryFileText): string {
  const width = String(codes.length).length
  const lines = [text.title, text.account, text.created, '', text.advice, '']
  codes.forEach((code, index) => {
    lines.push(`${String(index + 1).padStart(width, ' ')}. ${code}`)
  })
  return `${lines.join('\n')}\n`
}

/** `atrium-recovery-codes-USERNAME.txt`, with only safe characters in the file name. */
export function recoveryCodesFilename(username: string): string {
  const safe = username.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '')
  return safe.length === 0 ? 'atrium-recovery-codes.txt' : `atrium-recovery-codes-${safe}.txt`
}
