//! What the workspace and the realtime events show of conversations and messages. The same
//! serialised form goes over HTTP and the WebSocket. Contact names are always masked here; the
//! full value needs an audited reveal on the contact.

use serde::Serialize;
use utoipa::ToSchema;

use crate::crypto::mask;
use crate::domain::{Delivery, Direction, MessageKind, Priority};
use crate::store::conversations::{Sort, Summary, sort_key};
use crate::store::messages::MessageRow;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactRef {
    pub id: i64,
    /// Masked.
    pub name: Option<String>,
    pub vip: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxRef {
    pub id: i64,
    pub name: String,
    pub channel: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastMessage {
    #[schema(value_type = String)]
    pub direction: Direction,
    #[schema(value_type = String)]
    pub kind: MessageKind,
    /// The first 80 characters.
    pub preview: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct QueueInfo {
    pub position: u32,
    pub estimated_wait_ms: i64,
}

/// A conversation as the workspace lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationView {
    pub id: i64,
    /// Pass as `before` to get the next page.
    pub cursor: String,
    pub contact: ContactRef,
    pub inbox: Option<InboxRef>,
    pub team_id: Option<i64>,
    pub assignee: Option<UserRef>,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    #[schema(value_type = String)]
    pub priority: Priority,
    pub labels: Vec<String>,
    /// Since when the customer waits for a reply (`null` when not waiting).
    pub waiting_since: Option<i64>,
    pub last_activity_at: i64,
    pub last_message: Option<LastMessage>,
    /// Incoming messages the viewer has not read (absent in realtime events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// `first_response` or `next_response` when the wait exceeds the inbox's threshold.
    pub alert: Option<String>,
    pub queue: Option<QueueInfo>,
    /// Since when it waits in the queue for an agent (`null` once assigned).
    pub queued_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    /// Channels that only allow replies for a while after the customer's last message
    /// (WeChat: 48 hours). Only in a single conversation's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_window: Option<ReplyWindow>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Whether the channel still accepts replies to this customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReplyWindow {
    pub open: bool,
    /// When it closes (closed) unless the customer writes again; `null` when the customer
    /// never wrote through this inbox.
    pub closes_at: Option<i64>,
}

/// Longest preview of a message in a list row.
const PREVIEW_CHARS: usize = 80;

pub fn preview(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    one_line.trim().to_string()
}

impl ConversationView {
    /// `personal`: include the viewer's unread count and pin (not in shared realtime events).
    pub fn new(s: &Summary, queue: Option<QueueInfo>, sort: Sort, personal: bool) -> Self {
        let r = &s.row;
        ConversationView {
            id: r.id.0,
            cursor: format!("{}.{}", sort_key(s, sort), r.id.0),
            contact: ContactRef {
                id: r.contact_id.0,
                name: s.contact_name.as_deref().map(mask::name),
                vip: s.vip,
            },
            inbox: match (r.inbox_id, &s.inbox_name, &s.channel) {
                (Some(id), Some(name), Some(channel)) => Some(InboxRef {
                    id,
                    name: name.clone(),
                    channel: channel.clone(),
                }),
                _ => None,
            },
            team_id: r.team_id,
            assignee: r.assignee_id.map(|id| UserRef {
                id,
                name: s.assignee_name.clone().unwrap_or_default(),
            }),
            status: r.status.as_str().into(),
            priority: Priority::from_level(r.priority),
            labels: r.labels.clone(),
            waiting_since: r.waiting_since,
            last_activity_at: s.last_activity_at,
            last_message: s.last_message.as_ref().map(|(d, k, b)| LastMessage {
                direction: *d,
                kind: *k,
                preview: preview(b),
            }),
            unread: personal.then_some(s.unread),
            pinned: personal.then_some(s.pinned),
            alert: r.alert.clone(),
            queue: if r.assignee_id.is_none() { queue } else { None },
            queued_at: if r.assignee_id.is_none() {
                r.queued_at
            } else {
                None
            },
            snoozed_until: r.snoozed_until,
            reply_window: None,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Parse a list cursor `"<sort key>.<id>"`.
pub fn parse_cursor(s: &str) -> Option<(i64, i64)> {
    let (k, id) = s.split_once('.')?;
    Some((k.parse().ok()?, id.parse().ok()?))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SenderView {
    /// `contact`, `agent` or `system`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Option<i64>,
    pub name: Option<String>,
}

/// A message as the workspace shows it. Bodies are plain text, never HTML.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub conversation_id: i64,
    #[schema(value_type = String)]
    pub direction: Direction,
    #[schema(value_type = String)]
    pub kind: MessageKind,
    pub body: String,
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
    pub attachments: Vec<AttachmentView>,
    pub sender: SenderView,
    #[schema(value_type = Option<String>)]
    pub delivery: Option<Delivery>,
    /// `failed`: why; `queued`: the last attempt's error while it is retried; else `null`.
    pub failure_reason: Option<String>,
    pub recalled: bool,
    pub mentions: Vec<i64>,
    pub created_at: i64,
}

impl MessageView {
    pub fn new(m: &MessageRow, attachments: Vec<AttachmentView>) -> Self {
        let sender = match m.direction {
            Direction::Incoming => SenderView {
                kind: "contact",
                id: m.sender_id,
                name: None,
            },
            Direction::Outgoing | Direction::Note if m.sender_id.is_some() => SenderView {
                kind: "agent",
                id: m.sender_id,
                name: m.sender_name.clone(),
            },
            _ => SenderView {
                kind: "system",
                id: None,
                name: None,
            },
        };
        // A recalled message keeps its row (the history shows that something was recalled)
        // but not its content.
        let (body, content, attachments) = if m.recalled {
            (String::new(), None, Vec::new())
        } else {
            (m.body.clone(), m.content.clone(), attachments)
        };
        MessageView {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            direction: m.direction,
            kind: m.kind,
            body,
            content,
            attachments,
            sender,
            delivery: m.delivery,
            failure_reason: m.failure_reason.clone(),
            recalled: m.recalled,
            mentions: m.mentions.clone(),
            created_at: m.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview("a\nb\tc"), "a b c");
        assert_eq!(preview(&"长".repeat(200)).chars().count(), 80);
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor("1763700000000.42"), Some((1763700000000, 42)));
        assert_eq!(parse_cursor("x.1"), None);
        assert_eq!(parse_cursor("9223372036854775807.5"), Some((i64::MAX, 5)));
    }
}
