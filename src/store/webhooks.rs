//! Event webhooks: subscriptions (URL, encrypted signing secret, the events wanted, an optional
//! inbox filter) and their persistent delivery queue. An event becomes one row per subscription
//! that wants it, written in the transaction that caused it, so it is delivered even when the
//! process stops right after the commit. Rows of one conversation (or, for contact events, one
//! contact) go out oldest first; the row id is the event id receivers de-duplicate on.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};

const TABLE: &str = "webhooks";
const EVENTS: &str = "webhook_events";

/// A subscription as administrators see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub inbox_id: Option<i64>,
    /// Send contacts' PII (name, phone, e-mail…) in full rather than masked.
    pub include_pii: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an administrator sets.
#[derive(Debug, Clone)]
pub struct WebhookFields<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub inbox_id: Option<i64>,
    pub include_pii: bool,
    pub enabled: bool,
}

const COLUMNS: &str =
    "id, name, url, events, inbox_id, include_pii, enabled, created_at, updated_at";

fn webhook(r: &Row<'_>) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        events: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        inbox_id: r.get(4)?,
        include_pii: r.get(5)?,
        enabled: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn secret_ref(id: i64) -> FieldRef {
    FieldRef::new(TABLE, "secret", id)
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

pub fn create(
    conn: &Connection,
    ring: &Keyring,
    id: i64,
    f: &WebhookFields<'_>,
    secret: &str,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhooks (id, name, url, secret, events, inbox_id, include_pii, enabled,
                               created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        id,
        f.name,
        f.url,
        ring.encrypt_str(secret_ref(id), secret),
        events_json(f.events),
        f.inbox_id,
        f.include_pii,
        f.enabled,
        now
    ])?;
    Ok(())
}

/// Returns false when there is no such subscription.
pub fn update(conn: &Connection, id: i64, f: &WebhookFields<'_>, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE webhooks SET name = ?2, url = ?3, events = ?4, inbox_id = ?5,
                 include_pii = ?6, enabled = ?7, updated_at = ?8 WHERE id = ?1",
        )?
        .execute(params![
            id,
            f.name,
            f.url,
            events_json(f.events),
            f.inbox_id,
            f.include_pii,
            f.enabled,
            now
        ])?
        > 0)
}

/// Replace the signing secret. Returns false when there is no such subscription.
pub fn set_secret(
    conn: &Connection,
    ring: &Keyring,
    id: i64,
    secret: &str,
    now: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE webhooks SET secret = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, ring.encrypt_str(secret_ref(id), secret), now])?
        > 0)
}

/// Delete a subscription and its queue (undelivered events are dropped with it, on purpose:
/// the administrator removed the receiver).
pub fn delete(conn: &Connection, id: i64) -> Result<bool> {
    conn.prepare_cached("DELETE FROM webhook_events WHERE webhook_id = ?1")?
        .execute([id])?;
    Ok(conn
        .prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
        .execute([id])?
        > 0)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Webhook>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"))?
        .query_row([id], webhook)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Webhook>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))?;
    let rows = stmt.query_map([], webhook)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The decrypted signing secret.
pub fn secret(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<String>> {
    let ct: Option<Vec<u8>> = conn
        .prepare_cached("SELECT secret FROM webhooks WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match ct {
        Some(ct) => Ok(Some(ring.decrypt_string(secret_ref(id), &ct)?)),
        None => Ok(None),
    }
}

/// An enabled subscription, as event emission needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub events: Vec<String>,
    pub inbox_id: Option<i64>,
    pub include_pii: bool,
}

impl Subscriber {
    /// Whether this subscription wants `event` from `inbox` (`None`: not about one inbox, which
    /// only subscriptions to every inbox receive).
    pub fn wants(&self, event: &str, inbox: Option<i64>) -> bool {
        self.events.iter().any(|e| e == event)
            && (self.inbox_id.is_none() || self.inbox_id == inbox)
    }
}

/// Every enabled subscription (a handful of rows: read in each transaction that may emit).
pub fn subscribers(conn: &Connection) -> Result<Vec<Subscriber>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, events, inbox_id, include_pii FROM webhooks WHERE enabled = 1 ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Subscriber {
            id: r.get(0)?,
            events: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(),
            inbox_id: r.get(2)?,
            include_pii: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn payload_ref(id: i64) -> FieldRef {
    FieldRef::new(EVENTS, "payload", id)
}

/// Queue an event for one subscription. `payload` gets the event id (the new row's id) and
/// is stored encrypted; returns the id.
pub fn enqueue(
    conn: &Connection,
    ring: &Keyring,
    webhook: i64,
    event: &str,
    order_key: i64,
    payload: impl FnOnce(i64) -> String,
    now: i64,
) -> Result<i64> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO webhook_events (webhook_id, event, order_key, payload, state, attempts,
                                         next_attempt_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, x'', 'pending', 0, ?4, ?4, ?4) RETURNING id",
        )?
        .query_row(params![webhook, event, order_key, now], |r| r.get(0))?;
    let ct = ring.encrypt_str(payload_ref(id), &payload(id));
    conn.prepare_cached("UPDATE webhook_events SET payload = ?2 WHERE id = ?1")?
        .execute(params![id, ct])?;
    Ok(id)
}

