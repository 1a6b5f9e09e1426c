//! Use cases of the conversation engine: every channel calls [`Engine::ingest`]; agents act
//! through [`Engine::reply`] and the actions in [`actions`]; the dispatcher routes queued
//! conversations; the outbox delivers replies. Each use case commits through the group-commit
//! writer first and publishes realtime events only after the commit.

pub mod actions;
pub mod agents;
pub mod bus;
pub mod csat;
pub mod dispatch;
pub mod events;
pub mod identify;
pub mod ingest;
pub mod presence;
pub mod reply;
pub mod routing;
pub mod settings;
pub mod view;
pub mod visitors;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::store::{self, Store};
use bus::{Audience, Bus};
use settings::{InboxInfo, InboxSettings, TeamSettings};
use view::{ConversationView, QueueInfo};

/// Engine errors; the HTTP layer maps each to a stable code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(store::Error),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("inbox {0} does not exist")]
    UnknownInbox(i64),
    #[error("inbox {0} is disabled")]
    InboxDisabled(i64),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<store::Error> for Error {
    /// An engine error raised inside a write job comes back as itself.
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Aborted(b) => match b.downcast::<Error>() {
                Ok(e) => *e,
                Err(other) => Error::Store(store::Error::Aborted(other)),
            },
            e => Error::Store(e),
        }
    }
}

/// Refuse a write job's work from inside the job: its savepoint rolls back and the caller
/// receives `e`.
pub(crate) fn abort(e: Error) -> store::Error {
    store::Error::Aborted(Box::new(e))
}

/// Realtime events carry at most this many events in the resume ring.
const BUS_CAPACITY: usize = 100_000;

pub struct Engine {
    pub store: Arc<Store>,
    pub clock: SharedClock,
    pub bus: Bus,
    pub presence: presence::Presence,
    inboxes: settings::Cache,
    /// Wakes the dispatcher (new conversation, capacity freed, presence changed).
    pub dispatch: Arc<Notify>,
    /// Wakes the outbox workers (new reply, resend).
    pub outbox_wake: Arc<Notify>,
    /// Wakes the webhook workers (events were queued).
    pub events_wake: Arc<Notify>,
    /// Widget visitors waiting for replies.
    pub visitors: visitors::Visitors,
    /// Queue positions from the dispatcher's last plan.
    queue: RwLock<HashMap<i64, QueueInfo>>,
    /// Agents whose `presence` event is due.
    presence_queue: agents::PresenceQueue,
    /// How long an agent whose last socket closed still counts as present.
    offline_grace_ms: i64,
    /// An agent's status, profile or memberships changed: the dispatcher re-reads agents.
    pub(crate) agents_dirty: std::sync::atomic::AtomicBool,
}

