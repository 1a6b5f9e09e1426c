//! Agents' messages: a reply is stored together with its outbox row in one transaction (so a
//! crash can lose neither, nor send one without the other); a private note has no outbox row.
//! Resend puts a failed reply back in the outbox under the same idempotency key.

use rusqlite::Connection;

use super::bus::Audience;
use super::view::{AttachmentView, MessageView};
use super::{Engine, Error, Result, abort};
use crate::crypto::Keyring;
use crate::domain::message::MAX_BODY_CHARS;
use crate::domain::{
    ConversationId, ConversationStatus, Delivery, Direction, MessageId, MessageKind,
};
use crate::store::conversations::{self, Summary};
use crate::store::{self, messages, outbox};

/// An agent's message.
#[derive(Debug, Clone)]
pub struct Reply {
    pub conversation: ConversationId,
    pub author: i64,
    pub body: String,
    /// A private note: agents only, never sent to the customer.
    pub private: bool,
    pub attachment_ids: Vec<i64>,
    pub mentions: Vec<i64>,
}

pub(crate) struct Written {
    pub summary: Option<Summary>,
    /// The reply took an unassigned conversation out of the queue.
    pub taken: bool,
    pub message: messages::MessageRow,
    pub attachments: Vec<AttachmentView>,
    /// Webhook events queued with it.
    pub events: usize,
}

/// Attachments of messages as the views show them.
pub(crate) fn attachment_views(
    c: &Connection,
    ring: &Keyring,
    message_ids: &[i64],
) -> store::Result<Vec<(i64, AttachmentView)>> {
    Ok(store::attachments::list_for_messages(c, ring, message_ids)?
        .into_iter()
        .filter_map(|a| {
            a.message_id.map(|m| {
                (
                    m,
                    AttachmentView {
                        url: format!("/api/v1/attachments/{}", a.id),
                        id: a.id,
                        name: a.name,
                        content_type: a.content_type,
                        size: a.size,
                    },
                )
            })
        })
        .collect())
}

impl Engine {
    /// Store an agent's reply or note; wake the outbox for a reply.
    pub async fn reply(&self, r: Reply) -> Result<MessageView> {
        let len = r.body.chars().count();
        if len > MAX_BODY_CHARS {
            return Err(Error::Invalid(format!(
                "message longer than {MAX_BODY_CHARS} characters"
            )));
        }
        if r.body.trim().is_empty() && r.attachment_ids.is_empty() {
            return Err(Error::Invalid("the message is empty".into()));
        }
        if r.attachment_ids.len() > 10 || r.mentions.len() > 50 {
            return Err(Error::Invalid("too many attachments or mentions".into()));
        }
        let id = MessageId(self.store.next_id());
        let outbox_id = self.store.next_id();
        let now = self.now();
        let (private, r_author) = (r.private, r.author);
        let w = self
            .store
            .write(move |c, ring| write(c, ring, &r, id, outbox_id, now))
            .await?;
        self.events_queued(w.events);
        let view = MessageView::new(&w.message, w.attachments.clone());
        if let Some(s) = &w.summary {
            let aud =
                Audience::activity(s.row.id.0, s.row.inbox_id, s.row.team_id, s.row.assignee_id);
            self.bus.publish("message.created", aud, &view);
            self.publish_summary(s, "conversation.updated", w.taken);
            for u in &w.message.mentions {
                self.bus.publish(
                    "mention",
                    Audience::users(vec![*u]),
                    &serde_json::json!({
                        "conversation_id": s.row.id.0, "message_id": view.id, "user_id": u,
                    }),
                );
            }
        }
        if !private {
            self.outbox_wake.notify_one();
            // Replying to an unassigned conversation takes it.
            self.presence_changed([r_author]);
        }
        self.dispatch.notify_one();
        Ok(view)
    }

