//! Sessions, sign-in throttling per user name, and one-time setup tokens.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::Result;

/// A session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub fn create_session(conn: &Connection, s: &NewSession<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at,
                               expires_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
        params![
            s.token_hash,
            s.user_id,
            s.csrf_token,
            now,
            s.expires_at,
            s.ip,
            s.user_agent
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        csrf_token: r.get(2)?,
        created_at: r.get(3)?,
        last_seen_at: r.get(4)?,
        expires_at: r.get(5)?,
        ip: r.get(6)?,
        user_agent: r.get(7)?,
        revoked: r.get::<_, Option<i64>>(8)?.is_some(),
    })
}

const SESSION_SELECT: &str = "SELECT id, user_id, csrf_token, created_at, last_seen_at,
    expires_at, ip, user_agent, revoked_at FROM sessions";

pub fn session_by_token(conn: &Connection, token_hash: &[u8]) -> Result<Option<SessionRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SESSION_SELECT} WHERE token_hash = ?1"))?;
    Ok(stmt.query_row([token_hash], session_row).optional()?)
}

/// Live sessions of a user (not revoked, not past either limit), newest first.
pub fn live_sessions(
    conn: &Connection,
    user: i64,
    now: i64,
    idle_ms: i64,
) -> Result<Vec<SessionRow>> {
    let mut stmt = conn.prepare(&format!(
        "{SESSION_SELECT} WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
           AND last_seen_at > ?2 - ?3 ORDER BY created_at DESC"
    ))?;
    let v = stmt
        .query_map(params![user, now, idle_ms], session_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

pub fn touch_session(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Revoke one session of `user`; `false` when it is not theirs or already ended.
pub fn revoke_session(
    conn: &Connection,
    user: i64,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE sessions SET revoked_at = ?3, revoke_reason = ?4
         WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        params![id, user, now, reason],
    )?;
    Ok(n == 1)
}

/// Revoke every session of `user` except `keep`; returns how many.
pub fn revoke_user_sessions(
    conn: &Connection,
    user: i64,
    keep: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE sessions SET revoked_at = ?3, revoke_reason = ?4
         WHERE user_id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR id != ?2)",
        params![user, keep, now, reason],
    )?)
}

/// The lockout state of a user name (existing or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub locked_until: Option<i64>,
}

pub fn throttle(conn: &Connection, username: &str) -> Result<Throttle> {
    Ok(conn
        .query_row(
            "SELECT failures, locked_until FROM login_throttle WHERE username = ?1",
            [username],
            |r| {
                Ok(Throttle {
                    failures: r.get(0)?,
                    locked_until: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Count a failure; lock the name for `lockout_ms` on reaching `max`. Failures older than the
/// lockout period are forgotten. Returns the new state and whether this failure locked it.
pub fn throttle_fail(
    conn: &Connection,
    username: &str,
    now: i64,
    max: u32,
    lockout_ms: i64,
) -> Result<(Throttle, bool)> {
    let old: Option<(u32, i64, Option<i64>)> = conn
        .query_row(
            "SELECT failures, first_failure_at, locked_until FROM login_throttle
             WHERE username = ?1",
            [username],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (failures, first) = match old {
        Some((f, first, locked)) if now - first < lockout_ms || locked.is_some_and(|l| l > now) => {
            (f + 1, first)
        }
        _ => (1, now),
    };
    let newly_locked = failures == max;
    let locked_until = (failures >= max).then_some(now + lockout_ms);
    let locked_until = match old {
        Some((_, _, Some(l))) if l > now && !newly_locked => Some(l),
        _ => locked_until,
    };
    conn.execute(
        "INSERT INTO login_throttle (username, failures, first_failure_at, locked_until)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (username) DO UPDATE SET failures = ?2, first_failure_at = ?3,
                                              locked_until = ?4",
        params![username, failures, first, locked_until],
    )?;
    Ok((
        Throttle {
            failures,
            locked_until,
        },
        newly_locked,
    ))
}

pub fn throttle_clear(conn: &Connection, username: &str) -> Result<()> {
    conn.execute("DELETE FROM login_throttle WHERE username = ?1", [username])?;
    Ok(())
}

pub fn create_setup_token(conn: &Connection, digest: &[u8], now: i64, expires: i64) -> Result<()> {
    // One live link at a time: starting again voids the previous one.
    conn.execute(
        "UPDATE setup_tokens SET used_at = ?1 WHERE used_at IS NULL",
        [now],
    )?;
    conn.execute(
        "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
        params![digest, now, expires],
    )?;
    Ok(())
}

/// The expiry of a live (unused, unexpired) setup token.
pub fn setup_token_expiry(conn: &Connection, digest: &[u8], now: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT expires_at FROM setup_tokens
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![digest, now],
            |r| r.get(0),
        )
        .optional()?)
}

/// Spend a setup token; `false` when it is unknown, used or expired.
pub fn use_setup_token(conn: &Connection, digest: &[u8], now: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE setup_tokens SET used_at = ?2
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![digest, now],
    )?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- teams, inboxes, settings

/// Whether session `id` is still usable at `now` (not revoked, within its lifetime and idle
/// timeout, its user enabled): long-lived connections re-check this periodically.
pub fn session_alive(conn: &Connection, id: i64, now: i64, idle_ms: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
               AND s.last_seen_at + ?3 > ?2 AND u.disabled = 0)",
        )?
        .query_row(params![id, now, idle_ms], |r| r.get(0))?)
}
