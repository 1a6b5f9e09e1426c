//! WeChat's message crypto (the "WXBizMsgCrypt" scheme shared by Official Accounts, Mini
//! Programs and WeCom): SHA-1 signatures over the sorted token, timestamp, nonce (and
//! ciphertext), and AES-256-CBC with the IV taken from the key, a 16-byte random prefix, a
//! big-endian byte length, the message, the receiver id (AppID or CorpID), and PKCS#7 padding
//! to **32-byte** blocks. The published EncodingAESKeys carry non-zero trailing bits, so the key
//! is decoded with a base64 engine that allows them.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

/// WeChat's padding block (not AES's 16).
const BLOCK: usize = 32;

/// Why a push could not be verified or opened. The numbers are those of WeChat's own samples,
/// so logs line up with their documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    #[error("signature does not match (-40001)")]
    Signature,
    #[error("the EncodingAESKey must be 43 characters of base64 (-40004)")]
    AesKey,
    #[error("the message was encrypted for another AppID/CorpID (-40005)")]
    ReceiverId,
    #[error("the ciphertext is not valid base64 (-40010)")]
    Base64,
    #[error("the ciphertext does not decrypt to a well-formed message (-40007)")]
    Decrypt,
}

impl CryptError {
    /// WeChat's sample error code.
    pub fn code(self) -> i32 {
        match self {
            CryptError::Signature => -40001,
            CryptError::AesKey => -40004,
            CryptError::ReceiverId => -40005,
            CryptError::Base64 => -40010,
            CryptError::Decrypt => -40007,
        }
    }
}

