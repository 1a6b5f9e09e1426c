//! Canned replies: personal (owned by one agent) and shared (owner `NULL`), found by shortcut
//! or title.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canned {
    pub id: i64,
    pub owner_id: Option<i64>,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    pub updated_at: i64,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Canned> {
    Ok(Canned {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        shortcut: r.get(2)?,
        title: r.get(3)?,
        body: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

/// `user`'s own and the shared replies whose shortcut or title contains `q` (all when empty);
/// shortcut prefix matches first.
pub fn search(conn: &Connection, user: i64, q: &str, limit: u32) -> Result<Vec<Canned>> {
    let like = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let prefix = format!(
        "{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut stmt = conn.prepare_cached(
        "SELECT id, owner_id, shortcut, title, body, updated_at FROM canned_replies
         WHERE (owner_id IS NULL OR owner_id = ?1)
           AND (shortcut LIKE ?2 ESCAPE '\\' OR title LIKE ?2 ESCAPE '\\')
         ORDER BY shortcut LIKE ?3 ESCAPE '\\' DESC, owner_id IS NULL, shortcut LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![user, like, prefix, limit], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Canned>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, owner_id, shortcut, title, body, updated_at FROM canned_replies WHERE id = ?1",
        )?
        .query_row([id], row)
        .optional()?)
}

/// Whether the shortcut is taken in that owner's namespace (shared = `None`).
pub fn shortcut_taken(
    conn: &Connection,
    owner: Option<i64>,
    shortcut: &str,
    except: Option<i64>,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM canned_replies WHERE coalesce(owner_id, 0) = ?1
                 AND shortcut = ?2 COLLATE NOCASE AND id != ?3)",
        )?
        .query_row(
            params![owner.unwrap_or(0), shortcut, except.unwrap_or(0)],
            |r| r.get(0),
        )?)
}

pub fn insert(conn: &Connection, c: &Canned, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO canned_replies (id, owner_id, shortcut, title, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![c.id, c.owner_id, c.shortcut, c.title, c.body, now])?;
    Ok(())
}

pub fn update(conn: &Connection, c: &Canned, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE canned_replies SET shortcut = ?2, title = ?3, body = ?4, updated_at = ?5
         WHERE id = ?1",
    )?
    .execute(params![c.id, c.shortcut, c.title, c.body, now])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM canned_replies WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}
