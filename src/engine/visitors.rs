//! Wake-ups for widget visitors waiting for news (a long-poll or a socket): keyed by contact,
//! so an agent's reply, a status change or a recall wakes only that customer's requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

/// Sweep dead entries once the map holds this many.
const SWEEP_AT: usize = 4096;

/// How long an agent's "typing" lasts without being repeated (a lost "stopped" expires).
pub const TYPING_TTL_MS: i64 = 6000;

#[derive(Default)]
pub struct Visitors {
    waiting: Mutex<HashMap<i64, Weak<Notify>>>,
    /// Contacts whose conversation an agent is typing in, until when (ms).
    typing: Mutex<HashMap<i64, i64>>,
}

impl Visitors {
    /// The notifier of `contact`'s waiters; keep it while waiting (the entry lives as long).
    pub fn waiter(&self, contact: i64) -> Arc<Notify> {
        let Ok(mut m) = self.waiting.lock() else {
            return Arc::new(Notify::new());
        };
        if let Some(n) = m.get(&contact).and_then(Weak::upgrade) {
            return n;
        }
        if m.len() >= SWEEP_AT {
            m.retain(|_, w| w.strong_count() > 0);
        }
        let n = Arc::new(Notify::new());
        m.insert(contact, Arc::downgrade(&n));
        n
    }

    /// Something changed for `contact`: wake whoever waits.
    pub fn wake(&self, contact: i64) {
        let n = self
            .waiting
            .lock()
            .ok()
            .and_then(|m| m.get(&contact).and_then(Weak::upgrade));
        if let Some(n) = n {
            n.notify_waiters();
        }
    }

    /// An agent started (`Some(until)`) or stopped (`None`) typing to `contact`; wakes them.
    pub fn set_agent_typing(&self, contact: i64, until: Option<i64>) {
        if let Ok(mut t) = self.typing.lock() {
            match until {
                Some(u) => {
                    if t.len() >= SWEEP_AT {
                        t.retain(|_, until| *until > u - TYPING_TTL_MS);
                    }
                    t.insert(contact, u);
                }
                None => {
                    t.remove(&contact);
                }
            }
        }
        self.wake(contact);
    }

    /// Whether an agent is typing to `contact` at `now`.
    pub fn agent_typing(&self, contact: i64, now: i64) -> bool {
        self.typing
            .lock()
            .ok()
            .and_then(|t| t.get(&contact).copied())
            .is_some_and(|until| until > now)
    }

    /// Contacts with someone waiting (for metrics and tests).
    pub fn waiting(&self) -> usize {
        self.waiting
            .lock()
            .map(|m| m.values().filter(|w| w.strong_count() > 0).count())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_reaches_a_waiter_registered_before_it_and_no_one_else() {
        let v = Visitors::default();
        let n = v.waiter(1);
        let other = v.waiter(2);
        {
            let fut = n.notified();
            tokio::pin!(fut);
            fut.as_mut().enable();
            v.wake(1);
            tokio::time::timeout(std::time::Duration::from_secs(1), fut)
                .await
                .expect("woken");
        }
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), other.notified())
                .await
                .is_err()
        );
        assert_eq!(v.waiting(), 2);
        drop((n, other));
        assert_eq!(v.waiting(), 0);
        v.wake(1);
    }
}
