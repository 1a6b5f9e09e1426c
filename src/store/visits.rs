//! Pages widget visitors opened, for the agents' view of a visitor (where they came from, what
//! they looked at, on which device). Addresses, titles and referrers are encrypted; the visitor
//! is named by a keyed digest of their id, so the table alone does not say who browsed what.

use rusqlite::{Connection, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};

/// Most pages kept per visitor.
pub const KEEP_PER_VISITOR: i64 = 100;
/// How long pages are kept.
pub const KEEP_MS: i64 = 30 * 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: String,
    pub at: i64,
}

fn field(column: &'static str, id: i64) -> FieldRef {
    FieldRef::new("web_visits", column, id)
}

/// The digest a visitor's pages are filed under.
pub fn visitor_digest(ring: &Keyring, visitor_key: &str) -> Vec<u8> {
    ring.secret_digest("web_visitor", visitor_key.as_bytes())
}

/// Record a page; the visitor's oldest pages beyond [`KEEP_PER_VISITOR`] are dropped.
pub fn insert(
    conn: &Connection,
    ring: &Keyring,
    inbox: i64,
    visitor: &[u8],
    v: &Visit,
) -> Result<()> {
    let enc = |c: &'static str, s: &str| ring.encrypt_str(field(c, v.id), s);
    conn.prepare_cached(
        "INSERT INTO web_visits (id, inbox_id, visitor, url, title, referrer, user_agent, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        v.id,
        inbox,
        visitor,
        enc("url", &v.url),
        v.title.as_deref().map(|t| enc("title", t)),
        v.referrer.as_deref().map(|r| enc("referrer", r)),
        v.user_agent,
        v.at
    ])?;
    conn.prepare_cached(
        "DELETE FROM web_visits WHERE inbox_id = ?1 AND visitor = ?2 AND id <= (
             SELECT id FROM web_visits WHERE inbox_id = ?1 AND visitor = ?2
             ORDER BY id DESC LIMIT 1 OFFSET ?3)",
    )?
    .execute(params![inbox, visitor, KEEP_PER_VISITOR])?;
    Ok(())
}

/// The visitor's pages, oldest first (at most [`KEEP_PER_VISITOR`]).
pub fn list(conn: &Connection, ring: &Keyring, inbox: i64, visitor: &[u8]) -> Result<Vec<Visit>> {
    let mut st = conn.prepare_cached(
        "SELECT id, url, title, referrer, user_agent, at FROM web_visits
         WHERE inbox_id = ?1 AND visitor = ?2 ORDER BY id",
    )?;
    let rows = st.query_map(params![inbox, visitor], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, Option<Vec<u8>>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, url, title, referrer, user_agent, at) = row?;
        let dec = |c: &'static str, ct: &[u8]| ring.decrypt_string(field(c, id), ct);
        out.push(Visit {
            id,
            url: dec("url", &url)?,
            title: title.map(|t| dec("title", &t)).transpose()?,
            referrer: referrer.map(|r| dec("referrer", &r)).transpose()?,
            user_agent,
            at,
        });
    }
    Ok(out)
}

/// Forget pages opened before `before`.
pub fn prune(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM web_visits WHERE at < ?1")?
        .execute([before])?)
}
