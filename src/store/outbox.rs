//! The persistent outbox: one row per outgoing message, written in the same transaction as the
//! message. Workers send the oldest pending row of each conversation (so replies arrive in
//! order), with the row id as the idempotency key, and record the outcome here.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use crate::domain::{ConversationId, MessageId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub inbox_id: i64,
    pub attempts: i64,
    pub created_at: i64,
    /// Times the row was queued again after failing.
    pub resends: i64,
}

pub fn enqueue(
    conn: &Connection,
    id: i64,
    message: MessageId,
    conversation: ConversationId,
    inbox: i64,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (id, message_id, conversation_id, inbox_id, state, attempts,
                             next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5)",
    )?
    .execute(params![id, message.0, conversation.0, inbox, now])?;
    Ok(())
}

/// Rows due at `now`: for each conversation only its oldest pending row, and only if that row
/// is due (a later reply never overtakes an earlier one that is backing off).
pub fn due(conn: &Connection, now: i64, limit: u32) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.message_id, o.conversation_id, o.inbox_id, o.attempts, o.created_at,
                o.resends
         FROM outbox o
         WHERE o.state = 'pending' AND o.next_attempt_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.conversation_id = o.conversation_id
                           AND p.state = 'pending' AND p.id < o.id)
         ORDER BY o.next_attempt_at, o.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |r| {
        Ok(OutboxRow {
            id: r.get(0)?,
            message_id: MessageId(r.get(1)?),
            conversation_id: ConversationId(r.get(2)?),
            inbox_id: r.get(3)?,
            attempts: r.get(4)?,
            created_at: r.get(5)?,
            resends: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next sendable row becomes due, if any: only the oldest pending row of each
/// conversation counts (a newer reply waits behind it however due it is).
pub fn next_due_at(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT min(o.next_attempt_at) FROM outbox o
             WHERE o.state = 'pending'
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.conversation_id = o.conversation_id
                               AND p.state = 'pending' AND p.id < o.id)",
        )?
        .query_row([], |r| r.get(0))?)
}

pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = ?2,
             last_error = NULL WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// A failed attempt: retry at `retry_at`, or give up (`None`).
pub fn mark_attempt_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, updated_at = ?4,
             state = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END,
             next_attempt_at = coalesce(?3, next_attempt_at)
         WHERE id = ?1",
    )?
    .execute(params![id, error, retry_at, now])?;
    Ok(())
}

/// Put a failed message's row back in the queue (same id, so the same idempotency key; its
/// resend count goes up for channels whose message ids must change).
/// Returns false when the message has no failed row.
pub fn requeue(conn: &Connection, message: MessageId, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, updated_at = ?2,
                 created_at = ?2, resends = resends + 1
             WHERE message_id = ?1 AND state = 'failed'",
        )?
        .execute(params![message.0, now])?
        > 0)
}

/// The outbox row of a message, as (id, state).
pub fn of_message(conn: &Connection, message: MessageId) -> Result<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, state FROM outbox WHERE message_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([message.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Counts by state, for metrics and the admin view.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A delivery given up on, for the administrators' dead-letter view (no message content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    pub id: i64,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub inbox_id: i64,
    pub inbox_name: Option<String>,
    pub channel: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub failed_at: i64,
}

/// Failed deliveries, newest first, optionally of one inbox, below `before` (an outbox id).
/// Recalled messages are not listed: they failed because an agent took them back.
pub fn failed(
    conn: &Connection,
    inbox: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<FailedRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.message_id, o.conversation_id, o.inbox_id, i.name, i.channel,
                o.attempts, o.last_error, o.created_at, o.updated_at
         FROM outbox o LEFT JOIN inboxes i ON i.id = o.inbox_id
         JOIN messages m ON m.id = o.message_id
         WHERE o.state = 'failed' AND (?1 IS NULL OR o.inbox_id = ?1)
           AND m.recalled_at IS NULL
           AND (?2 IS NULL OR o.id < ?2)
         ORDER BY o.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![inbox, before, limit], |r| {
        Ok(FailedRow {
            id: r.get(0)?,
            message_id: MessageId(r.get(1)?),
            conversation_id: ConversationId(r.get(2)?),
            inbox_id: r.get(3)?,
            inbox_name: r.get(4)?,
            channel: r.get(5)?,
            attempts: r.get(6)?,
            last_error: r.get(7)?,
            created_at: r.get(8)?,
            failed_at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The message and conversation of an outbox row.
/// The message of outbox row `id` if the row belongs to inbox `inbox`.
pub fn message_in(conn: &Connection, id: i64, inbox: i64) -> Result<Option<MessageId>> {
    Ok(conn
        .prepare_cached("SELECT message_id FROM outbox WHERE id = ?1 AND inbox_id = ?2")?
        .query_row(params![id, inbox], |r| Ok(MessageId(r.get(0)?)))
        .optional()?)
}

pub fn target(conn: &Connection, id: i64) -> Result<Option<(MessageId, ConversationId)>> {
    Ok(conn
        .prepare_cached("SELECT message_id, conversation_id FROM outbox WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((MessageId(r.get(0)?), ConversationId(r.get(1)?)))
        })
        .optional()?)
}
