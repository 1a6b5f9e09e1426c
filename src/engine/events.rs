//! Integration events for webhooks, written in the transaction that causes them: an event is
//! queued exactly when its change commits, so none is lost when the process stops after the
//! commit and none exists for a change that was rolled back.
//!
//! Every body has the same envelope: `{"id": "evt_<n>", "event": "...", "created_at": <ms>,
//! "data": {...}}`. Contacts' PII (name, phone, e-mail, document number, address and
//! identities other than the customer system's own external id) is masked unless the
//! subscription is set to include it.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::actions::Acted;
use super::view::AttachmentView;
use crate::crypto::{Keyring, mask};
use crate::domain::{ContactId, ConversationStatus, Direction, IdentityKind, Priority};
use crate::store::conversations::Summary;
use crate::store::messages::MessageRow;
use crate::store::{self, contacts, csat, identities, webhooks};

pub const CONVERSATION_CREATED: &str = "conversation.created";
pub const MESSAGE_CREATED: &str = "message.created";
pub const CONVERSATION_ASSIGNED: &str = "conversation.assigned";
pub const CONVERSATION_RESOLVED: &str = "conversation.resolved";
pub const CONTACT_UPDATED: &str = "contact.updated";
pub const CSAT_SUBMITTED: &str = "csat.submitted";

/// Every event a subscription may ask for.
pub const EVENTS: [&str; 6] = [
    CONVERSATION_CREATED,
    MESSAGE_CREATED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_RESOLVED,
    CONTACT_UPDATED,
    CSAT_SUBMITTED,
];

/// Queue `event` for every enabled subscription that wants it. `data(include_pii)` builds the
/// body's `data` (called at most once per variant). Returns how many rows were queued.
pub(crate) fn emit(
    c: &Connection,
    ring: &Keyring,
    event: &'static str,
    inbox: Option<i64>,
    order_key: i64,
    now: i64,
    data: impl Fn(bool) -> store::Result<Value>,
) -> store::Result<usize> {
    let subs = webhooks::subscribers(c)?;
    let mut built: [Option<Value>; 2] = [None, None];
    let mut n = 0;
    for s in subs.iter().filter(|s| s.wants(event, inbox)) {
        let slot = usize::from(s.include_pii);
        let d = match built.get(slot).cloned().flatten() {
            Some(d) => d,
            None => {
                let d = data(s.include_pii)?;
                if let Some(b) = built.get_mut(slot) {
                    *b = Some(d.clone());
                }
                d
            }
        };
        webhooks::enqueue(
            c,
            ring,
            s.id,
            event,
            order_key,
            |id| {
                json!({"id": format!("evt_{id}"), "event": event, "created_at": now, "data": d})
                    .to_string()
            },
            now,
        )?;
        n += 1;
    }
    Ok(n)
}

/// The conversation as integrations see it.
pub(crate) fn conversation_json(s: &Summary) -> Value {
    let r = &s.row;
    json!({
        "id": r.id.0,
        "inbox_id": r.inbox_id,
        "contact_id": r.contact_id.0,
        "status": r.status.as_str(),
        "priority": Priority::from_level(r.priority).as_str(),
        "team_id": r.team_id,
        "assignee": r.assignee_id.map(|id| json!({"id": id, "name": s.assignee_name})),
        "labels": r.labels,
        "created_at": r.created_at,
        "last_activity_at": s.last_activity_at,
    })
}

pub(crate) fn message_json(m: &MessageRow, attachments: &[AttachmentView]) -> Value {
    json!({
        "id": m.id.0,
        "direction": m.direction.as_str(),
        "kind": m.kind.as_str(),
        "body": m.body,
        "content": m.content,
        "attachments": attachments.iter().map(|a| json!({
            "id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size,
        })).collect::<Vec<_>>(),
        "sender": match m.direction {
            Direction::Outgoing if m.sender_id.is_some() =>
                json!({"type": "agent", "id": m.sender_id, "name": m.sender_name}),
            Direction::Outgoing => json!({"type": "system"}),
            _ => json!({"type": "contact"}),
        },
        "created_at": m.created_at,
    })
}

/// `message.created` for a message the customer sees or wrote (never notes or the system's
/// history lines).
pub(crate) fn message_created(
    c: &Connection,
    ring: &Keyring,
    s: &Summary,
    m: &MessageRow,
    attachments: &[AttachmentView],
    now: i64,
) -> store::Result<usize> {
    if !matches!(m.direction, Direction::Incoming | Direction::Outgoing) {
        return Ok(0);
    }
    emit(
        c,
        ring,
        MESSAGE_CREATED,
        s.row.inbox_id,
        s.row.id.0,
        now,
        |_| {
            Ok(
                json!({"conversation": conversation_json(s), "message": message_json(m, attachments)}),
            )
        },
    )
}