impl Engine {
    /// `offline_grace_ms`: how long an agent whose last workspace socket closed still counts
    /// as present (`routing.offline_grace`).
    pub fn new(store: Arc<Store>, clock: SharedClock, offline_grace_ms: i64) -> Engine {
        let started_at = clock.now_ms();
        Engine {
            store,
            clock,
            bus: Bus::new(BUS_CAPACITY),
            presence: presence::Presence::new(started_at),
            inboxes: settings::Cache::default(),
            dispatch: Arc::new(Notify::new()),
            outbox_wake: Arc::new(Notify::new()),
            events_wake: Arc::new(Notify::new()),
            visitors: visitors::Visitors::default(),
            queue: RwLock::new(HashMap::new()),
            presence_queue: agents::PresenceQueue::default(),
            offline_grace_ms,
            agents_dirty: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// `n` webhook events were queued by a committed write.
    pub fn events_queued(&self, n: usize) {
        if n > 0 {
            self.events_wake.notify_one();
        }
    }

    /// An agent's chosen status, profile, roles or memberships changed: routing re-reads the
    /// agents on its next pass (it does at least once per tick anyway).
    pub fn agents_changed(&self) {
        self.agents_dirty
            .store(true, std::sync::atomic::Ordering::Release);
        self.dispatch.notify_one();
    }

    pub fn offline_grace_ms(&self) -> i64 {
        self.offline_grace_ms
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// An inbox's configuration, from the cache or the database.
    pub async fn inbox(&self, id: i64) -> Result<Arc<InboxInfo>> {
        if let Some(i) = self.inboxes.get(id) {
            return Ok(i);
        }
        let seen = self.inboxes.generation();
        let row = self
            .store
            .read(move |c, ring| store::inboxes::get(c, ring, id))
            .await?
            .ok_or(Error::UnknownInbox(id))?;
        Ok(self.inboxes.put(
            InboxInfo {
                id,
                settings: InboxSettings::parse_stored(id, &row.settings),
                name: row.name,
                channel: row.channel,
                team_id: row.team_id,
                disabled: row.disabled,
            },
            seen,
        ))
    }

    /// The inbox whose API token has this keyed digest (cached after the first lookup; the
    /// cache forgets an inbox when it changes, so a rotated token stops working at once).
    pub async fn inbox_by_token(&self, digest: Vec<u8>) -> Result<Option<i64>> {
        if let Some(id) = self.inboxes.token(&digest) {
            return Ok(Some(id));
        }
        let seen = self.inboxes.generation();
        let d = digest.clone();
        let found = self
            .store
            .read(move |c, _| store::inboxes::by_token(c, &d))
            .await?;
        if let Some(id) = found {
            self.inboxes.put_token(digest, id, seen);
        }
        Ok(found)
    }

    /// A team's settings, from the cache or the database (defaults for a missing team).
    pub async fn team(&self, id: i64) -> Result<Arc<TeamSettings>> {
        if let Some(t) = self.inboxes.team(id) {
            return Ok(t);
        }
        let seen = self.inboxes.generation();
        let json = self
            .store
            .read(move |c, _| store::inboxes::team_settings_of(c, id))
            .await?;
        let parsed = json.map_or_else(TeamSettings::default, |j| {
            TeamSettings::parse_stored(id, &j)
        });
        Ok(self.inboxes.put_team(id, parsed, seen))
    }

    /// Drop a cached team after its settings changed.
    pub fn team_changed(&self, id: i64) {
        self.inboxes.forget_team(id);
        self.dispatch.notify_one();
    }

    /// Moves on whenever any cached inbox or team is dropped: a value derived from an inbox's
    /// row (a channel's decoded credentials) is good while this stays the same.
    pub fn inbox_generation(&self) -> u64 {
        self.inboxes.generation()
    }

    /// Drop a cached inbox after its row changed.
    pub fn inbox_changed(&self, id: i64) {
        self.inboxes.forget(id);
        self.dispatch.notify_one();
    }

    pub fn queue_info(&self, conversation: i64) -> Option<QueueInfo> {
        self.queue.read().ok()?.get(&conversation).copied()
    }

    pub(crate) fn set_queue(&self, q: HashMap<i64, QueueInfo>) {
        if let Ok(mut m) = self.queue.write() {
            *m = q;
        }
    }

    /// Publish a conversation's summary. `placement`: its place changed (new, queued, taken,
    /// woken up), so everyone in its scope hears of it; else it is activity (a message), which
    /// reaches the assignee, supervisors and watchers once someone holds it.
    pub(crate) fn publish_summary(
        &self,
        s: &store::conversations::Summary,
        kind: &'static str,
        placement: bool,
    ) {
        let v = ConversationView::new(
            s,
            self.queue_info(s.row.id.0),
            store::conversations::Sort::Activity,
            false,
        );
        let r = &s.row;
        let aud = if placement {
            Audience::conversation(r.inbox_id, r.team_id, r.assignee_id)
        } else {
            Audience::activity(r.id.0, r.inbox_id, r.team_id, r.assignee_id)
        };
        self.bus.publish(kind, aud, &v);
    }
}
