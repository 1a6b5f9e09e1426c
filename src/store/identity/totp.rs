//! TOTP secrets (field ciphertexts) and recovery codes (keyed digests).

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::users::totp_field;
use crate::crypto::Keyring;
use crate::store::Result;

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
