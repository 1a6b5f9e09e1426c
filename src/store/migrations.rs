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
    Migration {
        version: 3,
        sql: V3,
    },
];

/// The schema version this binary creates and understands.
pub const LATEST: i64 = 3;

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

/// Version 3: the conversation engine. Inbox and team settings (routing, business hours,
/// reply-time thresholds), agent profiles (status, capacity, skills), channel identities of
/// contacts (blind-indexed, per-inbox or global namespace) and merging, conversation state
/// (assignee, priority, labels, queue and response timers), message kinds and delivery state
/// with channel-side dedupe, encrypted attachments, the outbox, canned replies and each agent's
/// read/pin state.
const V3: &str = r"
ALTER TABLE inboxes ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE inboxes ADD COLUMN credentials BLOB;
ALTER TABLE inboxes ADD COLUMN token_hash BLOB;
ALTER TABLE inboxes ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inboxes ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX inboxes_token ON inboxes (token_hash) WHERE token_hash IS NOT NULL;

ALTER TABLE teams ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

CREATE TABLE agent_profiles (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL DEFAULT 'offline'
               CHECK (status IN ('online', 'busy', 'away', 'offline')),
    capacity   INTEGER NOT NULL DEFAULT 5 CHECK (capacity BETWEEN 0 AND 1000),
    skills     TEXT    NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
) STRICT;

ALTER TABLE contacts ADD COLUMN merged_into INTEGER REFERENCES contacts (id);
ALTER TABLE contacts ADD COLUMN deleted_at INTEGER;
ALTER TABLE contacts ADD COLUMN vip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN attributes BLOB;

CREATE TABLE contact_identities (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    kind       TEXT    NOT NULL
               CHECK (kind IN ('visitor', 'openid', 'unionid', 'external', 'email', 'phone')),
    namespace  INTEGER NOT NULL DEFAULT 0,
    value      BLOB    NOT NULL,
    value_bidx BLOB    NOT NULL,
    verified   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, namespace, value_bidx)
) STRICT;
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users (id);
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 1
    CHECK (priority BETWEEN 0 AND 3);
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN attributes BLOB;
ALTER TABLE conversations ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
ALTER TABLE conversations ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_message_id INTEGER;
ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
ALTER TABLE conversations ADD COLUMN resolved_at INTEGER;
ALTER TABLE conversations ADD COLUMN alert TEXT
    CHECK (alert IS NULL OR alert IN ('first_response', 'next_response'));
ALTER TABLE conversations ADD COLUMN last_agent_id INTEGER;
ALTER TABLE conversations ADD COLUMN auto_replied INTEGER NOT NULL DEFAULT 0;
-- The per-inbox identity (external id, openid, visitor…) the customer wrote through: replies go
-- to it, and another account of the same (merged) contact gets a conversation of its own.
ALTER TABLE conversations ADD COLUMN identity_id INTEGER;
-- When the current assignee got it (reply-time re-routing counts from then).
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER;
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);
-- What routing reads on every pass or tick, without scanning resolved history.
CREATE INDEX conversations_load ON conversations (assignee_id)
    WHERE status IN ('open', 'pending') AND assignee_id IS NOT NULL;
CREATE INDEX conversations_waiting ON conversations (waiting_since)
    WHERE status = 'open' AND waiting_since IS NOT NULL;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE status = 'snoozed';
CREATE INDEX conversations_contact_inbox ON conversations (contact_id, inbox_id, status);

ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'image', 'file', 'audio', 'video', 'location', 'link', 'card',
                    'unsupported'));
ALTER TABLE messages ADD COLUMN content BLOB;
ALTER TABLE messages ADD COLUMN inbox_id INTEGER;
ALTER TABLE messages ADD COLUMN external_id TEXT;
ALTER TABLE messages ADD COLUMN sender_id INTEGER;
ALTER TABLE messages ADD COLUMN delivery TEXT
    CHECK (delivery IS NULL OR delivery IN ('queued', 'sent', 'delivered', 'read', 'failed'));
