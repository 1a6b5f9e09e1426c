//! The website chat widget: the chat window (an Atrium page the host site embeds in an iframe,
//! allowed only on the inbox's origins by `frame-ancestors`) and the visitor API it calls on
//! Atrium's own origin.
//!
//! - `GET /widget/{inbox_id}`: the chat window.
//! - `GET /hooks/web/{inbox_id}/config`: title, colour, position, welcome text, language.
//! - `POST /hooks/web/{inbox_id}/session`: a visitor token — anonymous, kept from before, or for
//!   the host site's user when its signature is right (a wrong one is refused, never merged).
//! - `GET /hooks/web/{inbox_id}/messages?after=&wait=`: the visitor's messages and replies newer
//!   than `after`; with `wait` (seconds, at most 25) the request waits for news (long polling,
//!   which passes through any proxy).
//! - `POST /hooks/web/{inbox_id}/messages`: the visitor writes.
//! - `POST /hooks/web/{inbox_id}/csat`: the visitor rates a resolved conversation.
//!
//! Visitor calls carry `Authorization: Bearer <visitor token>`; they are limited per visitor and
//! per address (`[widget]` in the configuration).

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::channel_api::{ApiMessage, bearer, customer_messages};
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::channels::web::{self as widget, Visitor};
use crate::domain::{
    ContactDraft, ContactId, ConversationId, ConversationStatus, InboundMessage, MessageContext,
    MessageKind,
};
use crate::engine::settings::InboxInfo;
use crate::store::{conversations, csat, identities, inboxes, messages};

/// Longest a visitor's request waits for news.
pub const MAX_WAIT_SECS: u64 = 25;

/// The web inbox, if it exists, is a web inbox and is enabled.
pub(super) async fn web_inbox(
    state: &AppState,
    id: i64,
) -> Result<std::sync::Arc<InboxInfo>, ApiError> {
    let inbox = state
        .engine
        .inbox(id)
        .await
        .map_err(|_| ApiError::new(ErrorCode::InboxNotFound))?;
    if inbox.channel != "web" {
        return Err(ApiError::new(ErrorCode::InboxNotFound));
    }
    if inbox.disabled {
        return Err(ApiError::new(ErrorCode::InboxDisabled));
    }
    Ok(inbox)
}

pub(super) fn limited(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let ip = super::caller::source_ip(req, state);
    if state.widget_address_limiter.hit(&ip, state.clock.now_ms()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::RateLimited))
    }
}

/// The visitor the request's bearer token names.
fn visitor(state: &AppState, req: &HttpRequest, inbox: i64) -> Result<Visitor, ApiError> {
    bearer(req)
        .and_then(|t| widget::verify_token(state.store.keyring(), inbox, t))
        .ok_or_else(|| ApiError::new(ErrorCode::VisitorTokenInvalid))
}

