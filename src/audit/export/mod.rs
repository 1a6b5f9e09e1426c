//! The encrypted, self-verifying audit export (`atrium audit export` / `atrium audit
//! verify-export`): a range of audit records plus a manifest, sealed under a passphrase, that an
//! auditor can check offline without any server key.
//!
//! # File format (version 1)
//!
//! ```text
//! ATRIUM-AUDIT-EXPORT\n                                    magic, 20 ASCII bytes
//! {"v":1,"kdf":"argon2id","m_kib":65536,"t":3,"p":1,"salt":"<32 hex>","cipher":"aes-256-gcm","nonce":"<24 hex>"}\n
//! <ciphertext ‖ 16-byte GCM tag>                          to the end of the file
//! ```
//!
//! 1. **Header line**: one compact JSON object (keys in the order shown, no spaces) ended by a
//!    single `\n`. `salt` is 16 random bytes and `nonce` 12 random bytes, both lower-case hex.
//!    Readers refuse any other `v`, `kdf` or `cipher`, unknown keys, and cost parameters outside
//!    `1 ≤ p ≤ 16`, `1 ≤ t ≤ 32`, `8·p ≤ m_kib ≤ 1 048 576` (1 GiB) — checked *before* the key
//!    is derived, so a hostile file cannot make the verifier allocate unbounded memory.
//! 2. **Key**: `K = Argon2id(password = UTF-8 bytes of the passphrase as typed (no
//!    normalisation or trimming), salt, m = m_kib KiB, t iterations, p lanes, version 0x13,
//!    no secret, no associated data, tag length 32)` (RFC 9106).
//! 3. **Encryption**: AES-256-GCM (NIST SP 800-38D) under `K` with the 96-bit `nonce`.
//!    The associated data is every byte of the file before the ciphertext: the magic plus the
//!    header line exactly as written, including its closing `\n`. So a flipped bit anywhere —
//!    magic, header or ciphertext — makes decryption fail. The 16-byte tag is the last 16
//!    bytes of the file (the usual `ciphertext ‖ tag` layout).
//! 4. **Plaintext**: UTF-8 JSON lines, each ended by `\n`. Line 1 is the [`Manifest`]; each
//!    further line is one [`Record`] (byte fields `prev_hash`, `hash`, `mac` as lower-case hex),
//!    in ascending `seq` order. An empty range has the manifest line only.
//! 5. **Checks** ([`verify`]): the record count equals `manifest.count`; the anchor (the record
//!    just before the range) matches its own hash; each record follows its predecessor (the
//!    anchor, or a virtual seq 0 with hash [`GENESIS`] when there is no anchor) by
//!    [`crate::audit::check`] — consecutive `seq`, `prev_hash` = previous `hash`, `hash =
//!    SHA-256(prev_hash ‖ canonical(record))` (see [`crate::audit::canonical`]); and
//!    `first_seq`, `last_seq`, `head_hash` equal what the records give.
//!
//! For example, in Python: `key = argon2.low_level.hash_secret_raw(pw, salt, t, m_kib, p, 32,
//! Type.ID, 19)`, then `AESGCM(key).decrypt(nonce, file[len(aad):], aad)`.
//!
//! # Design rationale
//!
//! The hash chain proves that no record inside the range was changed, removed or reordered, and
//! the anchor ties the range to the chain before it, so an auditor holding two exports can line
//! them up. The per-record MAC needs the server's master key and is therefore *not* checked here;
//! `server_key_fingerprint` only says which server made the file. Encryption keeps the personal
//! data in records (names, addresses) confidential in transit and at rest on the auditor's side;
//! authenticating the header as associated data means a file cannot be re-labelled with weaker
//! parameters or another nonce. A fresh random salt and nonce per file means one passphrase can
//! seal many exports without nonce reuse under one key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Break, GENESIS, Record, chain_hash, check};

/// The first bytes of every export file.
pub const MAGIC: &[u8] = b"ATRIUM-AUDIT-EXPORT\n";
/// The header's `v`.
pub const FILE_VERSION: u32 = 1;
/// The manifest's `format`.
pub const MANIFEST_FORMAT: u32 = 1;
/// Shortest passphrase [`seal`] accepts, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// Largest accepted `m_kib` (1 GiB).
pub const MAX_M_KIB: u32 = 1024 * 1024;
/// Largest accepted `t`.
pub const MAX_T: u32 = 32;
/// Largest accepted `p`.
pub const MAX_P: u32 = 16;

