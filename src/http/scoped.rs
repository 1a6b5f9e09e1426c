//! Conversations and contacts, limited to the caller's data scope. Every id-bearing route
//! checks the object's inbox/team against the caller's scope (not only the role): an object
//! outside it answers 404, exactly like a missing one, and the attempt is audited.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use super::views::{ContactView, Reveal};
use crate::app::AppState;
use crate::audit::Entry;
use crate::domain::access::Permission;
use crate::domain::{ContactId, ConversationId};
use crate::store::audit as audit_log;
use crate::store::contacts;
use crate::store::conversations::{self, ConvRow};

/// Load a conversation the caller may see — in their scope or assigned to them: 404 when
/// missing or out of scope (audited).
pub(crate) async fn visible_conversation(
    state: &AppState,
    c: &Caller,
    id: i64,
) -> Result<ConvRow, ApiError> {
    let target = format!("conversation:{id}");
    c.require(state, Permission::ConversationsRead, &target)
        .await?;
    let conv = state
        .store
        .read(move |conn, _| conversations::get(conn, ConversationId(id)))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    if !(c.scope().allows(conv.inbox_id, conv.team_id) || conv.assignee_id == Some(c.user_id())) {
        return Err(c.deny_out_of_scope(state, &target).await);
    }
    Ok(conv)
}

/// Load a contact the caller may see (one of its conversations is in scope or assigned to
/// them).
pub(crate) async fn visible_contact(
    state: &AppState,
    c: &Caller,
    id: i64,
    perm: Permission,
) -> Result<crate::domain::Contact, ApiError> {
    let target = format!("contact:{id}");
    c.require(state, perm, &target).await?;
    let (scope, me) = (c.scope().clone(), c.user_id());
    let found = state
        .store
        .read(move |conn, ring| {
            let Some(contact) = contacts::get_contact(conn, ring, ContactId(id))? else {
                return Ok(None);
            };
            let visible = contacts::contact_in_scope(conn, ContactId(id), &scope, me)?;
            Ok(Some((contact, visible)))
        })
        .await?;
    match found {
        None => Err(ApiError::new(ErrorCode::NotFound)),
        Some((_, false)) => Err(c.deny_out_of_scope(state, &target).await),
        Some((contact, true)) => Ok(contact),
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// Why the PII is needed (kept in the audit record).
    #[serde(default)]
    pub reason: Option<String>,
    /// Which fields to show in full (`name`, `phone`, `email`, `id_number`, `address`);
    /// absent or empty: every field. The others stay masked.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

/// The contact fields a reveal can show.
const REVEALABLE: [&str; 5] = ["name", "phone", "email", "id_number", "address"];

/// A contact with PII in full (`pii:reveal`); every reveal is audited.
#[utoipa::path(
    params(("id" = i64, Path)),
    request_body = RevealRequest,
    responses((status = 200, body = ContactView), (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    tag = "contacts"
)]
#[post("/api/v1/contacts/{id}/reveal")]
pub async fn reveal(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: Option<web::Json<RevealRequest>>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let reason: String = body.reason.unwrap_or_default().chars().take(500).collect();
    let asked: Vec<String> = body.fields.unwrap_or_default();
    if let Some(bad) = asked.iter().find(|f| !REVEALABLE.contains(&f.as_str())) {
        return Err(ApiError::validation(format!(
            "fields: {bad:?} is not one of name, phone, email, id_number, address"
        )));
    }
    c.require(&state, Permission::ContactsRead, &format!("contact:{id}"))
        .await?;
    let contact = visible_contact(&state, &c, id, Permission::PiiReveal).await?;
    let f = &contact.fields;
    let wanted = |n: &str| asked.is_empty() || asked.iter().any(|a| a == n);
    let fields: Vec<&str> = [
        ("name", f.name.is_some()),
        ("phone", f.phone.is_some()),
        ("email", f.email.is_some()),
        ("id_number", f.id_number.is_some()),
        ("address", f.address.is_some()),
    ]
    .iter()
    .filter(|(n, present)| *present && wanted(n))
    .map(|(n, _)| *n)
    .collect();
    let e = Entry::new(&c.actor, "pii.reveal", format!("contact:{id}"))
        .details(serde_json::json!({ "fields": fields, "reason": reason }));
    let now = state.clock.now_ms();
    // Fail closed: no audit record, no PII.
    state
        .store
        .write(move |conn, ring| audit_log::append(conn, ring, now, &e))
        .await?;
    let full = ContactView::new(&contact, Reveal::Full);
    let masked = ContactView::new(&contact, Reveal::Masked);
    let pick = |n: &str, f: &Option<String>, m: &Option<String>| {
        if wanted(n) { f.clone() } else { m.clone() }
    };
    Ok(HttpResponse::Ok().json(ContactView {
        name: pick("name", &full.name, &masked.name),
        phone: pick("phone", &full.phone, &masked.phone),
        email: pick("email", &full.email, &masked.email),
        id_number: pick("id_number", &full.id_number, &masked.id_number),
        address: pick("address", &full.address, &masked.address),
        masked: !asked.is_empty() && REVEALABLE.iter().any(|n| !wanted(n)),
        ..full
    }))
}