/// The chat window page, embeddable only by the inbox's allowed origins.
#[get("/widget/{inbox_id}")]
pub async fn frame(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let inbox = web_inbox(&state, path.into_inner()).await?;
    let html =
        super::assets::file("widget.html").ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    // Atrium's own pages may frame it too (the settings page's preview).
    let mut ancestors = vec!["'self'".to_string()];
    ancestors.extend(inbox.settings.widget.origins());
    let ancestors = ancestors.join(" ");
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self' data:; connect-src 'self'; frame-ancestors {ancestors}; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    );
    let csp = HeaderValue::from_str(&csp).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // The host page is another origin: it may see where the window came from, no more.
        .insert_header((header::REFERRER_POLICY, "strict-origin"))
        .content_type("text/html; charset=utf-8")
        .body(html.into_owned()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConfig {
    pub inbox_id: i64,
    pub title: String,
    pub color: String,
    pub position: String,
    pub welcome: String,
    /// `zh-CN`, `en`, or empty (the visitor's browser language).
    pub language: String,
    pub require_identity: bool,
    /// Within business hours now.
    pub open: bool,
    /// Largest file a visitor may send, in bytes (`attachments.max_bytes`).
    pub max_file_bytes: u64,
    /// The pre-chat form (each field `off`, `optional` or `required`).
    pub prechat: crate::engine::settings::Prechat,
    /// Outside business hours, offer the leave-a-message form.
    pub leave_message: bool,
    /// Proactive invitations (the first that matches the page and the visitor is shown).
    pub invitations: Vec<crate::engine::settings::Invitation>,
}

/// How the chat window looks and greets (public).
#[utoipa::path(params(("inbox_id" = i64, Path)), responses((status = 200, body = WidgetConfig), (status = 404, body = super::error::ErrorBody)), tag = "widget")]
#[get("/hooks/web/{inbox_id}/config")]
pub async fn config(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let inbox = web_inbox(&state, path.into_inner()).await?;
    let w = &inbox.settings.widget;
    Ok(HttpResponse::Ok().json(WidgetConfig {
        inbox_id: inbox.id,
        title: if w.title.trim().is_empty() {
            inbox.name.clone()
        } else {
            w.title.clone()
        },
        color: w.color.clone(),
        position: w.position.clone(),
        welcome: w.welcome.clone(),
        language: w.language.clone(),
        require_identity: w.require_identity,
        open: inbox.settings.is_open(state.clock.now_ms()),
        max_file_bytes: state.config.attachments.max_bytes,
        prechat: w.prechat.clone(),
        leave_message: w.leave_message,
        invitations: w.invitations.clone(),
    }))
}

/// The host site's signed user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedIdentity {
    /// The user's id on the host site.
    pub user_id: String,
    /// Lowercase hex HMAC-SHA256 of `user_id` under the inbox's identity secret, computed by the
    /// host site's server.
    pub signature: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The token the browser kept, if any.
    pub token: Option<String>,
    pub identity: Option<SignedIdentity>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub token: String,
    /// The host site's user (true) or an anonymous visitor.
    pub identified: bool,
}

/// Start or resume a visitor session.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = SessionRequest, responses((status = 200, body = SessionResponse), (status = 401, description = "`identity_invalid`, `identity_required`", body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), tag = "widget")]
#[post("/hooks/web/{inbox_id}/session")]
pub async fn session(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<SessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let inbox = web_inbox(&state, path.into_inner()).await?;
    limited(&state, &req)?;
    let b = body.into_inner();
    let ring = state.store.keyring();
    let v = if let Some(id) = b.identity {
        let iid = inbox.id;
        let creds = state
            .store
            .read(move |c, ring| Ok(inboxes::get(c, ring, iid)?.map(|i| i.credentials)))
            .await?
            .unwrap_or_default();
        let secret = serde_json::from_str::<widget::Credentials>(&creds)
            .unwrap_or_default()
            .identity_secret;
        if !widget::verify_identity(&secret, &id.user_id, &id.signature) {
            tracing::warn!(
                inbox_id = inbox.id,
                "widget identity with a wrong signature refused"
            );
            return Err(ApiError::new(ErrorCode::IdentityInvalid));
        }
        let user = Visitor::User(id.user_id);
        let draft = VisitorProfile {
            name: id.name,
            phone: id.phone,
            email: id.email,
        }
        .cleaned();
        // The anonymous visitor this browser was until now (it still holds their token) is the
        // same person: their contact joins the user's, so agents see one timeline (audited as
        // a merge). Only a visitor who wrote has a contact to join.
        let earlier = match b
            .token
            .as_deref()
            .and_then(|t| widget::verify_token(ring, inbox.id, t))
        {
            Some(a @ Visitor::Anonymous(_)) => {
                let (claim, iid) = (a.claim(), inbox.id);
                let wrote = state
                    .store
                    .read(move |c, ring| {
                        Ok(identities::find(c, ring, iid, &claim)?
                            .is_some_and(|f| f.live.is_some()))
                    })
                    .await?;
                wrote.then_some(a)
            }
            _ => None,
        };
        save_profile(&state, inbox.id, &user, earlier.as_ref(), draft).await?;
        user
    } else if let Some(v) = b
        .token
        .as_deref()
        .and_then(|t| widget::verify_token(ring, inbox.id, t))
    {
        v
    } else if inbox.settings.widget.require_identity {
        return Err(ApiError::new(ErrorCode::IdentityRequired));
    } else {
        Visitor::new_anonymous()
    };
    if inbox.settings.widget.require_identity && matches!(v, Visitor::Anonymous(_)) {
        return Err(ApiError::new(ErrorCode::IdentityRequired));
    }
    Ok(HttpResponse::Ok().json(SessionResponse {
        token: widget::token(ring, inbox.id, &v),
        identified: matches!(v, Visitor::User(_)),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    /// Only messages newer than this message id (0: from the start).
    pub after: Option<i64>,
    /// Seconds to wait for news when there is none (0 to 25).
    pub wait: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorConversation {
    pub id: i64,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    /// Whether the visitor already rated it.
    pub rated: bool,
    /// Waiting for an agent: place in the queue and the estimated wait.
    pub queue: Option<VisitorQueue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorQueue {
    /// 1 = next to be served.
    pub position: u32,
    /// Estimated wait in seconds (0 when unknown).
    pub estimated_wait_secs: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorMessages {
    /// Oldest first.
    pub messages: Vec<ApiMessage>,
    /// The visitor's latest conversation.
    pub conversation: Option<VisitorConversation>,
    /// Pass as `after` next time.
    pub after: i64,
    /// An agent is typing a reply.
    pub agent_typing: bool,
    /// The visitor's messages in the latest conversation up to this id have been read by an
    /// agent (0: none yet).
    pub agent_read_up_to: i64,
    /// The browser's `client_id` of each of the visitor's own messages above, by message id
    /// (the window replaces its "sending" copy with the stored one).
    pub client_ids: std::collections::BTreeMap<String, String>,
}

/// A visitor's contact and their conversations through the inbox (id, status), newest first.
type VisitorConversations = (ContactId, Vec<(ConversationId, ConversationStatus)>);

/// The visitor's live contact and the conversations they had through this inbox, newest first
/// (`None` before their first message, or when the contact was deleted).
fn visitor_conversations(
    c: &rusqlite::Connection,
    ring: &crate::crypto::Keyring,
    inbox: i64,
    claim: &crate::domain::IdentityClaim,
    limit: u32,
) -> crate::store::Result<Option<VisitorConversations>> {
    let Some(found) = identities::find(c, ring, inbox, claim)? else {
        return Ok(None);
    };
    let Some(contact) = found.live else {
        return Ok(None);
    };
    let convs = conversations::through_identity(c, contact, inbox, found.id, limit)?;
    Ok(Some((contact, convs)))
}

/// The prologue of every call a visitor's window makes: who (token), where (an enabled web
/// inbox), and within the address's limit.
pub(super) async fn visitor_call(
    state: &AppState,
    req: &HttpRequest,
    inbox_id: i64,
) -> Result<(Visitor, std::sync::Arc<InboxInfo>), ApiError> {
    let v = visitor(state, req, inbox_id)?;
    let inbox = web_inbox(state, inbox_id).await?;
    limited(state, req)?;
    Ok((v, inbox))
}

/// What the visitor has not seen yet (messages and replies of their conversations here).
pub(super) async fn news(
    state: &AppState,
    inbox: i64,
    v: &Visitor,
    after: i64,
) -> Result<(Option<i64>, VisitorMessages), ApiError> {
    let claim = v.claim();
    let out = state
        .store
        .read(move |c, ring| {
            let Some((contact, convs)) = visitor_conversations(c, ring, inbox, &claim, 50)? else {
                return Ok(None);
            };
            let ids: Vec<i64> = convs.iter().map(|(id, _)| id.0).collect();
            let rows = messages::after_in(c, ring, &ids, after, 200)?;
            let views = super::conversations::message_views(c, ring, &rows)?;
            let (latest, read) = match convs.first() {
                Some((id, status)) => (
                    Some(VisitorConversation {
                        id: id.0,
                        status: status.as_str().to_string(),
                        rated: csat::get(c, ring, id.0)?.is_some(),
                        queue: None,
                    }),
                    conversations::agents_read_up_to(c, *id)?,
                ),
                None => (None, 0),
            };
            let last = rows.iter().map(|m| m.id.0).max().unwrap_or(after);
            Ok(Some((contact.0, rows, views, latest, last, read)))
        })
        .await?;
    let Some((contact, rows, views, mut latest, last, read)) = out else {
        return Ok((
            None,
            VisitorMessages {
                messages: Vec::new(),
                conversation: None,
                after,
                agent_typing: false,
                agent_read_up_to: 0,
                client_ids: Default::default(),
            },
        ));
    };
    if let Some(c) = latest.as_mut().filter(|c| c.status == "open") {
        c.queue = state.engine.queue_info(c.id).map(|q| VisitorQueue {
            position: q.position,
            estimated_wait_secs: q.estimated_wait_ms / 1000,
        });
    }
    let prefix = v.message_id("");
    let client_ids = rows
        .iter()
        .filter_map(|m| {
            let id = m.external_id.as_deref()?.strip_prefix(&prefix)?;
            Some((m.id.0.to_string(), id.to_string()))
        })
        .collect();
    Ok((
        Some(contact),
        VisitorMessages {
            client_ids,
            messages: customer_messages(&rows, views),
            conversation: latest,
            after: last,
            agent_typing: state
                .engine
                .visitors
                .agent_typing(contact, state.clock.now_ms()),
            agent_read_up_to: read,
        },
    ))
}

/// The conversation's status, rating and queue place, and how far agents read.
pub(super) type StateKey = (Option<(String, bool, Option<(u32, i64)>)>, i64);

impl VisitorMessages {
    /// What a waiting visitor is woken for besides new messages: the conversation's status,
    /// rating, queue place, and how far agents read.
    pub(super) fn state_key(&self) -> StateKey {
        (
            self.conversation.as_ref().map(|c| {
                (
                    c.status.clone(),
                    c.rated,
                    c.queue
                        .as_ref()
                        .map(|q| (q.position, q.estimated_wait_secs)),
                )
            }),
            self.agent_read_up_to,
        )
    }
}

/// The visitor's messages and replies newer than `after`; waits up to `wait` seconds for news.
#[utoipa::path(params(("inbox_id" = i64, Path), PollQuery), responses((status = 200, body = VisitorMessages), (status = 401, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[get("/hooks/web/{inbox_id}/messages")]
pub async fn poll(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<PollQuery>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let after = q.after.unwrap_or(0).max(0);
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let (contact, first) = news(&state, inbox.id, &v, after).await?;
    let unchanged = |m: &VisitorMessages| m.messages.is_empty();
    if !unchanged(&first) || wait.is_zero() {
        return Ok(HttpResponse::Ok().json(first));
    }
    // A visitor who has not written yet waits under their own key (their first message wakes it).
    let key = contact.unwrap_or_else(|| v.wait_key(inbox.id));
    // Register before reading again, so news committed in between is not missed.
    let n = state.engine.visitors.waiter(key);
    let woken = n.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let (_, again) = news(&state, inbox.id, &v, after).await?;
    if !unchanged(&again) || again.state_key() != first.state_key() {
        return Ok(HttpResponse::Ok().json(again));
    }
    let _ = tokio::time::timeout(wait, woken).await;
    let (_, last) = news(&state, inbox.id, &v, after).await?;
    Ok(HttpResponse::Ok().json(last))
}

/// Where the visitor is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VisitorPage {
    pub url: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorMessage {
    /// The browser's id for this message (retries with the same id are stored once).
    pub client_id: String,
    pub body: String,
    #[serde(default)]
    pub page: VisitorPage,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorMessageResult {
    pub message_id: i64,
    pub conversation_id: i64,
    pub duplicate: bool,
}

/// The prologue of a visitor's message: within the visitor's own limit, and the window's id
/// for it (trimmed, 1 to 64 characters).
fn visitor_writes<'a>(
    state: &AppState,
    inbox: i64,
    v: &Visitor,
    client_id: &'a str,
) -> Result<&'a str, ApiError> {
    if !state
        .widget_visitor_limiter
        .hit(&v.key(inbox), state.clock.now_ms())
    {
        return Err(ApiError::new(ErrorCode::RateLimited));
    }
    let client_id = client_id.trim();
    if client_id.is_empty() || client_id.len() > 64 {
        return Err(ApiError::validation("client_id: 1 to 64 characters"));
    }
    Ok(client_id)
}

/// Store a visitor's message (a retry with the same window id is stored once), wake the
/// visitor's windows that waited before they had a contact, and answer `201` (`200` for a
/// duplicate).
async fn ingest_visitor(
    state: &AppState,
    inbox: i64,
    v: &Visitor,
    client_id: &str,
    message: (MessageKind, String, MessageContext, Vec<i64>),
) -> Result<HttpResponse, ApiError> {
    let (kind, body, context, attachments) = message;
    let out = state
        .engine
        .ingest(InboundMessage {
            inbox_id: inbox,
            external_id: Some(v.message_id(client_id)),
            identities: vec![v.claim()],
            profile: ContactDraft::default(),
            kind,
            body,
            content: None,
            context,
            attachments,
        })
        .await?;
    state.engine.visitors.wake(v.wait_key(inbox));
    let r = VisitorMessageResult {
        message_id: out.message_id.0,
        conversation_id: out.conversation_id.0,
        duplicate: out.duplicate,
    };
    Ok(if out.duplicate {
        HttpResponse::Ok().json(r)
    } else {
        HttpResponse::Created().json(r)
    })
}

/// The visitor writes.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorMessage, responses((status = 201, body = VisitorMessageResult), (status = 200, body = VisitorMessageResult, description = "duplicate"), (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/messages")]
pub async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorMessage>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let b = body.into_inner();
    let client_id = visitor_writes(&state, inbox.id, &v, &b.client_id)?;
    let context = MessageContext {
        page: b.page.url,
        language: b.page.language,
        region: None,
    };
    let message = (MessageKind::Text, b.body, context, Vec::new());
    ingest_visitor(&state, inbox.id, &v, client_id, message).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorRating {
    pub conversation_id: i64,
    /// 1 to 5.
    pub rating: i64,
    #[serde(default)]
    pub comment: String,
}

/// The visitor rates one of their resolved conversations (once).
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorRating, responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/csat")]
pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorRating>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let b = body.into_inner();
    let (claim, iid, conv) = (v.claim(), inbox.id, b.conversation_id);
    let theirs = state
        .store
        .read(move |c, ring| {
            let convs = visitor_conversations(c, ring, iid, &claim, 50)?;
            Ok(convs.is_some_and(|(_, convs)| convs.iter().any(|(id, _)| id.0 == conv)))
        })
        .await?;
    if !theirs {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    state
        .engine
        .submit_csat(crate::engine::csat::Rating {
            inbox_id: inbox.id,
            conversation: ConversationId(conv),
            rating: b.rating,
            comment: b.comment,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorTyping {
    pub typing: bool,
}

/// The visitor is (or stopped) typing: agents who see the conversation are told.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorTyping, responses((status = 204), (status = 401, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/typing")]
pub async fn typing(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorTyping>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    visitor_typing(&state, inbox.id, &v, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tell the agents who see the visitor's open conversation that they are (or stopped) typing.
pub(super) async fn visitor_typing(
    state: &AppState,
    iid: i64,
    v: &Visitor,
    is_typing: bool,
) -> Result<(), ApiError> {
    let claim = v.claim();
    let conv = state
        .store
        .read(move |c, ring| {
            let latest = visitor_conversations(c, ring, iid, &claim, 1)?
                .and_then(|(_, convs)| convs.into_iter().next());
            match latest {
                Some((cid, _)) => conversations::get(c, cid),
                None => Ok(None),
            }
        })
        .await?;
    if let Some(conv) = conv.filter(|c| c.status != crate::domain::ConversationStatus::Resolved) {
        state.engine.bus.publish(
            "typing",
            crate::engine::bus::Audience::activity(
                conv.id.0,
                conv.inbox_id,
                conv.team_id,
                conv.assignee_id,
            ),
            &serde_json::json!({"conversation_id": conv.id.0, "who": "contact", "typing": is_typing}),
        );
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorReceipt {
    /// The newest message the window has shown.
    pub up_to: i64,
    /// `delivered` (the window received it) or `read` (the visitor had the window open).
    pub state: String,
}

/// The visitor's window received or showed the replies up to a message: agents see them as
/// delivered or read.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorReceipt, responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/receipts")]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorReceipt>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let read = match body.state.as_str() {
        "read" => true,
        "delivered" => false,
        other => {
            return Err(ApiError::validation(format!(
                "state: \"delivered\" or \"read\", not {other:?}"
            )));
        }
    };
    visitor_saw(&state, inbox.id, &v, body.up_to, read).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The visitor's window received (or, with `read`, showed) the replies up to `up_to`: those
/// still marked sent move forward, and the agents who see them are told.
pub(super) async fn visitor_saw(
    state: &AppState,
    iid: i64,
    v: &Visitor,
    up_to: i64,
    read: bool,
) -> Result<(), ApiError> {
    let claim = v.claim();
    let to = if read {
        crate::domain::Delivery::Read
    } else {
        crate::domain::Delivery::Delivered
    };
    let changed = state
        .store
        .write(move |c, ring| {
            let Some((_, convs)) = visitor_conversations(c, ring, iid, &claim, 5)? else {
                return Ok(Vec::new());
            };
            let ids: Vec<i64> = convs.iter().map(|(id, _)| id.0).collect();
            let changed = messages::customer_saw(c, &ids, up_to, to, 50)?;
            let mut out = Vec::with_capacity(changed.len());
            for id in changed {
                if let Some(m) = messages::get(c, ring, id)?
                    && let Some(conv) = conversations::get(c, m.conversation_id)?
                {
                    out.push((m, conv));
                }
            }
            Ok(out)
        })
        .await?;
    if changed.is_empty() {
        return Ok(());
    }
    let rows: Vec<messages::MessageRow> = changed.iter().map(|(m, _)| m.clone()).collect();
    let views = state
        .store
        .read(move |c, ring| super::conversations::message_views(c, ring, &rows))
        .await?;
    for ((_, conv), view) in changed.iter().zip(views) {
        state.engine.bus.publish(
            "message.updated",
            crate::engine::bus::Audience::activity(
                conv.id.0,
                conv.inbox_id,
                conv.team_id,
                conv.assignee_id,
            ),
            &view,
        );
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VisitorFileQuery {
    /// The browser's id for this message (a retry with the same id is stored once; required).
    pub client_id: Option<String>,
}

/// The visitor sends a file (a picture is shown inline): `multipart/form-data` with one part
/// named `file`, within `attachments.max_bytes`, its type read from the bytes. Stored and sent as
/// one message.
#[utoipa::path(
    params(("inbox_id" = i64, Path), VisitorFileQuery),
    request_body(content = super::attachments::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = VisitorMessageResult),
        (status = 200, body = VisitorMessageResult, description = "duplicate"),
        (status = 401, body = super::error::ErrorBody),
        (status = 413, description = "`attachment_too_large`", body = super::error::ErrorBody),
        (status = 415, description = "`attachment_type_not_allowed`, `attachment_type_mismatch`, `unsupported_media_type`", body = super::error::ErrorBody),
        (status = 422, description = "`attachment_empty`, `validation_failed`", body = super::error::ErrorBody),
        (status = 429, body = super::error::ErrorBody),
    ),
    security(("visitor_token" = [])),
    tag = "widget"
)]
#[post("/hooks/web/{inbox_id}/files")]
pub async fn send_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<VisitorFileQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let client_id = visitor_writes(&state, inbox.id, &v, q.client_id.as_deref().unwrap_or(""))?;
    // Stored for this inbox and used by this message at once: no other visitor's message can
    // take it (the visitor API has no way to name an upload).
    let uploaded = super::attachments::store_upload(
        &state,
        &req,
        payload,
        super::attachments::Owner {
            conversation: None,
            inbox: Some(inbox.id),
            uploader: None,
        },
    )
    .await?;
    let kind = if uploaded.content_type.starts_with("image/") {
        MessageKind::Image
    } else {
        MessageKind::File
    };
    let message = (
        kind,
        String::new(),
        MessageContext::default(),
        vec![uploaded.id],
    );
    ingest_visitor(&state, inbox.id, &v, client_id, message).await
}

/// Download a file of the visitor's conversations here (theirs or an agent's reply; never a
/// private note's or a recalled message's).
#[utoipa::path(
    params(("inbox_id" = i64, Path), ("attachment_id" = i64, Path)),
    responses(
        (status = 200, description = "the file, with its stored content type", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "no such file of this visitor's", body = super::error::ErrorBody),
    ),
    security(("visitor_token" = [])),
    tag = "widget"
)]
#[get("/hooks/web/{inbox_id}/files/{attachment_id}")]
pub async fn file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (inbox_id, id) = path.into_inner();
    let (v, inbox) = visitor_call(&state, &req, inbox_id).await?;
    let (claim, iid) = (v.claim(), inbox.id);
    let row = state
        .store
        .read(move |c, ring| {
            let Some(row) = crate::store::attachments::get(c, ring, id)? else {
                return Ok(None);
            };
            let (Some(conv), Some(mid)) = (row.conversation_id, row.message_id) else {
                return Ok(None);
            };
            let Some((_, convs)) = visitor_conversations(c, ring, iid, &claim, 200)? else {
                return Ok(None);
            };
            if !convs.iter().any(|(cid, _)| cid.0 == conv) {
                return Ok(None);
            }
            let shown = messages::get(c, ring, crate::domain::MessageId(mid))?
                .is_some_and(|m| super::channel_api::customer_side(&m) && !m.recalled);
            Ok(shown.then_some(row))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    super::attachments::file_response(&state, row).await
}

/// What a visitor says about themselves (the pre-chat form, the leave-a-message form).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VisitorProfile {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A phone number as people type one: digits with `+ - ( )` and spaces, 5 to 20 digits.
fn phone_ok(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '))
}

/// `local@domain.tld`, without spaces.
fn email_ok(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !e.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// What a visitor typed, checked: well-formed phone and email, lengths within the contact's.
fn check_typed(d: &ContactDraft) -> Result<(), ApiError> {
    let mut problems = d.validate();
    if d.phone.as_deref().is_some_and(|p| !phone_ok(p)) {
        problems.push("phone: digits, with + - ( ) and spaces".into());
    }
    if d.email.as_deref().is_some_and(|e| !email_ok(e)) {
        problems.push("email: not an email address".into());
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::validation(problems.join("; "))),
    }
}

impl VisitorProfile {
    /// Trimmed, empty fields left out.
    fn cleaned(self) -> ContactDraft {
        let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        ContactDraft {
            name: clean(self.name),
            phone: clean(self.phone),
            email: clean(self.email),
            id_number: None,
            address: None,
        }
    }
}

/// File what the visitor typed on their contact (as they typed it: never linked to another
/// contact by it, since nobody verified it); with `same_person` (the anonymous visitor a
/// signed-in user was in the same browser), that visitor's contact joins theirs.
async fn save_profile(
    state: &AppState,
    inbox: i64,
    v: &Visitor,
    same_person: Option<&Visitor>,
    draft: ContactDraft,
) -> Result<(), ApiError> {
    if draft.name.is_none()
        && draft.phone.is_none()
        && draft.email.is_none()
        && same_person.is_none()
    {
        return Ok(());
    }
    let mut identities = vec![v.claim()];
    identities.extend(same_person.map(Visitor::claim));
    state
        .engine
        .identify(crate::engine::identify::Identify {
            inbox_id: inbox,
            identities,
            profile: draft,
            vip: None,
            attributes: None,
        })
        .await?;
    Ok(())
}

/// The pre-chat form: the visitor's name, phone or email, as the inbox asks for them.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorProfile, responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 422, description = "a required field is missing, or a phone number or email address is malformed", body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/profile")]
pub async fn prechat(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorProfile>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let draft = body.into_inner().cleaned();
    let missing: Vec<String> = inbox
        .settings
        .widget
        .prechat
        .required()
        .filter(|f| match *f {
            "name" => draft.name.is_none(),
            "phone" => draft.phone.is_none(),
            _ => draft.email.is_none(),
        })
        .map(|f| format!("{f}: required"))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(missing.join("; ")));
    }
    check_typed(&draft)?;
    save_profile(&state, inbox.id, &v, None, draft).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeftMessage {
    /// The browser's id for this message (a retry with the same id is stored once).
    pub client_id: String,
    pub name: Option<String>,
    /// A phone number or an email address (at least one) to be answered at.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub body: String,
}

/// Leave a message outside business hours, with a phone number or email address to be answered
/// at: it starts (or continues) the visitor's conversation like any message, with their details
/// on the contact.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = LeftMessage, responses((status = 201, body = VisitorMessageResult), (status = 200, body = VisitorMessageResult, description = "duplicate"), (status = 401, body = super::error::ErrorBody), (status = 422, description = "no phone number or email address, an empty message, or a malformed field", body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/leave-message")]
pub async fn leave_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<LeftMessage>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let b = body.into_inner();
    let client_id = visitor_writes(&state, inbox.id, &v, &b.client_id)?;
    if b.body.trim().is_empty() {
        return Err(ApiError::validation("body: required"));
    }
    let draft = VisitorProfile {
        name: b.name,
        phone: b.phone,
        email: b.email,
    }
    .cleaned();
    if draft.phone.is_none() && draft.email.is_none() {
        return Err(ApiError::validation(
            "phone or email: at least one is required",
        ));
    }
    check_typed(&draft)?;
    save_profile(&state, inbox.id, &v, None, draft).await?;
    let message = (
        MessageKind::Text,
        b.body,
        MessageContext::default(),
        Vec::new(),
    );
    ingest_visitor(&state, inbox.id, &v, client_id, message).await
}

#[cfg(test)]
mod tests {
    use super::{email_ok, phone_ok};

    #[test]
    fn typed_phones_and_emails_are_checked_loosely() {
        for p in [
            "13800138000",
            "+86 138-0013-8000",
            "(010) 6552 8888",
            "95588",
        ] {
            assert!(phone_ok(p), "{p}");
        }
        for p in [
            "电话号码",
            "1234",
            "138001380001380013800",
            "138 0013 8000 转 1",
        ] {
            assert!(!phone_ok(p), "{p}");
        }
        for e in ["li@example.com", "wang.xm+cs@bank.com.cn"] {
            assert!(email_ok(e), "{e}");
        }
        for e in [
            "not-an-address",
            "@example.com",
            "li@example",
            "li@.com",
            "li @example.com",
            "a@b@c.com",
        ] {
            assert!(!email_ok(e), "{e}");
        }
    }
}
