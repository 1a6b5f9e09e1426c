//! Identity: password hashing and policies, TOTP, session and setup tokens.
//!
//! The rules live here and in [`crate::domain::access`]; the store keeps the rows
//! ([`crate::store::identity`]) and the HTTP layer ([`crate::http::auth`]) ties them to cookies.

pub mod limiter;
pub mod password;
pub mod totp;

use rand::Rng;
use sha2::{Digest, Sha256};

/// A new random token (256 bits, URL-safe base64 without padding): session cookies, CSRF
/// tokens, setup links.
pub fn new_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a bearer token: its SHA-256 (the token has 256 bits of entropy,
/// so a plain hash cannot be reversed, and a stolen database yields no usable cookie).
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// What the database keeps of a recovery code: a keyed digest of its normal form (case,
/// spaces and dashes do not matter).
pub fn recovery_code_digest(ring: &crate::crypto::Keyring, code: &str) -> Vec<u8> {
    ring.secret_digest("recovery", totp::normalise_recovery_code(code).as_bytes())
}

/// What the database keeps of a one-time setup token.
pub fn setup_token_digest(ring: &crate::crypto::Keyring, token: &str) -> Vec<u8> {
    ring.secret_digest("setup", token.as_bytes())
}

/// User names: 2–64 characters, letters (any script), digits and `. _ - @`; compared
/// case-insensitively.
pub fn valid_username(name: &str) -> bool {
    let n = name.chars().count();
    (2..=64).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["li.na", "zhang_wei", "李娜", "ops@branch-12"] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in ["x", "a b", "a:b", "<script>", ""] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_are_random_and_hash_to_32_bytes() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
    }
}
