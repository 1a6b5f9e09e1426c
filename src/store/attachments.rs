//! Attachments: the encrypted file under `files/<id>.bin` and its row (encrypted name, type,
//! size, SHA-256, the conversation it belongs to and, once sent, its message).
//!
//! File bytes are sealed with the keyring's file key, bound to `attachments/blob/<id>`, so a
//! file renamed to another attachment's id fails to decrypt. The file is written (temp file,
//! fsync, rename, fsync of the directory) *before* the transaction that inserts the row: a crash
//! in between leaves an orphan file without a row, which nothing reads and a later sweep may
//! delete; the opposite order could leave a row whose file is missing. There is no sweep yet.
//!
//! An upload is first stored with no message (`message_id` NULL); sending a message links it
//! ([`link_to_message`]), once.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::error::{Error, Result};
use crate::crypto::{FieldRef, Keyring};

const TABLE: &str = "attachments";

/// The folder of the data directory that holds attachment files.
pub const FILES_DIR: &str = "files";

/// Where the file bytes are bound: `attachments/blob/<id>`.
fn blob_ref(id: i64) -> FieldRef {
    FieldRef::new(TABLE, "blob", id)
}

fn name_ref(id: i64) -> FieldRef {
    FieldRef::new(TABLE, "name", id)
}

/// The path of an attachment's encrypted file.
pub fn file_path(data_dir: &Path, id: i64) -> PathBuf {
    data_dir.join(FILES_DIR).join(format!("{id}.bin"))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Encrypt `bytes` for attachment `id` and write them to `files/<id>.bin` durably: a temp file
/// (mode 0600) is written and fsynced, renamed into place, then the directory is fsynced.
/// `files/` is created with mode 0700 when missing. Blocking: call it off the async runtime.
///
/// Fails with [`Error::Io`] naming the file; a failed write leaves no `<id>.bin` behind.
pub fn save_file(data_dir: &Path, ring: &Keyring, id: i64, bytes: &[u8]) -> Result<()> {
    let dir = data_dir.join(FILES_DIR);
    if !dir.is_dir() {
        super::create_private_dir(&dir).map_err(io_error(&dir))?;
    }
    let sealed = ring.encrypt_file(blob_ref(id), bytes);
    let path = file_path(data_dir, id);
    let tmp = dir.join(format!("{id}.bin.tmp"));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&sealed)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(&tmp)(e));
    }
    std::fs::rename(&tmp, &path).map_err(io_error(&path))?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(&dir))
}

/// Read and decrypt attachment `id`'s file. Blocking: call it off the async runtime.
///
/// A missing or unreadable file is [`Error::Io`]; a file that was altered, truncated or belongs
/// to another id is [`Error::Crypto`].
pub fn read_file(data_dir: &Path, ring: &Keyring, id: i64) -> Result<Vec<u8>> {
    let path = file_path(data_dir, id);
    let sealed = std::fs::read(&path).map_err(io_error(&path))?;
    Ok(ring.decrypt_file(blob_ref(id), &sealed)?)
}

/// An attachment row to insert (its file already saved with [`save_file`]).
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub id: i64,
    /// `None` for a channel's upload before the message that uses it (then `inbox_id` is set).
    pub conversation_id: Option<i64>,
    /// The channel inbox a customer system uploaded it through; `None` for agents' uploads.
    pub inbox_id: Option<i64>,
    /// Usually `None`: uploads are linked to their message when it is sent.
    pub message_id: Option<i64>,
    /// The agent who uploaded it; `None` for files that arrived from a channel.
    pub uploader_id: Option<i64>,
    /// The cleaned file name (stored encrypted).
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub now: i64,
}

pub fn insert(conn: &Connection, ring: &Keyring, row: &NewAttachment<'_>) -> Result<()> {
    let name = ring.encrypt_str(name_ref(row.id), row.name);
    conn.prepare_cached(
        "INSERT INTO attachments (id, conversation_id, inbox_id, message_id, uploader_id, name,
                                  content_type, size, sha256, created_at)
         VALUES (?1, ?2, ?10, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        row.id,
        row.conversation_id,
        row.message_id,
        row.uploader_id,
        name,
        row.content_type,
        row.size,
        row.sha256,
        row.now,
        row.inbox_id,
    ])?;
    Ok(())
}

/// A stored attachment, its name decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: i64,
    pub conversation_id: Option<i64>,
    pub inbox_id: Option<i64>,
    pub message_id: Option<i64>,
    pub uploader_id: Option<i64>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the plaintext bytes.
    pub sha256: Vec<u8>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT id, conversation_id, message_id, uploader_id, name, content_type,
        size, sha256, created_at, inbox_id FROM attachments";

