//! Event webhooks for integrations (CRM, ticketing, data platforms): administrators subscribe a
//! URL to `conversation.created`, `message.created`, `conversation.assigned`,
//! `conversation.resolved`, `contact.updated` and `csat.submitted`, for every inbox or one.
//! Bodies are signed like the API channel's replies; the secret is shown once, when created or
//! rotated. Reading needs `channels:read`; changes need `channels:write` and are audited;
//! sending contacts' PII unmasked also needs `pii:reveal`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::auth::new_token;
use crate::domain::access::Permission;
use crate::engine::events::EVENTS;
use crate::store::webhooks::{self, WebhookFields};
use crate::store::{audit as audit_log, identity};

/// Longest subscription name, in characters.
pub const MAX_NAME: usize = 60;
/// Most subscriptions (each event is written once per subscription that wants it).
pub const MAX_WEBHOOKS: usize = 20;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// The events sent, from `conversation.created`, `message.created`,
    /// `conversation.assigned`, `conversation.resolved`, `contact.updated`, `csat.submitted`.
    pub events: Vec<String>,
    /// Only events of this inbox (`null`: every inbox; contact edits in the workspace are
    /// sent only to subscriptions to every inbox).
    pub inbox_id: Option<i64>,
    /// Contacts' name, phone, e-mail, document number and address in full (else masked).
    pub include_pii: bool,
    pub enabled: bool,
    /// Events waiting to be delivered (including those backing off after a failure).
    pub pending: i64,
    /// Events given up on (see the events list; each can be sent again).
    pub failed: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub inbox_id: Option<i64>,
    #[serde(default)]
    pub include_pii: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A new signing secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    pub id: i64,
    pub secret: String,
}

async fn list_views(state: &AppState) -> Result<Vec<WebhookView>, ApiError> {
    let (subs, counts) = state
        .store
        .read(|c, _| Ok((webhooks::list(c)?, webhooks::counts(c)?)))
        .await?;
    let count = |id: i64, st: &str| {
        counts
            .iter()
            .find(|(w, s, _)| *w == id && s == st)
            .map_or(0, |(_, _, n)| *n)
    };
    Ok(subs
        .into_iter()
        .map(|w| WebhookView {
            pending: count(w.id, "pending"),
            failed: count(w.id, "failed"),
            id: w.id,
            name: w.name,
            url: w.url,
            events: w.events,
            inbox_id: w.inbox_id,
            include_pii: w.include_pii,
            enabled: w.enabled,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
        .collect())
}

/// Every subscription with its queue counts.
#[utoipa::path(responses((status = 200, body = [WebhookView]), (status = 403, body = super::error::ErrorBody)), tag = "webhooks")]
#[get("/api/v1/webhooks")]
pub async fn list(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ChannelsRead, "webhooks")
        .await?;
    Ok(HttpResponse::Ok().json(list_views(&state).await?))
}

/// Check a subscription; returns the normalised fields' problems (empty when valid).
async fn validate(state: &AppState, c: &Caller, b: &mut WebhookBody) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    b.name = b.name.trim().to_string();
    b.url = b.url.trim().to_string();
    if b.name.is_empty() || b.name.chars().count() > MAX_NAME {
        problems.push(format!("name: 1 to {MAX_NAME} characters"));
    }
    if let Err(e) = crate::channels::net::webhook_url_shape(&b.url) {
        problems.push(format!("url: {e}"));
    } else if let Err(r) = state.channels.policy().check_url(&b.url).await {
        problems.push(format!("url: {r}"));
    }
    b.events.sort();
    b.events.dedup();
    if b.events.is_empty() {
        problems.push("events: choose at least one".to_string());
    }
    for e in &b.events {
        if !EVENTS.contains(&e.as_str()) {
            problems.push(format!("events: unknown event {e:?}"));
        }
    }
    if let Some(i) = b.inbox_id {
        let missing = state
            .store
            .read(move |conn, _| identity::missing_ids(conn, "inboxes", &[i]))
            .await?;
        if !missing.is_empty() {
            problems.push(format!("inbox_id: inbox {i} does not exist"));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation("invalid webhook").with_details(problems));
    }
    if b.include_pii && !c.has(Permission::PiiReveal) {
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            "sending contacts' PII unmasked needs the pii:reveal permission",
        ));
    }
    Ok(())
}

fn fields(b: &WebhookBody) -> WebhookFields<'_> {
    WebhookFields {
        name: &b.name,
        url: &b.url,
        events: &b.events,
        inbox_id: b.inbox_id,
        include_pii: b.include_pii,
        enabled: b.enabled,
    }
}

fn details(b: &WebhookBody) -> serde_json::Value {
    serde_json::json!({
        "name": b.name, "url": b.url, "events": b.events, "inbox_id": b.inbox_id,
        "include_pii": b.include_pii, "enabled": b.enabled,
    })
}

/// Subscribe a URL to events (`channels:write`; audited). The answer carries the signing
/// secret, shown only this once.
#[utoipa::path(request_body = WebhookBody, responses((status = 201, body = WebhookSecret), (status = 403, body = super::error::ErrorBody), (status = 409, description = "`conflict`: too many subscriptions", body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)), tag = "webhooks")]
#[post("/api/v1/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<WebhookBody>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ChannelsWrite, "webhooks")
        .await?;
    let mut b = body.into_inner();
    validate(&state, &c, &mut b).await?;
    let (id, now, actor, secret) = (
        state.store.next_id(),
        state.clock.now_ms(),
        c.actor.clone(),
        new_token(),
    );
    let s2 = secret.clone();
    let made = state
        .store
        .write(move |conn, ring| {
            if webhooks::list(conn)?.len() >= MAX_WEBHOOKS {
                return Ok(false);
            }
            webhooks::create(conn, ring, id, &fields(&b), &s2, now)?;
            let e =
                Entry::new(&actor, "webhook.create", format!("webhook:{id}")).details(details(&b));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if !made {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            format!("at most {MAX_WEBHOOKS} webhooks"),
        ));
    }
    Ok(HttpResponse::Created().json(WebhookSecret { id, secret }))
}

