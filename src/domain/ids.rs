//! Typed ids. Every row id is a time-ordered 63-bit integer ([`IdGenerator`]), known before the
//! row is written, so field ciphertexts can bind it as associated data. Ids stay below 2^53 for
//! centuries, so JavaScript clients read them as plain numbers.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A contact (a customer, across channels).
    ContactId
);
id_type!(
    /// A conversation with one contact in one inbox.
    ConversationId
);
id_type!(
    /// One message of a conversation.
    MessageId
);

/// Bits for the per-millisecond sequence: 1,024 ids per millisecond before borrowing from the
/// next millisecond (the generator stays monotonic either way).
const SEQ_BITS: u32 = 10;

/// Monotonic id source: `(unix_ms << 10) + sequence`, never going backwards even when the wall
/// clock does, and started above every id already stored.
#[derive(Debug, Default)]
pub struct IdGenerator {
    last: AtomicI64,
}

impl IdGenerator {
    /// Start above `floor` (the largest id already in the database).
    pub fn new(floor: i64) -> Self {
        Self {
            last: AtomicI64::new(floor),
        }
    }

    /// The next id for wall time `now_ms`.
    pub fn next(&self, now_ms: i64) -> i64 {
        let candidate = now_ms.max(0) << SEQ_BITS;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = candidate.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_monotonic_even_when_the_clock_goes_back() {
        let g = IdGenerator::new(0);
        let a = g.next(1_800_000_000_000);
        let b = g.next(1_800_000_000_000);
        let c = g.next(1_700_000_000_000);
        assert!(a < b && b < c);
        assert!(c < (1i64 << 53), "fits a JavaScript number");
    }

    #[test]
    fn ids_start_above_the_floor() {
        let g = IdGenerator::new(i64::from(u32::MAX) << 20);
        assert!(g.next(1) > i64::from(u32::MAX) << 20);
    }
}
