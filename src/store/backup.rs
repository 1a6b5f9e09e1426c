//! Online backup and verified restore.
//!
//! `backup` uses SQLite's online backup API from a separate read connection, copying the whole
//! database in one step inside one read transaction: with WAL the server keeps writing, and the
//! copy is the consistent state of one instant. `restore` checks the backup's integrity, schema
//! version and that it belongs to the current master key *before* touching the live database,
//! which is kept under `backups/` rather than deleted.
//!
//! Attachments live as encrypted files beside the database (`files/`): a backup copies them
//! into `<backup>.files/` after the database copy (a file is always written before the row
//! that names it commits, so every file the copied database names is there), and a restore
//! puts them back, keeping the replaced folder beside the replaced database.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::{Error, Result};
use super::{BACKUP_DIR, DB_FILE, create_private_dir, keys, migrations};
use crate::crypto::{Keyring, MasterKey};

/// What a verified backup contains.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub schema_version: i64,
    pub bytes: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Copy the database behind `src` into a new file `out` (refuses to overwrite), mode 0600.
pub fn backup_connection(src: &Connection, out: &Path) -> Result<BackupInfo> {
    if out.exists() {
        return Err(Error::Io {
            path: out.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the backup file already exists; choose another name",
            ),
        });
    }
    if let Some(dir) = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        create_private_dir(dir).map_err(io(dir))?;
    }
    let tmp = out.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    {
        let mut dst = Connection::open(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io(&tmp))?;
        let b = rusqlite::backup::Backup::new(src, &mut dst)?;
        // -1: every page in one step, so the copy is one consistent snapshot.
        b.step(-1)?;
    }
    let f = std::fs::File::open(&tmp).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, out).map_err(io(out))?;
    let bytes = std::fs::metadata(out).map_err(io(out))?.len();
    let check = open_snapshot(out)?;
    Ok(BackupInfo {
        path: out.to_path_buf(),
        schema_version: migrations::user_version(&check)?,
        bytes,
    })
}

/// Back up the database at `db` (which may be in use by a running server) into `out`.
pub fn backup_file(db: &Path, out: &Path) -> Result<BackupInfo> {
    if !db.is_file() {
        return Err(Error::Io {
            path: db.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no database to back up"),
        });
    }
    let src = open_read_only(db)?;
    backup_connection(&src, out)
}

/// Open a file that nothing else writes (a backup) without creating `-wal`/`-shm` beside it.
fn open_snapshot(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    // SQLite URI: escape the characters that would end the path part.
    let escaped = path
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let uri = format!("file:{escaped}?immutable=1");
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| super::classify(path, e))
}

fn open_read_only(path: &Path) -> Result<Connection> {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| super::classify(path, e))?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(c)
}

/// Check a backup file: SQLite integrity, a schema this binary understands, and that `kek` is
/// its master key (fingerprint and every data key unwraps).
pub fn verify(path: &Path, kek: &MasterKey) -> Result<BackupInfo> {
    let conn = open_snapshot(path)?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| super::classify(path, e))?;
    if integrity != "ok" {
        return Err(Error::Integrity {
            path: path.to_path_buf(),
            detail: integrity,
        });
    }
    let version = migrations::user_version(&conn)?;
    if version == 0 {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            detail: "it has no Atrium schema".into(),
        });
    }
    if version > migrations::LATEST {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: migrations::LATEST,
        });
    }
    if !keys::fingerprint_matches(&conn, kek)? {
        return Err(crate::crypto::Error::KeyMismatch {
            provider: "the configured master key file".into(),
        }
        .into());
    }
    Keyring::unlock(kek, &keys::load_wrapped(&conn)?)?;
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(BackupInfo {
        path: path.to_path_buf(),
        schema_version: version,
        bytes,
    })
}

