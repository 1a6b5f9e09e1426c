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

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: V1,
    },
    Migration {
        version: 2,
        sql: V2,
    },
];

/// The schema version this binary creates and understands.
pub const LATEST: i64 = 2;

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

/// Version 2: accounts, roles, teams, inboxes (scopes), sessions, sign-in throttling, the
/// one-time setup token, settings, and the append-only, hash-chained audit log.
///
/// User, role and audit rows take SQLite-assigned ids (max + 1 under the write lock) because
/// `atrium admin create` writes them from a second process while the server runs.
const V2: &str = r"
CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE inboxes (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    team_id    INTEGER REFERENCES teams (id),
    created_at INTEGER NOT NULL
) STRICT;

ALTER TABLE conversations ADD COLUMN inbox_id INTEGER REFERENCES inboxes (id);
ALTER TABLE conversations ADD COLUMN team_id INTEGER REFERENCES teams (id);
CREATE INDEX conversations_inbox ON conversations (inbox_id);
CREATE INDEX conversations_team ON conversations (team_id);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name         TEXT    NOT NULL DEFAULT '',
    password_hash        TEXT    NOT NULL,
    password_changed_at  INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    totp_secret          BLOB,
    totp_pending         BLOB,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    last_login_at        INTEGER
) STRICT;

CREATE TABLE password_history (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE roles (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    description  TEXT    NOT NULL DEFAULT '',
    builtin      INTEGER NOT NULL DEFAULT 0,
    require_totp INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT    NOT NULL,
    PRIMARY KEY (role_id, permission)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id),
    PRIMARY KEY (user_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE inbox_members (
    inbox_id INTEGER NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX inbox_members_user ON inbox_members (user_id);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    revoked_at    INTEGER,
    revoke_reason TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_throttle (
    username         TEXT    PRIMARY KEY COLLATE NOCASE,
    failures         INTEGER NOT NULL,
    first_failure_at INTEGER NOT NULL,
    locked_until     INTEGER
) STRICT;

CREATE TABLE setup_tokens (
    token_hash BLOB    PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  INTEGER,
    actor     TEXT    NOT NULL,
    ip        TEXT    NOT NULL DEFAULT '',
    event     TEXT    NOT NULL,
    target    TEXT    NOT NULL DEFAULT '',
    outcome   TEXT    NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    details   TEXT    NOT NULL DEFAULT '{}',
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL,
    mac       BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
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
