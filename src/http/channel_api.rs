//! Inbound side of the open API channel: `POST /hooks/api/{inbox_id}/messages` with
//! `Authorization: Bearer <inbox token>`. The answer comes after the message is committed;
//! a repeated `message_id` (or `Idempotency-Key`) answers 200 with the stored ids and
//! `duplicate: true` instead of storing it twice. `GET /hooks/api/{inbox_id}/conversations/{id}`
//! reads one of the inbox's conversations as the customer sees it (no private notes, no
//! workspace system lines).

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::domain::{
    ContactDraft, IdentityClaim, IdentityKind, InboundMessage, MessageContext, MessageKind,
};

/// Domain separator of inbox-token digests.
pub const TOKEN_DOMAIN: &str = "inbox-token";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiContact {
    /// The customer's id in your system (required).
    pub id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// You verified this phone (e.g. by SMS): it may link the customer across channels.
    #[serde(default)]
    pub phone_verified: bool,
    #[serde(default)]
    pub email_verified: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiInbound {
    /// Your id for this message; a second delivery with the same id is not stored again.
    pub message_id: Option<String>,
    pub contact: ApiContact,
    /// `text` (default), `image`, `file`, `audio`, `video`, `location`, `link` or `card`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub body: String,
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
    /// Where the customer writes from: `{"page": "…", "language": "en", "region": "HK"}` (all
    /// optional), matched by the inbox's skill rules.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: MessageContext,
    /// Ids of files uploaded through this inbox (`POST /hooks/api/{inbox_id}/attachments`) that
    /// this message carries (at most 10; each used once).
    #[serde(default)]
    pub attachments: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiInboundResult {
    pub message_id: i64,
    pub conversation_id: i64,
    pub contact_id: i64,
    pub duplicate: bool,
}

pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The customer's identities: your id (the channel's own, so trusted), and the phone and e-mail,
/// which link to other channels only when you verified them.
fn claims(
    external_id: &str,
    phone: (&Option<String>, bool),
    email: (&Option<String>, bool),
) -> Vec<IdentityClaim> {
    let mut identities = vec![IdentityClaim {
        kind: IdentityKind::External,
        value: external_id.to_string(),
        verified: true,
    }];
    for (kind, (v, verified)) in [(IdentityKind::Phone, phone), (IdentityKind::Email, email)] {
        if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
            identities.push(IdentityClaim {
                kind,
                value: v.clone(),
                verified,
            });
        }
    }
    identities
}

/// A message the customer saw: theirs, or a reply to them. Notes between agents and the
/// workspace's system lines (assignments, transfers and their notes) stay inside.
pub(super) fn customer_side(m: &crate::store::messages::MessageRow) -> bool {
    use crate::domain::Direction;
    matches!(m.direction, Direction::Incoming | Direction::Outgoing)
}

/// What the customer saw of `rows` (their messages and the replies; notes and the workspace's
/// system lines stay inside), as the channel APIs show it. A recalled message keeps its place,
/// emptied.
pub(crate) fn customer_messages(
    rows: &[crate::store::messages::MessageRow],
    views: Vec<crate::engine::view::MessageView>,
) -> Vec<ApiMessage> {
    use crate::domain::Direction;
    rows.iter()
        .zip(views)
        .filter(|(m, _)| customer_side(m))
        .map(|(m, v)| ApiMessage {
            id: m.id.0,
            direction: m.direction.as_str().to_string(),
            kind: m.kind.as_str().to_string(),
            body: if m.recalled {
                String::new()
            } else {
                m.body.clone()
            },
            content: if m.recalled { None } else { m.content.clone() },
            attachments: if m.recalled {
                Vec::new()
            } else {
                v.attachments
                    .into_iter()
                    .map(|a| ApiAttachment {
                        id: a.id,
                        name: a.name,
                        content_type: a.content_type,
                        size: a.size,
                    })
                    .collect()
            },
            sender: (m.direction == Direction::Outgoing)
                .then(|| m.sender_name.clone())
                .flatten(),
            delivery: m.delivery.map(|d| d.as_str().to_string()),
            recalled: m.recalled,
            created_at: m.created_at,
        })
        .collect()
}

