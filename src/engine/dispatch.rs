//! The dispatcher: applies routing decisions and timers.
//!
//! One task, woken by new conversations, freed capacity, presence changes and a periodic tick.
//! Each pass reads a snapshot (queued conversations, agents with their effective presence and
//! load, inbox and team settings), asks the pure [`super::routing::plan`] what to do, and
//! applies it in one write job: assignments (only to conversations still unassigned, so a
//! supervisor's manual choice always wins), overflows to another team, the offline auto-reply,
//! reply-time alerts, snoozes that are due, and re-routing of conversations whose agent went
//! offline or let the customer wait too long. Events are published after the commit.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::json;

use super::actions::{Acted, system_message};
use super::routing::{self, Agent, Input, Presence, QueueKey, RoutingSettings, Waiting};
use super::settings::{InboxSettings, TeamSettings};
use super::view::QueueInfo;
use super::{Engine, Result};
use crate::crypto::Keyring;
use crate::domain::{
    ConversationId, ConversationStatus, Delivery, Direction, MessageId, MessageKind,
};
use crate::store::{self, agents, conversations, inboxes, messages, outbox};

/// Tunables (from `[routing]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct DispatchConfig {
    /// How long an agent whose last socket closed still counts as present.
    pub offline_grace_ms: i64,
    /// Periodic pass (timers, overflow, alerts).
    pub tick: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            offline_grace_ms: 60_000,
            tick: Duration::from_secs(1),
        }
    }
}

/// Dispatcher state kept between passes.
#[derive(Default)]
pub struct Dispatcher {
    /// When each agent last received a conversation (round-robin order).
    last_assigned: Mutex<HashMap<i64, i64>>,
    /// Mean handling time per queue (for wait estimates) and when it was computed.
    handle_times: Mutex<(i64, BTreeMap<QueueKey, i64>)>,
    /// The agents (profiles, memberships) and when they were read: re-read on the tick or
    /// when an agent's status or profile changed, not on every wake-up.
    agents: Mutex<Option<(i64, Arc<Vec<agents::AgentRow>>)>>,
    /// When the timers (reply-time alerts, re-routing, snoozes) last ran.
    timers_at: Mutex<i64>,
    /// Each agent's effective presence at the last timers pass: an agent whose browser went
    /// away turns offline when the grace period ends, which no request announces.
    presences: Mutex<HashMap<i64, Presence>>,
}

/// How often the handling-time means behind wait estimates are recomputed, and over how long.
const HANDLE_TIME_EVERY_MS: i64 = 60_000;
const HANDLE_TIME_WINDOW_MS: i64 = 7 * 86_400_000;

/// Means shorter than this (a test conversation resolved at once) say nothing about waiting.
const MIN_HANDLE_MS: i64 = 10_000;

struct Snapshot {
    queued: Vec<conversations::QueuedRow>,
    agents: Arc<Vec<agents::AgentRow>>,
    loads: HashMap<i64, i64>,
    inboxes: Vec<(i64, InboxSettings)>,
    teams: BTreeMap<i64, TeamSettings>,
    /// Read only when the timers run (`timers`); empty otherwise.
    waiting: Vec<conversations::WaitingRow>,
    snoozed: Vec<ConversationId>,
}

/// What a pass reads. `agents`: the cached agents when still fresh; `timers`: also what the
/// timers need (every conversation waiting for a reply, the snoozes that are due).
fn snapshot(
    c: &Connection,
    now: i64,
    agents: Option<Arc<Vec<agents::AgentRow>>>,
    timers: bool,
) -> store::Result<Snapshot> {
    let agents = match agents {
        Some(a) => a,
        None => Arc::new(agents::agents(c)?),
    };
    Ok(Snapshot {
        queued: conversations::queued(c)?,
        agents,
        loads: conversations::loads(c)?.into_iter().collect(),
        inboxes: inboxes::all_settings(c)?
            .into_iter()
            .filter(|(_, _, disabled)| !disabled)
            .map(|(id, s, _)| (id, InboxSettings::parse_stored(id, &s)))
            .collect(),
        teams: inboxes::team_settings(c)?
            .into_iter()
            .map(|(id, _, s)| (id, TeamSettings::parse_stored(id, &s)))
            .collect(),
        waiting: if timers {
            conversations::awaiting_reply(c)?
        } else {
            Vec::new()
        },
        snoozed: if timers {
            conversations::snoozed_due(c, now)?
        } else {
            Vec::new()
        },
    })
}

