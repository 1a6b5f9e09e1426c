//! Roles and their permissions; the built-in roles are re-applied on every start.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::access::{BUILTIN_ROLES, Permission};
use crate::store::Result;

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