/// Replace the database in `data_dir` with the verified backup `from`. The caller holds the
/// data-directory lock (no server running). The previous database, if any, is checkpointed
/// and moved to `backups/pre-restore-<now_ms>.db`. Returns where the old database went.
pub fn restore(
    data_dir: &Path,
    from: &Path,
    kek: &MasterKey,
    now_ms: i64,
) -> Result<Option<PathBuf>> {
    verify(from, kek)?;
    let db = data_dir.join(DB_FILE);
    let staged = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&staged);
    std::fs::copy(from, &staged).map_err(io(&staged))?;
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
        .map_err(io(&staged))?;
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(io(&staged))?;
    verify(&staged, kek)?;

    let mut kept = None;
    if db.exists() {
        {
            // Fold the WAL into the main file so the kept copy is complete.
            let c = Connection::open(&db).map_err(|e| super::classify(&db, e))?;
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(|e| super::classify(&db, e))?;
        }
        let dir = data_dir.join(BACKUP_DIR);
        create_private_dir(&dir).map_err(io(&dir))?;
        let old = dir.join(format!("pre-restore-{now_ms}.db"));
        std::fs::rename(&db, &old).map_err(io(&old))?;
        kept = Some(old);
    }
    for suffix in ["-wal", "-shm"] {
        let p = data_dir.join(format!("{DB_FILE}{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    std::fs::rename(&staged, &db).map_err(io(&db))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    Ok(kept)
}

/// The attachment folder that goes with backup file `db`: `<db>.files`.
pub fn files_beside(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".files");
    PathBuf::from(name)
}

/// Copy the attachment files of `data_dir` into `files_beside(out)` (created with mode 0700;
/// files 0600, synced). Returns how many were copied (0 when there are none).
pub fn backup_files(data_dir: &Path, out: &Path) -> Result<u64> {
    let src = data_dir.join(super::attachments::FILES_DIR);
    let dst = files_beside(out);
    if !src.is_dir() {
        return Ok(0);
    }
    if dst.exists() {
        return Err(Error::Io {
            path: dst,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the attachment folder of this backup already exists; choose another name",
            ),
        });
    }
    create_private_dir(&dst).map_err(io(&dst))?;
    let mut n = 0;
    for entry in std::fs::read_dir(&src).map_err(io(&src))? {
        let entry = entry.map_err(io(&src))?;
        let path = entry.path();
        // Only finished files: an upload in progress is still a temporary file.
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let to = dst.join(entry.file_name());
        std::fs::copy(&path, &to).map_err(io(&to))?;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).map_err(io(&to))?;
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(io(&to))?;
        n += 1;
    }
    std::fs::File::open(&dst)
        .and_then(|d| d.sync_all())
        .map_err(io(&dst))?;
    Ok(n)
}

/// Put back the attachment files of backup `from` (its `files_beside` folder) into `data_dir`,
/// the caller holding the data-directory lock. The current folder is moved to
/// `backups/pre-restore-<now_ms>.files`. Returns `None` (and changes nothing) when the backup
/// has no attachment folder, else how many files were restored and where the old folder went.
pub fn restore_files(
    data_dir: &Path,
    from: &Path,
    now_ms: i64,
) -> Result<Option<(u64, Option<PathBuf>)>> {
    let src = files_beside(from);
    if !src.is_dir() {
        return Ok(None);
    }
    let live = data_dir.join(super::attachments::FILES_DIR);
    let staged = data_dir.join(format!("{}.restoring", super::attachments::FILES_DIR));
    if staged.exists() {
        std::fs::remove_dir_all(&staged).map_err(io(&staged))?;
    }
    create_private_dir(&staged).map_err(io(&staged))?;
    let mut n = 0;
    for entry in std::fs::read_dir(&src).map_err(io(&src))? {
        let entry = entry.map_err(io(&src))?;
        let to = staged.join(entry.file_name());
        std::fs::copy(entry.path(), &to).map_err(io(&to))?;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).map_err(io(&to))?;
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(io(&to))?;
        n += 1;
    }
    let mut kept = None;
    if live.exists() {
        let dir = data_dir.join(BACKUP_DIR);
        create_private_dir(&dir).map_err(io(&dir))?;
        let old = dir.join(format!("pre-restore-{now_ms}.files"));
        std::fs::rename(&live, &old).map_err(io(&old))?;
        kept = Some(old);
    }
    std::fs::rename(&staged, &live).map_err(io(&live))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    Ok(Some((n, kept)))
}
