/**
 * The quiet refresh of conversation lists the socket does not keep current.
 *
 * The server streams the activity of a conversation someone holds (new messages, delivery states)
 * only to its assignee, the supervisors (`conversations:assign`) and the connections watching it;
 * changes of place (new, queued, assigned, resolved) still reach everyone in scope. So for an
 * agent without `conversations:assign` the "my teams" and "all" tabs would keep showing the last
 * message colleagues' conversations had when the list loaded. Those two tabs are reloaded every
 * {@link QUIET_REFRESH_MS} instead, without a spinner; this module decides when.
 *
 * A round is skipped (and the next one waits a whole interval again) while {@link
 * QuietRefreshOptions.paused} says so — a page load in flight, the browser tab hidden — and
 * {@link QuietRefresh.wake} catches up on a skipped round at once (the tab shown again). Rounds
 * never overlap: the next interval starts when a refresh has settled. A failed refresh is left
 * to the next round.
 */
import type { ConversationListView } from '../../api/workspace-types'

export const QUIET_REFRESH_MS = 30_000

/** Whether the list of `view` needs quiet refreshing for a user holding `held`. */
export function needsQuietRefresh(view: ConversationListView, held: ReadonlySet<string>): boolean {
  return (view === 'teams' || view === 'all') && !held.has('conversations:assign')
}

export interface QuietRefreshOptions {
  /** Loads the fresh rows and merges them; a rejection is ignored (the next round retries). */
  refresh: () => Promise<void>
  /** While true, rounds are skipped: a page load is in flight, or nobody can see the list. */
  paused: () => boolean
  /** Between rounds; {@link QUIET_REFRESH_MS} unless a test says otherwise. */
  intervalMs?: number
}

export interface QuietRefresh {
  /** (Re)starts the rounds: the first comes one interval from now. */
  start(): void
  /** Stops the rounds; a refresh in flight settles but schedules nothing. */
  stop(): void
  /** Runs a skipped round now, if one was skipped and nothing pauses it any more. */
  wake(): void
  readonly running: boolean
}

export function createQuietRefresh(options: QuietRefreshOptions): QuietRefresh {
  const interval = options.intervalMs ?? QUIET_REFRESH_MS
  let timer: ReturnType<typeof setTimeout> | null = null
  /** The number of the current start; 0 when stopped (a settling round of an old start stops there). */
  let run = 0
  let starts = 0
  let inFlight = false
  let missed = false

  function clear(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  function schedule(r: number): void {
    clear()
    if (run === r) timer = setTimeout(() => void round(r), interval)
  }

  async function round(r: number): Promise<void> {
    timer = null
    if (run !== r) return
    if (inFlight || options.paused()) {
      missed = true
      schedule(r)
      return
    }
    missed = false
    inFlight = true
    try {
      await options.refresh()
    } catch {
      // Quiet: the rows stay as they are and the next round tries again.
    } finally {
      inFlight = false
    }
    schedule(r)
  }

  const self: QuietRefresh = {
    start() {
      self.stop()
      starts += 1
      run = starts
      schedule(run)
    },
    stop() {
      run = 0
      missed = false
      clear()
    },
    wake() {
      if (run === 0 || !missed || inFlight || options.paused()) return
      clear()
      void round(run)
    },
    get running() {
      return run !== 0
    },
  }
  return self
}
