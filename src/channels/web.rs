//! The website chat widget channel: visitor tokens and identity verification.
//!
//! A visitor's browser keeps a token that names who they are to one web inbox: either an
//! anonymous visitor id Atrium made up (`a`), or the host site's own user id (`u`) that the host
//! site vouched for with an HMAC-SHA256 signature under the inbox's identity secret. The token
//! is `v1.<inbox>.<a|u>.<base64url id>.<mac>`, the MAC keyed by the server (not the inbox
//! secret), so neither kind can be forged or moved to another inbox. Agents' replies need no
//! sending: they are stored, and the widget fetches them (the outbox marks them sent and wakes
//! the visitor's waiting request).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::crypto::Keyring;
use crate::domain::{IdentityClaim, IdentityKind};

/// What a web inbox keeps encrypted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Credentials {
    /// Signs host sites' user ids (shared with the site's server, never with browsers).
    pub identity_secret: String,
}

/// Longest user id a host site may pass.
pub const MAX_USER_ID: usize = 128;

/// Who a widget visitor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// An anonymous visitor id made by Atrium.
    Anonymous(String),
    /// The host site's user id, verified with the inbox's identity secret.
    User(String),
}

impl Visitor {
    /// A new anonymous visitor.
    pub fn new_anonymous() -> Visitor {
        let mut b = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
        Visitor::Anonymous(URL_SAFE_NO_PAD.encode(b))
    }

    fn parts(&self) -> (&'static str, &str) {
        match self {
            Visitor::Anonymous(id) => ("a", id),
            Visitor::User(id) => ("u", id),
        }
    }

    /// The identity the engine files the visitor's messages under (per inbox).
    pub fn claim(&self) -> IdentityClaim {
        let (kind, value) = match self {
            Visitor::Anonymous(id) => (IdentityKind::Visitor, id.clone()),
            Visitor::User(id) => (IdentityKind::External, id.clone()),
        };
        IdentityClaim {
            kind,
            value,
            verified: true,
        }
    }

    /// The id a message from this visitor's window is de-duplicated by (`client_id`: the
    /// window's own id for it).
    pub fn message_id(&self, client_id: &str) -> String {
        let (k, id) = self.parts();
        format!("w:{k}:{id}:{client_id}")
    }

    /// A key for rate limits.
    pub fn key(&self, inbox: i64) -> String {
        let (k, id) = self.parts();
        format!("{inbox}/{k}/{id}")
    }

    /// Where a visitor who has no contact yet waits for news: a negative number (contact ids
    /// are positive), so their first message can wake their other open windows.
    pub fn wait_key(&self, inbox: i64) -> i64 {
        use sha2::Digest;
        let d = Sha256::digest(self.key(inbox).as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
        -(i64::from_be_bytes(b) & i64::MAX) - 1
    }
}

fn token_mac(ring: &Keyring, inbox: i64, kind: &str, id: &str) -> String {
    let d = ring.secret_digest("widget-visitor", format!("{inbox}.{kind}.{id}").as_bytes());
    hex::encode(d.get(..16).unwrap_or_default())
}

/// The token the visitor's browser keeps.
pub fn token(ring: &Keyring, inbox: i64, v: &Visitor) -> String {
    let (kind, id) = v.parts();
    format!(
        "v1.{inbox}.{kind}.{}.{}",
        URL_SAFE_NO_PAD.encode(id),
        token_mac(ring, inbox, kind, id)
    )
}

/// The visitor a token names, if it is genuine and for `inbox`.
pub fn verify_token(ring: &Keyring, inbox: i64, token: &str) -> Option<Visitor> {
    let mut it = token.split('.');
    let (v, i, kind, id, mac) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if v != "v1" || it.next().is_some() || i.parse::<i64>().ok()? != inbox {
        return None;
    }
    let id = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let want = token_mac(ring, inbox, kind, &id);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        want.as_bytes(),
        mac.as_bytes(),
    )) {
        return None;
    }
    match kind {
        "a" => Some(Visitor::Anonymous(id)),
        "u" => Some(Visitor::User(id)),
        _ => None,
    }
}

/// The signature a host site's server computes for a user id: lowercase hex of
/// HMAC-SHA256(identity secret, user id).
pub fn identity_signature(secret: &str, user_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` is the inbox's signature of `user_id` (constant time). An inbox without
/// an identity secret verifies nothing.
pub fn verify_identity(secret: &str, user_id: &str, signature: &str) -> bool {
    if secret.is_empty() || user_id.is_empty() || user_id.chars().count() > MAX_USER_ID {
        return false;
    }
    let Ok(given) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        crate::crypto::keyring::test_ring()
    }

    #[test]
    fn identity_signature_is_hex_hmac_sha256_of_the_user_id() {
        // printf 'u-100' | openssl dgst -sha256 -hmac s3cret
        let s = identity_signature("s3cret", "u-100");
        assert_eq!(
            s,
            "7fed0257c7d3627d4328e6a2b818e3b87abf361c4f17b9bbc8f5c5336e967ee2"
        );
        assert!(verify_identity("s3cret", "u-100", &s));
        assert!(verify_identity("s3cret", "u-100", &s.to_uppercase()));
        assert!(!verify_identity("s3cret", "u-101", &s));
        assert!(!verify_identity("other", "u-100", &s));
        assert!(!verify_identity(
            "",
            "u-100",
            &identity_signature("", "u-100")
        ));
        assert!(!verify_identity("s3cret", "u-100", "zz"));
        assert!(!verify_identity("s3cret", "u-100", ""));
    }

    #[test]
    fn tokens_cannot_be_forged_altered_or_moved_to_another_inbox() {
        let r = ring();
        let v = Visitor::new_anonymous();
        let t = token(&r, 7, &v);
        assert_eq!(verify_token(&r, 7, &t), Some(v.clone()));
        assert_eq!(verify_token(&r, 8, &t), None, "another inbox");
        let u = Visitor::User("u-100".into());
        let tu = token(&r, 7, &u);
        assert_eq!(verify_token(&r, 7, &tu), Some(u));
        // Claiming another user with the anonymous token's MAC, or changing the kind.
        let parts: Vec<&str> = tu.split('.').collect();
        let forged = format!(
            "v1.7.u.{}.{}",
            URL_SAFE_NO_PAD.encode("admin"),
            parts.get(4).unwrap()
        );
        assert_eq!(verify_token(&r, 7, &forged), None);
        let kind_swap = tu.replacen(".u.", ".a.", 1);
        assert_eq!(verify_token(&r, 7, &kind_swap), None);
        for bad in [
            "",
            "v1",
            "v2.7.a.x.y",
            "v1.7.a.!!.00",
            &format!("{t}.extra"),
        ] {
            assert_eq!(verify_token(&r, 7, bad), None, "{bad}");
        }
        assert!(v.wait_key(7) < 0);
        assert_ne!(v.wait_key(7), v.wait_key(8));
    }
}
