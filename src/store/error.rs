//! Storage errors. Each names what an operator can do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::Error),
    #[error(
        "the data directory {path} cannot be created or written: {source}; create it and give the atrium user write access, or set data_dir (ATRIUM_DATA_DIR, --data-dir)"
    )]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not an Atrium database or its header is corrupt ({detail}); restore it from a backup with `atrium restore --from FILE`"
    )]
    NotADatabase { path: PathBuf, detail: String },
    #[error(
        "the database {path} has schema version {found}, newer than this binary supports ({supported}); install the newer Atrium version that created it, or restore a backup made by this version"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "migration to schema version {version} failed: {source}; the database was left at the previous version"
    )]
    Migration {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("integrity check of {path} failed: {detail}")]
    Integrity { path: PathBuf, detail: String },
    #[error(
        "another Atrium process is using the data directory {path}; stop it first (`systemctl stop atrium`)"
    )]
    Locked { path: PathBuf },
    #[error("read connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("background task failed: {0}")]
    Join(String),
    /// A write job refused its own work (a rule of the layer above failed part-way); its
    /// savepoint is rolled back and the reason travels back to the caller unchanged.
    #[error("{0}")]
    Aborted(Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
