//! Inbound side of the open API channel: `POST /hooks/api/{inbox_id}/messages` with
//! `Authorization: Bearer <inbox token>`. The answer comes after the message is committed;
//! a repeated `message_id` (or `Idempotency-Key`) answers 200 with the stored ids and
//! `duplicate: true` instead of storing it twice.

use actix_web::{HttpRequest, HttpResponse, post, web};
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiInboundResult {
    pub message_id: i64,
    pub conversation_id: i64,
    pub contact_id: i64,
    pub duplicate: bool,
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
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
    let token = bearer(&req).ok_or_else(|| {
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
    let b = body.into_inner();
    let kind = match b.kind.as_deref() {
        None => MessageKind::Text,
        Some(k) => MessageKind::parse(k)
            .ok_or_else(|| ApiError::validation(format!("unknown kind {k:?}")))?,
    };
    let header_key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut identities = vec![IdentityClaim {
        kind: IdentityKind::External,
        value: b.contact.id.clone(),
        verified: true,
    }];
    for (k, v, verified) in [
        (
            IdentityKind::Phone,
            &b.contact.phone,
            b.contact.phone_verified,
        ),
        (
            IdentityKind::Email,
            &b.contact.email,
            b.contact.email_verified,
        ),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
            identities.push(IdentityClaim {
                kind: k,
                value: v.clone(),
                verified,
            });
        }
    }
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
        })
        .await?;
    let r = ApiInboundResult {
        message_id: out.message_id.0,
        conversation_id: out.conversation_id.0,
        contact_id: out.contact_id.0,
        duplicate: out.duplicate,
    };
    Ok(if out.duplicate {
        HttpResponse::Ok().json(r)
    } else {
        HttpResponse::Created().json(r)
    })
}