/// A queued event, without its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub order_key: i64,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const EVENT_COLUMNS: &str = "e.id, e.webhook_id, e.event, e.order_key, e.state, e.attempts, \
     e.last_error, e.next_attempt_at, e.created_at, e.updated_at";

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event: r.get(2)?,
        order_key: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        next_attempt_at: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Events due at `now` for enabled subscriptions: of each (subscription, conversation or
/// contact) only the oldest pending one, and only if it is due, so a later event never
/// overtakes an earlier one that is backing off.
pub fn due(conn: &Connection, now: i64, limit: u32) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id
         WHERE e.state = 'pending' AND e.next_attempt_at <= ?1 AND w.enabled = 1
           AND NOT EXISTS (SELECT 1 FROM webhook_events p
                           WHERE p.webhook_id = e.webhook_id AND p.order_key = e.order_key
                             AND p.state = 'pending' AND p.id < e.id)
         ORDER BY e.next_attempt_at, e.id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, limit], event_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next sendable event becomes due, if any.
pub fn next_due_at(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT min(e.next_attempt_at) FROM webhook_events e
             JOIN webhooks w ON w.id = e.webhook_id
             WHERE e.state = 'pending' AND w.enabled = 1
               AND NOT EXISTS (SELECT 1 FROM webhook_events p
                               WHERE p.webhook_id = e.webhook_id AND p.order_key = e.order_key
                                 AND p.state = 'pending' AND p.id < e.id)",
        )?
        .query_row([], |r| r.get(0))?)
}

/// The decrypted JSON body of an event.
pub fn payload(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<String>> {
    let ct: Option<Vec<u8>> = conn
        .prepare_cached("SELECT payload FROM webhook_events WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match ct {
        Some(ct) => Ok(Some(ring.decrypt_string(payload_ref(id), &ct)?)),
        None => Ok(None),
    }
}

pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE webhook_events SET state = 'sent', attempts = attempts + 1, updated_at = ?2,
             last_error = NULL WHERE id = ?1 AND state = 'pending'",
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
        "UPDATE webhook_events SET attempts = attempts + 1, last_error = ?2, updated_at = ?4,
             state = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END,
             next_attempt_at = coalesce(?3, next_attempt_at)
         WHERE id = ?1 AND state = 'pending'",
    )?
    .execute(params![id, error, retry_at, now])?;
    Ok(())
}

/// The state of event `id` of `webhook`, if it is one of its events.
pub fn event_state(conn: &Connection, webhook: i64, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT state FROM webhook_events WHERE id = ?1 AND webhook_id = ?2")?
        .query_row(params![id, webhook], |r| r.get(0))
        .optional()?)
}

/// Queue a failed event of `webhook` again (same id, so receivers still de-duplicate it); its
/// 24-hour retry window starts again. Returns false when it is not a failed event of it.
pub fn requeue(conn: &Connection, webhook: i64, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE webhook_events SET state = 'pending', next_attempt_at = ?3, updated_at = ?3,
                 created_at = ?3, attempts = 0
             WHERE id = ?1 AND webhook_id = ?2 AND state = 'failed'",
        )?
        .execute(params![id, webhook, now])?
        > 0)
}

/// A subscription's events, newest first, optionally in one state, below `before`.
pub fn events(
    conn: &Connection,
    webhook: i64,
    state: Option<&str>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM webhook_events e
         WHERE e.webhook_id = ?1 AND (?2 IS NULL OR e.state = ?2) AND (?3 IS NULL OR e.id < ?3)
         ORDER BY e.id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![webhook, state, before, limit], event_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Counts by state per subscription: (webhook, state, count).
pub fn counts(conn: &Connection) -> Result<Vec<(i64, String, i64)>> {
    let mut stmt = conn
        .prepare_cached("SELECT webhook_id, state, count(*) FROM webhook_events GROUP BY 1, 2")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Delete up to `limit` delivered events last touched before `before`; returns how many.
pub fn prune_sent(conn: &Connection, before: i64, limit: u32) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM webhook_events WHERE id IN (
                 SELECT id FROM webhook_events WHERE state = 'sent' AND updated_at < ?1 LIMIT ?2)",
        )?
        .execute(params![before, limit])?)
}
