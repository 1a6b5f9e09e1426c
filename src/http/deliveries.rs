//! The administrators' dead-letter view: deliveries through a channel (agents' replies,
//! greetings, automatic replies) that were given up on — refused by the platform or still
//! undelivered after `outbox.give_up_after` — with their reason, and a resend action. It shows
//! where a message went and why it failed, never its content (`channels:read`; resending needs
//! `channels:write` and is audited). Agents see and resend their own failed replies in the
//! conversation.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::domain::access::Permission;
use crate::store::outbox;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FailedQuery {
    /// Only this inbox's deliveries.
    pub inbox_id: Option<i64>,
    /// Older than this delivery id (the last `id` of the previous page).
    pub before: Option<i64>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailedDelivery {
    /// The delivery id; `atrium-out-{id}` is the event id receivers saw.
    pub id: i64,
    pub event_id: String,
    pub message_id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub inbox_name: Option<String>,
    pub channel: Option<String>,
    pub attempts: i64,
    /// Why it failed, as the channel answered.
    pub reason: Option<String>,
    pub created_at: i64,
    pub failed_at: i64,
}

/// Deliveries given up on, newest first.
#[utoipa::path(params(FailedQuery), responses((status = 200, body = [FailedDelivery]), (status = 403, body = super::error::ErrorBody)), tag = "inboxes")]
#[get("/api/v1/deliveries/failed")]
pub async fn failed(
    state: web::Data<AppState>,
    c: Caller,
    q: web::Query<FailedQuery>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ChannelsRead, "deliveries")
        .await?;
    let (inbox, before, limit) = (
        q.inbox_id,
        q.before,
        super::conversations::page_limit(q.limit),
    );
    let rows = state
        .store
        .read(move |conn, _| outbox::failed(conn, inbox, before, limit))
        .await?;
    let out: Vec<FailedDelivery> = rows
        .into_iter()
        .map(|r| FailedDelivery {
            event_id: format!("atrium-out-{}", r.id),
            id: r.id,
            message_id: r.message_id.0,
            conversation_id: r.conversation_id.0,
            inbox_id: r.inbox_id,
            inbox_name: r.inbox_name,
            channel: r.channel,
            attempts: r.attempts,
            reason: r.last_error,
            created_at: r.created_at,
            failed_at: r.failed_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Queue a failed delivery again, with the same event id (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 204), (status = 404, body = super::error::ErrorBody), (status = 409, description = "not failed (already queued or sent), or recalled", body = super::error::ErrorBody)), tag = "inboxes")]
#[post("/api/v1/deliveries/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("delivery:{id}"))
        .await?;
    let (message, conversation) = state
        .store
        .read(move |conn, _| outbox::target(conn, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    // The audit record is written with the requeue, in one transaction.
    let e = Entry::new(&c.actor, "delivery.resend", format!("delivery:{id}"))
        .details(serde_json::json!({"conversation_id": conversation.0, "message_id": message.0}));
    state.engine.resend(conversation, message, Some(e)).await?;
    Ok(HttpResponse::NoContent().finish())
}
