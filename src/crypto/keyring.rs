//! Data keys: random per-purpose keys, stored in the database wrapped by the master key.
//!
//! Each data key has a numeric id that every ciphertext carries, so a key can be rotated (a new
//! active key for new writes) while old rows stay readable. Wrapping is AES-256-GCM under the
//! master key with associated data `atrium/data_keys/<id>/<purpose>`, so a wrapped key row cannot
//! be relabelled to another id or purpose. Unwrapped key bytes are zeroized as soon as the cipher
//! objects are built (aes-gcm zeroizes its own key schedule on drop).

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::Error;
use super::blind::{self, BlindKind};
use super::field::{self, FieldRef};
use super::keys::{KEY_LEN, MasterKey, fill_random};

/// A data key's id, carried in every ciphertext header.
pub type KeyId = u32;

/// What a data key is for. Stored as text in `data_keys.purpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// AES-256-GCM for PII fields and message bodies.
    Field,
    /// HMAC-SHA256 key for blind indexes (equality lookups).
    BlindIndex,
    /// AES-256-GCM for attachment files on disk.
    File,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [Purpose::Field, Purpose::BlindIndex, Purpose::File];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Field => "field",
            Purpose::BlindIndex => "blind_index",
            Purpose::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn algorithm(self) -> &'static str {
        match self {
            Purpose::Field | Purpose::File => "AES-256-GCM",
            Purpose::BlindIndex => "HMAC-SHA256",
        }
    }
}

/// A data key as stored: the store reads and writes these rows, the keyring unwraps them.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub id: KeyId,
    pub purpose: Purpose,
    pub wrapped: Vec<u8>,
    /// Retired keys still decrypt; only the newest non-retired key per purpose encrypts.
    pub retired: bool,
}

fn wrap_aad(id: KeyId, purpose: Purpose) -> Vec<u8> {
    format!("atrium/data_keys/{id}/{}", purpose.as_str()).into_bytes()
}

fn kek_cipher(kek: &MasterKey) -> Aes256Gcm {
    Aes256Gcm::new(kek.bytes().into())
}

/// Make a new random data key with `id`, wrapped by the master key.
pub fn new_wrapped_key(kek: &MasterKey, id: KeyId, purpose: Purpose) -> WrappedKey {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    fill_random(key.as_mut_slice());
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let aad = wrap_aad(id, purpose);
    let sealed = kek_cipher(kek)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: key.as_slice(),
                aad: &aad,
            },
        )
        .unwrap_or_default();
    let mut wrapped = nonce.to_vec();
    wrapped.extend_from_slice(&sealed);
    WrappedKey {
        id,
        purpose,
        wrapped,
        retired: false,
    }
}

fn unwrap_key(kek: &MasterKey, k: &WrappedKey) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let (Some(nonce), Some(body)) = (k.wrapped.get(..12), k.wrapped.get(12..)) else {
        return Err(Error::DataKeyUnwrap(k.id));
    };
    let aad = wrap_aad(k.id, k.purpose);
    let plain = Zeroizing::new(
        kek_cipher(kek)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::DataKeyUnwrap(k.id))?,
    );
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    if plain.len() != KEY_LEN {
        return Err(Error::DataKeyUnwrap(k.id));
    }
    out.copy_from_slice(&plain);
    Ok(out)
}

/// Label of the audit-chain key derived from the master key.
const AUDIT_LABEL: &[u8] = b"atrium/audit-chain/v1";

/// The unwrapped data keys of one database, ready to encrypt, decrypt and index.
pub struct Keyring {
    field: HashMap<KeyId, Aes256Gcm>,
    active_field: KeyId,
    file: HashMap<KeyId, Aes256Gcm>,
    active_file: KeyId,
    blind: Hmac<Sha256>,
    /// Keys the audit chain; derived from the master key, so it is never stored anywhere.
    audit: Hmac<Sha256>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("field_keys", &self.field.len())
            .field("active_field", &self.active_field)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Unwrap every stored key. Each purpose needs at least one non-retired key.
    pub fn unlock(kek: &MasterKey, keys: &[WrappedKey]) -> Result<Keyring, Error> {
        let mut field = HashMap::new();
        let mut file = HashMap::new();
        let mut active = HashMap::new();
        let mut blind = None;
        for k in keys {
            let raw = unwrap_key(kek, k)?;
            match k.purpose {
                Purpose::Field => {
                    field.insert(k.id, Aes256Gcm::new(raw.as_slice().into()));
                }
                Purpose::File => {
                    file.insert(k.id, Aes256Gcm::new(raw.as_slice().into()));
                }
                Purpose::BlindIndex => {
                    // The blind-index key never rotates without a reindex: use the newest.
                    if !k.retired {
                        blind = Some(
                            <Hmac<Sha256> as Mac>::new_from_slice(raw.as_slice())
                                .map_err(|_| Error::DataKeyUnwrap(k.id))?,
                        );
                    }
                }
            }
            if !k.retired {
                let e = active.entry(k.purpose).or_insert(k.id);
                *e = (*e).max(k.id);
            }
        }
        let need = |p: Purpose| active.get(&p).copied().ok_or(Error::UnknownKeyId(0));
        let audit_key = zeroize::Zeroizing::new(kek.derive(AUDIT_LABEL));
        let audit = <Hmac<Sha256> as Mac>::new_from_slice(audit_key.as_slice())
            .map_err(|_| Error::UnknownKeyId(0))?;
        Ok(Keyring {
            audit,
            active_field: need(Purpose::Field)?,
            active_file: need(Purpose::File)?,
            blind: blind.ok_or(Error::UnknownKeyId(0))?,
            field,
            file,
        })
    }