/// Decode an EncodingAESKey (43 base64 characters, trailing bits allowed) into the AES key.
pub fn decode_key(encoding_aes_key: &str) -> Result<Zeroizing<[u8; 32]>, CryptError> {
    let ok = encoding_aes_key.len() == 43
        && encoding_aes_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !ok {
        return Err(CryptError::AesKey);
    }
    let engine = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let bytes = Zeroizing::new(
        engine
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptError::AesKey)?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(CryptError::AesKey);
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// `hex(sha1(concat(sort(parts))))`: the plain `signature` (token, timestamp, nonce) and the
/// `msg_signature` (the same plus the ciphertext).
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Constant-time comparison of a received hex signature with the expected one.
pub fn signature_matches(expected: &str, given: &str) -> bool {
    bool::from(
        expected
            .as_bytes()
            .ct_eq(given.trim().to_ascii_lowercase().as_bytes()),
    )
}

/// One inbox's crypto: its token, AES key and receiver id.
pub struct MsgCrypt {
    token: Zeroizing<String>,
    key: Zeroizing<[u8; 32]>,
    receive_id: String,
}

impl MsgCrypt {
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptError> {
        Ok(MsgCrypt {
            token: Zeroizing::new(token.to_string()),
            key: decode_key(encoding_aes_key)?,
            receive_id: receive_id.to_string(),
        })
    }

    /// Check the plain `signature` (URL verification, and every push in any mode).
    pub fn verify_plain(&self, timestamp: &str, nonce: &str, given: &str) -> bool {
        signature_matches(&signature(&[&self.token, timestamp, nonce]), given)
    }

    /// The `msg_signature` over a ciphertext.
    pub fn msg_signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        signature(&[&self.token, timestamp, nonce, encrypted])
    }

    /// Verify `msg_signature` and decrypt (a push's `Encrypt`, or WeCom's `echostr`).
    pub fn open(
        &self,
        timestamp: &str,
        nonce: &str,
        encrypted: &str,
        given: &str,
    ) -> Result<String, CryptError> {
        if !signature_matches(&self.msg_signature(timestamp, nonce, encrypted), given) {
            return Err(CryptError::Signature);
        }
        self.decrypt(encrypted)
    }

    /// Decrypt a ciphertext and check it was made for this receiver.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptError> {
        let mut buf = Zeroizing::new(
            STANDARD
                .decode(encrypted.trim())
                .map_err(|_| CryptError::Base64)?,
        );
        if buf.is_empty() || buf.len() % BLOCK != 0 {
            return Err(CryptError::Decrypt);
        }
        let plain = Dec::new(self.key.as_ref().into(), &self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptError::Decrypt)?;
        let pad = usize::from(*plain.last().ok_or(CryptError::Decrypt)?);
        if !(1..=BLOCK).contains(&pad) {
            return Err(CryptError::Decrypt);
        }
        let body = plain
            .get(..plain.len().saturating_sub(pad))
            .ok_or(CryptError::Decrypt)?;
        let len: [u8; 4] = body
            .get(16..20)
            .and_then(|b| b.try_into().ok())
            .ok_or(CryptError::Decrypt)?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| CryptError::Decrypt)?;
        let end = 20usize.checked_add(len).ok_or(CryptError::Decrypt)?;
        let (msg, receiver) = (
            body.get(20..end).ok_or(CryptError::Decrypt)?,
            body.get(end..).ok_or(CryptError::Decrypt)?,
        );
        if !bool::from(receiver.ct_eq(self.receive_id.as_bytes())) {
            return Err(CryptError::ReceiverId);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptError::Decrypt)
    }

    /// WeChat's IV: the first 16 bytes of the key.
    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(self.key.get(..16).unwrap_or(&[0u8; 16]));
        iv
    }

    /// Encrypt `msg` with the given 16-byte random prefix (tests pin it; callers use
    /// [`MsgCrypt::encrypt`]).
    pub fn encrypt_with(&self, random16: &[u8; 16], msg: &str) -> String {
        let mut plain = Vec::with_capacity(20 + msg.len() + self.receive_id.len() + BLOCK);
        plain.extend_from_slice(random16);
        let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(msg.as_bytes());
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = BLOCK - plain.len() % BLOCK;
        plain.resize(plain.len() + pad, u8::try_from(pad).unwrap_or(32));
        let n = plain.len();
        let out = Enc::new(self.key.as_ref().into(), &self.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(out)
    }

    /// Encrypt with a fresh random prefix (16 alphanumeric characters, like WeChat's samples).
    pub fn encrypt(&self, msg: &str) -> String {
        use rand::Rng;
        let mut r = [0u8; 16];
        let mut rng = rand::rng();
        for b in &mut r {
            *b = rng.sample(rand::distr::Alphanumeric);
        }
        self.encrypt_with(&r, msg)
    }

    /// A passive reply (or a push, for the fake) in safe mode: the encrypted envelope with its
    /// signature.
    pub fn seal_xml(&self, msg: &str, timestamp: &str, nonce: &str) -> String {
        let enc = self.encrypt(msg);
        self.envelope(&enc, timestamp, nonce)
    }

    /// The encrypted envelope around an already encrypted `enc`.
    pub fn envelope(&self, enc: &str, timestamp: &str, nonce: &str) -> String {
        let sig = self.msg_signature(timestamp, nonce, enc);
        format!(
            "<xml>\n<Encrypt><![CDATA[{enc}]]></Encrypt>\n<MsgSignature><![CDATA[{sig}]]></MsgSignature>\n<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_errors_are_errors_not_panics() {
        let c = MsgCrypt::new("t", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx1").unwrap();
        for bad in ["", "AAAA", "!!!!", &STANDARD.encode([0u8; 31])] {
            assert!(c.decrypt(bad).is_err(), "{bad}");
        }
        // Well-formed blocks whose last byte is not a valid pad length.
        let mut rng = [0u8; 64];
        for (i, b) in rng.iter_mut().enumerate() {
            *b = u8::try_from(i).unwrap();
        }
        assert!(c.decrypt(&STANDARD.encode(rng)).is_err());
        // A round trip, and a truncated ciphertext.
        let enc = c.encrypt("你好 hello");
        assert_eq!(c.decrypt(&enc).unwrap(), "你好 hello");
        let raw = STANDARD.decode(&enc).unwrap();
        assert!(c.decrypt(&STANDARD.encode(&raw[..raw.len() - 32])).is_err());
        // Made for another AppID.
        let other =
            MsgCrypt::new("t", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2").unwrap();
        assert_eq!(other.decrypt(&enc), Err(CryptError::ReceiverId));
    }

    #[test]
    fn keys_must_be_43_base64_characters() {
        assert_eq!(decode_key("short").err(), Some(CryptError::AesKey));
        assert_eq!(
            decode_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=").err(),
            Some(CryptError::AesKey)
        );
        assert!(decode_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").is_ok());
    }
}
