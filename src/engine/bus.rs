//! The in-process event bus behind the agent WebSocket.
//!
//! Every event gets the next sequence number and is kept in a bounded ring, already serialised
//! as the frame clients receive (`{"seq":…,"type":…,"data":…}`), so thousands of sockets share
//! one copy. Live delivery is targeted: each connection registers a [`Subscription`] with what
//! it may see (user, data scope, supervisor or not), the bus indexes subscriptions by user, team
//! and inbox, and a publish hands the event to the queues of exactly the connections it concerns
//! (a conversation event of team 7 wakes team 7's agents, not the other 2,000). Sequence
//! numbers are assigned and events enqueued under one lock, so every connection receives its
//! events in sequence order.
//!
//! A client that reconnects with `since=N` gets everything after N that it may see from the
//! ring, then the live queue; if N has already left the ring, or the server restarted (the
//! epoch differs), it is told to resync (reload its lists) instead of silently missing events.
//! A connection too slow to keep up (its queue passes [`MAX_QUEUED`]) is marked lagged and told
//! to resync the same way.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::domain::access::Scope;

/// Events one connection may have waiting before it counts as lagged.
pub const MAX_QUEUED: usize = 10_000;
/// Conversations one connection may watch at once.
pub const MAX_WATCHED: usize = 20;

/// Which connections whose data scope covers an event's inbox or team receive it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reach {
    /// Every one (changes to a conversation's place: new, queued, assigned, resolved…).
    #[default]
    Scope,
    /// Only supervisors (`conversations:assign`): the activity of a conversation someone is
    /// assigned, which reaches its assignee and whoever watches it anyway.
    Supervisors,
}

