//! WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs inside a commit on the connection that crosses the
//! threshold: the writer would copy pages back into the database file and fsync it while every
//! waiting job waits. The writer connection has it off; this thread, with a connection of its
//! own, checkpoints passively (never blocking the writer or readers) a few times a second; with
//! nothing new in the WAL that is a no-op. The writer still truncates the WAL at shutdown.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::{Error, Result};

/// How often a checkpoint runs.
const INTERVAL: Duration = Duration::from_millis(250);

pub struct Checkpointer {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(db: &Path) -> Result<Checkpointer> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, rx) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("atrium-checkpoint".into())
            .spawn(move || {
                loop {
                    match rx.recv_timeout(INTERVAL) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    // Answers (busy, WAL frames, frames checkpointed); a passive checkpoint
                    // stops where a reader still needs the WAL and goes on next time.
                    if let Err(e) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                    {
                        tracing::warn!(error = %e, "wal checkpoint failed");
                    }
                }
            })
            .map_err(|e| Error::Join(e.to_string()))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
