//! Who is connected. An agent's effective presence is the status they chose (online, busy,
//! away) while at least one workspace socket is open, and offline once the last socket has
//! been closed for longer than a grace period (a page reload or a short network drop must not
//! send their conversations back to the queue).

use std::collections::HashMap;
use std::sync::Mutex;

use super::routing::Presence as State;

#[derive(Debug, Clone, Copy)]
struct Conn {
    sockets: u32,
    /// When the last socket closed (ms), while `sockets == 0`.
    gone_since: Option<i64>,
}

pub struct Presence {
    conns: Mutex<HashMap<i64, Conn>>,
    /// When the process started: an agent not seen since counts as present for the grace
    /// period (their browsers reconnect after a restart; routing must not take their
    /// conversations away, nor tell every queued customer nobody is there, meanwhile).
    started_at: i64,
}

impl Presence {
    pub fn new(started_at: i64) -> Presence {
        Presence {
            conns: Mutex::new(HashMap::new()),
            started_at,
        }
    }

    /// A socket of `user` opened; true when the user was not connected before.
    pub fn connect(&self, user: i64) -> bool {
        let Ok(mut m) = self.conns.lock() else {
            return false;
        };
        let c = m.entry(user).or_insert(Conn {
            sockets: 0,
            gone_since: None,
        });
        c.sockets += 1;
        c.gone_since = None;
        c.sockets == 1
    }

    /// A socket of `user` closed at `now`; true when it was the last one.
    pub fn disconnect(&self, user: i64, now: i64) -> bool {
        let Ok(mut m) = self.conns.lock() else {
            return false;
        };
        match m.get_mut(&user) {
            Some(c) if c.sockets > 0 => {
                c.sockets -= 1;
                if c.sockets == 0 {
                    c.gone_since = Some(now);
                    return true;
                }
                false
            }
            _ => false,
        }
    }

    /// Whether `user` has a workspace open (or closed it less than `grace_ms` ago), whatever
    /// status they chose.
    pub fn reachable(&self, user: i64, now: i64, grace_ms: i64) -> bool {
        let connected = self.conns.lock().ok().and_then(|m| m.get(&user).copied());
        match connected {
            Some(Conn { sockets, .. }) if sockets > 0 => true,
            Some(Conn {
                gone_since: Some(t),
                ..
            }) => now - t < grace_ms,
            Some(_) => false,
            None => now - self.started_at < grace_ms,
        }
    }

    /// The effective presence of `user` whose chosen status is `chosen`.
    pub fn effective(&self, user: i64, chosen: &str, now: i64, grace_ms: i64) -> State {
        if !self.reachable(user, now, grace_ms) {
            return State::Offline;
        }
        match chosen {
            "online" => State::Online,
            "busy" => State::Busy,
            "away" => State::Away,
            _ => State::Offline,
        }
    }

    /// Number of open sockets (for metrics).
    pub fn sockets(&self) -> u64 {
        self.conns
            .lock()
            .map(|m| m.values().map(|c| u64::from(c.sockets)).sum())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_survives_a_reload_within_the_grace_period() {
        let p = Presence::new(-10_000);
        assert_eq!(p.effective(1, "online", 0, 1000), State::Offline);
        assert!(p.connect(1));
        assert!(!p.connect(1));
        assert_eq!(p.effective(1, "online", 0, 1000), State::Online);
        assert_eq!(p.effective(1, "away", 0, 1000), State::Away);
        assert!(!p.disconnect(1, 10));
        assert!(p.disconnect(1, 10));
        assert_eq!(p.effective(1, "online", 500, 1000), State::Online);
        assert_eq!(p.effective(1, "online", 1010, 1000), State::Offline);
        assert!(p.connect(1));
        assert_eq!(p.effective(1, "online", 5000, 1000), State::Online);
    }

    #[test]
    fn after_a_restart_agents_count_as_present_until_the_grace_period_ends() {
        let p = Presence::new(1_000);
        assert_eq!(p.effective(7, "online", 1_500, 1000), State::Online);
        assert_eq!(p.effective(7, "away", 1_500, 1000), State::Away);
        assert_eq!(p.effective(7, "online", 2_000, 1000), State::Offline);
        assert!(p.connect(7));
        assert_eq!(p.effective(7, "online", 9_000, 1000), State::Online);
    }
}
