//! Inbox configuration the engine and channels use: settings (routing, hours, auto replies,
//! reply-time thresholds; JSON without secrets), channel credentials (encrypted JSON) and the
//! API token (stored only as a keyed digest).

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};

/// One inbox with everything but its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConfig {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub team_id: Option<i64>,
    /// JSON object (see `engine::settings::InboxSettings`).
    pub settings: String,
    /// Decrypted credentials JSON (`{}` when none).
    pub credentials: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT id, name, channel, team_id, settings, credentials, disabled, \
     created_at, updated_at FROM inboxes";

fn read(ring: &Keyring, r: &rusqlite::Row<'_>) -> Result<InboxConfig> {
    let id: i64 = r.get(0)?;
    let credentials = match r.get::<_, Option<Vec<u8>>>(5)? {
        Some(ct) => ring.decrypt_string(FieldRef::new("inboxes", "credentials", id), &ct)?,
        None => "{}".into(),
    };
    Ok(InboxConfig {
        id,
        name: r.get(1)?,
        channel: r.get(2)?,
        team_id: r.get(3)?,
        settings: r.get(4)?,
        credentials,
        disabled: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

pub fn get(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<InboxConfig>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(read(ring, r)?)),
        None => Ok(None),
    }
}

pub fn all(conn: &Connection, ring: &Keyring) -> Result<Vec<InboxConfig>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(ring, r)?);
    }
    Ok(out)
}

/// Every inbox's settings JSON and disabled flag, as (id, settings, disabled): what routing
/// needs, without decrypting credentials.
pub fn all_settings(conn: &Connection) -> Result<Vec<(i64, String, bool)>> {
    let mut stmt = conn.prepare_cached("SELECT id, settings, disabled FROM inboxes ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The inbox whose token has this digest.
pub fn by_token(conn: &Connection, digest: &[u8]) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM inboxes WHERE token_hash = ?1")?
        .query_row([digest], |r| r.get(0))
        .optional()?)
}

pub fn set_token(conn: &Connection, id: i64, digest: &[u8]) -> Result<()> {
    conn.prepare_cached("UPDATE inboxes SET token_hash = ?2 WHERE id = ?1")?
        .execute(params![id, digest])?;
    Ok(())
}

pub fn set_credentials(conn: &Connection, ring: &Keyring, id: i64, json: &str) -> Result<()> {
    let ct = ring.encrypt_str(FieldRef::new("inboxes", "credentials", id), json);
    conn.prepare_cached("UPDATE inboxes SET credentials = ?2 WHERE id = ?1")?
        .execute(params![id, ct])?;
    Ok(())
}

/// Update name, team, settings and the disabled flag.
pub fn update(
    conn: &Connection,
    id: i64,
    name: &str,
    team: Option<i64>,
    settings: &str,
    disabled: bool,
    now: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE inboxes SET name = ?2, team_id = ?3, settings = ?4, disabled = ?5,
                 updated_at = ?6 WHERE id = ?1",
        )?
        .execute(params![id, name, team, settings, disabled, now])?
        > 0)
}

/// Team settings JSON by team id.
pub fn team_settings(conn: &Connection) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, settings FROM teams ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One team's settings JSON (`None`: no such team).
pub fn team_settings_of(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT settings FROM teams WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub fn set_team_settings(conn: &Connection, id: i64, settings: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE teams SET settings = ?2 WHERE id = ?1")?
        .execute(params![id, settings])?
        > 0)
}

/// Where a pulling channel has read up to (`name`: the stream, e.g. a 微信客服 account).
pub fn cursor(conn: &Connection, inbox: i64, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT cursor FROM channel_cursors WHERE inbox_id = ?1 AND name = ?2")?
        .query_row(params![inbox, name], |r| r.get(0))
        .optional()?)
}

pub fn set_cursor(conn: &Connection, inbox: i64, name: &str, cursor: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO channel_cursors (inbox_id, name, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (inbox_id, name) DO UPDATE SET cursor = excluded.cursor,
             updated_at = excluded.updated_at",
    )?
    .execute(params![inbox, name, cursor, now])?;
    Ok(())
}

/// Ids of the enabled inboxes of a channel.
pub fn ids_of_channel(conn: &Connection, channel: &str) -> Result<Vec<i64>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM inboxes WHERE channel = ?1 AND disabled = 0 ORDER BY id")?;
    let v = stmt
        .query_map([channel], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(v)
}

/// Record a channel event by its de-duplication key; false when it was seen before.
pub fn first_event(conn: &Connection, inbox: i64, key: &str, now: i64) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO channel_events (inbox_id, key, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![inbox, key, now])?;
    Ok(n == 1)
}

/// Forget channel events recorded before `before` (retries come within minutes).
pub fn prune_events(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM channel_events WHERE created_at < ?1")?
        .execute([before])?)
}