/// `201` with the body when something new was stored, else `200`.
fn created_or_ok(created: bool, body: impl Serialize) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// The inbox the bearer token belongs to, which must be `inbox_id`.
async fn authorized(state: &AppState, req: &HttpRequest, inbox_id: i64) -> Result<(), ApiError> {
    let token = bearer(req).ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::Unauthorized,
            "send the inbox token as a bearer token",
        )
    })?;
    let digest = state
        .store
        .keyring()
        .secret_digest(TOKEN_DOMAIN, token.as_bytes());
    let found = state.engine.inbox_by_token(digest).await?;
    if found != Some(inbox_id) {
        return Err(ApiError::with_detail(
            ErrorCode::Unauthorized,
            "the token does not belong to this inbox",
        ));
    }
    Ok(())
}

/// Post a customer's message into an API inbox.
#[utoipa::path(
    params(("inbox_id" = i64, Path)),
    request_body = ApiInbound,
    responses((status = 201, body = ApiInboundResult), (status = 200, body = ApiInboundResult, description = "duplicate"), (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[post("/hooks/api/{inbox_id}/messages")]
pub async fn inbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<ApiInbound>,
) -> Result<HttpResponse, ApiError> {
    let inbox_id = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let b = body.into_inner();
    let kind = match b.kind.as_deref() {
        None => MessageKind::Text,
        Some(k) => MessageKind::parse(k)
            // Only a channel that cannot read a message marks it unsupported.
            .filter(|k| *k != MessageKind::Unsupported)
            .ok_or_else(|| ApiError::validation(format!("unknown kind {k:?}")))?,
    };
    let header_key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let identities = claims(
        &b.contact.id,
        (&b.contact.phone, b.contact.phone_verified),
        (&b.contact.email, b.contact.email_verified),
    );
    let out = state
        .engine
        .ingest(InboundMessage {
            inbox_id,
            external_id: b.message_id.or(header_key),
            identities,
            profile: ContactDraft {
                name: b.contact.name,
                phone: b.contact.phone,
                email: b.contact.email,
                id_number: None,
                address: None,
            },
            kind,
            body: b.body,
            content: b.content,
            context: b.context,
            attachments: b.attachments,
        })
        .await?;
    let r = ApiInboundResult {
        message_id: out.message_id.0,
        conversation_id: out.conversation_id.0,
        contact_id: out.contact_id.0,
        duplicate: out.duplicate,
    };
    Ok(created_or_ok(!out.duplicate, r))
}

/// One message of a conversation as the customer system sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiMessage {
    pub id: i64,
    /// `incoming` (from the customer) or `outgoing` (an agent's or an automatic reply).
    pub direction: String,
    pub kind: String,
    /// Empty when the message was recalled.
    pub body: String,
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
    pub attachments: Vec<ApiAttachment>,
    /// The agent's display name on outgoing messages.
    pub sender: Option<String>,
    /// Outgoing messages: `queued`, `sent`, `delivered`, `read` or `failed`.
    pub delivery: Option<String>,
    pub recalled: bool,
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAttachment {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiConversation {
    pub id: i64,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    pub created_at: i64,
    pub last_activity_at: i64,
    /// Oldest first; private notes and the workspace's system lines (assignments, transfers)
    /// are never included, so a page may hold fewer than `limit` messages.
    pub messages: Vec<ApiMessage>,
    /// Pass as `before` for the page of older messages; `null` when there is none.
    pub next_before: Option<i64>,
}

/// Read a conversation of this inbox: its status and its messages as the customer sees them.
#[utoipa::path(
    params(("inbox_id" = i64, Path), ("conversation_id" = i64, Path), super::conversations::PageParams),
    responses((status = 200, body = ApiConversation), (status = 401, body = super::error::ErrorBody), (status = 404, description = "no such conversation in this inbox", body = super::error::ErrorBody)),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[get("/hooks/api/{inbox_id}/conversations/{conversation_id}")]
pub async fn conversation(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    q: web::Query<super::conversations::PageParams>,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::ConversationId;
    use crate::store::{conversations, messages};
    let (inbox_id, id) = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let (before, limit) = (q.before, super::conversations::page_limit(q.limit));
    let found = state
        .store
        .read(move |conn, ring| {
            let Some(row) = conversations::get(conn, ConversationId(id))? else {
                return Ok(None);
            };
            if row.inbox_id != Some(inbox_id) {
                return Ok(None);
            }
            let rows = messages::page(conn, ring, row.id, before, limit)?;
            let views = super::conversations::message_views(conn, ring, &rows)?;
            let full = rows.len() == limit as usize;
            let oldest = rows.iter().map(|m| m.id.0).min();
            Ok(Some((row, rows, views, full.then_some(oldest).flatten())))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let (row, rows, views, next_before) = found;
    let messages = customer_messages(&rows, views);
    Ok(HttpResponse::Ok().json(ApiConversation {
        id: row.id.0,
        status: row.status.as_str().to_string(),
        created_at: row.created_at,
        last_activity_at: row.last_activity_at,
        messages,
        next_before,
    }))
}

/// What your system knows about its customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiContactUpdate {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// You verified this phone: it may link the customer to the same person in other channels.
    #[serde(default)]
    pub phone_verified: bool,
    #[serde(default)]
    pub email_verified: bool,
    /// Serve this customer first (VIP ordering in the queue).
    pub vip: Option<bool>,
    /// Custom fields shown to agents (membership level, branch…), merged into the stored ones;
    /// `null` removes a field.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiContactResult {
    pub contact_id: i64,
    /// No contact had this id (nor a verified phone or e-mail given) yet.
    pub created: bool,
}

/// Identify a customer before (or between) their messages: create the contact for your id, or
/// update the fields given.
#[utoipa::path(
    params(("inbox_id" = i64, Path), ("external_id" = String, Path, description = "the customer's id in your system")),
    request_body = ApiContactUpdate,
    responses((status = 201, body = ApiContactResult, description = "created"), (status = 200, body = ApiContactResult, description = "updated"), (status = 401, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[put("/hooks/api/{inbox_id}/contacts/{external_id}")]
pub async fn identify(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: web::Json<ApiContactUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (inbox_id, external_id) = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let mut b = body.into_inner();
    // A blank field is not given (it neither clears nor overwrites what is stored).
    for f in [&mut b.name, &mut b.phone, &mut b.email] {
        *f = f
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
    }
    let identities = claims(
        &external_id,
        (&b.phone, b.phone_verified),
        (&b.email, b.email_verified),
    );
    let out = state
        .engine
        .identify(crate::engine::identify::Identify {
            inbox_id,
            identities,
            profile: ContactDraft {
                name: b.name,
                phone: b.phone,
                email: b.email,
                id_number: None,
                address: None,
            },
            vip: b.vip,
            attributes: b.attributes,
        })
        .await?;
    let r = ApiContactResult {
        contact_id: out.contact_id.0,
        created: out.created,
    };
    Ok(created_or_ok(out.created, r))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiCsat {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub rating: i64,
    /// Optional, at most 1000 characters.
    #[serde(default)]
    pub comment: String,
}

/// The customer rates a resolved conversation of this inbox (once). Integrations receive
/// `csat.submitted`; agents see the rating in the conversation.
#[utoipa::path(
    params(("inbox_id" = i64, Path), ("conversation_id" = i64, Path)),
    request_body = ApiCsat,
    responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 409, description = "`conflict`: not resolved yet, or already rated", body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[post("/hooks/api/{inbox_id}/conversations/{conversation_id}/csat")]
pub async fn csat(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<ApiCsat>,
) -> Result<HttpResponse, ApiError> {
    let (inbox_id, id) = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let b = body.into_inner();
    state
        .engine
        .submit_csat(crate::engine::csat::Rating {
            inbox_id,
            conversation: crate::domain::ConversationId(id),
            rating: b.rating,
            comment: b.comment,
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Upload a file the customer sends, before the message that carries it (`attachments`).
/// `multipart/form-data` with one part named `file`, within `attachments.max_bytes`; the type
/// is read from the bytes. The upload can be used by one message of this inbox.
#[utoipa::path(
    params(("inbox_id" = i64, Path)),
    request_body(content = super::attachments::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = super::attachments::UploadedAttachment),
        (status = 401, body = super::error::ErrorBody),
        (status = 413, description = "`attachment_too_large`", body = super::error::ErrorBody),
        (status = 415, description = "`attachment_type_not_allowed`, `attachment_type_mismatch`, `unsupported_media_type`", body = super::error::ErrorBody),
        (status = 422, description = "`attachment_empty`, `validation_failed`", body = super::error::ErrorBody),
    ),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[post("/hooks/api/{inbox_id}/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let inbox_id = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let inbox = state.engine.inbox(inbox_id).await?;
    if inbox.disabled {
        return Err(crate::engine::Error::InboxDisabled(inbox_id).into());
    }
    // Uploads wait at most a day for their message; a system that uploads without sending
    // cannot fill the disk meanwhile.
    let pending = state
        .store
        .read(move |conn, _| crate::store::attachments::pending_uploads(conn, inbox_id))
        .await?;
    if pending >= crate::store::attachments::MAX_PENDING_UPLOADS {
        return Err(ApiError::with_detail(
            ErrorCode::RateLimited,
            format!(
                "this inbox holds {pending} uploads no message has used; send them or wait until unused ones expire (24 hours)"
            ),
        ));
    }
    let uploaded = super::attachments::store_upload(
        &state,
        &req,
        payload,
        super::attachments::Owner {
            conversation: None,
            inbox: Some(inbox_id),
            uploader: None,
        },
    )
    .await?;
    let url = format!("/hooks/api/{inbox_id}/attachments/{}", uploaded.id);
    Ok(super::attachments::created(uploaded, url))
}

/// Download a file of a message the customer saw in one of this inbox's conversations (theirs or
/// an agent's reply; not a private note's, not a recalled message's), or an upload of this inbox
/// not sent yet.
#[utoipa::path(
    params(("inbox_id" = i64, Path), ("attachment_id" = i64, Path)),
    responses(
        (status = 200, description = "the file, with its stored content type", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "no such file in this inbox", body = super::error::ErrorBody),
    ),
    security(("inbox_token" = [])),
    tag = "channels"
)]
#[get("/hooks/api/{inbox_id}/attachments/{attachment_id}")]
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (inbox_id, id) = path.into_inner();
    authorized(&state, &req, inbox_id).await?;
    let row = state
        .store
        .read(move |conn, ring| {
            use crate::domain::{ConversationId, MessageId};
            let Some(row) = crate::store::attachments::get(conn, ring, id)? else {
                return Ok(None);
            };
            // An upload of this inbox no message used yet, or a file of a message the customer
            // saw (theirs or a reply, not recalled) in this inbox's conversation. Never a note's
            // file, an agent's upload not sent yet, or a recalled message's.
            let visible = match (row.conversation_id, row.message_id) {
                (None, None) => row.inbox_id == Some(inbox_id),
                (Some(conv), Some(mid)) => {
                    let in_inbox = crate::store::conversations::get(conn, ConversationId(conv))?
                        .is_some_and(|r| r.inbox_id == Some(inbox_id));
                    in_inbox
                        && crate::store::messages::get(conn, ring, MessageId(mid))?
                            .is_some_and(|m| customer_side(&m) && !m.recalled)
                }
                _ => false,
            };
            Ok(visible.then_some(row))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    super::attachments::file_response(&state, row).await
}
