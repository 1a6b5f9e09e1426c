//! Accounts, roles, teams, inboxes, sessions, sign-in throttling and setup tokens.
//!
//! Rows here take SQLite-assigned ids (max + 1 under the write lock), because `atrium admin
//! create` adds users from a second process while the server runs. TOTP secrets are field
//! ciphertexts bound to their row; session and setup tokens and recovery codes are stored only
//! as digests.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Row, params};
use zeroize::Zeroizing;

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};
use crate::domain::access::{BUILTIN_ROLES, Permission, Scope};

// ---------------------------------------------------------------- roles

/// A role with its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub require_totp: bool,
    pub permissions: BTreeSet<Permission>,
    /// Users holding it.
    pub users: i64,
}

/// Create missing built-in roles and reset built-in permissions to this binary's definition
/// (`require_totp` keeps what a security administrator chose).
pub fn sync_builtin_roles(conn: &Connection, now: i64) -> Result<()> {
    for r in BUILTIN_ROLES {
        conn.execute(
            "INSERT INTO roles (name, description, builtin, require_totp, created_at, updated_at)
             VALUES (?1, ?2, 1, ?3, ?4, ?4)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description, builtin = 1",
            params![r.name, r.description, r.default_require_totp(), now],
        )?;
        let id: i64 = conn.query_row("SELECT id FROM roles WHERE name = ?1", [r.name], |x| {
            x.get(0)
        })?;
        conn.execute("DELETE FROM role_permissions WHERE role_id = ?1", [id])?;
        for p in r.permissions {
            conn.execute(
                "INSERT INTO role_permissions (role_id, permission) VALUES (?1, ?2)",
                params![id, p.as_str()],
            )?;
        }
    }
    Ok(())
}

