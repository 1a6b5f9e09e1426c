//! Messages with their kind, structured content, sender, delivery state and channel-side
//! dedupe key. Bodies and structured content are encrypted, bound to the message id.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};
use crate::domain::{ConversationId, Delivery, Direction, MessageId, MessageKind};

const TABLE: &str = "messages";

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub inbox: Option<i64>,
    pub direction: Direction,
    pub kind: MessageKind,
    pub body: &'a str,
    pub content: Option<&'a serde_json::Value>,
    pub external_id: Option<&'a str>,
    /// Contact id for incoming messages, user id for outgoing messages and notes.
    pub sender: Option<i64>,
    pub delivery: Option<Delivery>,
    pub mentions: &'a [i64],
    pub now: i64,
}

/// Whether an error is the unique index on `(inbox_id, external_id)` refusing a second
/// delivery of the same message.
pub fn is_duplicate(e: &super::Error) -> bool {
    matches!(e, super::Error::Sqlite(rusqlite::Error::SqliteFailure(f, Some(m)))
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            && m.contains("messages.external_id"))
}

pub fn insert(conn: &Connection, ring: &Keyring, m: &NewMessage<'_>) -> Result<()> {
    let id = m.id.0;
    let body = ring.encrypt_str(FieldRef::new(TABLE, "body", id), m.body);
    let content = m
        .content
        .map(|c| ring.encrypt_str(FieldRef::new(TABLE, "content", id), &c.to_string()));
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, direction, body, created_at, kind, content,
                               inbox_id, external_id, sender_id, delivery, mentions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id,
        m.conversation.0,
        m.direction.as_str(),
        body,
        m.now,
        m.kind.as_str(),
        content,
        m.inbox,
        m.external_id,
        m.sender,
        m.delivery.map(Delivery::as_str),
        serde_json::to_string(m.mentions).unwrap_or_else(|_| "[]".into()),
    ])?;
    Ok(())
}

/// The message a channel already delivered under `external_id`, as (message, conversation).
pub fn find_external(
    conn: &Connection,
    inbox: i64,
    external_id: &str,
) -> Result<Option<(MessageId, ConversationId)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, conversation_id FROM messages WHERE inbox_id = ?1 AND external_id = ?2",
        )?
        .query_row(params![inbox, external_id], |r| {
            Ok((MessageId(r.get(0)?), ConversationId(r.get(1)?)))
        })
        .optional()?)
}

/// A stored message, decrypted, with what the workspace shows about its sender.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub kind: MessageKind,
    pub body: String,
    pub content: Option<serde_json::Value>,
    pub sender_id: Option<i64>,
    /// The agent's display name for outgoing messages and notes.
    pub sender_name: Option<String>,
    pub delivery: Option<Delivery>,
    pub failure_reason: Option<String>,
    pub recalled: bool,
    pub mentions: Vec<i64>,
    pub external_id: Option<String>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT m.id, m.conversation_id, m.direction, m.kind, m.body, m.content,
        m.sender_id, m.delivery, m.failure_reason, m.recalled_at IS NOT NULL, m.mentions,
        m.external_id, m.created_at,
        CASE WHEN m.direction IN ('outgoing', 'note') THEN
            (SELECT CASE WHEN u.display_name != '' THEN u.display_name ELSE u.username END
             FROM users u WHERE u.id = m.sender_id) END
    FROM messages m";

fn from_row(ring: &Keyring, r: &Row<'_>) -> Result<MessageRow> {
    let id: i64 = r.get(0)?;
    let body_ct: Vec<u8> = r.get(4)?;
    let content = match r.get::<_, Option<Vec<u8>>>(5)? {
        Some(ct) => {
            let s = ring.decrypt_string(FieldRef::new(TABLE, "content", id), &ct)?;
            serde_json::from_str(&s).ok()
        }
        None => None,
    };
    Ok(MessageRow {
        id: MessageId(id),
        conversation_id: ConversationId(r.get(1)?),
        direction: Direction::parse(&r.get::<_, String>(2)?).unwrap_or(Direction::System),
        kind: MessageKind::parse(&r.get::<_, String>(3)?).unwrap_or(MessageKind::Text),
        body: ring.decrypt_string(FieldRef::new(TABLE, "body", id), &body_ct)?,
        content,
        sender_id: r.get(6)?,
        delivery: r
            .get::<_, Option<String>>(7)?
            .as_deref()
            .and_then(Delivery::parse),
        failure_reason: r.get(8)?,
        recalled: r.get(9)?,
        mentions: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
        external_id: r.get(11)?,
        created_at: r.get(12)?,
        sender_name: r.get(13)?,
    })
}

pub fn get(conn: &Connection, ring: &Keyring, id: MessageId) -> Result<Option<MessageRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE m.id = ?1"))?;
    let mut rows = stmt.query([id.0])?;
    match rows.next()? {
        Some(r) => Ok(Some(from_row(ring, r)?)),
        None => Ok(None),
    }
}

