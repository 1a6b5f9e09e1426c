//! `ingest`: the one path every channel's inbound message takes.
//!
//! 1. validate (pure, before any IO): identities, body length, content shape;
//! 2. in one writer job: dedupe by (inbox, external id), resolve the contact through its channel
//!    identities (merging when a verified global identity — unionid, phone, e-mail — already
//!    belongs to another contact), continue the contact's unresolved conversation in this inbox
//!    or open a new one, insert the message;
//! 3. the job's answer arrives only after COMMIT: that is when the channel may acknowledge;
//! 4. publish realtime events and wake the dispatcher.
//!
//! A duplicate delivery returns the stored message's ids and changes nothing.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::view::MessageView;
use super::{Engine, Error, Result};
use crate::audit::{Actor, Entry};
use crate::crypto::Keyring;
use crate::domain::message::{MAX_BODY_CHARS, MAX_INBOUND_ATTACHMENTS, check_content};
use crate::domain::{
    ContactDraft, ContactId, ConversationId, ConversationStatus, Direction, IdentityClaim,
    InboundMessage, MessageId,
};
use crate::store::conversations::{self, NewConversation};
use crate::store::{self, audit as audit_log, contacts, identities, messages};

/// What became of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    /// The same external id was delivered before; nothing was written.
    pub duplicate: bool,
    pub new_conversation: bool,
}

/// Longest identity value and external message id accepted.
const MAX_ID_LEN: usize = 256;

/// The sender's identity claims: at least one, each 1 to 256 bytes.
pub fn validate_identities(claims: &[IdentityClaim]) -> Result<()> {
    if claims.is_empty() {
        return Err(Error::Invalid(
            "the sender needs at least one identity".into(),
        ));
    }
    for i in claims {
        if i.value.trim().is_empty() || i.value.len() > MAX_ID_LEN {
            return Err(Error::Invalid(format!(
                "{} identity must be 1 to {MAX_ID_LEN} bytes",
                i.kind
            )));
        }
    }
    Ok(())
}

/// Check an inbound message before anything is written.
pub fn validate(m: &InboundMessage) -> Result<()> {
    validate_identities(&m.identities)?;
    if let Some(x) = &m.external_id
        && (x.is_empty() || x.len() > MAX_ID_LEN)
    {
        return Err(Error::Invalid(format!(
            "external message id must be 1 to {MAX_ID_LEN} bytes"
        )));
    }
    if m.body.chars().count() > MAX_BODY_CHARS {
        return Err(Error::Invalid(format!(
            "message body longer than {MAX_BODY_CHARS} characters"
        )));
    }
    if m.body.trim().is_empty() && m.content.is_none() && m.attachments.is_empty() {
        return Err(Error::Invalid("the message is empty".into()));
    }
    if m.attachments.len() > MAX_INBOUND_ATTACHMENTS {
        return Err(Error::Invalid(format!(
            "attachments: at most {MAX_INBOUND_ATTACHMENTS} per message"
        )));
    }
    check_content(m.kind, m.content.clone()).map_err(Error::Invalid)?;
    if let Some(p) = m.profile.validate().into_iter().next() {
        return Err(Error::Invalid(p));
    }
    if let Some(p) = m.context.validate().into_iter().next() {
        return Err(Error::Invalid(p));
    }
    Ok(())
}

/// Ids allocated before the job, so ciphertexts can bind them.
struct Ids {
    contact: ContactId,
    conversation: ConversationId,
    message: MessageId,
    identities: Vec<i64>,
    /// Greeting message and its outbox row.
    greeting: (i64, i64),
}

/// What the inbox decided before the job: where a new conversation goes and what it says.
struct Plan {
    team: Option<i64>,
    skills: BTreeSet<String>,
    greeting: String,
    now: i64,
}

/// Result of the writer job: the outcome plus what the events need.
struct Written {
    out: Ingested,
    message: Option<messages::MessageRow>,
    /// The inbox's greeting, queued in the outbox for a new conversation.
    greeting: Option<messages::MessageRow>,
    /// Routing has something new: a new conversation, or one that woke up (pending, snoozed).
    route: bool,
    /// The conversation's summary as the transaction leaves it, for the live events.
    summary: Option<conversations::Summary>,
    /// The message's files, for its live event.
    attachments: Vec<super::view::AttachmentView>,
    /// Webhook events queued with it.
    events: usize,
}

