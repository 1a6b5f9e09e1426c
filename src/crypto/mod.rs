//! Keys, field encryption, blind indexes and masking.
//!
//! Design in short: a master key (KEK, [`keys`]) outside the database wraps random data keys, one
//! set per [`Purpose`], stored in the database with numeric key ids ([`keyring`]). Every PII field
//! and message body is sealed with AES-256-GCM under the active field key; the associated data
//! binds the ciphertext header and the field's `table/column/row id`, so a ciphertext copied to
//! another row or column fails authentication ([`field`]). Equality lookups (phone, e-mail,
//! openid) use a keyed HMAC of the normalised value ([`blind`]). [`mask`] renders PII for people
//! who may not see it in full.

pub mod blind;
pub mod field;
pub mod keyring;
pub mod keys;
pub mod mask;

use std::path::PathBuf;

pub use field::FieldRef;
pub use keyring::{KeyId, Keyring, Purpose};
pub use keys::{FileKeyProvider, KeyProvider, MasterKey};

/// Everything that can go wrong with keys and ciphertexts. Messages name what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the master key file {path} is missing but the database {db_path} already exists: restore \
         the key file from your key backup. Atrium never creates a new key for existing data, \
         which could not be read with it"
    )]
    KeyFileMissing { path: PathBuf, db_path: PathBuf },
    #[error(
        "the master key file {path} has mode {mode:04o}, readable or writable by group or others: \
         run `chmod 600 {path}` (and make sure only the atrium user owns it)"
    )]
    KeyFilePermissions { path: PathBuf, mode: u32 },
    #[error("the master key file {path} is malformed: {reason}")]
    KeyFileMalformed { path: PathBuf, reason: String },
    #[error("cannot access the master key file {path}: {source}")]
    KeyFileIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the master key from {provider} does not match this database (fingerprint differs): use \
         the key file that belongs to this data directory; nothing was written"
    )]
    KeyMismatch { provider: String },
    #[error("data key {0} could not be unwrapped with the master key (wrong key or tampered row)")]
    DataKeyUnwrap(u32),
    #[error("ciphertext is truncated ({0} bytes)")]
    Truncated(usize),
    #[error("ciphertext format version {0} is not supported by this version of Atrium")]
    UnknownVersion(u8),
    #[error("ciphertext algorithm {0} is not supported by this version of Atrium")]
    UnknownAlgorithm(u8),
    #[error("ciphertext names data key {0}, which this database does not have")]
    UnknownKeyId(u32),
    #[error("ciphertext for {0} failed authentication (tampered, or moved from another row)")]
    Authentication(String),
    #[error("decrypted {0} is not valid UTF-8")]
    NotUtf8(String),
}
