//! Channel identities of contacts (visitor id, openid, unionid, external id, e-mail, phone) and
//! contact merging.
//!
//! Values are encrypted; lookups go through a blind index computed over `kind` + the normalised
//! value. Per-inbox kinds (visitor, openid, external) are namespaced by inbox id, global kinds
//! (unionid, e-mail, phone) by 0, so a verified phone links the same person across channels.
//! A merged contact keeps its row with `merged_into` set; lookups follow that link.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use crate::crypto::blind::BlindKind;
use crate::crypto::{FieldRef, Keyring};
use crate::domain::{ContactId, IdentityClaim, IdentityKind};

const TABLE: &str = "contact_identities";

/// A stored identity, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: i64,
    pub contact_id: ContactId,
    pub kind: IdentityKind,
    /// The inbox for per-inbox kinds, `None` for global ones.
    pub inbox_id: Option<i64>,
    pub value: String,
    pub verified: bool,
}

fn namespace(kind: IdentityKind, inbox: i64) -> i64 {
    if kind.per_inbox() { inbox } else { 0 }
}

fn blind(ring: &Keyring, kind: IdentityKind, value: &str) -> Option<Vec<u8>> {
    let b = match kind {
        IdentityKind::Phone => BlindKind::Phone,
        IdentityKind::Email => BlindKind::Email,
        _ => BlindKind::ExternalId,
    };
    // The kind is part of the value so an openid never equals a visitor id with the same text.
    match b {
        BlindKind::ExternalId => ring.blind_index(b, &format!("{}:{value}", kind.as_str())),
        _ => ring.blind_index(b, value),
    }
}

/// The live contact a contact id stands for (following merges; at most 16 hops).
pub fn live_contact(conn: &Connection, id: ContactId) -> Result<Option<ContactId>> {
    let mut cur = id;
    for _ in 0..16 {
        let row: Option<(Option<i64>, Option<i64>)> = conn
            .prepare_cached("SELECT merged_into, deleted_at FROM contacts WHERE id = ?1")?
            .query_row([cur.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None | Some((None, Some(_))) => return Ok(None),
            Some((None, None)) => return Ok(Some(cur)),
            Some((Some(next), _)) => cur = ContactId(next),
        }
    }
    Ok(None)
}

/// An identity row found for a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    /// The contact the row names (possibly merged into another, or deleted).
    pub contact: ContactId,
    pub verified: bool,
    /// The contact it stands for now (following merges); `None` when that one is deleted.
    pub live: Option<ContactId>,
}

