//! Per-source-address limit on failed sign-ins (in memory; a restart forgets it, the per-name
//! lockout in the database does not).

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts failures per address in a fixed window.
#[derive(Debug)]
pub struct AddressLimiter {
    max: u32,
    window_ms: i64,
    seen: Mutex<HashMap<String, (u32, i64)>>,
}

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl AddressLimiter {
    pub fn new(max: u32, window_ms: i64) -> Self {
        Self {
            max,
            window_ms,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `addr` has used up its failures in the current window.
    pub fn blocked(&self, addr: &str, now: i64) -> bool {
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        seen.get(addr)
            .is_some_and(|(n, start)| *n >= self.max && now - start < self.window_ms)
    }

    /// Count one use by `key` (a rate limit rather than a failure count): false, and not
    /// counted, when `key` has used up the window.
    pub fn hit(&self, key: &str, now: i64) -> bool {
        if self.blocked(key, now) {
            return false;
        }
        self.fail(key, now);
        true
    }

    /// Count a failed sign-in from `addr`.
    pub fn fail(&self, addr: &str, now: i64) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= SWEEP_AT {
            let w = self.window_ms;
            seen.retain(|_, (_, start)| now - *start < w);
        }
        let e = seen.entry(addr.to_string()).or_insert((0, now));
        if now - e.1 >= self.window_ms {
            *e = (0, now);
        }
        e.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = AddressLimiter::new(3, 1000);
        for _ in 0..3 {
            assert!(!l.blocked("10.0.0.1", 0));
            l.fail("10.0.0.1", 0);
        }
        assert!(l.blocked("10.0.0.1", 500));
        assert!(!l.blocked("10.0.0.2", 500));
        assert!(!l.blocked("10.0.0.1", 1000));
        l.fail("10.0.0.1", 1001);
        assert!(!l.blocked("10.0.0.1", 1001));
    }
}
