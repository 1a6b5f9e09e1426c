//! SQLite storage: migrations, the group-commit writer, the read pool and one repository module
//! per aggregate.
//!
//! The database runs in WAL mode. Exactly one connection writes ([`writer`]); reads use a pool
//! of read-only connections. Every call here blocks, so async code goes through
//! [`Store::read`]/[`Store::write`], which hop to the writer thread or the blocking pool.

pub mod agents;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod canned;
pub mod checkpoint;
pub mod contacts;
pub mod conversations;
pub mod csat;
mod error;
pub mod identities;
pub mod identity;
pub mod inboxes;
pub mod keys;
pub mod messages;
pub mod migrations;
pub mod outbox;
pub mod visits;
pub mod webhooks;
pub mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

use crate::clock::SharedClock;
use crate::config::{Config, Synchronous};
use crate::crypto::{KeyProvider, Keyring};
use crate::domain::ids::IdGenerator;

pub use error::{Error, Result};
pub use writer::{Writer, WriterMetrics};

/// File names inside the data directory.
pub const DB_FILE: &str = "atrium.db";
pub const LOCK_FILE: &str = "atrium.lock";
pub const BACKUP_DIR: &str = "backups";

/// What [`Store::open`] needs besides the configuration.
pub struct OpenOptions<'a> {
    pub config: &'a Config,
    pub keys: &'a dyn KeyProvider,
    pub clock: SharedClock,
    pub metrics: WriterMetrics,
}

/// The open database: writer, read pool, unlocked keyring and id generator.
pub struct Store {
    writer: Writer,
    checkpointer: std::sync::Mutex<Option<checkpoint::Checkpointer>>,
    reads: r2d2::Pool<SqliteConnectionManager>,
    keyring: Arc<Keyring>,
    ids: Arc<IdGenerator>,
    clock: SharedClock,
    db_path: PathBuf,
    migrated_from: i64,
    /// Public fingerprint of the master key (hex), to name the server in exports.
    fingerprint: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("db_path", &self.db_path)
            .finish_non_exhaustive()
    }
}

/// Hold an exclusive lock on the data directory (one serving process, no restore underneath it).
/// The lock is released when the returned file is dropped or the process dies.
pub fn lock_data_dir(dir: &Path) -> Result<File> {
    ensure_data_dir(dir)?;
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::DataDir {
            path: dir.to_path_buf(),
            source: e,
        })?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::Io { path, source: e }),
    }
}

/// Create a directory and its parents, readable by the owner only (mode 0700).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Create the data directory (mode 0700) and check that it is writable.
pub fn ensure_data_dir(dir: &Path) -> Result<()> {
    let err = |e| Error::DataDir {
        path: dir.to_path_buf(),
        source: e,
    };
    if !dir.is_dir() {
        create_private_dir(dir).map_err(err)?;
    }
    let probe = dir.join(".atrium-write-probe");
    std::fs::write(&probe, b"").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

/// Map "file is not a database" and friends to a clear error naming the file.
fn classify(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            Error::NotADatabase {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        _ => Error::Sqlite(e),
    }
}

/// Open the write connection with the pragmas every Atrium database runs with.
fn open_write_connection(path: &Path, config: &Config) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| classify(path, e))?;
    // Owner only: SQLite gives the -wal and -shm files the database file's mode.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            Error::Io {
                path: path.to_path_buf(),
                source: e,
            }
        })?;
    }
    conn.busy_timeout(config.store.busy_timeout)
        .map_err(|e| classify(path, e))?;
    let sync = match config.store.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    // A 64 MiB page cache keeps the hot pages of conversations, messages and their indexes;
    // checkpoints run on their own thread (`checkpoint.rs`), not inside the writer's commits.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;"
    ))
    .map_err(|e| classify(path, e))?;
    // Fail now, with the file named, if the header is not SQLite's.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| classify(path, e))?;
    Ok(conn)
}