const KDF: &str = "argon2id";
const CIPHER: &str = "aes-256-gcm";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;
/// A real header is about 170 bytes; anything without a newline this far in is not an export.
const MAX_HEADER_LEN: usize = 1024;

/// What the export covers and who made it; the first plaintext line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// When the export was made, ms since the epoch.
    pub exported_at: i64,
    /// Requested range start, ms since the epoch.
    pub from: i64,
    /// Requested range end, ms since the epoch.
    pub to: i64,
    /// Number of records in the file.
    pub count: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The record just before the first exported one (the chain anchor); `None` if the range
    /// starts at seq 1 or is empty.
    pub anchor: Option<Record>,
    /// Hex hash of the last exported record; `None` if the range is empty.
    pub head_hash: Option<String>,
    /// Hex fingerprint of the server key, naming the server that made the export.
    pub server_key_fingerprint: String,
    pub exported_by: String,
}

/// Argon2id cost parameters for the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended option.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 65536,
        t: 3,
        p: 1,
    };

    /// Refuse parameters argon2 rejects or that would cost a verifier unreasonable memory or time.
    pub fn validate(self) -> Result<(), Error> {
        let why = if self.p < 1 || self.p > MAX_P {
            Some("p must be between 1 and 16")
        } else if self.t < 1 || self.t > MAX_T {
            Some("t must be between 1 and 32")
        } else if self.m_kib < self.p.saturating_mul(8) {
            Some("m_kib must be at least 8 × p")
        } else if self.m_kib > MAX_M_KIB {
            Some("m_kib must be at most 1048576 (1 GiB)")
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::KdfParams {
                m_kib: self.m_kib,
                t: self.t,
                p: self.p,
                why,
            }),
            None => Ok(()),
        }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::DEFAULT
    }
}

/// A decrypted, parsed export (chain not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub manifest: Manifest,
    pub records: Vec<Record>,
}

/// The result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub manifest: Manifest,
    /// Records whose chain link and hash were checked.
    pub checked: u64,
}

/// Why an export could not be made, opened or verified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the export passphrase must be at least {MIN_PASSPHRASE_CHARS} characters long")]
    WeakPassphrase,
    #[error("not an Atrium audit export: the file does not start with ATRIUM-AUDIT-EXPORT")]
    NotAnExport,
    #[error("the export header is unreadable: {0}")]
    BadHeader(String),
    #[error("unsupported export file version {0}; this Atrium reads version {FILE_VERSION}")]
    UnsupportedVersion(u64),
    #[error("unsupported {what} {name:?} in the export header")]
    UnsupportedAlgorithm { what: &'static str, name: String },
    #[error("key-derivation parameters m_kib={m_kib}, t={t}, p={p} refused: {why}")]
    KdfParams {
        m_kib: u32,
        t: u32,
        p: u32,
        why: &'static str,
    },
    #[error("key derivation failed: {0}")]
    Kdf(String),
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("could not build the export: {0}")]
    Encode(String),
    #[error("cannot decrypt the export: wrong passphrase or the file was altered")]
    Decrypt,
    #[error("the decrypted export is malformed at line {line}: {why}")]
    Malformed { line: usize, why: String },
    #[error("unsupported manifest format {0}; this Atrium reads format {MANIFEST_FORMAT}")]
    UnsupportedFormat(u64),
    #[error("the export holds {actual} records but its manifest says {expected}")]
    CountMismatch { expected: u64, actual: u64 },
    #[error("the anchor record (seq {seq}) does not match its own hash: it was changed")]
    AnchorMismatch { seq: i64 },
    #[error("audit record seq {seq} fails verification: {}", .reason.describe())]
    Chain { seq: i64, reason: Break },
    #[error("the manifest's {field} is {manifest} but the records give {actual}")]
    ManifestMismatch {
        field: &'static str,
        manifest: String,
        actual: String,
    },
}

