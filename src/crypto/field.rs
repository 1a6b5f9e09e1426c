//! Field encryption: AES-256-GCM with associated data binding `table/column/row id`.
//!
//! Ciphertext format, version 1 (all integers big-endian):
//!
//! ```text
//! [0]     format version = 1
//! [1]     algorithm: 1 = AES-256-GCM (2 is reserved for SM4-GCM, the 国密 suite)
//! [2..6]  data key id (u32)
//! [6..18] 96-bit random nonce
//! [18..]  ciphertext || 128-bit tag
//! ```
//!
//! The associated data is the 6-byte header followed by `table/column/row id`, so neither the
//! header (algorithm, key id) nor the row binding can be changed without failing authentication.
//! Nonces are random: with 2^32 encryptions per key the collision risk stays below NIST's bound;
//! key rotation ([`super::Keyring`]) starts a fresh key long before that.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use super::Error;

pub const FORMAT_V1: u8 = 1;
pub const ALG_AES_256_GCM: u8 = 1;
pub const HEADER_LEN: usize = 6;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// Smallest valid ciphertext: header, nonce and tag around an empty plaintext.
pub const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// Where a field lives; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef {
    pub table: &'static str,
    pub column: &'static str,
    pub row_id: i64,
}

impl FieldRef {
    pub const fn new(table: &'static str, column: &'static str, row_id: i64) -> Self {
        Self {
            table,
            column,
            row_id,
        }
    }

    fn aad(&self, header: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(header.len() + 48);
        aad.extend_from_slice(header);
        aad.extend_from_slice(self.table.as_bytes());
        aad.push(b'/');
        aad.extend_from_slice(self.column.as_bytes());
        aad.push(b'/');
        aad.extend_from_slice(self.row_id.to_string().as_bytes());
        aad
    }
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.table, self.column, self.row_id)
    }
}

/// Seal `plaintext` for `at` with `cipher` (data key `key_id`).
pub(crate) fn seal(cipher: &Aes256Gcm, key_id: u32, at: FieldRef, plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MIN_LEN + plaintext.len());
    out.push(FORMAT_V1);
    out.push(ALG_AES_256_GCM);
    out.extend_from_slice(&key_id.to_be_bytes());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    out.extend_from_slice(&nonce);
    let aad = at.aad(out.get(..HEADER_LEN).unwrap_or_default());
    // AES-GCM encryption only fails for plaintexts over 64 GiB, far beyond any field.
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_default();
    out.extend_from_slice(&sealed);
    out
}

/// The parsed header of a v1 ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub algorithm: u8,
    pub key_id: u32,
}

/// Read and check the header; the key lookup comes next.
pub fn parse_header(ct: &[u8]) -> Result<Header, Error> {
    let (Some(&version), Some(&algorithm), Some(id)) = (ct.first(), ct.get(1), ct.get(2..6)) else {
        return Err(Error::Truncated(ct.len()));
    };
    if version != FORMAT_V1 {
        return Err(Error::UnknownVersion(version));
    }
    if algorithm != ALG_AES_256_GCM {
        return Err(Error::UnknownAlgorithm(algorithm));
    }
    if ct.len() < MIN_LEN {
        return Err(Error::Truncated(ct.len()));
    }
    let key_id = u32::from_be_bytes([
        id.first().copied().unwrap_or(0),
        id.get(1).copied().unwrap_or(0),
        id.get(2).copied().unwrap_or(0),
        id.get(3).copied().unwrap_or(0),
    ]);
    Ok(Header {
        version,
        algorithm,
        key_id,
    })
}

/// Open a ciphertext whose header was checked by [`parse_header`].
pub(crate) fn open(cipher: &Aes256Gcm, at: FieldRef, ct: &[u8]) -> Result<Vec<u8>, Error> {
    let (Some(header), Some(nonce), Some(body)) = (
        ct.get(..HEADER_LEN),
        ct.get(HEADER_LEN..HEADER_LEN + NONCE_LEN),
        ct.get(HEADER_LEN + NONCE_LEN..),
    ) else {
        return Err(Error::Truncated(ct.len()));
    };
    let aad = at.aad(header);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| Error::Authentication(at.to_string()))
}