impl Engine {
    /// Store an inbound message durably; see the module documentation.
    pub async fn ingest(&self, msg: InboundMessage) -> Result<Ingested> {
        validate(&msg)?;
        let inbox = self.inbox(msg.inbox_id).await?;
        if inbox.disabled {
            return Err(Error::InboxDisabled(inbox.id));
        }
        // Keyword rules of the inbox and, for a team's inbox, of the team both apply.
        let mut skills = inbox.settings.routing.skills_for(&msg.body, &msg.context);
        if let Some(t) = inbox.team_id {
            skills.extend(
                self.team(t)
                    .await?
                    .routing
                    .skills_for(&msg.body, &msg.context),
            );
        }
        let plan = Plan {
            team: inbox.team_id,
            skills,
            greeting: inbox.settings.auto_reply.greeting.trim().to_string(),
            now: self.now(),
        };
        let ids = Ids {
            contact: ContactId(self.store.next_id()),
            conversation: ConversationId(self.store.next_id()),
            message: MessageId(self.store.next_id()),
            identities: msg
                .identities
                .iter()
                .map(|_| self.store.next_id())
                .collect(),
            greeting: (self.store.next_id(), self.store.next_id()),
        };
        let inbox_id = msg.inbox_id;
        let external = msg.external_id.clone();
        let w = match self
            .store
            .write(move |c, ring| write(c, ring, &msg, &ids, &plan))
            .await
        {
            Ok(w) => w,
            // The unique index refused a second delivery of the same message.
            Err(e) if messages::is_duplicate(&e) => {
                return self.duplicate(inbox_id, external.unwrap_or_default()).await;
            }
            Err(e) => return Err(e.into()),
        };
        let summary = w.summary;
        self.events_queued(w.events);
        // The customer's own open widget windows show the message at once.
        self.visitors.wake(w.out.contact_id.0);
        if w.greeting.is_some() {
            self.outbox_wake.notify_one();
        }
        // A customer writing on in a queued conversation changes nothing for routing (its
        // timers run on the dispatcher's tick); a new or woken one does.
        if w.route {
            self.dispatch.notify_one();
        }
        if let Some(s) = &summary {
            let kind = if w.out.new_conversation {
                "conversation.created"
            } else {
                "conversation.updated"
            };
            self.publish_summary(s, kind, w.route);
            let aud = super::bus::Audience::activity(
                s.row.id.0,
                s.row.inbox_id,
                s.row.team_id,
                s.row.assignee_id,
            );
            if let Some(m) = &w.message {
                self.bus.publish(
                    "message.created",
                    aud.clone(),
                    &MessageView::new(m, w.attachments.clone()),
                );
            }
            if let Some(m) = &w.greeting {
                self.bus.publish(
                    "message.created",
                    aud.clone(),
                    &MessageView::new(m, Vec::new()),
                );
            }
        }
        Ok(w.out)
    }

    /// The stored message a repeated delivery stands for.
    async fn duplicate(&self, inbox: i64, external: String) -> Result<Ingested> {
        let found = self
            .store
            .read(move |c, _| {
                let Some((m, conv)) = messages::find_external(c, inbox, &external)? else {
                    return Ok(None);
                };
                let contact = conversations::get(c, conv)?.map(|r| r.contact_id);
                Ok(Some((m, conv, contact)))
            })
            .await?;
        let (message_id, conversation_id, contact) = found.ok_or(Error::NotFound("message"))?;
        Ok(Ingested {
            message_id,
            conversation_id,
            contact_id: contact.unwrap_or(ContactId(0)),
            duplicate: true,
            new_conversation: false,
        })
    }
}

fn write(
    c: &Connection,
    ring: &Keyring,
    msg: &InboundMessage,
    ids: &Ids,
    plan: &Plan,
) -> store::Result<Written> {
    let now = plan.now;
    // A repeated delivery is caught by the unique index on (inbox, external id) when the
    // message is inserted: the job's savepoint then undoes everything it did.
    let (contact, identity) = resolve_contact(
        c,
        ring,
        msg.inbox_id,
        &msg.identities,
        &msg.profile,
        (ids.contact, &ids.identities),
        now,
    )?;
    let (conversation, new_conversation, woke) =
        match conversations::find_unresolved(c, contact, msg.inbox_id, identity)? {
            Some(row) => (row.id, false, row.status != ConversationStatus::Open),
            None => {
                let last_agent = conversations::last_agent_of(c, contact)?;
                conversations::create(
                    c,
                    &NewConversation {
                        id: ids.conversation,
                        contact,
                        inbox: msg.inbox_id,
                        team: plan.team,
                        priority: 1,
                        skills: &plan.skills,
                        last_agent,
                        identity,
                        now,
                    },
                )?;
                (ids.conversation, true, false)
            }
        };
    messages::insert(
        c,
        ring,
        &messages::NewMessage {
            id: ids.message,
            conversation,
            inbox: Some(msg.inbox_id),
            direction: Direction::Incoming,
            kind: msg.kind,
            body: &msg.body,
            content: msg.content.as_ref(),
            external_id: msg.external_id.as_deref(),
            sender: Some(contact.0),
            delivery: None,
            mentions: &[],
            now,
        },
    )?;
    let mut attachments = Vec::new();
    if !msg.attachments.is_empty() {
        let mut wanted = msg.attachments.clone();
        wanted.sort_unstable();
        wanted.dedup();
        let linked = store::attachments::link_channel_uploads(
            c,
            &wanted,
            ids.message.0,
            conversation.0,
            msg.inbox_id,
        )?;
        if linked != wanted.len() {
            return Err(super::abort(Error::Invalid(
                "attachments: each must be an upload through this inbox that no message has used"
                    .into(),
            )));
        }
        attachments = super::reply::attachment_views(c, ring, &[ids.message.0])?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
    }
    conversations::after_incoming(c, conversation, ids.message.0, now, woke)?;
    let mut greeting = None;
    if new_conversation
        && !plan.greeting.is_empty()
        && let Some(row) = conversations::get(c, conversation)?
    {
        let (mid, oid) = ids.greeting;
        greeting =
            super::dispatch::auto_message(c, ring, &row, MessageId(mid), oid, &plan.greeting, now)?;
    }
    // The summary the live events carry, read inside the job: it is what the commit makes
    // visible, and reading it here spares a hand-off to the read pool and back per message.
    // The message is what matters: a failing read only costs the live events (clients catch up
    // on their next list load), never the message.
    let summary = match conversations::summary(c, ring, conversation, 0) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(conversation = conversation.0, error = %e,
                "stored an inbound message but could not read its conversation for live events");
            None
        }
    };
    // What was just written, without reading it back and decrypting it again.
    let message = Some(messages::MessageRow {
        id: ids.message,
        conversation_id: conversation,
        direction: Direction::Incoming,
        kind: msg.kind,
        body: msg.body.clone(),
        content: msg.content.clone(),
        sender_id: Some(contact.0),
        sender_name: None,
        delivery: None,
        failure_reason: None,
        recalled: false,
        mentions: Vec::new(),
        external_id: msg.external_id.clone(),
        created_at: now,
    });
    // Webhook events are queued with the message (a summary that could not be read skips
    // them, as it skips the live events: the message itself is never refused for it).
    let mut events = 0;
    if let Some(s) = &summary {
        if new_conversation {
            events += super::events::conversation_created(c, ring, s, now)?;
        }
        if let Some(m) = &message {
            events += super::events::message_created(c, ring, s, m, &attachments, now)?;
        }
        if let Some(g) = &greeting {
            events += super::events::message_created(c, ring, s, g, &[], now)?;
        }
    }
    Ok(Written {
        out: Ingested {
            message_id: ids.message,
            conversation_id: conversation,
            contact_id: contact,
            duplicate: false,
            new_conversation,
        },
        message,
        greeting,
        route: new_conversation || woke,
        summary,
        attachments,
        events,
    })
}