    /// The key id new field ciphertexts use.
    pub fn active_field_key(&self) -> KeyId {
        self.active_field
    }

    fn field_cipher(&self, id: KeyId) -> Result<&Aes256Gcm, Error> {
        self.field.get(&id).ok_or(Error::UnknownKeyId(id))
    }

    /// Encrypt a field value for the row it will be stored in.
    pub fn encrypt(&self, at: FieldRef, plaintext: &[u8]) -> Vec<u8> {
        match self.field.get(&self.active_field) {
            Some(c) => field::seal(c, self.active_field, at, plaintext),
            // `unlock` guarantees the active key is present.
            None => Vec::new(),
        }
    }

    pub fn encrypt_str(&self, at: FieldRef, plaintext: &str) -> Vec<u8> {
        self.encrypt(at, plaintext.as_bytes())
    }

    /// Decrypt a field value; fails on truncation, unknown version/algorithm/key, or a ciphertext
    /// that belongs to another row or column.
    pub fn decrypt(&self, at: FieldRef, ct: &[u8]) -> Result<Vec<u8>, Error> {
        let h = field::parse_header(ct)?;
        field::open(self.field_cipher(h.key_id)?, at, ct)
    }

    pub fn decrypt_string(&self, at: FieldRef, ct: &[u8]) -> Result<String, Error> {
        String::from_utf8(self.decrypt(at, ct)?).map_err(|_| Error::NotUtf8(at.to_string()))
    }

    /// Encrypt a file's bytes (attachments), bound to the attachment id.
    pub fn encrypt_file(&self, at: FieldRef, plaintext: &[u8]) -> Vec<u8> {
        match self.file.get(&self.active_file) {
            Some(c) => field::seal(c, self.active_file, at, plaintext),
            None => Vec::new(),
        }
    }

    pub fn decrypt_file(&self, at: FieldRef, ct: &[u8]) -> Result<Vec<u8>, Error> {
        let h = field::parse_header(ct)?;
        field::open(
            self.file
                .get(&h.key_id)
                .ok_or(Error::UnknownKeyId(h.key_id))?,
            at,
            ct,
        )
    }

    /// The audit chain's MAC over one record hash.
    pub fn audit_mac(&self, hash: &[u8]) -> [u8; 32] {
        let mut mac = self.audit.clone();
        mac.update(hash);
        mac.finalize().into_bytes().into()
    }

    /// A keyed digest of a secret that must be matched later but never read back (recovery
    /// codes, setup tokens): HMAC under the blind-index key with a domain label, so a copy of
    /// the database alone does not allow guessing offline.
    pub fn secret_digest(&self, domain: &str, secret: &[u8]) -> Vec<u8> {
        let mut mac = self.blind.clone();
        mac.update(b"secret/");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(secret);
        mac.finalize().into_bytes().to_vec()
    }