/// Change a subscription (`channels:write`; audited). Events already queued keep the body they
/// were made with.
#[utoipa::path(params(("id" = i64, Path)), request_body = WebhookBody, responses((status = 204), (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)), tag = "webhooks")]
#[put("/api/v1/webhooks/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<WebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("webhook:{id}"))
        .await?;
    let mut b = body.into_inner();
    validate(&state, &c, &mut b).await?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let found = state
        .store
        .write(move |conn, ring| {
            if !webhooks::update(conn, id, &fields(&b), now)? {
                return Ok(false);
            }
            let e =
                Entry::new(&actor, "webhook.update", format!("webhook:{id}")).details(details(&b));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    // Re-enabled: its waiting events are due.
    state.engine.events_queued(1);
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a subscription and its undelivered events (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 204), (status = 404, body = super::error::ErrorBody)), tag = "webhooks")]
#[delete("/api/v1/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("webhook:{id}"))
        .await?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let found = state
        .store
        .write(move |conn, ring| {
            let Some(w) = webhooks::get(conn, id)? else {
                return Ok(false);
            };
            webhooks::delete(conn, id)?;
            let e = Entry::new(&actor, "webhook.delete", format!("webhook:{id}"))
                .details(serde_json::json!({"name": w.name, "url": w.url}));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the signing secret; the old one stops at once (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = WebhookSecret), (status = 404, body = super::error::ErrorBody)), tag = "webhooks")]
#[post("/api/v1/webhooks/{id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("webhook:{id}"))
        .await?;
    let (now, actor, secret) = (state.clock.now_ms(), c.actor.clone(), new_token());
    let s2 = secret.clone();
    let found = state
        .store
        .write(move |conn, ring| {
            if !webhooks::set_secret(conn, ring, id, &s2, now)? {
                return Ok(false);
            }
            let e = Entry::new(&actor, "webhook.secret_rotate", format!("webhook:{id}"));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    Ok(HttpResponse::Ok().json(WebhookSecret { id, secret }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// `pending`, `sent` or `failed`; all when absent.
    pub state: Option<String>,
    /// Older than this event id (the last `id` of the previous page).
    pub before: Option<i64>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
}

/// A queued, delivered or failed event (never its body).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    /// `evt_<id>`, as receivers see it in `X-Atrium-Event-Id`.
    pub event_id: String,
    pub event: String,
    /// The conversation (or, for `contact.updated`, the contact) it is about.
    pub subject_id: i64,
    pub state: String,
    pub attempts: i64,
    pub reason: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A subscription's events, newest first (`channels:read`).
#[utoipa::path(params(("id" = i64, Path), EventsQuery), responses((status = 200, body = [EventView]), (status = 404, body = super::error::ErrorBody)), tag = "webhooks")]
#[get("/api/v1/webhooks/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsRead, &format!("webhook:{id}"))
        .await?;
    let q = q.into_inner();
    if let Some(s) = &q.state
        && !["pending", "sent", "failed"].contains(&s.as_str())
    {
        return Err(ApiError::validation("state: one of pending, sent, failed"));
    }
    let (before, limit) = (q.before, super::conversations::page_limit(q.limit));
    let rows = state
        .store
        .read(move |conn, _| {
            if webhooks::get(conn, id)?.is_none() {
                return Ok(None);
            }
            Ok(Some(webhooks::events(
                conn,
                id,
                q.state.as_deref(),
                before,
                limit,
            )?))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let out: Vec<EventView> = rows
        .into_iter()
        .map(|r| EventView {
            event_id: format!("evt_{}", r.id),
            id: r.id,
            event: r.event,
            subject_id: r.order_key,
            next_attempt_at: (r.state == "pending").then_some(r.next_attempt_at),
            state: r.state,
            attempts: r.attempts,
            reason: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Queue a failed event again, with the same event id (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path), ("event_id" = i64, Path)), responses((status = 204), (status = 404, body = super::error::ErrorBody), (status = 409, description = "not failed", body = super::error::ErrorBody)), tag = "webhooks")]
#[post("/api/v1/webhooks/{id}/events/{event_id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, event) = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("webhook:{id}"))
        .await?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let outcome = state
        .store
        .write(move |conn, ring| {
            if webhooks::event_state(conn, id, event)?.is_none() {
                return Ok(None);
            }
            if !webhooks::requeue(conn, id, event, now)? {
                return Ok(Some(false));
            }
            let e = Entry::new(&actor, "webhook.resend", format!("webhook:{id}"))
                .details(serde_json::json!({"event_id": format!("evt_{event}")}));
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(true))
        })
        .await?;
    match outcome {
        None => Err(ApiError::new(ErrorCode::NotFound)),
        Some(false) => Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "only a failed event can be sent again",
        )),
        Some(true) => {
            state.engine.events_queued(1);
            Ok(HttpResponse::NoContent().finish())
        }
    }
}