fn permissions_of_role(conn: &Connection, role: i64) -> Result<BTreeSet<Permission>> {
    let mut stmt =
        conn.prepare_cached("SELECT permission FROM role_permissions WHERE role_id = ?1")?;
    let names = stmt
        .query_map([role], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Unknown names (written by a newer version) grant nothing.
    Ok(names.iter().filter_map(|n| Permission::parse(n)).collect())
}

fn role_row(conn: &Connection, r: &Row<'_>) -> Result<RoleRow> {
    let id: i64 = r.get(0)?;
    Ok(RoleRow {
        id,
        name: r.get(1)?,
        description: r.get(2)?,
        builtin: r.get(3)?,
        require_totp: r.get(4)?,
        permissions: permissions_of_role(conn, id)?,
        users: r.get(5)?,
    })
}

const ROLE_SELECT: &str = "SELECT id, name, description, builtin, require_totp,
    (SELECT count(*) FROM user_roles ur WHERE ur.role_id = roles.id) FROM roles";

pub fn list_roles(conn: &Connection) -> Result<Vec<RoleRow>> {
    let mut stmt = conn.prepare(&format!("{ROLE_SELECT} ORDER BY builtin DESC, name"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(role_row(conn, r)?);
    }
    Ok(out)
}

pub fn role(conn: &Connection, id: i64) -> Result<Option<RoleRow>> {
    let mut stmt = conn.prepare(&format!("{ROLE_SELECT} WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(role_row(conn, r)?)),
        None => Ok(None),
    }
}

pub fn role_by_name(conn: &Connection, name: &str) -> Result<Option<RoleRow>> {
    let id: Option<i64> = conn
        .query_row("SELECT id FROM roles WHERE name = ?1", [name], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => role(conn, id),
        None => Ok(None),
    }
}

pub fn create_role(
    conn: &Connection,
    name: &str,
    description: &str,
    permissions: &BTreeSet<Permission>,
    require_totp: bool,
    now: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO roles (name, description, builtin, require_totp, created_at, updated_at)
         VALUES (?1, ?2, 0, ?3, ?4, ?4)",
        params![name, description, require_totp, now],
    )?;
    let id = conn.last_insert_rowid();
    set_role_permissions(conn, id, permissions)?;
    Ok(id)
}

pub fn set_role_permissions(
    conn: &Connection,
    role: i64,
    permissions: &BTreeSet<Permission>,
) -> Result<()> {
    conn.execute("DELETE FROM role_permissions WHERE role_id = ?1", [role])?;
    for p in permissions {
        conn.execute(
            "INSERT INTO role_permissions (role_id, permission) VALUES (?1, ?2)",
            params![role, p.as_str()],
        )?;
    }
    Ok(())
}

pub fn update_role(
    conn: &Connection,
    id: i64,
    description: Option<&str>,
    require_totp: Option<bool>,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE roles SET description = coalesce(?2, description),
                          require_totp = coalesce(?3, require_totp), updated_at = ?4
         WHERE id = ?1",
        params![id, description, require_totp, now],
    )?;
    Ok(())
}

pub fn delete_role(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM roles WHERE id = ?1 AND builtin = 0", [id])?;
    Ok(())
}

// ---------------------------------------------------------------- users

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

fn totp_field(column: &'static str, user: i64) -> FieldRef {
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

pub fn set_totp_pending(conn: &Connection, ring: &Keyring, user: i64, secret: &[u8]) -> Result<()> {
    let ct = ring.encrypt(totp_field("totp_pending", user), secret);
    conn.execute(
        "UPDATE users SET totp_pending = ?2 WHERE id = ?1",
        params![user, ct],
    )?;
    Ok(())
}

pub fn totp_pending(
    conn: &Connection,
    ring: &Keyring,
    user: i64,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let ct: Option<Vec<u8>> = conn
        .query_row(
            "SELECT totp_pending FROM users WHERE id = ?1",
            [user],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    match ct {
        Some(ct) => Ok(Some(Zeroizing::new(
            ring.decrypt(totp_field("totp_pending", user), &ct)?,
        ))),
        None => Ok(None),
    }
}

/// Make `secret` the user's TOTP secret (clearing any pending one) with its first used step.
pub fn enable_totp(
    conn: &Connection,
    ring: &Keyring,
    user: i64,
    secret: &[u8],
    step: i64,
) -> Result<()> {
    let ct = ring.encrypt(totp_field("totp_secret", user), secret);
    conn.execute(
        "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_last_step = ?3
         WHERE id = ?1",
        params![user, ct, step],
    )?;
    Ok(())
}

pub fn disable_totp(conn: &Connection, user: i64) -> Result<()> {
    conn.execute(
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1",
        [user],
    )?;
    conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user])?;
    Ok(())
}

pub fn set_totp_last_step(conn: &Connection, user: i64, step: i64) -> Result<()> {
    conn.execute(
        "UPDATE users SET totp_last_step = max(totp_last_step, ?2) WHERE id = ?1",
        params![user, step],
    )?;
    Ok(())
}

pub fn replace_recovery_codes(conn: &Connection, user: i64, digests: &[Vec<u8>]) -> Result<()> {
    conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user])?;
    for d in digests {
        conn.execute(
            "INSERT OR IGNORE INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)",
            params![user, d],
        )?;
    }
    Ok(())
}

/// Spend a recovery code; `false` when unknown or already used.
pub fn use_recovery_code(conn: &Connection, user: i64, digest: &[u8], now: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE recovery_codes SET used_at = ?3
         WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![user, digest, now],
    )?;
    Ok(n == 1)
}

pub fn recovery_code_unused(conn: &Connection, user: i64, digest: &[u8]) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM recovery_codes
                        WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL)",
        params![user, digest],
        |r| r.get(0),
    )?)
}

// ---------------------------------------------------------------- sessions

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

// ---------------------------------------------------------------- sign-in throttling

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

// ---------------------------------------------------------------- setup tokens

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
}

pub fn list_inboxes(conn: &Connection) -> Result<Vec<InboxRow>> {
    let mut stmt =
        conn.prepare("SELECT id, name, channel, team_id, created_at FROM inboxes ORDER BY id")?;
    let v = stmt
        .query_map([], |r| {
            Ok(InboxRow {
                id: r.get(0)?,
                name: r.get(1)?,
                channel: r.get(2)?,
                team_id: r.get(3)?,
                created_at: r.get(4)?,
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
