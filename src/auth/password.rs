//! Password hashing (argon2id) with a concurrency cap, and the password policies.
//!
//! Each hash costs 19 MiB and tens of milliseconds of one core. A [`Hasher`] lets at most
//! `auth.hash_concurrency` hashes run at once on the blocking pool; the rest wait in line (up
//! to a bounded queue, then `Busy`), so a sign-in storm slows sign-ins down but cannot starve
//! the rest of the server of threads or memory.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use serde::Serialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::config::PasswordPolicy;

/// argon2id parameters: OWASP's minimum recommendation (m=19 MiB, t=2, p=1).
pub const M_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// How long a sign-in waits for a hashing slot before the server answers "busy".
const QUEUE_WAIT: Duration = Duration::from_secs(10);

fn argon2() -> Argon2<'static> {
    // The constants are within argon2's limits; `Params::new` only fails outside them.
    let params = Params::new(M_KIB, T_COST, P_COST, Some(32)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password (blocking; call through a [`Hasher`] on async paths).
pub fn hash_blocking(password: &str) -> Result<String, Error> {
    let bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&bytes).map_err(|e| Error::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// Check a password against a stored PHC hash string (blocking). A malformed hash is `false`.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => argon2().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("too many sign-ins are being checked at once; retry in a moment")]
    Busy,
}

fn dummy_hash() -> String {
    // Hashing cannot fail with valid constant parameters; a failure leaves an unparsable
    // string, which verifies as false at no cost (and is logged).
    hash_blocking(&generate_password()).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot prepare the dummy password hash");
        String::new()
    })
}

/// Runs hashes on the blocking pool, a bounded number at a time.
#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
    /// A hash of a random password: unknown user names are checked against it, so they take
    /// as long as known ones. Computed in the background at start (not on the start-up path).
    dummy: Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("available", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// `concurrency` 0 means one per core.
    pub fn new(concurrency: usize) -> Result<Hasher, Error> {
        let n = match concurrency {
            0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            n => n,
        };
        let dummy = Arc::new(std::sync::OnceLock::new());
        let warm = dummy.clone();
        std::thread::Builder::new()
            .name("atrium-hash-warmup".into())
            .spawn(move || {
                warm.get_or_init(dummy_hash);
            })
            .map_err(|e| Error::Hash(e.to_string()))?;
        Ok(Hasher {
            slots: Arc::new(Semaphore::new(n)),
            dummy,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|_| Error::Busy)?;
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| Error::Hash(e.to_string()))?;
        Ok(out)
    }

    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, Error> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Verify against `phc`, or against the dummy hash when there is no user (same cost).
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        phc: Option<String>,
    ) -> Result<bool, Error> {
        let dummy = self.dummy.clone();
        self.run(move || match phc {
            Some(h) => verify_blocking(&password, &h),
            None => {
                let _ = verify_blocking(&password, dummy.get_or_init(dummy_hash));
                false
            }
        })
        .await
    }

    /// Whether `password` matches any of `hashes` (history check), one slot for all of them.
    pub async fn matches_any(
        &self,
        password: Zeroizing<String>,
        hashes: Vec<String>,
    ) -> Result<bool, Error> {
        self.run(move || hashes.iter().any(|h| verify_blocking(&password, h)))
            .await
    }
}

/// A random password for new accounts and admin resets: 16 characters from all four classes,
/// without look-alikes, so it passes both policies.
pub fn generate_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.!@#%+=";
    let mut rng = rand::rng();
    let pick = |set: &[u8], rng: &mut rand::rngs::ThreadRng| -> char {
        set.get(rng.random_range(0..set.len()))
            .copied()
            .map_or('x', char::from)
    };
    let all: Vec<u8> = [UPPER, LOWER, DIGIT, SYMBOL].concat();
    let mut out: Vec<char> = vec![
        pick(UPPER, &mut rng),
        pick(LOWER, &mut rng),
        pick(DIGIT, &mut rng),
        pick(SYMBOL, &mut rng),
    ];
    while out.len() < 16 {
        out.push(pick(&all, &mut rng));
    }
    // Shuffle so the class order does not leak.
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    out.into_iter().collect()
}

/// A rule a new password broke; the UI translates these codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    TooShort,
    TooLong,
    TooFewClasses,
    TooCommon,
    SameAsUsername,
    Reused,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::TooShort => "too_short",
            Rule::TooLong => "too_long",
            Rule::TooFewClasses => "too_few_classes",
            Rule::TooCommon => "too_common",
            Rule::SameAsUsername => "same_as_username",
            Rule::Reused => "reused",
        }
    }
}

