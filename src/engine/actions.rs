//! What agents and supervisors do to a conversation: claim, assign, transfer (to an agent or a
//! team, with a note), resolve / reopen / snooze, labels, priority, read marks, pins, recall;
//! and to contacts: merge and split (audited). Assignments, transfers and status changes add a
//! `system` message, so the history shows who did what; its `content` names the event so the
//! workspace can show it in the reader's language.

use rusqlite::Connection;
use serde_json::json;

use super::bus::Audience;
use super::view::MessageView;
use super::{Engine, Error, Result, abort};
use crate::audit::{Actor, Entry};
use crate::crypto::Keyring;
use crate::domain::{
    ContactDraft, ContactId, ConversationId, ConversationStatus, Direction, MessageId, MessageKind,
    Priority,
};
use crate::store::conversations::{self, ConvRow, Summary};
use crate::store::{self, audit as audit_log, contacts, identities, messages};

/// Who acts: a user (with their audit identity) or the system (routing, timers).
#[derive(Debug, Clone)]
pub struct Acting {
    pub user: Option<i64>,
    pub name: String,
    pub actor: Actor,
}

impl Acting {
    pub fn system() -> Acting {
        Acting {
            user: None,
            name: String::new(),
            actor: Actor::system(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self.user {
            Some(id) => json!({"id": id, "name": self.name}),
            None => serde_json::Value::Null,
        }
    }
}

/// A transfer's destination.
#[derive(Debug, Clone, Default)]
pub struct Transfer {
    pub assignee: Option<i64>,
    pub team: Option<i64>,
    pub note: String,
}

pub(crate) struct Acted {
    pub summary: Option<Summary>,
    pub system: Option<messages::MessageRow>,
    pub previous: Option<ConvRow>,
    /// Webhook events the change queued.
    pub events: usize,
}

/// Insert a system message describing `content` (with an English `body` for API readers).
pub(crate) fn system_message(
    c: &Connection,
    ring: &Keyring,
    conv: &ConvRow,
    id: MessageId,
    body: &str,
    content: &serde_json::Value,
    now: i64,
) -> store::Result<Option<messages::MessageRow>> {
    messages::insert(
        c,
        ring,
        &messages::NewMessage {
            id,
            conversation: conv.id,
            inbox: conv.inbox_id,
            direction: Direction::System,
            kind: MessageKind::Text,
            body,
            content: Some(content),
            external_id: None,
            sender: None,
            delivery: None,
            mentions: &[],
            now,
        },
    )?;
    conversations::after_event(c, conv.id, now)?;
    messages::get(c, ring, id)
}

/// The name of an agent who may be given conversations (an enabled user holding
/// `conversations:reply`); anyone else is refused.
fn agent_name(c: &Connection, id: i64) -> store::Result<String> {
    match store::agents::agent(c, id)? {
        Some(a) => Ok(a.name),
        None => Err(abort(Error::Invalid(format!(
            "user {id} is not an agent who can take conversations"
        )))),
    }
}

fn team_name(c: &Connection, id: i64) -> store::Result<Option<String>> {
    Ok(store::identity::list_teams(c)?
        .into_iter()
        .find(|t| t.id == id)
        .map(|t| t.name))
}

impl Engine {
    /// Run a conversation action in one write job and publish what changed.
    pub(super) async fn act<F>(&self, id: ConversationId, f: F) -> Result<Acted>
    where
        F: FnOnce(
                &Connection,
                &Keyring,
                &ConvRow,
                MessageId,
                i64,
            ) -> store::Result<Option<messages::MessageRow>>
            + Send
            + 'static,
    {
        let msg_id = MessageId(self.store.next_id());
        let now = self.now();
        let acted = self
            .store
            .write(move |c, ring| {
                let Some(conv) = conversations::get(c, id)? else {
                    return Err(abort(Error::NotFound("conversation")));
                };
                let system = f(c, ring, &conv, msg_id, now)?;
                let mut a = Acted {
                    summary: conversations::summary(c, ring, id, 0)?,
                    system,
                    previous: Some(conv),
                    events: 0,
                };
                a.events = super::events::acted(c, ring, &a, now)?;
                Ok(a)
            })
            .await?;
        self.publish_acted(&acted);
        Ok(acted)
    }

    pub(crate) fn publish_acted(&self, a: &Acted) {
        self.events_queued(a.events);
        let Some(s) = &a.summary else { return };
        // A widget visitor sees status changes (resolution brings the rating form).
        self.visitors.wake(s.row.contact_id.0);
        // The previous assignee also hears of it (the conversation may leave their list).
        let mut aud = Audience::conversation(s.row.inbox_id, s.row.team_id, s.row.assignee_id);
        if let Some(prev) = a.previous.as_ref().and_then(|p| p.assignee_id) {
            aud.users.push(prev);
        }
        // So does the team it left (transfer, overflow): it leaves their queue.
        if let Some(prev_team) = a.previous.as_ref().and_then(|p| p.team_id)
            && Some(prev_team) != s.row.team_id
        {
            aud.teams.push(prev_team);
        }
        if let Some(m) = &a.system {
            self.bus.publish(
                "message.created",
                aud.clone(),
                &MessageView::new(m, Vec::new()),
            );
        }
        let v = super::view::ConversationView::new(
            s,
            self.queue_info(s.row.id.0),
            conversations::Sort::Activity,
            false,
        );
        self.bus.publish("conversation.updated", aud, &v);
        // Loads change with the assignee or the status.
        if let Some(prev) = &a.previous
            && (prev.assignee_id != s.row.assignee_id || prev.status != s.row.status)
        {
            self.presence_changed(prev.assignee_id.into_iter().chain(s.row.assignee_id));
        }
        self.dispatch.notify_one();
    }

    /// Assign to `assignee` (or return to the queue with `None`).
    pub async fn assign(
        &self,
        who: &Acting,
        id: ConversationId,
        assignee: Option<i64>,
    ) -> Result<Summary> {
        let by = who.json();
        let a = self
            .act(id, move |c, ring, conv, mid, now| {
                if conv.status == ConversationStatus::Resolved {
                    return Err(abort(Error::Conflict(
                        "the conversation is resolved".into(),
                    )));
                }
                let to = match assignee {
                    Some(u) => Some(json!({"id": u, "name": agent_name(c, u)?})),
                    None => None,
                };

                if conv.assignee_id == assignee {
                    return Ok(None);
                }
                conversations::set_assignee(c, conv.id, assignee, false, now)?;
                let (event, body) = match assignee {
                    Some(_) => ("assigned", "Assigned"),
                    None => ("unassigned", "Returned to the queue"),
                };
                system_message(
                    c,
                    ring,
                    conv,
                    mid,
                    body,
                    &json!({"event": event, "actor": by, "to": to}),
                    now,
                )
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    /// Give an unassigned conversation to the acting agent; a conversation someone already
    /// holds is refused (`Conflict`), so two agents claiming at once cannot both win.
    pub async fn claim(&self, who: &Acting, id: ConversationId) -> Result<Summary> {
        let Some(me) = who.user else {
            return Err(Error::Invalid("only a user can claim".into()));
        };
        let by = who.json();
        let a = self
            .act(id, move |c, ring, conv, mid, now| {
                if conv.assignee_id == Some(me) {
                    return Ok(None);
                }
                if !conversations::set_assignee(c, conv.id, Some(me), true, now)? {
                    return Err(abort(Error::Conflict(
                        "someone else already took this conversation".into(),
                    )));
                }
                system_message(
                    c,
                    ring,
                    conv,
                    mid,
                    "Claimed",
                    &json!({"event": "claimed", "actor": by, "to": by}),
                    now,
                )
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    /// Transfer to an agent and/or a team with a note; the conversation (and its whole history)
    /// moves, nothing is copied.
    pub async fn transfer(&self, who: &Acting, id: ConversationId, t: Transfer) -> Result<Summary> {
        if t.assignee.is_none() && t.team.is_none() {
            return Err(Error::Invalid(
                "name an agent or a team to transfer to".into(),
            ));
        }
        if t.note.chars().count() > 2000 {
            return Err(Error::Invalid(
                "the note is longer than 2000 characters".into(),
            ));
        }
        let by = who.json();
        let a = self
            .act(id, move |c, ring, conv, mid, now| {
                if conv.status == ConversationStatus::Resolved {
                    return Err(abort(Error::Conflict(
                        "the conversation is resolved".into(),
                    )));
                }
                let to = match t.assignee {
                    Some(u) => Some(json!({"id": u, "name": agent_name(c, u)?})),
                    None => None,
                };
                let team = match t.team {
                    Some(tid) => {
                        let n = team_name(c, tid)?.ok_or_else(|| {
                            abort(Error::Invalid(format!("team {tid} does not exist")))
                        })?;
                        Some(json!({"id": tid, "name": n}))
                    }
                    None => None,
                };
                if let Some(tid) = t.team {
                    conversations::set_team(c, conv.id, Some(tid), now)?;
                }
                // To a team only: back to that team's queue.
                conversations::set_assignee(c, conv.id, t.assignee, false, now)?;
                system_message(
                    c,
                    ring,
                    conv,
                    mid,
                    "Transferred",
                    &json!({"event": "transferred", "actor": by, "to": to, "team": team,
                            "note": t.note}),
                    now,
                )
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    /// Resolve, reopen, set pending, or snooze until a time.
    pub async fn set_status(
        &self,
        who: &Acting,
        id: ConversationId,
        status: ConversationStatus,
        snooze_until: Option<i64>,
    ) -> Result<Summary> {
        let now = self.now();
        let until = match (status, snooze_until) {
            (ConversationStatus::Snoozed, Some(t)) if t > now => Some(t),
            (ConversationStatus::Snoozed, _) => {
                return Err(Error::Invalid("snooze needs a future snooze_until".into()));
            }
            _ => None,
        };
        let by = who.json();
        let a = self
            .act(id, move |c, ring, conv, mid, now| {
                if conv.status == status && conv.snoozed_until == until {
                    return Ok(None);
                }
                conversations::set_status(c, conv.id, status, until, now)?;
                let event = match (conv.status, status) {
                    (_, ConversationStatus::Resolved) => "resolved",
                    (ConversationStatus::Resolved, _) => "reopened",
                    (_, ConversationStatus::Snoozed) => "snoozed",
                    (_, ConversationStatus::Pending) => "pending",
                    _ => "reopened",
                };
                system_message(
                    c,
                    ring,
                    conv,
                    mid,
                    event,
                    &json!({"event": event, "actor": by, "until": until}),
                    now,
                )
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    pub async fn set_labels(&self, id: ConversationId, labels: Vec<String>) -> Result<Summary> {
        let mut clean: Vec<String> = Vec::new();
        for l in labels {
            let l = l.trim().to_string();
            if l.is_empty() || l.chars().count() > 40 || l.chars().any(char::is_control) {
                return Err(Error::Invalid(
                    "labels are 1 to 40 printable characters".into(),
                ));
            }
            if !clean.contains(&l) {
                clean.push(l);
            }
        }
        if clean.len() > 20 {
            return Err(Error::Invalid("at most 20 labels".into()));
        }
        let a = self
            .act(id, move |c, _, conv, _, now| {
                conversations::set_labels(c, conv.id, &clean, now)?;
                Ok(None)
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    pub async fn set_priority(&self, id: ConversationId, p: Priority) -> Result<Summary> {
        let a = self
            .act(id, move |c, _, conv, _, now| {
                conversations::set_priority(c, conv.id, i64::from(p.level()), now)?;
                Ok(None)
            })
            .await?;
        a.summary.ok_or(Error::NotFound("conversation"))
    }

    /// Recall an agent's message within 2 minutes: the workspace hides its content, and a reply
    /// still waiting in the outbox is not sent. (Channels that can take back a delivered
    /// message are told in their own connectors; the open API channel cannot.)
    pub async fn recall(&self, id: ConversationId, message: MessageId) -> Result<MessageView> {
        let now = self.now();
        let (m, conv) = self
            .store
            .write(move |c, ring| {
                let m = messages::get(c, ring, message)?
                    .filter(|m| m.conversation_id == id)
                    .ok_or_else(|| abort(Error::NotFound("message")))?;
                if !matches!(m.direction, Direction::Outgoing | Direction::Note) {
                    return Err(abort(Error::Conflict(
                        "only agents' messages can be recalled".into(),
                    )));
                }
                if now - m.created_at > 2 * 60 * 1000 {
                    return Err(abort(Error::Conflict(
                        "messages can be recalled within 2 minutes".into(),
                    )));
                }
                messages::set_recalled(c, message, now)?;
                let m = messages::get(c, ring, message)?
                    .ok_or_else(|| abort(Error::NotFound("message")))?;
                Ok((m, conversations::get(c, id)?))
            })
            .await?;
        let view = MessageView::new(&m, Vec::new());
        if let Some(conv) = &conv {
            self.visitors.wake(conv.contact_id.0);
        }
        if let Some(conv) = conv {
            self.bus.publish(
                "message.updated",
                Audience::activity(conv.id.0, conv.inbox_id, conv.team_id, conv.assignee_id),
                &view,
            );
        }
        Ok(view)
    }

    /// Merge contact `from` into `into` (conversations and identities move); audited.
    pub async fn merge_contacts(
        &self,
        who: &Acting,
        into: ContactId,
        from: ContactId,
    ) -> Result<()> {
        if into == from {
            return Err(Error::Invalid(
                "a contact cannot be merged into itself".into(),
            ));
        }
        let now = self.now();
        let actor = who.actor.clone();
        self.store
            .write(move |c, ring| {
                for id in [into, from] {
                    if identities::live_contact(c, id)? != Some(id) {
                        return Err(abort(Error::NotFound("contact")));
                    }
                }
                identities::merge(c, into, from, now)?;
                let e = Entry::new(&actor, "contact.merge", format!("contact:{}", into.0))
                    .details(json!({"merged": from.0, "into": into.0, "reason": "agent"}));
                audit_log::append(c, ring, now, &e)?;
                super::events::contact_updated(c, ring, into, None, now)
            })
            .await
            .map(|n| self.events_queued(n))?;
        Ok(())
    }

    /// Move one identity (and the conversations that came through it) to a new contact;
    /// returns the new contact's id. Audited.
    pub async fn split_contact(
        &self,
        who: &Acting,
        contact: ContactId,
        identity: i64,
    ) -> Result<ContactId> {
        let now = self.now();
        let new_id = ContactId(self.store.next_id());
        let actor = who.actor.clone();
        self.store
            .write(move |c, ring| {
                let ident = identities::get(c, ring, identity)?
                    .filter(|i| i.contact_id == contact)
                    .ok_or_else(|| abort(Error::NotFound("identity")))?;
                if identities::list(c, ring, contact)?.len() < 2 {
                    return Err(abort(Error::Conflict(
                        "a contact with one identity cannot be split".into(),
                    )));
                }
                contacts::insert_contact(c, ring, new_id, &ContactDraft::default(), now)?;
                identities::split(c, &ident, new_id, now)?;
                let e = Entry::new(&actor, "contact.split", format!("contact:{}", contact.0))
                    .details(json!({"identity": identity, "kind": ident.kind.as_str(),
                                    "new_contact": new_id.0}));
                audit_log::append(c, ring, now, &e)?;
                Ok(super::events::contact_updated(c, ring, contact, None, now)?
                    + super::events::contact_updated(c, ring, new_id, None, now)?)
            })
            .await
            .map(|n| self.events_queued(n))?;
        Ok(new_id)
    }
}