/// A page of a conversation's messages, oldest first: the `limit` newest before `before`.
pub fn page(
    conn: &Connection,
    ring: &Keyring,
    conversation: ConversationId,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT * FROM ({SELECT} WHERE m.conversation_id = ?1 AND m.id < ?2
                               ORDER BY m.id DESC LIMIT ?3) ORDER BY 1"
    ))?;
    let mut rows = stmt.query(params![conversation.0, before.unwrap_or(i64::MAX), limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(ring, r)?);
    }
    Ok(out)
}

/// Messages of `conversations` newer than `after`, oldest first (what a widget has not seen).
pub fn after_in(
    conn: &Connection,
    ring: &Keyring,
    conversations: &[i64],
    after: i64,
    limit: u32,
) -> Result<Vec<MessageRow>> {
    let ids = serde_json::to_string(conversations).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE m.conversation_id IN (SELECT value FROM json_each(?1)) AND m.id > ?2
         ORDER BY m.id LIMIT ?3"
    ))?;
    let mut rows = stmt.query(params![ids, after, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(ring, r)?);
    }
    Ok(out)
}

/// A page of every message of the conversations in `conversations` (a contact's timeline).
pub fn timeline(
    conn: &Connection,
    ring: &Keyring,
    conversations: &[i64],
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<MessageRow>> {
    let ids = serde_json::to_string(conversations).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT * FROM ({SELECT} WHERE m.conversation_id IN (SELECT value FROM json_each(?1))
                                 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3) ORDER BY 1"
    ))?;
    let mut rows = stmt.query(params![ids, before.unwrap_or(i64::MAX), limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(ring, r)?);
    }
    Ok(out)
}

/// Set the delivery state (and failure reason). A state never moves backwards except to
/// `queued` on resend; returns whether the row changed.
/// While a reply is still queued for another attempt: the last attempt's error (shown as
/// "retrying"). Returns whether the row changed.
/// When `contact` last wrote through inbox `inbox` (any of its conversations there).
pub fn last_incoming_at(
    conn: &Connection,
    contact: crate::domain::ContactId,
    inbox: i64,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT max(m.created_at) FROM conversations c
             JOIN messages m ON m.conversation_id = c.id AND m.direction = 'incoming'
             WHERE c.contact_id = ?1 AND c.inbox_id = ?2",
        )?
        .query_row(rusqlite::params![contact.0, inbox], |r| r.get(0))?)
}

pub fn set_retry_reason(conn: &Connection, id: MessageId, reason: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE messages SET failure_reason = ?2
             WHERE id = ?1 AND delivery = 'queued' AND failure_reason IS NOT ?2",
        )?
        .execute(params![id.0, reason])?;
    Ok(n > 0)
}

pub fn set_delivery(
    conn: &Connection,
    id: MessageId,
    delivery: Delivery,
    reason: Option<&str>,
) -> Result<bool> {
    let rank = |d: Delivery| match d {
        Delivery::Queued => 0,
        Delivery::Sent => 1,
        Delivery::Delivered => 2,
        Delivery::Read => 3,
        Delivery::Failed => 4,
    };
    let n = conn
        .prepare_cached(
            "UPDATE messages SET delivery = ?2, failure_reason = ?3
             WHERE id = ?1 AND (?4 = 0 OR ?4 = 4 OR
                CASE delivery WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2
                              WHEN 'read' THEN 3 ELSE -1 END < ?4)",
        )?
        .execute(params![id.0, delivery.as_str(), reason, rank(delivery)])?;
    Ok(n > 0)
}

/// The customer saw (`Delivered`) or read (`Read`) the replies of `conversations` up to message
/// `up_to`: outgoing messages there already sent move forward to that state (never backwards,
/// never a failed or queued one). Returns the messages that changed, at most `limit`.
pub fn customer_saw(
    conn: &Connection,
    conversations: &[i64],
    up_to: i64,
    state: Delivery,
    limit: u32,
) -> Result<Vec<MessageId>> {
    let from: &[&str] = match state {
        Delivery::Delivered => &["sent"],
        Delivery::Read => &["sent", "delivered"],
        _ => return Ok(Vec::new()),
    };
    let ids = serde_json::to_string(conversations).unwrap_or_else(|_| "[]".into());
    let from = serde_json::to_string(from).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "UPDATE messages SET delivery = ?1
         WHERE id IN (SELECT id FROM messages
                      WHERE conversation_id IN (SELECT value FROM json_each(?2))
                        AND id <= ?3 AND direction = 'outgoing'
                        AND delivery IN (SELECT value FROM json_each(?4))
                      ORDER BY id DESC LIMIT ?5)
         RETURNING id",
    )?;
    let rows = stmt.query_map(params![state.as_str(), ids, up_to, from, limit], |r| {
        Ok(MessageId(r.get(0)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_recalled(conn: &Connection, id: MessageId, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE messages SET recalled_at = ?2 WHERE id = ?1 AND recalled_at IS NULL",
        )?
        .execute(params![id.0, now])?
        > 0)
}
