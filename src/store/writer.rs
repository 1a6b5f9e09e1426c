//! The group-commit writer: one thread owns the only write connection.
//!
//! Callers send jobs (closures that run SQL) through a queue. The writer takes the first waiting
//! job, then every other job already waiting (up to `max_batch`), runs each inside its own
//! savepoint within one transaction, commits once, and only then answers every job. A job that
//! fails rolls back its savepoint alone and gets its own error; a failed commit fails every job of
//! the batch. So an answer of `Ok` means the write is durable (with `synchronous=FULL`, on disk),
//! and concurrent writers share one fsync instead of paying one each.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use prometheus::{Histogram, IntGauge};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::error::{Error, Result};

/// Called after the batch's commit with its outcome; sends the job's answer.
type Completion = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;
/// A job runs in its savepoint (or is told why it cannot run) and returns whether it succeeded
/// and what to do once the commit outcome is known.
type JobFn = Box<dyn FnOnce(Result<&Connection, &rusqlite::Error>) -> (bool, Completion) + Send>;

enum Msg {
    Job(JobFn),
    Shutdown(oneshot::Sender<()>),
}

/// Metrics the writer reports (batch sizes, queue depth, commit time).
#[derive(Clone)]
pub struct WriterMetrics {
    pub batch_size: Histogram,
    pub queue_depth: IntGauge,
    pub commit_seconds: Histogram,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: Sender<Msg>,
    /// Its `queue_depth` gauge is also what [`Writer::queue_depth`] reads.
    metrics: WriterMetrics,
    thread: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl Writer {
    /// Start the writer thread on `conn` (already configured and migrated).
    pub fn start(conn: Connection, max_batch: usize, metrics: WriterMetrics) -> Result<Writer> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let m = metrics.clone();
        let handle = std::thread::Builder::new()
            .name("atrium-writer".into())
            .spawn(move || run(conn, rx, max_batch.max(1), &m))
            .map_err(|e| Error::Join(e.to_string()))?;
        Ok(Writer {
            tx,
            metrics,
            thread: Arc::new(std::sync::Mutex::new(Some(handle))),
        })
    }

    fn enqueue<T, F>(&self, job: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (answer, rx) = oneshot::channel::<Result<T>>();
        let job: JobFn = Box::new(move |conn: Result<&Connection, &rusqlite::Error>| {
            let outcome = match conn {
                Ok(c) => job(c),
                Err(e) => Err(Error::Sqlite(clone_sqlite_error(e))),
            };
            let ok = outcome.is_ok();
            let completion: Completion = Box::new(move |commit_err| {
                let result = match (outcome, commit_err) {
                    (Ok(v), None) => Ok(v),
                    (Ok(_), Some(e)) => Err(Error::Sqlite(clone_sqlite_error(e))),
                    (Err(e), _) => Err(e),
                };
                let _ = answer.send(result);
            });
            (ok, completion)
        });
        self.metrics.queue_depth.inc();
        self.tx.send(Msg::Job(job)).map_err(|_| Error::WriterGone)?;
        Ok(rx)
    }

    /// Run `job` in the next batch; resolves after the batch commits.
    pub async fn write<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.enqueue(job)?.await.map_err(|_| Error::WriterGone)?
    }

    /// Same as [`Writer::write`] for synchronous callers (CLI, benchmarks, blocking threads).
    /// Must not be called on an async worker thread.
    pub fn write_blocking<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.enqueue(job)?
            .blocking_recv()
            .map_err(|_| Error::WriterGone)?
    }

    /// Jobs waiting for the writer.
    pub fn queue_depth(&self) -> i64 {
        self.metrics.queue_depth.get()
    }

    /// Finish every queued job, checkpoint the WAL, close the connection and stop the thread.
    pub fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(done)).is_ok() {
            let _ = wait.blocking_recv();
        }
        let handle = self.thread.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// rusqlite errors are not `Clone`; keep the code and message for every job of a failed batch.
fn clone_sqlite_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            rusqlite::Error::SqliteFailure(*code, msg.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(format!("commit failed: {other}")),
        ),
    }
}