    /// Blind index of a value for equality lookups, or `None` when it normalises to nothing.
    pub fn blind_index(&self, kind: BlindKind, value: &str) -> Option<Vec<u8>> {
        let normalised = blind::normalise(kind, value)?;
        let mut mac = self.blind.clone();
        mac.update(kind.domain().as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        Some(mac.finalize().into_bytes().to_vec())
    }
}

/// A keyring with fresh keys, for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn test_ring() -> Keyring {
    let kek = MasterKey::generate();
    let keys = vec![
        new_wrapped_key(&kek, 1, Purpose::Field),
        new_wrapped_key(&kek, 2, Purpose::BlindIndex),
        new_wrapped_key(&kek, 3, Purpose::File),
    ];
    Keyring::unlock(&kek, &keys).unwrap_or_else(|e| panic!("test keyring: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (MasterKey, Vec<WrappedKey>, Keyring) {
        let kek = MasterKey::generate();
        let keys = vec![
            new_wrapped_key(&kek, 1, Purpose::Field),
            new_wrapped_key(&kek, 2, Purpose::BlindIndex),
            new_wrapped_key(&kek, 3, Purpose::File),
        ];
        let ring = Keyring::unlock(&kek, &keys).unwrap();
        (kek, keys, ring)
    }

    const AT: FieldRef = FieldRef::new("contacts", "phone", 42);

    #[test]
    fn round_trip_and_header_format() {
        let (_, _, ring) = ring();
        let ct = ring.encrypt_str(AT, "13812345678");
        assert_eq!(ct[0], 1, "format version");
        assert_eq!(ct[1], 1, "AES-256-GCM");
        assert_eq!(u32::from_be_bytes(ct[2..6].try_into().unwrap()), 1);
        assert_eq!(ct.len(), field::MIN_LEN + 11);
        assert_eq!(ring.decrypt_string(AT, &ct).unwrap(), "13812345678");
        assert_ne!(ring.encrypt_str(AT, "13812345678"), ct, "random nonce");
    }

    /// Must show 6: a ciphertext copied from one row to another fails to decrypt.
    #[test]
    fn ciphertext_moved_to_another_row_or_column_fails() {
        let (_, _, ring) = ring();
        let ct = ring.encrypt_str(AT, "secret");
        let other_row = FieldRef::new("contacts", "phone", 43);
        let other_col = FieldRef::new("contacts", "email", 42);
        let other_table = FieldRef::new("messages", "phone", 42);
        for at in [other_row, other_col, other_table] {
            let err = ring.decrypt(at, &ct).unwrap_err();
            assert!(matches!(err, Error::Authentication(_)), "{err}");
        }
    }

    #[test]
    fn corrupt_truncated_and_unknown_ciphertexts_are_clear_errors() {
        let (_, _, ring) = ring();
        let ct = ring.encrypt_str(AT, "secret");
        assert!(matches!(
            ring.decrypt(AT, &ct[..10]),
            Err(Error::Truncated(10))
        ));
        assert!(matches!(ring.decrypt(AT, &[]), Err(Error::Truncated(0))));
        let mut bad = ct.clone();
        bad[0] = 9;
        assert!(matches!(
            ring.decrypt(AT, &bad),
            Err(Error::UnknownVersion(9))
        ));
        let mut bad = ct.clone();
        bad[1] = 2;
        assert!(matches!(
            ring.decrypt(AT, &bad),
            Err(Error::UnknownAlgorithm(2))
        ));
        let mut bad = ct.clone();
        bad[5] = 77;
        assert!(matches!(
            ring.decrypt(AT, &bad),
            Err(Error::UnknownKeyId(77))
        ));
        let mut bad = ct.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            ring.decrypt(AT, &bad),
            Err(Error::Authentication(_))
        ));
    }

    #[test]
    fn wrong_master_key_cannot_unwrap() {
        let (_, keys, _) = ring();
        let other = MasterKey::generate();
        assert!(matches!(
            Keyring::unlock(&other, &keys),
            Err(Error::DataKeyUnwrap(1))
        ));
    }

    #[test]
    fn relabelled_wrapped_key_fails() {
        let (kek, mut keys, _) = ring();
        keys[0].id = 9;
        assert!(matches!(
            Keyring::unlock(&kek, &keys),
            Err(Error::DataKeyUnwrap(9))
        ));
    }

    #[test]
    fn rotated_keys_keep_old_rows_readable() {
        let (kek, mut keys, ring) = ring();
        let old = ring.encrypt_str(AT, "before rotation");
        keys[0].retired = true;
        keys.push(new_wrapped_key(&kek, 4, Purpose::Field));
        let ring = Keyring::unlock(&kek, &keys).unwrap();
        assert_eq!(ring.active_field_key(), 4);
        let new = ring.encrypt_str(AT, "after");
        assert_eq!(new[5], 4);
        assert_eq!(ring.decrypt_string(AT, &old).unwrap(), "before rotation");
    }

    #[test]
    fn blind_index_matches_normalised_equals() {
        let (_, _, ring) = ring();
        let a = ring.blind_index(BlindKind::Phone, "138 1234 5678").unwrap();
        let b = ring
            .blind_index(BlindKind::Phone, "+86-138-1234-5678")
            .unwrap();
        assert_eq!(a, b);
        let e1 = ring
            .blind_index(BlindKind::Email, "Zhang.San@Example.COM ")
            .unwrap();
        let e2 = ring
            .blind_index(BlindKind::Email, "zhang.san@example.com")
            .unwrap();
        assert_eq!(e1, e2);
        // The same text under another kind gives another index.
        let raw = ring
            .blind_index(BlindKind::ExternalId, "13812345678")
            .unwrap();
        assert_ne!(raw, a);
        assert_eq!(a.len(), 32);
    }
}