fn from_row(ring: &Keyring, r: &Row<'_>) -> Result<AttachmentRow> {
    let id: i64 = r.get(0)?;
    let name: Vec<u8> = r.get(4)?;
    Ok(AttachmentRow {
        id,
        conversation_id: r.get(1)?,
        inbox_id: r.get(9)?,
        message_id: r.get(2)?,
        uploader_id: r.get(3)?,
        name: ring.decrypt_string(name_ref(id), &name)?,
        content_type: r.get(5)?,
        size: r.get(6)?,
        sha256: r.get(7)?,
        created_at: r.get(8)?,
    })
}

pub fn get(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<AttachmentRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
    let row = stmt.query_row([id], |r| Ok(from_row(ring, r))).optional()?;
    row.transpose()
}

/// Most ids bound in one statement (SQLite allows 32,766; smaller statements cache better).
const CHUNK: usize = 500;

/// The attachments of these messages, ordered by message then upload.
pub fn list_for_messages(
    conn: &Connection,
    ring: &Keyring,
    message_ids: &[i64],
) -> Result<Vec<AttachmentRow>> {
    let mut out = Vec::new();
    for chunk in message_ids.chunks(CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE message_id IN ({marks}) ORDER BY message_id, id"
        ))?;
        let mut rows = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = rows.next()? {
            out.push(from_row(ring, r)?);
        }
    }
    if message_ids.len() > CHUNK {
        out.sort_by_key(|a| (a.message_id, a.id));
    }
    Ok(out)
}

/// Link uploads to the message that sends them. Only rows of `conversation_id`, uploaded by
/// `uploader_id` and not linked yet are linked; the count returned lets the caller refuse (and
/// roll back) when it is less than `ids.len()`. Duplicate ids count once.
pub fn link_to_message(
    conn: &Connection,
    ids: &[i64],
    message_id: i64,
    conversation_id: i64,
    uploader_id: i64,
) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE attachments SET message_id = ?1
         WHERE id = ?2 AND conversation_id = ?3 AND uploader_id = ?4 AND message_id IS NULL",
    )?;
    let mut linked = 0;
    for id in ids {
        linked += stmt.execute(params![message_id, id, conversation_id, uploader_id])?;
    }
    Ok(linked)
}

/// Link a channel's uploads to the inbound message that carries them: only uploads through
/// `inbox_id` that no message has used yet. Returns how many were linked (duplicate ids count
/// once), so the caller refuses (and rolls back) when it is less than the ids given.
pub fn link_channel_uploads(
    conn: &Connection,
    ids: &[i64],
    message_id: i64,
    conversation_id: i64,
    inbox_id: i64,
) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE attachments SET message_id = ?1, conversation_id = ?2
         WHERE id = ?3 AND inbox_id = ?4 AND conversation_id IS NULL AND message_id IS NULL",
    )?;
    let mut linked = 0;
    for id in ids {
        linked += stmt.execute(params![message_id, conversation_id, id, inbox_id])?;
    }
    Ok(linked)
}

/// How long a channel's upload waits for the message that sends it before it is deleted.
pub const UNUSED_UPLOAD_TTL_MS: i64 = 24 * 3_600_000;

/// Most uploads an inbox may hold that no message has used yet.
pub const MAX_PENDING_UPLOADS: i64 = 1000;

/// How many uploads of `inbox` no message has used yet.
pub fn pending_uploads(conn: &Connection, inbox: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM attachments
             WHERE inbox_id = ?1 AND conversation_id IS NULL AND message_id IS NULL",
        )?
        .query_row([inbox], |r| r.get(0))?)
}

/// Delete the rows of up to `limit` channel uploads no message used, made before `before`;
/// returns their ids so the caller removes the files after the commit (a crash in between
/// leaves only unreadable orphan files, never a row without its file).
pub fn delete_unused_uploads(conn: &Connection, before: i64, limit: u32) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM attachments WHERE id IN (
             SELECT id FROM attachments
             WHERE conversation_id IS NULL AND message_id IS NULL AND inbox_id IS NOT NULL
               AND created_at < ?1
             LIMIT ?2)
         RETURNING id",
    )?;
    let ids = stmt.query_map(params![before, limit], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<Vec<i64>>>()?)
}