/// What a policy demands, as shown to users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicySummary {
    /// `mlps3` or `nist`.
    pub profile: &'static str,
    pub min_length: usize,
    /// Character classes (upper, lower, digit, symbol) required; 0 = none.
    pub classes_required: usize,
    /// Days until a password expires; `null` = never.
    pub expiry_days: Option<u32>,
    /// Previous passwords that may not be reused.
    pub history: usize,
    /// Whether common passwords are refused.
    pub rejects_common: bool,
}

/// Longest password accepted (argon2 does not care, but a cap stops abuse).
pub const MAX_LENGTH: usize = 256;

pub fn summary(policy: PasswordPolicy) -> PolicySummary {
    match policy {
        PasswordPolicy::Mlps3 => PolicySummary {
            profile: "mlps3",
            min_length: 8,
            classes_required: 3,
            expiry_days: Some(90),
            history: 5,
            rejects_common: true,
        },
        PasswordPolicy::Nist => PolicySummary {
            profile: "nist",
            min_length: 12,
            classes_required: 0,
            expiry_days: None,
            history: 0,
            rejects_common: true,
        },
    }
}

/// The bundled list of common passwords (lower case, one per line); see
/// `COMMON-PASSWORDS-SOURCE.md` next to it.
const COMMON: &str = include_str!("common-passwords.txt");

fn common_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether the password is in the bundled common-password list (case-insensitive).
pub fn is_common(password: &str) -> bool {
    common_set().contains(password.to_lowercase().as_str())
}

/// Character classes present: upper, lower, digit, other.
fn classes(password: &str) -> usize {
    let mut c = [false; 4];
    for ch in password.chars() {
        let i = if ch.is_uppercase() {
            0
        } else if ch.is_lowercase() {
            1
        } else if ch.is_numeric() {
            2
        } else {
            3
        };
        if let Some(slot) = c.get_mut(i) {
            *slot = true;
        }
    }
    c.iter().filter(|b| **b).count()
}

/// The rules `password` breaks under `policy` (history is checked separately, against hashes).
pub fn check(policy: PasswordPolicy, username: &str, password: &str) -> Vec<Rule> {
    let s = summary(policy);
    let mut broken = Vec::new();
    let len = password.chars().count();
    if len < s.min_length {
        broken.push(Rule::TooShort);
    }
    if len > MAX_LENGTH {
        broken.push(Rule::TooLong);
    }
    if classes(password) < s.classes_required {
        broken.push(Rule::TooFewClasses);
    }
    if s.rejects_common && is_common(password) {
        broken.push(Rule::TooCommon);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        broken.push(Rule::SameAsUsername);
    }
    broken
}

/// Whether a password set at `changed_at` has expired at `now` (ms) under `policy`.
pub fn expired(policy: PasswordPolicy, changed_at: i64, now: i64) -> bool {
    summary(policy)
        .expiry_days
        .is_some_and(|d| now - changed_at > i64::from(d) * 86_400_000)
}

/// When a password set at `changed_at` expires, if ever.
pub fn expires_at(policy: PasswordPolicy, changed_at: i64) -> Option<i64> {
    summary(policy)
        .expiry_days
        .map(|d| changed_at + i64::from(d) * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlps3_needs_eight_characters_from_three_classes() {
        let p = PasswordPolicy::Mlps3;
        assert_eq!(check(p, "li", "Ab1!"), vec![Rule::TooShort]);
        assert_eq!(check(p, "li", "abcdefgh12"), vec![Rule::TooFewClasses]);
        assert!(check(p, "li", "abcdefG12").is_empty());
        assert!(check(p, "li", "密码Abc123").is_empty());
        assert!(check(p, "zhang.wei", "Zhang.Wei2024").contains(&Rule::SameAsUsername));
        assert!(expired(p, 0, 91 * 86_400_000));
        assert!(!expired(p, 0, 89 * 86_400_000));
    }

    #[test]
    fn nist_needs_twelve_characters_and_refuses_common_ones() {
        let p = PasswordPolicy::Nist;
        assert_eq!(check(p, "li", "short"), vec![Rule::TooShort]);
        assert!(check(p, "li", "correct horse battery").is_empty());
        assert!(is_common("password") && is_common("PASSWORD") && is_common("123456"));
        assert!(
            check(p, "li", "qwertyuiop123").contains(&Rule::TooCommon)
                || !is_common("qwertyuiop123")
        );
        assert!(!expired(p, 0, i64::MAX / 2));
    }

    #[test]
    fn generated_passwords_pass_both_policies() {
        for _ in 0..50 {
            let pw = generate_password();
            assert!(
                check(PasswordPolicy::Mlps3, "admin", &pw).is_empty(),
                "{pw}"
            );
            assert!(check(PasswordPolicy::Nist, "admin", &pw).is_empty(), "{pw}");
        }
    }

    #[test]
    fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let h = hash_blocking("s3cret-Passw0rd").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("s3cret-Passw0rd", &h));
        assert!(!verify_blocking("s3cret-passw0rd", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
