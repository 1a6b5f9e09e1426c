//! Customer satisfaction ratings: one per conversation (1–5 and an optional comment, stored
//! encrypted), given by the customer once the conversation is resolved.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub conversation_id: i64,
    pub rating: i64,
    pub comment: String,
    pub created_at: i64,
}

fn comment_ref(conversation: i64) -> FieldRef {
    FieldRef::new("csat_ratings", "comment", conversation)
}

/// Store a rating; returns false when the conversation already has one.
pub fn insert(
    conn: &Connection,
    ring: &Keyring,
    conversation: i64,
    rating: i64,
    comment: &str,
    now: i64,
) -> Result<bool> {
    let ct = (!comment.is_empty()).then(|| ring.encrypt_str(comment_ref(conversation), comment));
    Ok(conn
        .prepare_cached(
            "INSERT INTO csat_ratings (conversation_id, rating, comment, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (conversation_id) DO NOTHING",
        )?
        .execute(params![conversation, rating, ct, now])?
        > 0)
}

pub fn get(conn: &Connection, ring: &Keyring, conversation: i64) -> Result<Option<Rating>> {
    let row: Option<(i64, Option<Vec<u8>>, i64)> = conn
        .prepare_cached(
            "SELECT rating, comment, created_at FROM csat_ratings WHERE conversation_id = ?1",
        )?
        .query_row([conversation], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((rating, ct, created_at)) = row else {
        return Ok(None);
    };
    let comment = match ct {
        Some(ct) => ring.decrypt_string(comment_ref(conversation), &ct)?,
        None => String::new(),
    };
    Ok(Some(Rating {
        conversation_id: conversation,
        rating,
        comment,
        created_at,
    }))
}