/// Remove the files of deleted attachments (missing ones are fine). Blocking.
pub fn remove_files(data_dir: &Path, ids: &[i64]) {
    for id in ids {
        let path = file_path(data_dir, *id);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove an unused upload");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        crate::crypto::keyring::test_ring()
    }

    #[test]
    fn file_round_trip_is_encrypted_private_and_bound_to_its_id() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ring = ring();
        let plain = b"%PDF-1.7 secret-marker-7f3a".to_vec();
        save_file(dir.path(), &ring, 41, &plain).unwrap();
        let path = file_path(dir.path(), 41);
        let on_disk = std::fs::read(&path).unwrap();
        assert!(!on_disk.windows(11).any(|w| w == b"secret-mark"));
        assert_eq!(read_file(dir.path(), &ring, 41).unwrap(), plain);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join(FILES_DIR)), 0o700);
        assert!(!dir.path().join(FILES_DIR).join("41.bin.tmp").exists());

        // Moved to another id: refused.
        std::fs::copy(&path, file_path(dir.path(), 42)).unwrap();
        assert!(matches!(
            read_file(dir.path(), &ring, 42),
            Err(Error::Crypto(_))
        ));
        assert!(matches!(
            read_file(dir.path(), &ring, 43),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn rows_link_once_to_a_message_of_their_conversation_and_uploader() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut c).unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO contacts (id, created_at, updated_at) VALUES (1, 0, 0);
             INSERT INTO conversations (id, contact_id, created_at, updated_at)
                 VALUES (10, 1, 0, 0), (20, 1, 0, 0);",
        )
        .unwrap();
        let ring = ring();
        for (id, conv, uploader) in [(100, 10, 7), (101, 10, 7), (102, 20, 7), (103, 10, 8)] {
            insert(
                &c,
                &ring,
                &NewAttachment {
                    id,
                    conversation_id: Some(conv),
                    inbox_id: None,
                    message_id: None,
                    uploader_id: Some(uploader),
                    name: "报价单.pdf",
                    content_type: "application/pdf",
                    size: 5,
                    sha256: &[0; 32],
                    now: 1,
                },
            )
            .unwrap();
        }
        let got = get(&c, &ring, 100).unwrap().unwrap();
        assert_eq!(got.name, "报价单.pdf");
        assert_eq!((got.conversation_id, got.message_id), (Some(10), None));
        assert_eq!(get(&c, &ring, 999).unwrap(), None);
        // The name is stored encrypted.
        let raw: Vec<u8> = c
            .query_row("SELECT name FROM attachments WHERE id = 100", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(!raw.windows(3).any(|w| w == "报".as_bytes()));

        c.execute_batch(
            "INSERT INTO messages (id, conversation_id, direction, body, created_at)
                 VALUES (500, 10, 'outgoing', x'00', 2), (501, 10, 'outgoing', x'00', 3);",
        )
        .unwrap();
        // 102 is another conversation's, 103 another agent's: only 100 and 101 link.
        assert_eq!(
            link_to_message(&c, &[100, 101, 102, 103], 500, 10, 7).unwrap(),
            2
        );
        // Already linked: not again.
        assert_eq!(link_to_message(&c, &[100], 501, 10, 7).unwrap(), 0);
        let listed = list_for_messages(&c, &ring, &[500, 501]).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|a| (a.id, a.message_id))
                .collect::<Vec<_>>(),
            vec![(100, Some(500)), (101, Some(500))]
        );
        assert!(list_for_messages(&c, &ring, &[]).unwrap().is_empty());
    }

    #[test]
    fn unused_channel_uploads_are_deleted_after_their_time_and_used_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut c).unwrap();
        c.execute_batch(
            "INSERT INTO contacts (id, created_at, updated_at) VALUES (1, 0, 0);
             INSERT INTO inboxes (id, name, channel, created_at, updated_at)
                 VALUES (5, 'App', 'api', 0, 0);
             INSERT INTO conversations (id, contact_id, inbox_id, created_at, updated_at)
                 VALUES (10, 1, 5, 0, 0);
             INSERT INTO messages (id, conversation_id, direction, body, created_at)
                 VALUES (500, 10, 'incoming', x'00', 0);",
        )
        .unwrap();
        let ring = ring();
        // 200: old, unused; 201: old, used; 202: recent, unused; 203: an agent's, unattached.
        for (id, inbox, conv, at) in [
            (200, Some(5), None, 1_000),
            (201, Some(5), None, 1_000),
            (202, Some(5), None, 90_000),
            (203, None, Some(10), 1_000),
        ] {
            insert(
                &c,
                &ring,
                &NewAttachment {
                    id,
                    conversation_id: conv,
                    inbox_id: inbox,
                    message_id: None,
                    uploader_id: None,
                    name: "a.png",
                    content_type: "image/png",
                    size: 1,
                    sha256: &[0; 32],
                    now: at,
                },
            )
            .unwrap();
            save_file(dir.path(), &ring, id, b"x").unwrap();
        }
        assert_eq!(link_channel_uploads(&c, &[201], 500, 10, 5).unwrap(), 1);
        let gone = delete_unused_uploads(&c, 50_000, 100).unwrap();
        assert_eq!(gone, [200]);
        remove_files(dir.path(), &gone);
        assert!(!file_path(dir.path(), 200).exists());
        for kept in [201, 202, 203] {
            assert!(get(&c, &ring, kept).unwrap().is_some(), "{kept}");
            assert!(file_path(dir.path(), kept).exists(), "{kept}");
        }
        // Removing again is harmless.
        remove_files(dir.path(), &gone);
    }
}