/// The header line, fields in the order they are written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    v: u64,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    cipher: String,
    nonce: String,
}

/// Encrypt `manifest` and `records` into an export file under `passphrase`.
///
/// The manifest must describe the records (count, first/last seq, head hash): a mismatch is
/// refused with [`Error::ManifestMismatch`] or [`Error::CountMismatch`], since the file would
/// never verify. The chain itself is not checked here, so a damaged chain can still be exported
/// for investigation (and [`verify`] will then name the damage). Fails with
/// [`Error::WeakPassphrase`] under [`MIN_PASSPHRASE_CHARS`] characters and [`Error::KdfParams`]
/// outside the accepted costs.
pub fn seal(
    manifest: &Manifest,
    records: &[Record],
    passphrase: &str,
    params: KdfParams,
) -> Result<Vec<u8>, Error> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::WeakPassphrase);
    }
    params.validate()?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(Error::UnsupportedFormat(u64::from(manifest.format)));
    }
    check_manifest(manifest, records)?;

    let mut plaintext = Zeroizing::new(Vec::with_capacity(256 + records.len() * 512));
    write_line(&mut plaintext, manifest)?;
    for r in records {
        write_line(&mut plaintext, r)?;
    }

    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut salt).map_err(|_| Error::Random)?;
    getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;
    let header = Header {
        v: u64::from(FILE_VERSION),
        kdf: KDF.into(),
        m_kib: params.m_kib,
        t: params.t,
        p: params.p,
        salt: hex::encode(salt),
        cipher: CIPHER.into(),
        nonce: hex::encode(nonce),
    };
    let mut out = MAGIC.to_vec();
    serde_json::to_writer(&mut out, &header).map_err(|e| Error::Encode(e.to_string()))?;
    out.push(b'\n');

    let key = derive_key(passphrase, &salt, params)?;
    let sealed = Aes256Gcm::new(key.as_ref().into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_slice(),
                aad: &out,
            },
        )
        // AES-GCM only refuses plaintexts over 64 GiB.
        .map_err(|_| Error::Encode("the export is too large to encrypt".into()))?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypt and parse an export. Checks the file format and the encryption tag, not the chain:
/// use [`verify`] for that. A wrong passphrase and an altered file both give [`Error::Decrypt`]
/// (AES-GCM cannot tell them apart).
pub fn open(archive: &[u8], passphrase: &str) -> Result<Opened, Error> {
    let rest = archive.strip_prefix(MAGIC).ok_or(Error::NotAnExport)?;
    let window = rest.get(..MAX_HEADER_LEN).unwrap_or(rest);
    let end = window
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| Error::BadHeader("no end of the header line".into()))?;
    let (Some(line), Some(ciphertext)) = (rest.get(..end), rest.get(end + 1..)) else {
        return Err(Error::BadHeader("no end of the header line".into()));
    };
    let aad = archive
        .get(..MAGIC.len() + end + 1)
        .ok_or_else(|| Error::BadHeader("truncated".into()))?;

    let header: Header =
        serde_json::from_slice(line).map_err(|e| Error::BadHeader(e.to_string()))?;
    if header.v != u64::from(FILE_VERSION) {
        return Err(Error::UnsupportedVersion(header.v));
    }
    if header.kdf != KDF {
        return Err(Error::UnsupportedAlgorithm {
            what: "key derivation",
            name: header.kdf,
        });
    }
    if header.cipher != CIPHER {
        return Err(Error::UnsupportedAlgorithm {
            what: "cipher",
            name: header.cipher,
        });
    }
    let params = KdfParams {
        m_kib: header.m_kib,
        t: header.t,
        p: header.p,
    };
    params.validate()?;
    let salt: [u8; SALT_LEN] = decode_fixed(&header.salt, "salt")?;
    let nonce: [u8; NONCE_LEN] = decode_fixed(&header.nonce, "nonce")?;

    let key = derive_key(passphrase, &salt, params)?;
    let plaintext = Zeroizing::new(
        Aes256Gcm::new(key.as_ref().into())
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| Error::Decrypt)?,
    );
    parse_plaintext(&plaintext)
}

