//! Agents as routing sees them: status chosen by the agent, capacity and skills (set by an
//! administrator), memberships, and who may take conversations at all.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;

/// An agent's routing profile (defaults when never set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub status: String,
    pub capacity: u32,
    pub skills: BTreeSet<String>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            status: "offline".into(),
            capacity: 5,
            skills: BTreeSet::new(),
        }
    }
}

pub fn profile(conn: &Connection, user: i64) -> Result<Profile> {
    Ok(conn
        .prepare_cached("SELECT status, capacity, skills FROM agent_profiles WHERE user_id = ?1")?
        .query_row([user], |r| {
            Ok(Profile {
                status: r.get(0)?,
                capacity: r.get(1)?,
                skills: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
            })
        })
        .optional()?
        .unwrap_or_default())
}

pub fn set_status(conn: &Connection, user: i64, status: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO agent_profiles (user_id, status, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = ?3",
    )?
    .execute(params![user, status, now])?;
    Ok(())
}

pub fn set_capacity_skills(
    conn: &Connection,
    user: i64,
    capacity: u32,
    skills: &BTreeSet<String>,
    now: i64,
) -> Result<()> {
    let skills = serde_json::to_string(skills).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO agent_profiles (user_id, capacity, skills, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET capacity = ?2, skills = ?3, updated_at = ?4",
    )?
    .execute(params![user, capacity, skills, now])?;
    Ok(())
}

/// Someone who can take conversations (holds `conversations:reply`, not disabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: i64,
    pub name: String,
    pub profile: Profile,
    pub teams: BTreeSet<i64>,
    pub inboxes: BTreeSet<i64>,
}

/// One agent (`None` when the user is disabled or holds no `conversations:reply`).
pub fn agent(conn: &Connection, id: i64) -> Result<Option<AgentRow>> {
    // Its own statements: `?1 IS NULL OR u.id = ?1` would scan every user.
    let row = conn
        .prepare_cached(
            "SELECT u.id, CASE WHEN u.display_name != '' THEN u.display_name ELSE u.username END,
                    coalesce(p.status, 'offline'), coalesce(p.capacity, 5),
                    coalesce(p.skills, '[]')
             FROM users u LEFT JOIN agent_profiles p ON p.user_id = u.id
             WHERE u.id = ?1 AND u.disabled = 0 AND EXISTS (
                 SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
                 WHERE ur.user_id = u.id AND rp.permission = 'conversations:reply')",
        )?
        .query_row([id], agent_row)
        .optional()?;
    let Some(mut a) = row else {
        return Ok(None);
    };
    let mut s = conn.prepare_cached("SELECT team_id FROM team_members WHERE user_id = ?1")?;
    a.teams = s
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut s = conn.prepare_cached("SELECT inbox_id FROM inbox_members WHERE user_id = ?1")?;
    a.inboxes = s
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(a))
}

fn agent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentRow> {
    Ok(AgentRow {
        id: r.get(0)?,
        name: r.get(1)?,
        profile: Profile {
            status: r.get(2)?,
            capacity: r.get(3)?,
            skills: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        },
        teams: BTreeSet::new(),
        inboxes: BTreeSet::new(),
    })
}

/// Every agent (enabled users holding `conversations:reply`) with their memberships.
pub fn agents(conn: &Connection) -> Result<Vec<AgentRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, CASE WHEN u.display_name != '' THEN u.display_name ELSE u.username END,
                coalesce(p.status, 'offline'), coalesce(p.capacity, 5), coalesce(p.skills, '[]')
         FROM users u LEFT JOIN agent_profiles p ON p.user_id = u.id
         WHERE u.disabled = 0 AND EXISTS (
             SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
             WHERE ur.user_id = u.id AND rp.permission = 'conversations:reply')
         ORDER BY u.id",
    )?;
    let mut out: Vec<AgentRow> = stmt
        .query_map([], agent_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut teams: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut s = conn.prepare_cached("SELECT user_id, team_id FROM team_members")?;
    for row in s.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (u, t) = row?;
        teams.entry(u).or_default().insert(t);
    }
    let mut inboxes: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut s = conn.prepare_cached("SELECT user_id, inbox_id FROM inbox_members")?;
    for row in s.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (u, i) = row?;
        inboxes.entry(u).or_default().insert(i);
    }
    for a in &mut out {
        a.teams = teams.remove(&a.id).unwrap_or_default();
        a.inboxes = inboxes.remove(&a.id).unwrap_or_default();
    }
    Ok(out)
}
