//! The in-process event bus behind the agent WebSocket.
//!
//! Every event gets the next sequence number and is kept in a bounded ring, already serialised
//! as the frame clients receive (`{"seq":…,"type":…,"data":…}`), so thousands of sockets share
//! one copy. A connection remembers the last sequence it sent; when the bus moves on it reads
//! the ring from there, filtered by what the agent may see. A client that reconnects with
//! `since=N` gets everything after N from the ring; if N has already left the ring, or the
//! server restarted (the epoch differs), it is told to resync (reload its lists) instead of
//! silently missing events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;

use crate::domain::access::Scope;

/// Who may receive an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// The conversation's inbox and team (matched against each agent's data scope).
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Users who receive it regardless of scope (the assignee, mentioned agents).
    pub users: Vec<i64>,
    /// Only `users` receive it (a mention, a personal notice).
    pub only_users: bool,
    /// Everyone signed in receives it (presence).
    pub everyone: bool,
}

impl Audience {
    pub fn conversation(inbox: Option<i64>, team: Option<i64>, assignee: Option<i64>) -> Self {
        Audience {
            inbox_id: inbox,
            team_id: team,
            users: assignee.into_iter().collect(),
            ..Audience::default()
        }
    }

    pub fn users(users: Vec<i64>) -> Self {
        Audience {
            users,
            only_users: true,
            ..Audience::default()
        }
    }

    pub fn everyone() -> Self {
        Audience {
            everyone: true,
            ..Audience::default()
        }
    }

    /// Whether an agent with `scope` (and id `user`) may receive it.
    pub fn admits(&self, user: i64, scope: &Scope) -> bool {
        if self.users.contains(&user) || self.everyone {
            return true;
        }
        !self.only_users && scope.allows(self.inbox_id, self.team_id)
    }
}

/// One published event.
#[derive(Debug)]
pub struct Event {
    pub seq: u64,
    pub kind: &'static str,
    pub audience: Audience,
    /// The whole frame as sent to clients.
    pub frame: Arc<str>,
}

struct Ring {
    events: VecDeque<Arc<Event>>,
    next_seq: u64,
}

/// What a client asking to resume gets.
#[derive(Debug)]
pub enum Resume {
    /// Every event after the requested sequence (possibly none).
    Events(Vec<Arc<Event>>),
    /// The requested point is gone (too old, or another epoch): reload and continue from `seq`.
    Resync { seq: u64 },
}

pub struct Bus {
    ring: Mutex<Ring>,
    capacity: usize,
    latest: watch::Sender<u64>,
    epoch: String,
}

impl Bus {
    /// A bus keeping the last `capacity` events. The epoch names this process's sequence space.
    pub fn new(capacity: usize) -> Bus {
        let (latest, _) = watch::channel(0);
        Bus {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity.min(4096)),
                next_seq: 1,
            }),
            capacity: capacity.max(16),
            latest,
            epoch: crate::auth::new_token().chars().take(16).collect(),
        }
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Publish an event; returns its sequence number.
    pub fn publish<T: Serialize>(&self, kind: &'static str, audience: Audience, data: &T) -> u64 {
        let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
        let Ok(mut ring) = self.ring.lock() else {
            return 0;
        };
        let seq = ring.next_seq;
        ring.next_seq += 1;
        let frame: Arc<str> = format!(r#"{{"seq":{seq},"type":"{kind}","data":{data}}}"#).into();
        if ring.events.len() >= self.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::new(Event {
            seq,
            kind,
            audience,
            frame,
        }));
        drop(ring);
        self.latest.send_replace(seq);
        seq
    }

    /// The sequence of the newest event (0 before the first).
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }

    /// A receiver that wakes whenever a new event is published.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Events after `since`, at most `max` (the caller asks again for the rest).
    pub fn after(&self, since: u64, max: usize) -> Resume {
        let Ok(ring) = self.ring.lock() else {
            return Resume::Resync { seq: self.latest() };
        };
        let oldest = ring.events.front().map_or(ring.next_seq, |e| e.seq);
        if since + 1 < oldest {
            return Resume::Resync {
                seq: ring.next_seq - 1,
            };
        }
        // Sequences are contiguous in the ring, so the start index is arithmetic.
        let skip = usize::try_from((since + 1).saturating_sub(oldest)).unwrap_or(usize::MAX);
        Resume::Events(ring.events.iter().skip(skip).take(max).cloned().collect())
    }

    /// Where a client connecting with `since`/`epoch` starts.
    pub fn resume(&self, since: Option<u64>, epoch: Option<&str>) -> Resume {
        match (since, epoch) {
            (Some(s), Some(e)) if e == self.epoch && s <= self.latest() => {
                self.after(s, usize::MAX)
            }
            (None, _) => Resume::Events(Vec::new()),
            _ => Resume::Resync { seq: self.latest() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(r: Resume) -> Vec<u64> {
        match r {
            Resume::Events(v) => v.iter().map(|e| e.seq).collect(),
            Resume::Resync { .. } => vec![u64::MAX],
        }
    }

    #[test]
    fn a_client_resuming_gets_exactly_the_events_after_its_sequence() {
        let bus = Bus::new(100);
        for i in 0..10 {
            bus.publish("message.created", Audience::everyone(), &i);
        }
        assert_eq!(seqs(bus.after(4, 100)), vec![5, 6, 7, 8, 9, 10]);
        assert_eq!(seqs(bus.after(10, 100)), Vec::<u64>::new());
        assert_eq!(seqs(bus.after(0, 3)), vec![1, 2, 3]);
        let e = bus.epoch().to_string();
        assert_eq!(seqs(bus.resume(Some(8), Some(&e))), vec![9, 10]);
        assert_eq!(seqs(bus.resume(Some(8), Some("other"))), vec![u64::MAX]);
        assert_eq!(seqs(bus.resume(Some(99), Some(&e))), vec![u64::MAX]);
    }

    #[test]
    fn a_sequence_that_left_the_ring_means_resync() {
        let bus = Bus::new(16);
        for i in 0..40 {
            bus.publish("x", Audience::everyone(), &i);
        }
        assert!(matches!(bus.after(3, 100), Resume::Resync { seq: 40 }));
        assert_eq!(seqs(bus.after(24, 100)).len(), 16);
        assert_eq!(seqs(bus.after(23, 100)), vec![u64::MAX]);
    }

    #[test]
    fn frames_are_json_with_seq_type_and_data() {
        let bus = Bus::new(16);
        bus.publish(
            "typing",
            Audience::everyone(),
            &serde_json::json!({"a": "<b>"}),
        );
        let Resume::Events(v) = bus.after(0, 1) else {
            panic!()
        };
        let f: serde_json::Value = serde_json::from_str(&v[0].frame).unwrap();
        assert_eq!(f["seq"], 1);
        assert_eq!(f["type"], "typing");
        assert_eq!(f["data"]["a"], "<b>");
    }

    #[test]
    fn audiences_follow_scope_assignee_and_mentions() {
        let scope = Scope::Limited {
            teams: [1].into(),
            inboxes: [].into(),
        };
        assert!(Audience::conversation(Some(9), Some(1), None).admits(5, &scope));
        assert!(!Audience::conversation(Some(9), Some(2), None).admits(5, &scope));
        assert!(Audience::conversation(Some(9), Some(2), Some(5)).admits(5, &scope));
        assert!(!Audience::users(vec![6]).admits(5, &Scope::All));
        assert!(Audience::everyone().admits(5, &scope));
    }
}