/// Which claims may be used to find (and be attached to) a contact: the channel's own
/// per-inbox ids, and global ids (unionid, phone, e-mail) only when verified — an unverified
/// phone typed into a form must never pull in someone else's history.
fn trusted(claim: &IdentityClaim) -> bool {
    claim.kind.per_inbox() || claim.verified
}

/// The contact a message belongs to, and the id of the per-inbox identity it came through.
/// `ids`: the id for a new contact and one per claim for new identity rows.
pub(super) fn resolve_contact(
    c: &Connection,
    ring: &Keyring,
    inbox_id: i64,
    claims: &[IdentityClaim],
    draft: &ContactDraft,
    ids: (ContactId, &[i64]),
    now: i64,
) -> store::Result<(ContactId, Option<i64>)> {
    // The live contacts the trusted claims name (the channel's own ids first, then verified
    // global ids), and what each claim's identity row says now.
    let mut named: Vec<(ContactId, bool)> = Vec::new();
    let mut stored: Vec<Option<identities::Found>> = Vec::with_capacity(claims.len());
    for claim in claims {
        let found = if trusted(claim) {
            identities::find(c, ring, inbox_id, claim)?
        } else {
            None
        };
        stored.push(found);
        if let Some(live) = found.and_then(|f| f.live)
            && !named.iter().any(|(x, _)| *x == live)
        {
            named.push((live, claim.kind.per_inbox()));
        }
    }
    // The same person, proven by verified identities: one contact, one timeline. A verified
    // global identity's contact is kept (it may hold other channels' history).
    named.sort_by_key(|(_, per_inbox)| *per_inbox);
    let contact = match named.split_first() {
        Some(((keep, _), others)) => {
            for (other, _) in others {
                identities::merge(c, *keep, *other, now)?;
                let e = Entry::new(
                    &Actor::system(),
                    "contact.merge",
                    format!("contact:{}", keep.0),
                )
                .details(serde_json::json!({
                    "merged": other.0, "into": keep.0, "reason": "verified_identity",
                    "inbox_id": inbox_id,
                }));
                audit_log::append(c, ring, now, &e)?;
            }
            *keep
        }
        None => {
            let profile = ContactDraft {
                name: draft.name.clone(),
                phone: draft.phone.clone(),
                email: draft.email.clone(),
                id_number: None,
                address: None,
            };
            contacts::insert_contact(c, ring, ids.0, &profile, now)?;
            ids.0
        }
    };
    let mut channel_identity = None;
    for ((claim, id), row) in claims.iter().zip(ids.1).zip(&stored) {
        if !trusted(claim) {
            continue;
        }
        // A returning customer's identities are already in place: no write.
        let in_place = matches!(row, Some(f)
            if f.contact == contact && (f.verified || !claim.verified));
        if !in_place {
            identities::attach(c, ring, *id, contact, inbox_id, claim, now)?;
        }
        if claim.kind.per_inbox() && channel_identity.is_none() {
            channel_identity = Some(row.map_or(*id, |f| f.id));
        }
    }
    Ok((contact, channel_identity))
}