/// The identity row matching a claim in `inbox`. The live contact is the identity's contact
/// itself when it is neither merged nor deleted (one query for the common case), else what
/// [`live_contact`] finds.
pub fn find(
    conn: &Connection,
    ring: &Keyring,
    inbox: i64,
    claim: &IdentityClaim,
) -> Result<Option<Found>> {
    let Some(bidx) = blind(ring, claim.kind, &claim.value) else {
        return Ok(None);
    };
    let row: Option<(i64, i64, bool, bool)> = conn
        .prepare_cached(
            "SELECT ci.id, ci.contact_id, ci.verified,
                    c.merged_into IS NULL AND c.deleted_at IS NULL
             FROM contact_identities ci JOIN contacts c ON c.id = ci.contact_id
             WHERE ci.kind = ?1 AND ci.namespace = ?2 AND ci.value_bidx = ?3",
        )?
        .query_row(
            params![claim.kind.as_str(), namespace(claim.kind, inbox), bidx],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((id, contact, verified, alive)) = row else {
        return Ok(None);
    };
    let contact = ContactId(contact);
    let live = if alive {
        Some(contact)
    } else {
        live_contact(conn, contact)?
    };
    Ok(Some(Found {
        id,
        contact,
        verified,
        live,
    }))
}

/// Attach a claim to `contact` (id allocated by the caller). An identity that already exists
/// is moved to `contact` and upgraded to verified when the claim is.
pub fn attach(
    conn: &Connection,
    ring: &Keyring,
    id: i64,
    contact: ContactId,
    inbox: i64,
    claim: &IdentityClaim,
    now: i64,
) -> Result<bool> {
    let Some(bidx) = blind(ring, claim.kind, &claim.value) else {
        return Ok(false);
    };
    let ct = ring.encrypt_str(FieldRef::new(TABLE, "value", id), &claim.value);
    let n = conn
        .prepare_cached(
            "INSERT INTO contact_identities
                 (id, contact_id, kind, namespace, value, value_bidx, verified, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (kind, namespace, value_bidx) DO UPDATE
                 SET contact_id = excluded.contact_id,
                     verified = max(verified, excluded.verified)",
        )?
        .execute(params![
            id,
            contact.0,
            claim.kind.as_str(),
            namespace(claim.kind, inbox),
            ct,
            bidx,
            claim.verified,
            now
        ])?;
    Ok(n > 0)
}

/// Every identity of a contact, decrypted.
pub fn list(conn: &Connection, ring: &Keyring, contact: ContactId) -> Result<Vec<Identity>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, namespace, value, verified FROM contact_identities
         WHERE contact_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([contact.0])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let Some(kind) = IdentityKind::parse(&r.get::<_, String>(1)?) else {
            continue;
        };
        let ns: i64 = r.get(2)?;
        let ct: Vec<u8> = r.get(3)?;
        out.push(Identity {
            id,
            contact_id: contact,
            kind,
            inbox_id: (ns != 0).then_some(ns),
            value: ring.decrypt_string(FieldRef::new(TABLE, "value", id), &ct)?,
            verified: r.get(4)?,
        });
    }
    Ok(out)
}

/// One identity by id.
pub fn get(conn: &Connection, ring: &Keyring, id: i64) -> Result<Option<Identity>> {
    let contact: Option<i64> = conn
        .prepare_cached("SELECT contact_id FROM contact_identities WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(contact) = contact else {
        return Ok(None);
    };
    Ok(list(conn, ring, ContactId(contact))?
        .into_iter()
        .find(|i| i.id == id))
}

/// Merge `from` into `into`: identities and conversations move, `from` points at `into`.
pub fn merge(conn: &Connection, into: ContactId, from: ContactId, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE contact_identities SET contact_id = ?1 WHERE contact_id = ?2")?
        .execute(params![into.0, from.0])?;
    conn.prepare_cached("UPDATE conversations SET contact_id = ?1 WHERE contact_id = ?2")?
        .execute(params![into.0, from.0])?;
    conn.prepare_cached(
        "UPDATE contacts SET vip = max(vip, (SELECT vip FROM contacts WHERE id = ?2)),
                             updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![into.0, from.0, now])?;
    conn.prepare_cached("UPDATE contacts SET merged_into = ?1, updated_at = ?3 WHERE id = ?2")?
        .execute(params![into.0, from.0, now])?;
    Ok(())
}

/// Move one identity, and the conversations of its inbox that came through it, to `to`.
/// Conversations are moved only for per-inbox identities (a phone or unionid says nothing
/// about which conversations were whose).
pub fn split(conn: &Connection, identity: &Identity, to: ContactId, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE contact_identities SET contact_id = ?1 WHERE id = ?2")?
        .execute(params![to.0, identity.id])?;
    if let (true, Some(inbox)) = (identity.kind.per_inbox(), identity.inbox_id) {
        // The conversations that came through this identity; older ones (recorded without
        // their identity) by the identity's inbox.
        conn.prepare_cached(
            "UPDATE conversations SET contact_id = ?1, updated_at = ?4
             WHERE contact_id = ?2 AND inbox_id = ?3
               AND (identity_id = ?5 OR identity_id IS NULL)",
        )?
        .execute(params![
            to.0,
            identity.contact_id.0,
            inbox,
            now,
            identity.id
        ])?;
    }
    Ok(())
}
