//! Forward-only schema migrations, embedded in the binary and tracked by `PRAGMA user_version`.
//!
//! Migration N brings the schema from version N-1 to N inside one transaction that also sets
//! `user_version = N`, so a failed migration leaves the previous version intact. Never edit a
//! released migration: add the next one. A database whose version is newer than [`LATEST`] is
//! refused before anything is written. Databases made by each released version live under
//! `tests/fixtures/db/` and are upgraded by a test.

use rusqlite::Connection;

use super::error::{Error, Result};

/// One migration: the SQL that takes the schema from `version - 1` to `version`.
struct Migration {
    version: i64,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: V1,
}];

/// The schema version this binary creates and understands.
pub const LATEST: i64 = 1;

/// Version 1: metadata, wrapped data keys, contacts, conversations and messages.
/// PII and message bodies are AES-GCM ciphertexts (BLOB); `*_bidx` columns are blind indexes.
const V1: &str = r"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE data_keys (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    algorithm  TEXT    NOT NULL,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    name       BLOB,
    phone      BLOB,
    phone_bidx BLOB,
    email      BLOB,
    email_bidx BLOB,
    id_number  BLOB,
    address    BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_phone_bidx ON contacts (phone_bidx) WHERE phone_bidx IS NOT NULL;
CREATE INDEX contacts_email_bidx ON contacts (email_bidx) WHERE email_bidx IS NOT NULL;

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    status     TEXT    NOT NULL DEFAULT 'open'
               CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_contact ON conversations (contact_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction       TEXT    NOT NULL CHECK (direction IN ('incoming', 'outgoing', 'note', 'system')),
    body            BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
";

pub fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Apply every migration above the current version. Returns the version before migrating.
pub fn migrate(conn: &mut Connection) -> Result<i64> {
    let from = user_version(conn)?;
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        let tx = conn.transaction().map_err(|e| Error::Migration {
            version: m.version,
            source: e,
        })?;
        tx.execute_batch(m.sql)
            .and_then(|()| tx.pragma_update(None, "user_version", m.version))
            .and_then(|()| tx.commit())
            .map_err(|e| Error::Migration {
                version: m.version,
                source: e,
            })?;
        tracing::info!(version = m.version, "schema migrated");
    }
    Ok(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_consecutively_up_to_latest() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i64::try_from(i).unwrap() + 1);
        }
        assert_eq!(MIGRATIONS.last().unwrap().version, LATEST);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), 0);
        assert_eq!(user_version(&c).unwrap(), LATEST);
        assert_eq!(migrate(&mut c).unwrap(), LATEST);
    }
}