/// Who may receive an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// The conversation's inbox and team (matched against each agent's data scope).
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Who within that scope receives it.
    pub reach: Reach,
    /// The conversation whose watchers (connections showing it) receive it.
    pub watched: Option<i64>,
    /// Further teams whose members receive it (an agent's teams, for presence).
    pub teams: Vec<i64>,
    /// Users who receive it regardless of scope (the assignee, mentioned agents).
    pub users: Vec<i64>,
    /// Holders of `conversations:assign` receive it too (supervisors watch presence).
    pub supervisors: bool,
    /// Only `users` receive it (a mention, a personal notice).
    pub only_users: bool,
    /// Everyone signed in receives it.
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

    /// The activity of conversation `id` (messages, delivery, typing): while it waits in the
    /// queue, everyone who may take it; once assigned, its assignee, the supervisors whose
    /// scope covers it, and the connections watching it (an agent has it open).
    pub fn activity(id: i64, inbox: Option<i64>, team: Option<i64>, assignee: Option<i64>) -> Self {
        Audience {
            inbox_id: inbox,
            team_id: team,
            reach: if assignee.is_some() {
                Reach::Supervisors
            } else {
                Reach::Scope
            },
            watched: Some(id),
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

    /// An agent's presence: the agent, their teams' members and the supervisors.
    pub fn presence(agent: i64, teams: impl IntoIterator<Item = i64>) -> Self {
        Audience {
            users: vec![agent],
            teams: teams.into_iter().collect(),
            supervisors: true,
            ..Audience::default()
        }
    }

    /// Whether a connection of `who` may receive it (the same rule the live delivery applies).
    pub fn admits(&self, who: &Viewer) -> bool {
        if self.everyone || self.users.contains(&who.user) {
            return true;
        }
        if self.only_users {
            return false;
        }
        (self.supervisors && who.supervisor)
            || ((self.reach == Reach::Scope || who.supervisor)
                && who.scope.allows(self.inbox_id, self.team_id))
            || match &who.scope {
                Scope::All => !self.teams.is_empty(),
                Scope::Limited { teams, .. } => self.teams.iter().any(|t| teams.contains(t)),
            }
    }
}

/// What a connection may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user: i64,
    pub scope: Scope,
    /// Holds `conversations:assign`.
    pub supervisor: bool,
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

/// What a client asking to resume gets.
#[derive(Debug)]
pub enum Resume {
    /// Every event after the requested sequence (possibly none).
    Events(Vec<Arc<Event>>),
    /// The requested point is gone (too old, or another epoch): reload and continue from `seq`.
    Resync { seq: u64 },
}

struct Sub {
    user: i64,
    scope: Scope,
    supervisor: bool,
    /// Conversations this connection watches.
    watching: HashSet<i64>,
    tx: mpsc::UnboundedSender<Arc<Event>>,
    queued: Arc<AtomicUsize>,
    lagged: Arc<AtomicBool>,
}

/// Subscriptions indexed by what events name.
#[derive(Default)]
struct Index {
    subs: HashMap<u64, Sub>,
    by_user: HashMap<i64, HashSet<u64>>,
    by_team: HashMap<i64, HashSet<u64>>,
    by_inbox: HashMap<i64, HashSet<u64>>,
    /// Unlimited scope (`conversations:all`).
    all_scope: HashSet<u64>,
    supervisors: HashSet<u64>,
    by_conversation: HashMap<i64, HashSet<u64>>,
}

fn add(map: &mut HashMap<i64, HashSet<u64>>, key: i64, id: u64) {
    map.entry(key).or_default().insert(id);
}

fn remove(map: &mut HashMap<i64, HashSet<u64>>, key: i64, id: u64) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

impl Index {
    fn targets(&self, a: &Audience) -> HashSet<u64> {
        if a.everyone {
            return self.subs.keys().copied().collect();
        }
        let mut out = HashSet::new();
        for u in &a.users {
            out.extend(self.by_user.get(u).into_iter().flatten());
        }
        if a.only_users {
            return out;
        }
        if a.supervisors {
            out.extend(&self.supervisors);
        }
        if let Some(c) = a.watched {
            // A watch was checked when made; the conversation may have moved out of the
            // watcher's scope since (transferred to another team).
            out.extend(
                self.by_conversation
                    .get(&c)
                    .into_iter()
                    .flatten()
                    .filter(|id| {
                        self.subs.get(id).is_some_and(|s| {
                            a.users.contains(&s.user) || s.scope.allows(a.inbox_id, a.team_id)
                        })
                    }),
            );
        }
        match a.reach {
            Reach::Scope => {
                if let Some(i) = a.inbox_id {
                    out.extend(self.by_inbox.get(&i).into_iter().flatten());
                }
                if let Some(t) = a.team_id {
                    out.extend(self.by_team.get(&t).into_iter().flatten());
                }
                if a.inbox_id.is_some() || a.team_id.is_some() {
                    out.extend(&self.all_scope);
                }
            }
            Reach::Supervisors => {
                out.extend(self.supervisors.iter().copied().filter(|id| {
                    self.subs
                        .get(id)
                        .is_some_and(|s| s.supervisor && s.scope.allows(a.inbox_id, a.team_id))
                }));
            }
        }
        for t in &a.teams {
            out.extend(self.by_team.get(t).into_iter().flatten());
        }
        if !a.teams.is_empty() {
            out.extend(&self.all_scope);
        }
        out
    }
}

struct Inner {
    events: VecDeque<Arc<Event>>,
    next_seq: u64,
    next_sub: u64,
    index: Index,
}

pub struct Bus {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
    epoch: String,
}

/// A connection's registration: its live queue, and the sequence from which the queue holds
/// every event it may see. Dropping it unregisters.
pub struct Subscription {
    id: u64,
    /// Events with a sequence above this arrive on the queue.
    pub from_seq: u64,
    rx: mpsc::UnboundedReceiver<Arc<Event>>,
    queued: Arc<AtomicUsize>,
    lagged: Arc<AtomicBool>,
    viewer: Viewer,
    bus: Arc<Mutex<Inner>>,
}

/// What [`Subscription::next`] yields.
#[derive(Debug)]
pub enum Delivery {
    Event(Arc<Event>),
    /// The connection fell too far behind and missed events: resync from `seq`.
    Lagged {
        seq: u64,
    },
}

impl Subscription {
    /// The next event for this connection (waits); `None` when the bus is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        let e = self.rx.recv().await?;
        Some(self.take(e))
    }

    /// An event already waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Delivery> {
        let e = self.rx.try_recv().ok()?;
        Some(self.take(e))
    }

    fn take(&mut self, e: Arc<Event>) -> Delivery {
        self.queued.fetch_sub(1, Ordering::AcqRel);
        if self.lagged.swap(false, Ordering::AcqRel) {
            // Everything queued is stale: drop it and resync from the newest event.
            while self.rx.try_recv().is_ok() {
                self.queued.fetch_sub(1, Ordering::AcqRel);
            }
            let seq = self.bus.lock().map_or(e.seq, |i| i.next_seq - 1);
            return Delivery::Lagged { seq };
        }
        Delivery::Event(e)
    }

    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    /// Receive the activity of a conversation this connection shows (the caller checked that
    /// the user may see it). At most [`MAX_WATCHED`] at once: the oldest is dropped.
    pub fn watch(&self, conversation: i64) {
        let Ok(mut inner) = self.bus.lock() else {
            return;
        };
        let idx = &mut inner.index;
        let Some(sub) = idx.subs.get_mut(&self.id) else {
            return;
        };
        if sub.watching.len() >= MAX_WATCHED && !sub.watching.contains(&conversation) {
            let drop_one = sub.watching.iter().next().copied();
            if let Some(old) = drop_one {
                sub.watching.remove(&old);
                remove(&mut idx.by_conversation, old, self.id);
            }
        }
        if let Some(sub) = idx.subs.get_mut(&self.id) {
            sub.watching.insert(conversation);
        }
        add(&mut idx.by_conversation, conversation, self.id);
    }

    pub fn unwatch(&self, conversation: i64) {
        let Ok(mut inner) = self.bus.lock() else {
            return;
        };
        let idx = &mut inner.index;
        if let Some(sub) = idx.subs.get_mut(&self.id) {
            sub.watching.remove(&conversation);
        }
        remove(&mut idx.by_conversation, conversation, self.id);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Ok(mut inner) = self.bus.lock() else {
            return;
        };
        let idx = &mut inner.index;
        idx.subs.remove(&self.id);
        let v = &self.viewer;
        remove(&mut idx.by_user, v.user, self.id);
        match &v.scope {
            Scope::All => {
                idx.all_scope.remove(&self.id);
            }
            Scope::Limited { teams, inboxes } => {
                for t in teams {
                    remove(&mut idx.by_team, *t, self.id);
                }
                for i in inboxes {
                    remove(&mut idx.by_inbox, *i, self.id);
                }
            }
        }
        idx.supervisors.remove(&self.id);
    }
}

