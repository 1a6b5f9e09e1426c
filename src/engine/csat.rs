//! Customer satisfaction: once a conversation is resolved the customer may rate it once (1–5
//! and an optional comment). The rating is stored encrypted, shown in the conversation's
//! history as a system line, and sent to integrations as `csat.submitted` — all in one
//! transaction.

use serde_json::json;

use super::{Engine, Error, Result, abort};
use crate::domain::{ConversationId, ConversationStatus};
use crate::store::{conversations, csat};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// A rating as the channel passes it on.
#[derive(Debug, Clone)]
pub struct Rating {
    pub inbox_id: i64,
    pub conversation: ConversationId,
    pub rating: i64,
    pub comment: String,
}

impl Engine {
    /// Store a customer's rating of a resolved conversation of `inbox_id` (409 `conflict` when
    /// it is not resolved or already rated).
    pub async fn submit_csat(&self, r: Rating) -> Result<()> {
        if !(1..=5).contains(&r.rating) {
            return Err(Error::Invalid("rating: a whole number from 1 to 5".into()));
        }
        let comment = r.comment.trim().to_string();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(Error::Invalid(format!(
                "comment: at most {MAX_COMMENT_CHARS} characters"
            )));
        }
        let (inbox, rating) = (r.inbox_id, r.rating);
        self.act(r.conversation, move |c, ring, conv, mid, now| {
            if conv.inbox_id != Some(inbox) {
                return Err(abort(Error::NotFound("conversation")));
            }
            if conv.status != ConversationStatus::Resolved {
                return Err(abort(Error::Conflict(
                    "the conversation can be rated once it is resolved".into(),
                )));
            }
            if !csat::insert(c, ring, conv.id.0, rating, &comment, now)? {
                return Err(abort(Error::Conflict(
                    "the conversation has already been rated".into(),
                )));
            }
            let m = super::actions::system_message(
                c,
                ring,
                conv,
                mid,
                &format!("The customer rated the conversation {rating} out of 5"),
                &json!({"event": "csat", "rating": rating, "comment": comment}),
                now,
            )?;
            if let Some(s) = conversations::summary(c, ring, conv.id, 0)? {
                super::events::csat_submitted(c, ring, &s, now)?;
            }
            Ok(m)
        })
        .await?;
        // The rating's event (the action's own events were counted by `act`).
        self.events_queued(1);
        Ok(())
    }
}
