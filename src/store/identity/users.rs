//! User accounts, their roles and memberships, and the rights a request derives from them.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Row, params};
use zeroize::Zeroizing;

use crate::crypto::{FieldRef, Keyring};
use crate::domain::access::{Permission, Scope};
use crate::store::Result;

/// What sign-in needs of a user.
#[derive(Clone)]
pub struct Credentials {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub must_change_password: bool,
    pub disabled: bool,
    /// Decrypted TOTP secret, when enrolled.
    pub totp_secret: Option<Zeroizing<Vec<u8>>>,
    pub totp_last_step: i64,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

const USERS: &str = "users";

pub(super) fn totp_field(column: &'static str, user: i64) -> FieldRef {
    FieldRef::new(USERS, column, user)
}

fn credentials_where(
    conn: &Connection,
    ring: &Keyring,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> Result<Option<Credentials>> {
    let row = conn
        .query_row(
            &format!(
                "SELECT id, username, password_hash, password_changed_at, must_change_password,
                        disabled, totp_secret, totp_last_step FROM users WHERE {clause}"
            ),
            [arg],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((id, username, password_hash, changed, must, disabled, secret, last_step)) = row
    else {
        return Ok(None);
    };
    let totp_secret = match secret {
        Some(ct) => Some(Zeroizing::new(
            ring.decrypt(totp_field("totp_secret", id), &ct)?,
        )),
        None => None,
    };
    Ok(Some(Credentials {
        id,
        username,
        password_hash,
        password_changed_at: changed,
        must_change_password: must,
        disabled,
        totp_secret,
        totp_last_step: last_step,
    }))
}

pub fn credentials_by_name(
    conn: &Connection,
    ring: &Keyring,
    username: &str,
) -> Result<Option<Credentials>> {
    credentials_where(conn, ring, "username = ?1", &username)
}

pub fn credentials(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<Credentials>> {
    credentials_where(conn, ring, "id = ?1", &id)
}

/// A user as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub teams: Vec<i64>,
    pub inboxes: Vec<i64>,
    pub disabled: bool,
    pub locked_until: Option<i64>,
    pub totp_enabled: bool,
    pub must_change_password: bool,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

fn ids(conn: &Connection, sql: &str, user: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let v = stmt
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(v)
}

fn user_row(conn: &Connection, r: &Row<'_>) -> Result<UserRow> {
    let id: i64 = r.get(0)?;
    let mut stmt = conn.prepare_cached(
        "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
         WHERE ur.user_id = ?1 ORDER BY r.name",
    )?;
    let roles = stmt
        .query_map([id], |x| x.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(UserRow {
        id,
        username: r.get(1)?,
        display_name: r.get(2)?,
        roles,
        teams: ids(
            conn,
            "SELECT team_id FROM team_members WHERE user_id = ?1 ORDER BY team_id",
            id,
        )?,
        inboxes: ids(
            conn,
            "SELECT inbox_id FROM inbox_members WHERE user_id = ?1 ORDER BY inbox_id",
            id,
        )?,
        disabled: r.get(3)?,
        locked_until: r.get(4)?,
        totp_enabled: r.get(5)?,
        must_change_password: r.get(6)?,
        password_changed_at: r.get(7)?,
        created_at: r.get(8)?,
        last_login_at: r.get(9)?,
    })
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.disabled,
    (SELECT t.locked_until FROM login_throttle t WHERE t.username = u.username),
    u.totp_secret IS NOT NULL, u.must_change_password, u.password_changed_at, u.created_at,
    u.last_login_at FROM users u";

pub fn list_users(conn: &Connection) -> Result<Vec<UserRow>> {
    let mut stmt = conn.prepare(&format!("{USER_SELECT} ORDER BY u.username"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(user_row(conn, r)?);
    }
    Ok(out)
}

pub fn user(conn: &Connection, id: i64) -> Result<Option<UserRow>> {
    let mut stmt = conn.prepare(&format!("{USER_SELECT} WHERE u.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(user_row(conn, r)?)),
        None => Ok(None),
    }
}

pub fn user_id_by_name(conn: &Connection, username: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM users WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .optional()?)
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub role_ids: &'a [i64],
}

pub fn create_user(conn: &Connection, u: &NewUser<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO users (username, display_name, password_hash, password_changed_at,
                            must_change_password, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?4)",
        params![
            u.username,
            u.display_name,
            u.password_hash,
            now,
            u.must_change_password
        ],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO password_history (user_id, hash, created_at) VALUES (?1, ?2, ?3)",
        params![id, u.password_hash, now],
    )?;
    set_user_roles(conn, id, u.role_ids)?;
    Ok(id)
}

pub fn set_user_roles(conn: &Connection, user: i64, role_ids: &[i64]) -> Result<()> {
    conn.execute("DELETE FROM user_roles WHERE user_id = ?1", [user])?;
    for r in role_ids {
        conn.execute(
            "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2)",
            params![user, r],
        )?;
    }
    Ok(())
}

pub fn set_user_teams(conn: &Connection, user: i64, teams: &[i64]) -> Result<()> {
    conn.execute("DELETE FROM team_members WHERE user_id = ?1", [user])?;
    for t in teams {
        conn.execute(
            "INSERT INTO team_members (team_id, user_id) VALUES (?1, ?2)",
            params![t, user],
        )?;
    }
    Ok(())
}

pub fn set_user_inboxes(conn: &Connection, user: i64, inboxes: &[i64]) -> Result<()> {
    conn.execute("DELETE FROM inbox_members WHERE user_id = ?1", [user])?;
    for i in inboxes {
        conn.execute(
            "INSERT INTO inbox_members (inbox_id, user_id) VALUES (?1, ?2)",
            params![i, user],
        )?;
    }
    Ok(())
}

pub fn update_user(
    conn: &Connection,
    user: i64,
    display_name: Option<&str>,
    disabled: Option<bool>,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE users SET display_name = coalesce(?2, display_name),
                          disabled = coalesce(?3, disabled), updated_at = ?4 WHERE id = ?1",
        params![user, display_name, disabled, now],
    )?;
    Ok(())
}

/// Set a new password hash; it joins the history used by the no-reuse rule.
pub fn set_password(
    conn: &Connection,
    user: i64,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, password_changed_at = ?3,
                          must_change_password = ?4, updated_at = ?3 WHERE id = ?1",
        params![user, hash, now, must_change],
    )?;
    conn.execute(
        "INSERT INTO password_history (user_id, hash, created_at) VALUES (?1, ?2, ?3)",
        params![user, hash, now],
    )?;
    Ok(())
}

/// The last `n` password hashes of a user, newest first.
pub fn password_history(conn: &Connection, user: i64, n: usize) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT hash FROM password_history WHERE user_id = ?1
         ORDER BY created_at DESC, rowid DESC LIMIT ?2",
    )?;
    let v = stmt
        .query_map(params![user, i64::try_from(n).unwrap_or(0)], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(v)
}

pub fn record_login(conn: &Connection, user: i64, now: i64, totp_step: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE users SET last_login_at = ?2,
                          totp_last_step = max(totp_last_step, coalesce(?3, 0)) WHERE id = ?1",
        params![user, now, totp_step],
    )?;
    Ok(())
}

/// Everything a request needs to know about its caller's rights (besides the user row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    pub permissions: BTreeSet<Permission>,
    pub require_totp: bool,
    pub scope: Scope,
}

/// The rights of `user` (already read, with its teams and inboxes): two indexed queries, run
/// on every authenticated request.
pub fn grants(conn: &Connection, user: &UserRow) -> Result<Grants> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.permission FROM user_roles ur
         JOIN role_permissions p ON p.role_id = ur.role_id WHERE ur.user_id = ?1",
    )?;
    let names = stmt
        .query_map([user.id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Unknown names (written by a newer version) grant nothing.
    let permissions: BTreeSet<Permission> =
        names.iter().filter_map(|n| Permission::parse(n)).collect();
    let require_totp: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                            WHERE ur.user_id = ?1 AND r.require_totp)",
        )?
        .query_row([user.id], |r| r.get(0))?;
    let scope = if permissions.contains(&Permission::ConversationsAll) {
        Scope::All
    } else {
        Scope::Limited {
            teams: user.teams.iter().copied().collect(),
            inboxes: user.inboxes.iter().copied().collect(),
        }
    };
    Ok(Grants {
        permissions,
        require_totp,
        scope,
    })
}

/// Whether some enabled account can administer users (else `serve` offers a setup link).
pub fn has_administrator(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users u JOIN user_roles ur ON ur.user_id = u.id
                        JOIN role_permissions p ON p.role_id = ur.role_id
                        WHERE u.disabled = 0 AND p.permission = 'users:write')",
        [],
        |r| r.get(0),
    )?)
}

// ---------------------------------------------------------------- TOTP