impl Bus {
    /// A bus keeping the last `capacity` events. The epoch names this process's sequence space.
    pub fn new(capacity: usize) -> Bus {
        Bus {
            inner: Arc::new(Mutex::new(Inner {
                events: VecDeque::with_capacity(capacity.min(4096)),
                next_seq: 1,
                next_sub: 1,
                index: Index::default(),
            })),
            capacity: capacity.max(16),
            epoch: crate::auth::new_token().chars().take(16).collect(),
        }
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Publish an event to the ring and the connections it concerns; returns its sequence.
    pub fn publish<T: Serialize>(&self, kind: &'static str, audience: Audience, data: &T) -> u64 {
        let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let frame: Arc<str> = format!(r#"{{"seq":{seq},"type":"{kind}","data":{data}}}"#).into();
        let event = Arc::new(Event {
            seq,
            kind,
            audience,
            frame,
        });
        if inner.events.len() >= self.capacity {
            inner.events.pop_front();
        }
        inner.events.push_back(event.clone());
        let targets = inner.index.targets(&event.audience);
        for id in targets {
            let Some(sub) = inner.index.subs.get(&id) else {
                continue;
            };
            if sub.queued.load(Ordering::Acquire) >= MAX_QUEUED {
                sub.lagged.store(true, Ordering::Release);
                continue;
            }
            if sub.tx.send(event.clone()).is_ok() {
                sub.queued.fetch_add(1, Ordering::AcqRel);
            }
        }
        seq
    }

    /// Register a connection of `viewer`: events published from now on that it may see arrive
    /// on the subscription's queue.
    pub fn subscribe(&self, viewer: Viewer) -> Option<Subscription> {
        let mut inner = self.inner.lock().ok()?;
        let id = inner.next_sub;
        inner.next_sub += 1;
        let from_seq = inner.next_seq - 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let lagged = Arc::new(AtomicBool::new(false));
        let idx = &mut inner.index;
        add(&mut idx.by_user, viewer.user, id);
        match &viewer.scope {
            Scope::All => {
                idx.all_scope.insert(id);
            }
            Scope::Limited { teams, inboxes } => {
                for t in teams {
                    add(&mut idx.by_team, *t, id);
                }
                for i in inboxes {
                    add(&mut idx.by_inbox, *i, id);
                }
            }
        }
        if viewer.supervisor {
            idx.supervisors.insert(id);
        }
        idx.subs.insert(
            id,
            Sub {
                user: viewer.user,
                scope: viewer.scope.clone(),
                supervisor: viewer.supervisor,
                watching: HashSet::new(),
                tx,
                queued: queued.clone(),
                lagged: lagged.clone(),
            },
        );
        drop(inner);
        Some(Subscription {
            id,
            from_seq,
            rx,
            queued,
            lagged,
            viewer,
            bus: self.inner.clone(),
        })
    }

    /// Connected subscriptions of `user` (for metrics and tests).
    pub fn connections_of(&self, user: i64) -> usize {
        self.inner.lock().map_or(0, |i| {
            i.index.subs.values().filter(|s| s.user == user).count()
        })
    }

    /// The sequence of the newest event (0 before the first).
    pub fn latest(&self) -> u64 {
        self.inner.lock().map_or(0, |i| i.next_seq - 1)
    }

    /// Events after `since` up to `until` (inclusive), at most `max`; `Resync` when `since`
    /// has already left the ring.
    pub fn between(&self, since: u64, until: u64, max: usize) -> Resume {
        let Ok(inner) = self.inner.lock() else {
            return Resume::Resync { seq: until };
        };
        let oldest = inner.events.front().map_or(inner.next_seq, |e| e.seq);
        if since + 1 < oldest {
            return Resume::Resync {
                seq: inner.next_seq - 1,
            };
        }
        // Sequences are contiguous in the ring, so the start index is arithmetic.
        let skip = usize::try_from((since + 1).saturating_sub(oldest)).unwrap_or(usize::MAX);
        Resume::Events(
            inner
                .events
                .iter()
                .skip(skip)
                .take_while(|e| e.seq <= until)
                .take(max)
                .cloned()
                .collect(),
        )
    }

    /// Events after `since`, at most `max`.
    pub fn after(&self, since: u64, max: usize) -> Resume {
        self.between(since, u64::MAX, max)
    }

    /// Whether a client resuming from `since` in `epoch` can be served from the ring up to
    /// `until` (else it must resync).
    pub fn resumable(&self, since: Option<u64>, epoch: Option<&str>, until: u64) -> bool {
        match (since, epoch) {
            (Some(s), Some(e)) => e == self.epoch && s <= until,
            _ => false,
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

    fn viewer(user: i64, teams: &[i64]) -> Viewer {
        Viewer {
            user,
            scope: Scope::Limited {
                teams: teams.iter().copied().collect(),
                inboxes: Default::default(),
            },
            supervisor: false,
        }
    }

    fn drain(s: &mut Subscription) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(d) = s.try_next() {
            match d {
                Delivery::Event(e) => out.push(e.seq),
                Delivery::Lagged { .. } => out.push(u64::MAX),
            }
        }
        out
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
        assert_eq!(seqs(bus.between(4, 7, 100)), vec![5, 6, 7]);
        let e = bus.epoch().to_string();
        assert!(bus.resumable(Some(8), Some(&e), 10));
        assert!(!bus.resumable(Some(8), Some("other"), 10));
        assert!(!bus.resumable(Some(99), Some(&e), 10));
        assert!(!bus.resumable(None, None, 10));
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
    fn audiences_follow_scope_assignee_mentions_and_supervision() {
        let v = viewer(5, &[1]);
        assert!(Audience::conversation(Some(9), Some(1), None).admits(&v));
        assert!(!Audience::conversation(Some(9), Some(2), None).admits(&v));
        assert!(Audience::conversation(Some(9), Some(2), Some(5)).admits(&v));
        assert!(!Audience::users(vec![6]).admits(&v));
        assert!(Audience::everyone().admits(&v));
        assert!(Audience::presence(6, [1]).admits(&v));
        assert!(!Audience::presence(6, [2]).admits(&v));
        let lead = Viewer {
            supervisor: true,
            ..viewer(7, &[])
        };
        assert!(Audience::presence(6, [2]).admits(&lead));
        assert!(!Audience::conversation(Some(9), Some(2), None).admits(&lead));
    }

    #[test]
    fn live_delivery_reaches_exactly_the_connections_that_may_see_the_event() {
        let bus = Bus::new(100);
        let mut team1 = bus.subscribe(viewer(1, &[1])).unwrap();
        let mut team2 = bus.subscribe(viewer(2, &[2])).unwrap();
        let mut all = bus
            .subscribe(Viewer {
                user: 3,
                scope: Scope::All,
                supervisor: false,
            })
            .unwrap();
        let a = bus.publish("x", Audience::conversation(Some(9), Some(1), None), &1);
        let b = bus.publish("x", Audience::conversation(Some(9), Some(2), Some(1)), &2);
        let c = bus.publish("x", Audience::users(vec![2]), &3);
        let d = bus.publish("x", Audience::presence(1, [1]), &4);
        assert_eq!(drain(&mut team1), vec![a, b, d]);
        assert_eq!(drain(&mut team2), vec![b, c]);
        assert_eq!(drain(&mut all), vec![a, b, d]);
        // For every event, live delivery and `admits` (used for replays) agree.
        for (s, v) in [(&team1, 1), (&team2, 2), (&all, 3)] {
            let Resume::Events(evs) = bus.after(0, 100) else {
                panic!()
            };
            let admitted: Vec<u64> = evs
                .iter()
                .filter(|e| e.audience.admits(s.viewer()))
                .map(|e| e.seq)
                .collect();
            let expected = match v {
                1 => vec![a, b, d],
                2 => vec![b, c],
                _ => vec![a, b, d],
            };
            assert_eq!(admitted, expected);
        }
        drop(team2);
        bus.publish("x", Audience::conversation(None, Some(2), None), &5);
        assert_eq!(bus.connections_of(2), 0);
    }

    #[test]
    fn an_assigned_conversation_reaches_its_assignee_supervisors_and_watchers_only() {
        let bus = Bus::new(100);
        let mut mate = bus.subscribe(viewer(1, &[7])).unwrap();
        let mut owner = bus.subscribe(viewer(2, &[7])).unwrap();
        let mut lead = bus
            .subscribe(Viewer {
                supervisor: true,
                ..viewer(3, &[7])
            })
            .unwrap();
        let mut other_lead = bus
            .subscribe(Viewer {
                supervisor: true,
                ..viewer(4, &[8])
            })
            .unwrap();
        // Queued: the whole team may take it.
        let q = bus.publish("m", Audience::activity(50, Some(1), Some(7), None), &0);
        // Assigned to 2: the assignee and the team's supervisor.
        let a = bus.publish("m", Audience::activity(50, Some(1), Some(7), Some(2)), &0);
        mate.watch(50);
        let w = bus.publish("m", Audience::activity(50, Some(1), Some(7), Some(2)), &0);
        mate.unwatch(50);
        let u = bus.publish("m", Audience::activity(50, Some(1), Some(7), Some(2)), &0);
        assert_eq!(drain(&mut mate), vec![q, w]);
        assert_eq!(drain(&mut owner), vec![q, a, w, u]);
        assert_eq!(drain(&mut lead), vec![q, a, w, u]);
        assert_eq!(drain(&mut other_lead), Vec::<u64>::new());
        // Replays agree (watching is not replayed: a reconnected client reloads what it shows).
        let Resume::Events(evs) = bus.after(0, 100) else {
            panic!()
        };
        let admitted = |v: &Viewer| -> Vec<u64> {
            evs.iter()
                .filter(|e| e.audience.admits(v))
                .map(|e| e.seq)
                .collect()
        };
        assert_eq!(admitted(mate.viewer()), vec![q]);
        assert_eq!(admitted(owner.viewer()), vec![q, a, w, u]);
        assert_eq!(admitted(lead.viewer()), vec![q, a, w, u]);
    }

    #[test]
    fn a_connection_that_falls_behind_is_told_to_resync() {
        let bus = Bus::new(MAX_QUEUED * 2);
        let mut slow = bus.subscribe(viewer(1, &[1])).unwrap();
        for i in 0..MAX_QUEUED + 5 {
            bus.publish("x", Audience::conversation(None, Some(1), None), &i);
        }
        match slow.try_next() {
            Some(Delivery::Lagged { seq }) => assert_eq!(seq, bus.latest()),
            other => panic!("{other:?}"),
        }
        assert!(slow.try_next().is_none(), "stale events are dropped");
        let n = bus.publish("x", Audience::conversation(None, Some(1), None), &0);
        assert_eq!(drain(&mut slow), vec![n]);
    }
}