pub(crate) fn conversation_created(
    c: &Connection,
    ring: &Keyring,
    s: &Summary,
    now: i64,
) -> store::Result<usize> {
    emit(
        c,
        ring,
        CONVERSATION_CREATED,
        s.row.inbox_id,
        s.row.id.0,
        now,
        |_| Ok(json!({"conversation": conversation_json(s)})),
    )
}

/// What a conversation action changed: a new assignee or team (`conversation.assigned`),
/// resolution (`conversation.resolved`), an automatic reply (`message.created`).
pub(crate) fn acted(c: &Connection, ring: &Keyring, a: &Acted, now: i64) -> store::Result<usize> {
    let Some(s) = &a.summary else { return Ok(0) };
    let mut n = 0;
    if let Some(m) = &a.system {
        n += message_created(c, ring, s, m, &[], now)?;
    }
    let Some(prev) = &a.previous else {
        return Ok(n);
    };
    if prev.assignee_id != s.row.assignee_id || prev.team_id != s.row.team_id {
        n += assigned(c, ring, s, prev.assignee_id, now)?;
    }
    if prev.status != ConversationStatus::Resolved && s.row.status == ConversationStatus::Resolved {
        n += emit(
            c,
            ring,
            CONVERSATION_RESOLVED,
            s.row.inbox_id,
            s.row.id.0,
            now,
            |_| Ok(json!({"conversation": conversation_json(s)})),
        )?;
    }
    Ok(n)
}

/// `conversation.assigned`: the conversation has a new assignee or team (`assignee` is null
/// when it went back to a queue).
pub(crate) fn assigned(
    c: &Connection,
    ring: &Keyring,
    s: &Summary,
    previous_assignee: Option<i64>,
    now: i64,
) -> store::Result<usize> {
    emit(
        c,
        ring,
        CONVERSATION_ASSIGNED,
        s.row.inbox_id,
        s.row.id.0,
        now,
        |_| {
            Ok(json!({
                "conversation": conversation_json(s),
                "previous_assignee_id": previous_assignee,
            }))
        },
    )
}

/// `contact.updated` for a contact's current profile. `inbox`: the inbox the change came
/// through, if any (subscriptions filtered to another inbox do not get it).
pub(crate) fn contact_updated(
    c: &Connection,
    ring: &Keyring,
    contact: ContactId,
    inbox: Option<i64>,
    now: i64,
) -> store::Result<usize> {
    emit(c, ring, CONTACT_UPDATED, inbox, contact.0, now, |pii| {
        contact_json(c, ring, contact, pii)
    })
}

fn contact_json(c: &Connection, ring: &Keyring, id: ContactId, pii: bool) -> store::Result<Value> {
    let f = contacts::get_contact(c, ring, id)?
        .map(|x| x.fields)
        .unwrap_or_default();
    let (vip, attributes) = contacts::extra(c, ring, id)?.unwrap_or((false, json!({})));
    let shown = |v: Option<String>, m: fn(&str) -> String| v.map(|v| if pii { v } else { m(&v) });
    let ids: Vec<Value> = identities::list(c, ring, id)?
        .into_iter()
        .map(|i| {
            let value = if pii || i.kind == IdentityKind::External {
                i.value
            } else {
                match i.kind {
                    IdentityKind::Phone => mask::phone(&i.value),
                    IdentityKind::Email => mask::email(&i.value),
                    _ => mask::identifier(&i.value),
                }
            };
            json!({"kind": i.kind.as_str(), "inbox_id": i.inbox_id, "value": value,
                   "verified": i.verified})
        })
        .collect();
    Ok(json!({"contact": {
        "id": id.0,
        "name": shown(f.name, mask::name),
        "phone": shown(f.phone, mask::phone),
        "email": shown(f.email, mask::email),
        "id_number": shown(f.id_number, mask::id_number),
        "address": shown(f.address, mask::address),
        "vip": vip,
        "attributes": attributes,
        "identities": ids,
        "masked": !pii,
    }}))
}

/// `csat.submitted` with the rating just stored.
pub(crate) fn csat_submitted(
    c: &Connection,
    ring: &Keyring,
    s: &Summary,
    now: i64,
) -> store::Result<usize> {
    let Some(r) = csat::get(c, ring, s.row.id.0)? else {
        return Ok(0);
    };
    emit(
        c,
        ring,
        CSAT_SUBMITTED,
        s.row.inbox_id,
        s.row.id.0,
        now,
        |_| {
            Ok(json!({
                "conversation": conversation_json(s),
                "rating": r.rating,
                "comment": r.comment,
            }))
        },
    )
}