ALTER TABLE messages ADD COLUMN failure_reason TEXT;
ALTER TABLE messages ADD COLUMN recalled_at INTEGER;
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
CREATE UNIQUE INDEX messages_external ON messages (inbox_id, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    -- NULL only for a channel's upload that no message has used yet (then inbox_id is set).
    conversation_id INTEGER REFERENCES conversations (id),
    inbox_id        INTEGER REFERENCES inboxes (id),
    message_id      INTEGER REFERENCES messages (id),
    uploader_id     INTEGER,
    name            BLOB    NOT NULL,
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    sha256          BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_conversation ON attachments (conversation_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL REFERENCES messages (id),
    conversation_id INTEGER NOT NULL,
    inbox_id        INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Times an agent sent it again after it failed (channels whose message ids must change).
    resends         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_conversation ON outbox (conversation_id, id) WHERE state = 'pending';
CREATE INDEX outbox_message ON outbox (message_id);
CREATE INDEX outbox_failed ON outbox (inbox_id, id) WHERE state = 'failed';

CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER REFERENCES users (id) ON DELETE CASCADE,
    shortcut   TEXT    NOT NULL,
    title      TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX canned_replies_shortcut
    ON canned_replies (coalesce(owner_id, 0), shortcut COLLATE NOCASE);

-- Event webhooks for integrations: each subscription gets its own copy of every event it
-- wants (rows in webhook_events, written in the transaction that caused the event).
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    secret      BLOB    NOT NULL,
    events      TEXT    NOT NULL DEFAULT '[]',
    inbox_id    INTEGER REFERENCES inboxes (id),
    include_pii INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: an event id (evt_<id>) is never reused after old rows are pruned.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id),
    event           TEXT    NOT NULL,
    -- The conversation (or, for contact events, the contact) whose events arrive in order.
    order_key       INTEGER NOT NULL,
    payload         BLOB    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_events_pending ON webhook_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_events_order ON webhook_events (webhook_id, order_key, id)
    WHERE state = 'pending';
CREATE INDEX webhook_events_webhook ON webhook_events (webhook_id, id);
CREATE INDEX webhook_events_sent ON webhook_events (updated_at) WHERE state = 'sent';

-- Customer satisfaction: one rating per conversation, given once it is resolved.
CREATE TABLE csat_ratings (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment         BLOB,
    created_at      INTEGER NOT NULL
) STRICT;

-- How far a pulling channel (WeCom 微信客服 sync_msg) has read, saved after each batch it
-- pulled is committed.
CREATE TABLE channel_cursors (
    inbox_id   INTEGER NOT NULL REFERENCES inboxes (id),
    name       TEXT    NOT NULL,
    cursor     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, name)
) STRICT, WITHOUT ROWID;

-- Events a channel delivered (WeChat's subscribe, clicks…; they carry no message id), by
-- the channel's de-duplication key, so a retried delivery has no second effect. Pruned after
-- a week.
CREATE TABLE channel_events (
    inbox_id   INTEGER NOT NULL REFERENCES inboxes (id),
    key        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX channel_events_at ON channel_events (created_at);

CREATE TABLE conversation_marks (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    last_read_id    INTEGER NOT NULL DEFAULT 0,
    pinned          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) STRICT, WITHOUT ROWID;
-- How far any agent read a conversation (the widget's read receipts).
CREATE INDEX conversation_marks_conversation ON conversation_marks (conversation_id, last_read_id);

-- Pages a widget visitor opened (the chat window loads with each), shown to agents as the
-- visitor's context. `visitor` is a keyed digest of the visitor's id; address, title and
-- referrer are encrypted. Kept 30 days, at most 100 per visitor.
CREATE TABLE web_visits (
    id         INTEGER PRIMARY KEY,
    inbox_id   INTEGER NOT NULL REFERENCES inboxes (id),
    visitor    BLOB    NOT NULL,
    url        BLOB    NOT NULL,
    title      BLOB,
    referrer   BLOB,
    user_agent TEXT    NOT NULL,
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX web_visits_visitor ON web_visits (inbox_id, visitor, id);
CREATE INDEX web_visits_at ON web_visits (at);
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
