//! Agents as the workspace shows them: the effective presence (the chosen status while a
//! workspace is open), load and capacity; and `presence` events, published when an agent's
//! status, connection or load changes (coalesced: many assignments at once cost one read per
//! agent).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use serde::Serialize;
use utoipa::ToSchema;

use super::bus::Audience;
use super::routing::Presence;
use super::{Engine, Result};
use crate::store::{agents, conversations};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentView {
    pub id: i64,
    pub name: String,
    /// Effective presence: the chosen status while connected, else `offline`.
    pub status: String,
    /// The status the agent chose.
    pub chosen_status: String,
    /// Open and pending conversations assigned to the agent.
    pub load: i64,
    pub capacity: u32,
    pub skills: BTreeSet<String>,
    pub teams: BTreeSet<i64>,
    /// Inboxes the agent is a member of (routing uses them for inboxes without a team).
    pub inboxes: BTreeSet<i64>,
}

pub fn presence_str(p: Presence) -> &'static str {
    match p {
        Presence::Online => "online",
        Presence::Busy => "busy",
        Presence::Away => "away",
        Presence::Offline => "offline",
    }
}

/// Agents whose presence event is due.
#[derive(Default)]
pub struct PresenceQueue {
    dirty: Mutex<BTreeSet<i64>>,
    wake: tokio::sync::Notify,
}

impl Engine {
    fn view(&self, a: agents::AgentRow, load: i64, now: i64) -> AgentView {
        let p = self
            .presence
            .effective(a.id, &a.profile.status, now, self.offline_grace_ms());
        AgentView {
            status: presence_str(p).into(),
            chosen_status: a.profile.status,
            load,
            capacity: a.profile.capacity,
            skills: a.profile.skills,
            teams: a.teams,
            inboxes: a.inboxes,
            id: a.id,
            name: a.name,
        }
    }

    /// Every agent (enabled users holding `conversations:reply`).
    pub async fn agent_views(&self) -> Result<Vec<AgentView>> {
        let (list, loads) = self
            .store
            .read(|c, _| Ok((agents::agents(c)?, conversations::loads(c)?)))
            .await?;
        let loads: HashMap<i64, i64> = loads.into_iter().collect();
        let now = self.now();
        Ok(list
            .into_iter()
            .map(|a| {
                let load = loads.get(&a.id).copied().unwrap_or(0);
                self.view(a, load, now)
            })
            .collect())
    }

    /// One agent, or `None` when the user is not (or no longer) an agent.
    pub async fn agent_view(&self, id: i64) -> Result<Option<AgentView>> {
        let row = self
            .store
            .read(move |c, _| {
                Ok(match agents::agent(c, id)? {
                    Some(a) => Some((a, conversations::load_of(c, id)?)),
                    None => None,
                })
            })
            .await?;
        let now = self.now();
        Ok(row.map(|(a, load)| self.view(a, load, now)))
    }

    /// Ask for `presence` events of these agents (sent soon, once each).
    pub fn presence_changed(&self, ids: impl IntoIterator<Item = i64>) {
        if let Ok(mut d) = self.presence_queue.dirty.lock() {
            d.extend(ids);
        }
        self.presence_queue.wake.notify_one();
        self.dispatch.notify_one();
    }

    /// Publish the due `presence` events until the process stops.
    pub async fn run_presence(self: std::sync::Arc<Self>) {
        loop {
            self.presence_queue.wake.notified().await;
            let due: Vec<i64> = self
                .presence_queue
                .dirty
                .lock()
                .map(|mut d| std::mem::take(&mut *d).into_iter().collect())
                .unwrap_or_default();
            for id in due {
                match self.agent_view(id).await {
                    Ok(Some(v)) => {
                        let aud = Audience::presence(v.id, v.teams.iter().copied());
                        self.bus.publish("presence", aud, &v);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(user_id = id, error = %e, "presence not published"),
                }
            }
        }
    }
}