/// Everything one pass decided, applied in one job.
#[derive(Default)]
struct Changes {
    assign: Vec<(ConversationId, i64)>,
    overflow: Vec<(ConversationId, i64)>,
    auto_reply: Vec<(ConversationId, String)>,
    alerts: Vec<(ConversationId, Option<&'static str>)>,
    wake: Vec<ConversationId>,
    reroute: Vec<(ConversationId, &'static str)>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.assign.is_empty()
            && self.overflow.is_empty()
            && self.auto_reply.is_empty()
            && self.alerts.is_empty()
            && self.wake.is_empty()
            && self.reroute.is_empty()
    }
}

impl Engine {
    /// Run the dispatcher until the process stops.
    pub async fn run_dispatcher(self: Arc<Self>, cfg: DispatchConfig) {
        let d = Dispatcher::default();
        loop {
            if let Err(e) = self.dispatch_pass(&d, &cfg).await {
                tracing::warn!(error = %e, "dispatch pass failed; retrying");
            }
            // Coalesce bursts: one pass per wake-up at most every 20 ms.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tokio::time::timeout(cfg.tick, self.dispatch.notified()).await;
        }
    }

    /// One dispatcher pass (public for tests, which drive passes directly). Routing runs on
    /// every pass; the timers at most once per tick.
    pub async fn dispatch_pass(&self, d: &Dispatcher, cfg: &DispatchConfig) -> Result<()> {
        let now = self.now();
        let tick_ms = i64::try_from(cfg.tick.as_millis()).unwrap_or(1000);
        let timers = d
            .timers_at
            .lock()
            .map(|mut t| {
                let due = now - *t >= tick_ms;
                if due {
                    *t = now;
                }
                due
            })
            .unwrap_or(true);
        let dirty = self
            .agents_dirty
            .swap(false, std::sync::atomic::Ordering::AcqRel);
        let cached = d.agents.lock().ok().and_then(|a| {
            a.as_ref()
                .filter(|(at, _)| !dirty && now - at < tick_ms)
                .map(|(_, list)| list.clone())
        });
        let snap = self
            .store
            .read(move |c, _| snapshot(c, now, cached, timers))
            .await?;
        if let Ok(mut a) = d.agents.lock() {
            let fresh = a
                .as_ref()
                .is_none_or(|(_, list)| !Arc::ptr_eq(list, &snap.agents));
            if fresh {
                *a = Some((now, snap.agents.clone()));
            }
        }
        self.refresh_handle_times(d, now).await;
        if timers {
            self.announce_presence_changes(d, &snap, now, cfg);
        }
        let (changes, queue) = self.decide(d, cfg, &snap, now);
        self.set_queue(queue);
        if changes.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = (0..changes.assign.len()
            + changes.overflow.len()
            + 2 * changes.auto_reply.len()
            + changes.reroute.len()
            + changes.wake.len())
            .map(|_| self.store.next_id())
            .collect();
        let acted = self
            .store
            .write(move |c, ring| apply(c, ring, &changes, &ids, now))
            .await?;
        if let Ok(mut m) = d.last_assigned.lock() {
            for a in &acted {
                if let Some(u) = a.summary.as_ref().and_then(|s| s.row.assignee_id) {
                    m.insert(u, now);
                }
            }
        }
        let mut sent = false;
        for a in &acted {
            self.publish_acted(a);
            sent |= a
                .system
                .as_ref()
                .is_some_and(|m| m.direction == Direction::Outgoing);
        }
        if sent {
            self.outbox_wake.notify_one();
        }
        Ok(())
    }

