//! The master key (KEK) and where it comes from.
//!
//! The master key never touches the database: it lives in a file with mode 0600 (or, later, a
//! hardware crypto device behind the same [`KeyProvider`] trait). It only wraps the per-purpose
//! data keys stored in the database, so rotating a data key never needs the master key to change,
//! and a stolen database alone reveals nothing.
//!
//! Start-up rules (never a fresh key over old data):
//! - key file missing and no database yet: generate one (mode 0600);
//! - key file missing but a database exists: refuse, naming both paths;
//! - key file readable or writable by group/others: refuse, naming the mode and the fix;
//! - key does not match the database (checked by the store against a stored fingerprint): refuse.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::Error;

/// Length of every key Atrium uses, in bytes (256 bits).
pub const KEY_LEN: usize = 32;

/// The 256-bit master key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        fill_random(&mut k);
        let key = Self::from_bytes(k);
        k.zeroize();
        key
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A public fingerprint stored in the database so a wrong key is detected before any use.
    /// It is a MAC under the key itself, so it reveals nothing about the key.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.derive(b"atrium/kek-fingerprint/v1")
    }

    /// Derive a sub-key for a fixed purpose (HMAC-SHA256 as a PRF), e.g. the audit-chain MAC key.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

/// HMAC accepts keys of any length, so `new_from_slice` cannot fail.
#[expect(clippy::panic, reason = "HMAC-SHA256 accepts keys of every length")]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC rejected a key")
}

/// Where the master key comes from. A hardware security module implements this later.
pub trait KeyProvider: Send + Sync {
    /// Load the key, creating it first when allowed (`may_create`: no database exists yet).
    fn load(&self, may_create: bool) -> Result<MasterKey, Error>;
    /// Human description for messages: the file path, the device name.
    fn describe(&self) -> String;
}

/// A master key kept in a file: 64 hex characters (or 32 raw bytes), mode 0600.
#[derive(Debug, Clone)]
pub struct FileKeyProvider {
    path: PathBuf,
    /// The database the key protects, named in the "missing key" message.
    db_path: PathBuf,
}

impl FileKeyProvider {
    pub fn new(path: impl Into<PathBuf>, db_path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            db_path: db_path.into(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write a new key file with mode 0600; fails if the file already exists.
    pub fn create(&self) -> Result<MasterKey, Error> {
        let key = MasterKey::generate();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::KeyFileIo {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| Error::KeyFileIo {
                path: self.path.clone(),
                source: e,
            })?;
        let mut text = Zeroizing::new(hex::encode(key.bytes()));
        text.push('\n');
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::KeyFileIo {
                path: self.path.clone(),
                source: e,
            })?;
        Ok(key)
    }

    fn read(&self) -> Result<MasterKey, Error> {
        let meta = std::fs::metadata(&self.path).map_err(|e| Error::KeyFileIo {
            path: self.path.clone(),
            source: e,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::KeyFilePermissions {
                path: self.path.clone(),
                mode,
            });
        }
        let raw = Zeroizing::new(std::fs::read(&self.path).map_err(|e| Error::KeyFileIo {
            path: self.path.clone(),
            source: e,
        })?);
        let mut bytes = [0u8; KEY_LEN];
        let trimmed = raw.trim_ascii();
        let ok = if trimmed.len() == 2 * KEY_LEN {
            hex::decode_to_slice(trimmed, &mut bytes).is_ok()
        } else if raw.len() == KEY_LEN {
            bytes.copy_from_slice(&raw);
            true
        } else {
            false
        };
        if !ok {
            bytes.zeroize();
            return Err(Error::KeyFileMalformed {
                path: self.path.clone(),
                reason: "expected 64 hexadecimal characters (a 256-bit key)".into(),
            });
        }
        let key = MasterKey::from_bytes(bytes);
        bytes.zeroize();
        Ok(key)
    }
}

impl KeyProvider for FileKeyProvider {
    fn load(&self, may_create: bool) -> Result<MasterKey, Error> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(_) => self.read(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if may_create {
                    self.create()
                } else {
                    Err(Error::KeyFileMissing {
                        path: self.path.clone(),
                        db_path: self.db_path.clone(),
                    })
                }
            }
            Err(e) => Err(Error::KeyFileIo {
                path: self.path.clone(),
                source: e,
            }),
        }
    }

    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }
}

/// Fill `buf` from the operating system's CSPRNG (used for long-lived keys).
pub(crate) fn fill_random(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // The OS RNG failing is not recoverable and must never yield a weak key.
        abort_without_randomness();
    }
}

#[expect(
    clippy::panic,
    reason = "no key may be generated without OS randomness"
)]
fn abort_without_randomness() -> ! {
    panic!("the operating system's random number generator failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_key_file_is_0600_and_reloads_identically() {
        let dir = tempfile::tempdir().unwrap();
        let p = FileKeyProvider::new(
            dir.path().join("k/master.key"),
            dir.path().join("atrium.db"),
        );
        let k1 = p.load(true).unwrap();
        let mode = std::fs::metadata(p.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let k2 = p.load(false).unwrap();
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        assert_eq!(format!("{k1:?}"), "MasterKey(***)");
    }

    #[test]
    fn missing_key_for_existing_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = FileKeyProvider::new(dir.path().join("master.key"), dir.path().join("atrium.db"));
        let err = p.load(false).unwrap_err().to_string();
        assert!(
            err.contains("master.key") && err.contains("atrium.db"),
            "{err}"
        );
        assert!(
            !dir.path().join("master.key").exists(),
            "no fresh key over old data"
        );
    }

    #[test]
    fn loose_permissions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = FileKeyProvider::new(dir.path().join("master.key"), dir.path().join("atrium.db"));
        p.create().unwrap();
        std::fs::set_permissions(p.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = p.load(false).unwrap_err().to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not a key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let p = FileKeyProvider::new(&path, dir.path().join("atrium.db"));
        assert!(
            p.load(false)
                .unwrap_err()
                .to_string()
                .contains("64 hexadecimal")
        );
    }
}