    /// Queue a failed reply again (same outbox row, same idempotency key). `audit`: recorded in
    /// the same transaction as the requeue.
    pub async fn resend(
        &self,
        conversation: ConversationId,
        message: MessageId,
        audit: Option<crate::audit::Entry>,
    ) -> Result<MessageView> {
        let now = self.now();
        let row = self
            .store
            .write(move |c, ring| {
                let Some(m) = messages::get(c, ring, message)? else {
                    return Err(abort(Error::NotFound("message")));
                };
                if m.conversation_id != conversation || m.direction != Direction::Outgoing {
                    return Err(abort(Error::NotFound("message")));
                }
                if m.recalled {
                    return Err(abort(Error::Conflict(
                        "a recalled message cannot be sent again".into(),
                    )));
                }
                if !outbox::requeue(c, message, now)? {
                    return Err(abort(Error::Conflict(
                        "only a failed message can be sent again".into(),
                    )));
                }
                messages::set_delivery(c, message, Delivery::Queued, None)?;
                if let Some(e) = &audit {
                    store::audit::append(c, ring, now, e)?;
                }
                let atts = attachment_views(c, ring, &[message.0])?;
                let m = messages::get(c, ring, message)?;
                let conv = conversations::get(c, conversation)?;
                Ok((m, atts, conv))
            })
            .await?;
        self.outbox_wake.notify_one();
        let (Some(m), atts, conv) = row else {
            return Err(Error::NotFound("message"));
        };
        let view = MessageView::new(&m, atts.into_iter().map(|(_, a)| a).collect());
        if let Some(conv) = conv {
            self.bus.publish(
                "message.updated",
                Audience::activity(conv.id.0, conv.inbox_id, conv.team_id, conv.assignee_id),
                &view,
            );
        }
        Ok(view)
    }
}

fn write(
    c: &Connection,
    ring: &Keyring,
    r: &Reply,
    id: MessageId,
    outbox_id: i64,
    now: i64,
) -> store::Result<Written> {
    let Some(conv) = conversations::get(c, r.conversation)? else {
        return Err(abort(Error::NotFound("conversation")));
    };
    for u in &r.mentions {
        if store::identity::user(c, *u)?.is_none() {
            return Err(abort(Error::Invalid(format!(
                "mentioned user {u} does not exist"
            ))));
        }
    }
    let direction = if r.private {
        Direction::Note
    } else {
        Direction::Outgoing
    };
    let kind = if r.body.trim().is_empty() {
        MessageKind::File
    } else {
        MessageKind::Text
    };
    messages::insert(
        c,
        ring,
        &messages::NewMessage {
            id,
            conversation: conv.id,
            inbox: conv.inbox_id,
            direction,
            kind,
            body: &r.body,
            content: None,
            external_id: None,
            sender: Some(r.author),
            delivery: (!r.private).then_some(Delivery::Queued),
            mentions: &r.mentions,
            now,
        },
    )?;
    if !r.attachment_ids.is_empty() {
        let linked =
            store::attachments::link_to_message(c, &r.attachment_ids, id.0, conv.id.0, r.author)?;
        if linked != r.attachment_ids.len() {
            return Err(abort(Error::Invalid(
                "an attachment is unknown, already sent, or from another conversation".into(),
            )));
        }
    }
    if r.private {
        conversations::after_internal(c, conv.id, id.0, now)?;
    } else {
        let Some(inbox) = conv.inbox_id else {
            return Err(abort(Error::Conflict(
                "this conversation has no channel to reply through".into(),
            )));
        };
        outbox::enqueue(c, outbox_id, id, conv.id, inbox, now)?;
        conversations::after_reply(c, conv.id, id.0, Some(r.author), now)?;
        if conv.status == ConversationStatus::Snoozed {
            conversations::set_status(c, conv.id, ConversationStatus::Open, None, now)?;
        }
    }
    let attachments: Vec<AttachmentView> = attachment_views(c, ring, &[id.0])?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let Some(message) = messages::get(c, ring, id)? else {
        return Err(abort(Error::NotFound("message")));
    };
    let summary = conversations::summary(c, ring, conv.id, 0)?;
    let taken = conv.assignee_id.is_none()
        && summary
            .as_ref()
            .is_some_and(|s| s.row.assignee_id.is_some());
    let mut events = 0;
    if let Some(s) = &summary {
        events += super::events::message_created(c, ring, s, &message, &attachments, now)?;
        if taken {
            events += super::events::assigned(c, ring, s, None, now)?;
        }
    }
    Ok(Written {
        summary,
        taken,
        message,
        attachments,
        events,
    })
}