impl Store {
    /// Open (creating on first start) the database in the configured data directory: check the
    /// master key, back up and migrate the schema, unlock the data keys, start the writer.
    /// Nothing is written when the key does not match or the database is newer than the binary.
    pub fn open(opts: OpenOptions<'_>) -> Result<Store> {
        let config = opts.config;
        ensure_data_dir(&config.data_dir)?;
        let db_path = config.db_path();
        let mut conn = open_write_connection(&db_path, config)?;

        let version = migrations::user_version(&conn)?;
        if version > migrations::LATEST {
            return Err(Error::TooNew {
                path: db_path,
                found: version,
                supported: migrations::LATEST,
            });
        }
        let kek = opts.keys.load(version == 0)?;
        if version > 0 {
            keys::check_fingerprint(&conn, &kek, opts.keys)?;
            if version < migrations::LATEST && config.store.backup_before_migrate {
                let name = format!("pre-migrate-v{version}-{}.db", opts.clock.now_ms());
                let out = config.data_dir.join(BACKUP_DIR).join(name);
                backup::backup_connection(&conn, &out)?;
                tracing::info!(path = %out.display(), "backup taken before migrating");
            }
        }
        let migrated_from = migrations::migrate(&mut conn)?;
        let now = opts.clock.now_ms();
        keys::store_fingerprint_if_new(&conn, &kek)?;
        {
            let tx = conn.transaction()?;
            identity::sync_builtin_roles(&tx, now)?;
            tx.commit()?;
        }
        let keyring = Arc::new(keys::unlock_or_create(&mut conn, &kek, now)?);
        let fingerprint = hex::encode(kek.fingerprint());
        if version == 0 {
            let e =
                crate::audit::Entry::new(&crate::audit::Actor::system(), "keys.init", "master_key")
                    .details(serde_json::json!({
                        "fingerprint": fingerprint, "provider": opts.keys.describe()
                    }));
            audit::append(&conn, &keyring, now, &e)?;
        }
        drop(kek);
        let ids = Arc::new(IdGenerator::new(contacts::max_id(&conn)?));

        let manager = SqliteConnectionManager::file(&db_path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| {
                c.execute_batch(
                    "PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;
                     PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;",
                )
            });
        let reads = r2d2::Pool::builder()
            .max_size(config.store.read_pool_size)
            .min_idle(Some(1))
            .build(manager)?;

        let writer = Writer::start(conn, config.store.max_batch, opts.metrics)?;
        let checkpointer = checkpoint::Checkpointer::start(&db_path)?;
        Ok(Store {
            writer,
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
            reads,
            keyring,
            ids,
            clock: opts.clock,
            db_path,
            migrated_from,
            fingerprint,
        })
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// The data directory (the database's folder; attachments live under it).
    pub fn data_dir(&self) -> &Path {
        self.db_path.parent().unwrap_or(Path::new("."))
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Public fingerprint of the master key (hex); it reveals nothing about the key.
    pub fn key_fingerprint_hex(&self) -> String {
        self.fingerprint.clone()
    }

    /// The schema version found when opening (0 for a new database).
    pub fn migrated_from(&self) -> i64 {
        self.migrated_from
    }

    /// A new row id, time-ordered and unique across tables.
    pub fn next_id(&self) -> i64 {
        self.ids.next(self.clock.now_ms())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Run a read on a pooled read-only connection, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Keyring) -> Result<T> + Send + 'static,
    {
        let pool = self.reads.clone();
        let ring = self.keyring.clone();
        run_blocking(move || {
            let conn = pool.get()?;
            f(&conn, &ring)
        })
        .await?
    }

    /// Same as [`Store::read`] for synchronous callers.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection, &Keyring) -> Result<T>,
    ) -> Result<T> {
        let conn = self.reads.get()?;
        f(&conn, &self.keyring)
    }

    /// Run a write job in the next group commit; resolves once it is durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Keyring) -> Result<T> + Send + 'static,
    {
        let ring = self.keyring.clone();
        self.writer.write(move |c| f(c, &ring)).await
    }

    /// Same as [`Store::write`] for synchronous callers (not on an async worker thread).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Keyring) -> Result<T> + Send + 'static,
    {
        let ring = self.keyring.clone();
        self.writer.write_blocking(move |c| f(c, &ring))
    }

    /// Drain the writer, checkpoint and close. Reads still open finish on their own.
    pub fn close(&self) {
        if let Some(mut c) = self.checkpointer.lock().ok().and_then(|mut c| c.take()) {
            c.stop();
        }
        self.writer.shutdown();
    }
}

/// Run blocking work (SQLite, argon2, tantivy, big file I/O) on tokio's blocking pool.
pub async fn run_blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Join(e.to_string()))
}
