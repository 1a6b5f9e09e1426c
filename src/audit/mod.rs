//! The tamper-evident audit log: what a record is and how records chain.
//!
//! Design: each record carries `prev_hash` (the previous record's `hash`; 32 zero bytes for the
//! first), `hash = SHA-256(prev_hash ‖ canonical(record))` and `mac = HMAC-SHA256(K_audit, hash)`,
//! where `K_audit` is derived from the master key and stored nowhere. The hash chain alone lets
//! anyone holding an export check that no record in it was changed, removed or reordered; the MAC
//! makes forging a consistent chain impossible for someone who can write the database file but
//! does not hold the master key. `seq` numbers are consecutive, so a removed record shows as a
//! gap. The store appends a record in the same transaction as the action it describes
//! (fail-closed) and SQLite triggers refuse UPDATE and DELETE.

pub mod export;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Hash length of the chain (SHA-256).
pub const HASH_LEN: usize = 32;

/// `prev_hash` of the very first record.
pub const GENESIS: [u8; HASH_LEN] = [0; HASH_LEN];

/// How the audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    /// The action was attempted and failed (wrong password, invalid code).
    Failure,
    /// The caller was not allowed (permission, scope, CSRF, lockout).
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// Who did it, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user id; `None` for the system, the command line or an unknown user name.
    pub id: Option<i64>,
    /// User name, `system`, or `cli:<os user>`; for failed sign-ins, the name that was tried.
    pub name: String,
    /// Source address; empty for the command line and the system.
    pub ip: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: None,
            name: "system".into(),
            ip: String::new(),
        }
    }

    /// The operator running an `atrium` subcommand on the server.
    pub fn cli() -> Actor {
        let who = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map_or_else(|| nix::unistd::getuid().to_string(), |u| u.name);
        Actor {
            id: None,
            name: format!("cli:{who}"),
            ip: String::new(),
        }
    }
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    /// Dotted event type, e.g. `auth.login`, `user.update`; see [`EVENTS`].
    pub event: &'static str,
    /// What it was done to, e.g. `user:42`, `role:agent`, `contact:7`.
    pub target: String,
    pub outcome: Outcome,
    /// Event-specific facts. Never secrets: passwords, tokens and keys are left out or redacted.
    pub details: serde_json::Value,
}

impl Entry {
    pub fn new(actor: &Actor, event: &'static str, target: impl Into<String>) -> Entry {
        Entry {
            actor: actor.clone(),
            event,
            target: target.into(),
            outcome: Outcome::Success,
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn outcome(mut self, o: Outcome) -> Entry {
        self.outcome = o;
        self
    }

    pub fn details(mut self, d: serde_json::Value) -> Entry {
        self.details = d;
        self
    }
}

/// Every event type Atrium records (the auditor's filter lists these).
pub const EVENTS: &[&str] = &[
    "auth.login",
    "auth.logout",
    "auth.lockout",
    "auth.rate_limited",
    "auth.session_revoked",
    "auth.csrf_failed",
    "auth.identity_header_ignored",
    "auth.setup",
    "access.denied",
    "password.change",
    "password.reset",
    "totp.enrol",
    "totp.disable",
    "totp.reset",
    "totp.recovery_codes",
    "user.create",
    "user.update",
    "user.unlock",
    "user.logout_forced",
    "role.create",
    "role.update",
    "role.delete",
    "team.create",
    "team.update",
    "inbox.create",
    "inbox.update",
    "inbox.token_rotate",
    "settings.update",
    "agent.update",
    "canned.shared_update",
    "pii.reveal",
    "contact.merge",
    "contact.split",
    "contact.update",
    "audit.view",
    "audit.verify",
    "audit.export",
    "keys.init",
    "backup.create",
    "backup.restore",
];

/// One stored record, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub event: String,
    pub target: String,
    pub outcome: String,
    /// The details JSON exactly as stored (its bytes are hashed).
    pub details: String,
    #[serde(with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub mac: Vec<u8>,
}

/// The bytes a record's hash covers: every field but the chain values, length-prefixed so no
/// two different records encode alike.
pub fn canonical(r: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + r.details.len());
    out.extend_from_slice(b"atrium-audit-v1");
    out.extend_from_slice(&r.seq.to_be_bytes());
    out.extend_from_slice(&r.at.to_be_bytes());
    match r.actor_id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_be_bytes());
        }
        None => out.push(0),
    }
    for field in [&r.actor, &r.ip, &r.event, &r.target, &r.outcome, &r.details] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// `SHA-256(prev_hash ‖ canonical(record))`.
pub fn chain_hash(prev_hash: &[u8], r: &Record) -> [u8; HASH_LEN] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(canonical(r));
    h.finalize().into()
}

