//! Rows behind the keyring: the master-key fingerprint in `meta` and wrapped data keys in
//! `data_keys`.

use rusqlite::{Connection, OptionalExtension, params};
use subtle::ConstantTimeEq;

use super::error::Result;
use crate::crypto::keyring::{WrappedKey, new_wrapped_key};
use crate::crypto::{self, KeyProvider, Keyring, MasterKey, Purpose};

const FINGERPRINT: &str = "kek_fingerprint";

fn stored_fingerprint(conn: &Connection) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [FINGERPRINT],
            |r| r.get(0),
        )
        .optional()?)
}

/// Refuse a master key that is not the one this database was created with.
pub fn check_fingerprint(conn: &Connection, kek: &MasterKey, from: &dyn KeyProvider) -> Result<()> {
    match stored_fingerprint(conn)? {
        Some(fp) if bool::from(fp.ct_eq(&kek.fingerprint())) => Ok(()),
        Some(_) => Err(crypto::Error::KeyMismatch {
            provider: from.describe(),
        }
        .into()),
        // Version ≥ 1 always has a fingerprint; a missing one means the row was removed.
        None => Err(crypto::Error::KeyMismatch {
            provider: from.describe(),
        }
        .into()),
    }
}

/// Record the fingerprint of a new database's master key.
pub fn store_fingerprint_if_new(conn: &Connection, kek: &MasterKey) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
        params![FINGERPRINT, kek.fingerprint().as_slice()],
    )?;
    Ok(())
}

/// Compare a database's fingerprint with a key without a provider (backup checks).
pub fn fingerprint_matches(conn: &Connection, kek: &MasterKey) -> Result<bool> {
    Ok(stored_fingerprint(conn)?.is_some_and(|fp| bool::from(fp.ct_eq(&kek.fingerprint()))))
}

/// Every stored data key.
pub fn load_wrapped(conn: &Connection) -> Result<Vec<WrappedKey>> {
    let mut stmt = conn.prepare(
        "SELECT id, purpose, wrapped, retired_at IS NOT NULL FROM data_keys ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, purpose, wrapped, retired) = row?;
        // Unknown purposes come from a newer binary; skip rather than misuse them.
        if let (Some(purpose), Ok(id)) = (Purpose::parse(&purpose), u32::try_from(id)) {
            out.push(WrappedKey {
                id,
                purpose,
                wrapped,
                retired,
            });
        }
    }
    Ok(out)
}

/// Unlock the data keys, creating a first key for every purpose that has none.
pub fn unlock_or_create(conn: &mut Connection, kek: &MasterKey, now_ms: i64) -> Result<Keyring> {
    let mut keys = load_wrapped(conn)?;
    let missing: Vec<Purpose> = Purpose::ALL
        .into_iter()
        .filter(|p| !keys.iter().any(|k| k.purpose == *p && !k.retired))
        .collect();
    if !missing.is_empty() {
        let tx = conn.transaction()?;
        let first: u32 = keys.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        for (next, p) in (first..).zip(missing) {
            let k = new_wrapped_key(kek, next, p);
            tx.execute(
                "INSERT INTO data_keys (id, purpose, algorithm, wrapped, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![k.id, p.as_str(), p.algorithm(), k.wrapped, now_ms],
            )?;
            keys.push(k);
        }
        tx.commit()?;
    }
    Ok(Keyring::unlock(kek, &keys)?)
}