fn run(mut conn: Connection, rx: Receiver<Msg>, max_batch: usize, metrics: &WriterMetrics) {
    let mut batch: Vec<JobFn> = Vec::with_capacity(max_batch);
    let mut shutdown: Option<oneshot::Sender<()>> = None;
    while shutdown.is_none() {
        match rx.recv() {
            Ok(Msg::Job(j)) => batch.push(j),
            Ok(Msg::Shutdown(s)) => shutdown = Some(s),
            Err(_) => break,
        }
        while batch.len() < max_batch && shutdown.is_none() {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Shutdown(s)) => shutdown = Some(s),
                Err(_) => break,
            }
        }
        // On shutdown, drain every job that was queued before it.
        if shutdown.is_some() {
            while let Ok(Msg::Job(j)) = rx.try_recv() {
                batch.push(j);
            }
        }
        if !batch.is_empty() {
            // The queue depth counts jobs waiting, not the batch being committed.
            let n = i64::try_from(batch.len()).unwrap_or(0);
            metrics.queue_depth.sub(n);
            run_batch(&mut conn, &mut batch, metrics);
        }
    }
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
        tracing::warn!(error = %e, "wal checkpoint at shutdown failed");
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the database failed");
    }
    tracing::debug!("database writer stopped");
    if let Some(s) = shutdown {
        let _ = s.send(());
    }
}

fn run_batch(conn: &mut Connection, batch: &mut Vec<JobFn>, metrics: &WriterMetrics) {
    let started = crate::clock::instant();
    #[expect(clippy::cast_precision_loss, reason = "batch sizes are small")]
    metrics.batch_size.observe(batch.len() as f64);
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for job in batch.drain(..) {
                // Never run a job outside a transaction: answer each with the error.
                let (_, c) = job(Err(&e));
                c(Some(&e));
            }
            return;
        }
    };
    let mut jobs = batch.drain(..);
    for job in jobs.by_ref() {
        // Cached statements: a savepoint costs two prepared steps per job, no parsing.
        if let Err(e) = tx
            .prepare_cached("SAVEPOINT job")
            .and_then(|mut s| s.execute([]))
        {
            let (_, c) = job(Err(&e));
            completions.push(c);
            continue;
        }
        let (ok, completion) = job(Ok(&tx));
        let end = if ok {
            tx.prepare_cached("RELEASE job")
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
        } else {
            tx.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "savepoint end failed");
        }
        completions.push(completion);
        // After some errors (disk full, I/O error, out of memory) SQLite rolls the whole
        // transaction back by itself: nothing of this batch is written, and a later job must
        // not run outside it (its RELEASE would commit it alone).
        if tx.is_autocommit() {
            let e = rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back by SQLite (disk full or I/O error?)".into()),
            );
            tracing::error!(
                jobs = completions.len(),
                "write transaction rolled back by SQLite"
            );
            for job in jobs.by_ref() {
                let (_, c) = job(Err(&e));
                completions.push(c);
            }
            completions.into_iter().for_each(|c| c(Some(&e)));
            return;
        }
    }
    drop(jobs);
    let commit = tx.commit();
    metrics
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    match &commit {
        Ok(()) => completions.into_iter().for_each(|c| c(None)),
        Err(e) => {
            tracing::error!(error = %e, jobs = completions.len(), "commit failed");
            completions.into_iter().for_each(|c| c(Some(e)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(max_batch: usize) -> (tempfile::TempDir, Writer, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER UNIQUE);")
            .unwrap();
        let m = crate::metrics::build().unwrap();
        (dir, Writer::start(c, max_batch, m.writer).unwrap(), path)
    }

    #[test]
    fn a_failing_job_rolls_back_alone_and_the_batch_commits() {
        let (_d, w, path) = writer(64);
        let threads: Vec<_> = (0..40)
            .map(|i| {
                let w = w.clone();
                std::thread::spawn(move || {
                    // Job 7 inserts two rows and then violates the UNIQUE constraint.
                    w.write_blocking(move |c| {
                        if i == 7 {
                            c.execute("INSERT INTO t (v) VALUES (1000)", [])?;
                            c.execute("INSERT INTO t (v) VALUES (0)", [])?;
                            c.execute("INSERT INTO t (v) VALUES (0)", [])?;
                        } else {
                            c.execute("INSERT INTO t (v) VALUES (?1)", [i + 1])?;
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert!(results[7].is_err());
        w.shutdown();
        let c = Connection::open(&path).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            n, 39,
            "every other job committed; the failed job left nothing"
        );
        let leaked: i64 = c
            .query_row("SELECT count(*) FROM t WHERE v IN (0, 1000)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(leaked, 0);
    }

    #[test]
    fn shutdown_finishes_queued_jobs_then_refuses_new_ones() {
        let (_d, w, path) = writer(4);
        let rx: Vec<_> = (0..100)
            .map(|i| {
                w.enqueue(move |c| Ok(c.execute("INSERT INTO t (v) VALUES (?1)", [i])?))
                    .unwrap()
            })
            .collect();
        w.shutdown();
        for r in rx {
            assert_eq!(r.blocking_recv().unwrap().unwrap(), 1);
        }
        assert!(matches!(
            w.write_blocking(|_| Ok(())),
            Err(Error::WriterGone)
        ));
        let c = Connection::open(&path).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 100);
    }
}