    /// Publish `presence` for agents whose effective presence changed by itself since the last
    /// timers pass (the grace period after their last socket closed has ended).
    fn announce_presence_changes(
        &self,
        d: &Dispatcher,
        snap: &Snapshot,
        now: i64,
        cfg: &DispatchConfig,
    ) {
        let Ok(mut seen) = d.presences.lock() else {
            return;
        };
        let mut changed = Vec::new();
        for a in snap.agents.iter() {
            let p = self
                .presence
                .effective(a.id, &a.profile.status, now, cfg.offline_grace_ms);
            if seen.insert(a.id, p).is_some_and(|before| before != p) {
                changed.push(a.id);
            }
        }
        drop(seen);
        if !changed.is_empty() {
            self.presence_changed(changed);
        }
    }

    /// Recompute the mean handling time per queue once a minute (a grouped scan of the last
    /// week's resolved conversations: too much for every pass).
    async fn refresh_handle_times(&self, d: &Dispatcher, now: i64) {
        let due = d
            .handle_times
            .lock()
            .map(|h| h.0 == 0 || now - h.0 >= HANDLE_TIME_EVERY_MS)
            .unwrap_or(false);
        if !due {
            return;
        }
        let since = now - HANDLE_TIME_WINDOW_MS;
        match self
            .store
            .read(move |c, _| conversations::handle_times(c, since))
            .await
        {
            Ok(rows) => {
                let map: BTreeMap<QueueKey, i64> = rows
                    .into_iter()
                    .filter(|(_, _, ms)| *ms >= MIN_HANDLE_MS)
                    .filter_map(|(team, inbox, ms)| match (team, inbox) {
                        (Some(t), _) => Some((QueueKey::Team(t), ms)),
                        (None, Some(i)) => Some((QueueKey::Inbox(i), ms)),
                        (None, None) => None,
                    })
                    .collect();
                if let Ok(mut h) = d.handle_times.lock() {
                    *h = (now, map);
                }
            }
            Err(e) => tracing::warn!(error = %e, "handling times unavailable; using the default"),
        }
    }