/// Why a record fails verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// `seq` does not follow the previous record's (a record was removed or inserted).
    SequenceGap,
    /// `prev_hash` is not the previous record's hash (removed, reordered or replaced).
    ChainBroken,
    /// The content does not match its hash (the record was changed).
    HashMismatch,
    /// The MAC does not match (forged with a recomputed hash, or a different master key).
    MacMismatch,
}

impl Break {
    pub fn describe(self) -> &'static str {
        match self {
            Break::SequenceGap => "sequence gap: a record before it was removed or inserted",
            Break::ChainBroken => "prev_hash does not match the previous record's hash",
            Break::HashMismatch => "content does not match its hash: the record was changed",
            Break::MacMismatch => "MAC does not match: forged, or verified with another key",
        }
    }
}

/// Computes the MAC of a record hash (the keyring's audit key).
pub type MacFn<'a> = &'a dyn Fn(&[u8]) -> [u8; 32];

/// Check one record against its predecessor's `(seq, hash)`. `mac` is `None` when verifying
/// without the key (an export checked offline).
pub fn check(prev: Option<(i64, &[u8])>, r: &Record, mac: Option<MacFn<'_>>) -> Result<(), Break> {
    if let Some((prev_seq, prev_hash)) = prev {
        if r.seq != prev_seq + 1 {
            return Err(Break::SequenceGap);
        }
        if r.prev_hash != prev_hash {
            return Err(Break::ChainBroken);
        }
    }
    if chain_hash(&r.prev_hash, r).as_slice() != r.hash.as_slice() {
        return Err(Break::HashMismatch);
    }
    if let Some(mac) = mac {
        let expected = mac(&r.hash);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            r.mac.as_slice(),
        )) {
            return Err(Break::MacMismatch);
        }
    }
    Ok(())
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

/// The manifest of an export of `records` (chain order) with the record before them.
pub fn export_manifest(
    exported_at: i64,
    (from, to): (i64, i64),
    anchor: Option<Record>,
    records: &[Record],
    server_key_fingerprint: String,
    exported_by: String,
) -> export::Manifest {
    export::Manifest {
        format: export::MANIFEST_FORMAT,
        exported_at,
        from,
        to,
        count: records.len() as u64,
        first_seq: records.first().map(|r| r.seq),
        last_seq: records.last().map(|r| r.seq),
        anchor,
        head_hash: records.last().map(|r| hex::encode(&r.hash)),
        server_key_fingerprint,
        exported_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: i64, prev: &[u8], details: &str) -> Record {
        let mut r = Record {
            seq,
            at: 1_700_000_000_000 + seq,
            actor_id: Some(7),
            actor: "li.na".into(),
            ip: "10.0.0.8".into(),
            event: "auth.login".into(),
            target: "user:7".into(),
            outcome: "success".into(),
            details: details.into(),
            prev_hash: prev.to_vec(),
            hash: vec![],
            mac: vec![],
        };
        r.hash = chain_hash(prev, &r).to_vec();
        r.mac = r.hash.iter().map(|b| b ^ 0x5a).collect();
        r
    }

    fn xor_mac(h: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (o, b) in out.iter_mut().zip(h) {
            *o = b ^ 0x5a;
        }
        out
    }

    #[test]
    fn a_chain_verifies_and_each_kind_of_tampering_is_named() {
        let a = rec(1, &GENESIS, "{}");
        let b = rec(2, &a.hash, r#"{"k":1}"#);
        let mac: &dyn Fn(&[u8]) -> [u8; 32] = &xor_mac;
        assert_eq!(check(None, &a, Some(mac)), Ok(()));
        assert_eq!(check(Some((1, &a.hash)), &b, Some(mac)), Ok(()));

        let mut changed = b.clone();
        changed.details = r#"{"k":2}"#.into();
        assert_eq!(
            check(Some((1, &a.hash)), &changed, Some(mac)),
            Err(Break::HashMismatch)
        );

        let mut forged = changed.clone();
        forged.hash = chain_hash(&forged.prev_hash, &forged).to_vec();
        assert_eq!(check(Some((1, &a.hash)), &forged, None), Ok(()));
        assert_eq!(
            check(Some((1, &a.hash)), &forged, Some(mac)),
            Err(Break::MacMismatch)
        );

        let c = rec(3, &b.hash, "{}");
        assert_eq!(
            check(Some((1, &a.hash)), &c, Some(mac)),
            Err(Break::SequenceGap)
        );
        let mut d = rec(2, &GENESIS, "{}");
        d.mac = xor_mac(&d.hash).to_vec();
        assert_eq!(
            check(Some((1, &a.hash)), &d, Some(mac)),
            Err(Break::ChainBroken)
        );
    }

    #[test]
    fn canonical_encoding_is_unambiguous() {
        let mut a = rec(1, &GENESIS, "{}");
        let mut b = a.clone();
        a.actor = "ab".into();
        a.ip = "c".into();
        b.actor = "a".into();
        b.ip = "bc".into();
        assert_ne!(canonical(&a), canonical(&b));
    }
}