/// Open an export and check it completely, offline: see the module documentation for the list.
/// The first failure is returned; a chain failure names the first bad record's seq and why.
pub fn verify(archive: &[u8], passphrase: &str) -> Result<Report, Error> {
    let Opened { manifest, records } = open(archive, passphrase)?;
    check_manifest(&manifest, &records)?;

    let anchor_link: (i64, Vec<u8>) = match &manifest.anchor {
        Some(a) => {
            if chain_hash(&a.prev_hash, a).as_slice() != a.hash.as_slice() {
                return Err(Error::AnchorMismatch { seq: a.seq });
            }
            (a.seq, a.hash.clone())
        }
        // Without an anchor the range must start the chain: seq 1 after the genesis hash.
        None => (0, GENESIS.to_vec()),
    };
    let mut prev: (i64, &[u8]) = (anchor_link.0, anchor_link.1.as_slice());
    for r in &records {
        check(Some(prev), r, None).map_err(|reason| Error::Chain { seq: r.seq, reason })?;
        prev = (r.seq, r.hash.as_slice());
    }
    Ok(Report {
        manifest,
        checked: records.len() as u64,
    })
}

/// Count, first/last seq and head hash in the manifest against the records; an empty export
/// has none of them and no anchor.
fn check_manifest(m: &Manifest, records: &[Record]) -> Result<(), Error> {
    let actual = records.len() as u64;
    if m.count != actual {
        return Err(Error::CountMismatch {
            expected: m.count,
            actual,
        });
    }
    if records.is_empty() && m.anchor.is_some() {
        return Err(mismatch("anchor", "a record", "none (the range is empty)"));
    }
    let first = records.first().map(|r| r.seq);
    let last = records.last().map(|r| r.seq);
    let head = records.last().map(|r| hex::encode(&r.hash));
    if m.first_seq != first {
        return Err(mismatch("first_seq", show(m.first_seq), show(first)));
    }
    if m.last_seq != last {
        return Err(mismatch("last_seq", show(m.last_seq), show(last)));
    }
    let manifest_head = m.head_hash.as_ref().map(|h| h.to_ascii_lowercase());
    if manifest_head != head {
        return Err(mismatch("head_hash", show(m.head_hash.clone()), show(head)));
    }
    Ok(())
}

fn mismatch(field: &'static str, manifest: impl Into<String>, actual: impl Into<String>) -> Error {
    Error::ManifestMismatch {
        field,
        manifest: manifest.into(),
        actual: actual.into(),
    }
}

fn show<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "none".into(), |v| v.to_string())
}

fn write_line<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, value).map_err(|e| Error::Encode(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}

fn parse_plaintext(plaintext: &[u8]) -> Result<Opened, Error> {
    let body = plaintext.strip_suffix(b"\n").ok_or(Error::Malformed {
        line: 1,
        why: "the last line is not ended by a newline".into(),
    })?;
    let mut lines = body.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let value: serde_json::Value = serde_json::from_slice(first).map_err(|e| Error::Malformed {
        line: 1,
        why: e.to_string(),
    })?;
    // Read the format first, so a newer manifest is named as such rather than as malformed.
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(f) if f == u64::from(MANIFEST_FORMAT) => {}
        Some(f) => return Err(Error::UnsupportedFormat(f)),
        None => {
            return Err(Error::Malformed {
                line: 1,
                why: "the manifest has no format".into(),
            });
        }
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(|e| Error::Malformed {
        line: 1,
        why: e.to_string(),
    })?;
    let records = lines
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_slice::<Record>(l).map_err(|e| Error::Malformed {
                line: i + 2,
                why: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Opened { manifest, records })
}

fn decode_fixed<const N: usize>(hex_text: &str, what: &str) -> Result<[u8; N], Error> {
    let bytes = hex::decode(hex_text).map_err(|e| Error::BadHeader(format!("{what}: {e}")))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| Error::BadHeader(format!("{what} must be {N} bytes, not {}", bytes.len())))
}

fn derive_key(
    passphrase: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let p = Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN))
        .map_err(|e| Error::Kdf(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| Error::Kdf(e.to_string()))?;
    Ok(key)
}

#[cfg(test)]
mod tests;
