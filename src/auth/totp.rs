//! TOTP second factor (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) and recovery codes.
//!
//! A code is accepted for the current step and one step either side (clock drift), and a step
//! is accepted only once per user: the caller stores the last accepted step and passes it back,
//! so an observed code cannot be replayed within its window.

use rand::Rng;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;
/// Issuer shown by authenticator apps.
pub const ISSUER: &str = "Atrium";
/// Recovery codes issued per enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A new random 160-bit secret (raw bytes; store it encrypted).
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    let bytes: [u8; 20] = rand::rng().random();
    Zeroizing::new(bytes.to_vec())
}

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret.to_vec(),
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .ok()
}

/// The base32 form users type into an authenticator app.
pub fn base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator scans (as a QR code).
pub fn otpauth_uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The code for `unix_secs` (tests and the browser test compute the same).
pub fn code_at(secret: &[u8], unix_secs: u64) -> Option<String> {
    totp(secret, "x").map(|t| t.generate(unix_secs))
}

/// Check `code` at `unix_secs`; returns the accepted step, which must be greater than
/// `last_step` (the last step this user used).
pub fn verify(secret: &[u8], code: &str, unix_secs: u64, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "x")?;
    let now_step = i64::try_from(unix_secs / STEP_SECS).ok()?;
    for step in [now_step - 1, now_step, now_step + 1] {
        if step <= last_step {
            continue;
        }
        let at = u64::try_from(step).ok()? * STEP_SECS;
        let expected = t.generate(at);
        if subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into() {
            return Some(step);
        }
    }
    None
}

/// Fresh recovery codes, `xxxx-xxxx` from a 32-letter alphabet (40 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s = String::with_capacity(9);
            for i in 0..8 {
                if i == 4 {
                    s.push('-');
                }
                let c = ALPHABET
                    .get(rng.random_range(0..ALPHABET.len()))
                    .copied()
                    .unwrap_or(b'a');
                s.push(char::from(c));
            }
            s
        })
        .collect()
}

/// The normal form a recovery code is hashed in (case, spaces and dashes do not matter).
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (8-digit vectors; the last six
    /// digits are the 6-digit code).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, full) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(secret, t).unwrap(), full[2..], "t={t}");
        }
    }

    #[test]
    fn a_step_is_accepted_once_and_drift_is_one_step() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = verify(&secret, &code, now, 0).unwrap();
        assert_eq!(verify(&secret, &code, now, step), None, "replay");
        assert!(verify(&secret, &code, now + 30, 0).is_some());
        assert!(verify(&secret, &code, now + 90, 0).is_none());
        assert!(verify(&secret, "12345", now, 0).is_none());
        assert!(verify(&secret, "abcdef", now, 0).is_none());
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let uri = otpauth_uri(&new_secret(), "li.na").unwrap();
        assert!(uri.starts_with("otpauth://totp/Atrium:li.na?"), "{uri}");
        assert!(uri.contains("issuer=Atrium"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), RECOVERY_CODES);
        assert_eq!(normalise_recovery_code(" AB3d-EF5g "), "ab3def5g");
    }
}
