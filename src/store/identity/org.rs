//! Teams, inboxes and organisation settings.

use rusqlite::{Connection, params};

use crate::store::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub members: i64,
    pub created_at: i64,
}

pub fn list_teams(conn: &Connection) -> Result<Vec<TeamRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, (SELECT count(*) FROM team_members m WHERE m.team_id = teams.id),
                created_at FROM teams ORDER BY name",
    )?;
    let v = stmt
        .query_map([], |r| {
            Ok(TeamRow {
                id: r.get(0)?,
                name: r.get(1)?,
                members: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

pub fn create_team(conn: &Connection, name: &str, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn team_name_taken(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM teams WHERE name = ?1)",
        [name],
        |r| r.get(0),
    )?)
}

pub fn rename_team(conn: &Connection, id: i64, name: &str) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE teams SET name = ?2 WHERE id = ?1",
        params![id, name],
    )? == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub team_id: Option<i64>,
    pub created_at: i64,
    pub disabled: bool,
}

pub fn list_inboxes(conn: &Connection) -> Result<Vec<InboxRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, channel, team_id, created_at, disabled FROM inboxes ORDER BY id",
    )?;
    let v = stmt
        .query_map([], |r| {
            Ok(InboxRow {
                id: r.get(0)?,
                name: r.get(1)?,
                channel: r.get(2)?,
                team_id: r.get(3)?,
                created_at: r.get(4)?,
                disabled: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

pub fn create_inbox(
    conn: &Connection,
    name: &str,
    channel: &str,
    team: Option<i64>,
    now: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO inboxes (name, channel, team_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, channel, team, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Which of `ids` do not exist in `table` (`teams` or `inboxes`).
pub fn missing_ids(conn: &Connection, table: &str, ids: &[i64]) -> Result<Vec<i64>> {
    let sql = match table {
        "teams" => "SELECT EXISTS (SELECT 1 FROM teams WHERE id = ?1)",
        _ => "SELECT EXISTS (SELECT 1 FROM inboxes WHERE id = ?1)",
    };
    let mut out = Vec::new();
    for id in ids {
        let exists: bool = conn.query_row(sql, [id], |r| r.get(0))?;
        if !exists {
            out.push(*id);
        }
    }
    Ok(out)
}

pub fn settings(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings ORDER BY key")?;
    let v = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