    fn decide(
        &self,
        d: &Dispatcher,
        cfg: &DispatchConfig,
        snap: &Snapshot,
        now: i64,
    ) -> (Changes, HashMap<i64, QueueInfo>) {
        let mut ch = Changes::default();
        let last = d
            .last_assigned
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let agents: Vec<Agent> = snap
            .agents
            .iter()
            .map(|a| Agent {
                id: a.id,
                presence: self.presence.effective(
                    a.id,
                    &a.profile.status,
                    now,
                    cfg.offline_grace_ms,
                ),
                capacity: a.profile.capacity,
                load: u32::try_from(snap.loads.get(&a.id).copied().unwrap_or(0))
                    .unwrap_or(u32::MAX),
                skills: a.profile.skills.clone(),
                teams: a.teams.clone(),
                inboxes: a.inboxes.clone(),
                last_assigned_at: last.get(&a.id).copied().unwrap_or(0),
            })
            .collect();
        let settings: HashMap<i64, &InboxSettings> =
            snap.inboxes.iter().map(|(id, s)| (*id, s)).collect();
        let inbox_routing: BTreeMap<i64, RoutingSettings> = snap
            .inboxes
            .iter()
            .map(|(id, s)| (*id, s.routing.clone()))
            .collect();
        let team_routing: BTreeMap<i64, RoutingSettings> = snap
            .teams
            .iter()
            .map(|(id, s)| (*id, s.routing.clone()))
            .collect();
        let open: BTreeSet<i64> = snap
            .inboxes
            .iter()
            .filter(|(_, s)| s.is_open(now))
            .map(|(id, _)| *id)
            .collect();
        let waiting: Vec<Waiting> = snap
            .queued
            .iter()
            .filter(|q| settings.contains_key(&q.inbox_id))
            .map(|q| Waiting {
                conversation_id: q.id.0,
                inbox_id: q.inbox_id,
                team_id: q.team_id,
                priority: u8::try_from(q.priority.clamp(0, 3)).unwrap_or(1),
                vip: q.vip,
                queued_at: q.queued_at,
                skills: q.skills.clone(),
                last_agent: q.last_agent_id,
            })
            .collect();
        let avg = d
            .handle_times
            .lock()
            .map(|h| h.1.clone())
            .unwrap_or_default();
        let plan = routing::plan(&Input {
            now_ms: now,
            waiting: &waiting,
            agents: &agents,
            inbox_settings: &inbox_routing,
            team_settings: &team_routing,
            open_inboxes: &open,
            avg_handle_ms: &avg,
        });
        ch.assign = plan
            .assignments
            .iter()
            .map(|a| (ConversationId(a.conversation_id), a.agent_id))
            .collect();
        ch.overflow = plan
            .overflows
            .iter()
            .map(|o| (ConversationId(o.conversation_id), o.to_team))
            .collect();
        let mut queue = HashMap::new();
        for e in &plan.queue {
            queue.insert(
                e.conversation_id,
                QueueInfo {
                    position: e.position,
                    estimated_wait_ms: e.estimated_wait_ms,
                },
            );
        }
        // Nobody can answer (closed, or no agent online for its queue): the offline
        // auto-reply, once per conversation.
        let online_for = |key: QueueKey| {
            agents.iter().any(|a| {
                a.presence == Presence::Online
                    && match key {
                        QueueKey::Team(t) => a.teams.contains(&t),
                        QueueKey::Inbox(i) => a.inboxes.contains(&i),
                    }
            })
        };
        let assigned: BTreeSet<i64> = plan.assignments.iter().map(|a| a.conversation_id).collect();
        for q in &snap.queued {
            let Some(s) = settings.get(&q.inbox_id) else {
                continue;
            };
            if q.auto_replied
                || s.auto_reply.offline.trim().is_empty()
                || assigned.contains(&q.id.0)
            {
                continue;
            }
            let key = q
                .team_id
                .map_or(QueueKey::Inbox(q.inbox_id), QueueKey::Team);
            if !open.contains(&q.inbox_id) || !online_for(key) {
                ch.auto_reply.push((q.id, s.auto_reply.offline.clone()));
            }
        }
        // Reply-time alerts and re-routing of waits the assignee lets run too long. An agent
        // keeps their conversations while their workspace is open, whatever status they chose
        // (a claim made while "offline" is theirs); they go back to the queue when the agent
        // is gone (no workspace for the grace period) or no longer an agent.
        let present = |u: i64| {
            agents.iter().any(|a| a.id == u)
                && self.presence.reachable(u, now, cfg.offline_grace_ms)
        };
        for w in &snap.waiting {
            let Some(s) = w.inbox_id.and_then(|i| settings.get(&i)) else {
                continue;
            };
            let (limit, kind) = if w.answered {
                (s.sla.next_response_secs, "next_response")
            } else {
                (s.sla.first_response_secs, "first_response")
            };
            let waited = now - w.waiting_since;
            let want = (limit > 0 && waited >= ms(limit)).then_some(kind);
            if want != w.alert.as_deref() {
                ch.alerts.push((w.id, want));
            }
            if let Some(a) = w.assignee_id {
                // The reply-time limit counts from when this agent got it, so a conversation
                // handed on gets a full window (else it would bounce back every tick).
                let held = now - w.waiting_since.max(w.assigned_at.unwrap_or(0));
                if !present(a) {
                    ch.reroute.push((w.id, "agent_offline"));
                } else if s.sla.reassign_after_secs > 0 && held >= ms(s.sla.reassign_after_secs) {
                    ch.reroute.push((w.id, "response_timeout"));
                }
            }
        }
        ch.wake.clone_from(&snap.snoozed);
        (ch, queue)
    }
}

fn ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn apply(
    c: &Connection,
    ring: &Keyring,
    ch: &Changes,
    ids: &[i64],
    now: i64,
) -> store::Result<Vec<Acted>> {
    let mut ids = ids.iter().copied();
    let mut next = || MessageId(ids.next().unwrap_or_default());
    let mut out = Vec::new();
    let system = json!(null);
    for (id, agent) in &ch.assign {
        let Some(prev) = conversations::get(c, *id)? else {
            continue;
        };
        let mid = next();
        if !conversations::set_assignee(c, *id, Some(*agent), true, now)? {
            continue;
        }
        let name = store::identity::user(c, *agent)?.map(|u| {
            if u.display_name.is_empty() {
                u.username
            } else {
                u.display_name
            }
        });
        let m = system_message(
            c,
            ring,
            &prev,
            mid,
            "Assigned by routing",
            &json!({"event": "auto_assigned", "actor": system, "to": {"id": agent, "name": name}}),
            now,
        )?;
        out.push(acted(c, ring, prev, m, now)?);
    }
    for (id, team) in &ch.overflow {
        let Some(prev) = conversations::get(c, *id)? else {
            continue;
        };
        let mid = next();
        if prev.assignee_id.is_some() {
            continue;
        }
        conversations::set_team(c, *id, Some(*team), now)?;
        let m = system_message(
            c,
            ring,
            &prev,
            mid,
            "Moved to another team after waiting",
            &json!({"event": "overflowed", "actor": system, "team": {"id": team}}),
            now,
        )?;
        out.push(acted(c, ring, prev, m, now)?);
    }
    for (id, text) in &ch.auto_reply {
        let Some(prev) = conversations::get(c, *id)? else {
            continue;
        };
        let (mid, oid) = (next(), next().0);
        if prev.auto_replied {
            continue;
        }
        conversations::mark_auto_replied(c, *id)?;
        let m = auto_message(c, ring, &prev, mid, oid, text, now)?;
        out.push(acted(c, ring, prev, m, now)?);
    }
    for (id, alert) in &ch.alerts {
        if conversations::set_alert(c, *id, *alert)? {
            let prev = conversations::get(c, *id)?;
            if let Some(prev) = prev {
                out.push(acted(c, ring, prev, None, now)?);
            }
        }
    }
    for (id, reason) in &ch.reroute {
        let Some(prev) = conversations::get(c, *id)? else {
            continue;
        };
        let mid = next();
        if prev.assignee_id.is_none() {
            continue;
        }
        conversations::set_assignee(c, *id, None, false, now)?;
        let m = system_message(
            c,
            ring,
            &prev,
            mid,
            "Returned to the queue for re-routing",
            &json!({"event": "rerouted", "actor": system, "reason": reason}),
            now,
        )?;
        out.push(acted(c, ring, prev, m, now)?);
    }
    for id in &ch.wake {
        let Some(prev) = conversations::get(c, *id)? else {
            continue;
        };
        let mid = next();
        conversations::set_status(c, *id, ConversationStatus::Open, None, now)?;
        let m = system_message(
            c,
            ring,
            &prev,
            mid,
            "Snooze ended",
            &json!({"event": "unsnoozed", "actor": system}),
            now,
        )?;
        out.push(acted(c, ring, prev, m, now)?);
    }
    Ok(out)
}

fn acted(
    c: &Connection,
    ring: &Keyring,
    prev: conversations::ConvRow,
    system: Option<messages::MessageRow>,
    now: i64,
) -> store::Result<Acted> {
    let mut a = Acted {
        summary: conversations::summary(c, ring, prev.id, 0)?,
        system,
        previous: Some(prev),
        events: 0,
    };
    a.events = super::events::acted(c, ring, &a, now)?;
    Ok(a)
}

/// An automatic outgoing message (greeting, offline reply) with its outbox row.
pub(crate) fn auto_message(
    c: &Connection,
    ring: &Keyring,
    conv: &conversations::ConvRow,
    id: MessageId,
    outbox_id: i64,
    text: &str,
    now: i64,
) -> store::Result<Option<messages::MessageRow>> {
    let Some(inbox) = conv.inbox_id else {
        return Ok(None);
    };
    messages::insert(
        c,
        ring,
        &messages::NewMessage {
            id,
            conversation: conv.id,
            inbox: Some(inbox),
            direction: Direction::Outgoing,
            kind: MessageKind::Text,
            body: text,
            content: None,
            external_id: None,
            sender: None,
            delivery: Some(Delivery::Queued),
            mentions: &[],
            now,
        },
    )?;
    outbox::enqueue(c, outbox_id, id, conv.id, inbox, now)?;
    conversations::after_internal(c, conv.id, id.0, now)?;
    messages::get(c, ring, id)
}
