//! Contact routes beyond the masked card and the audited reveal (see [`super::scoped`]): the
//! detail panel (identities, custom attributes, conversations across channels), the timeline of
//! every message from every channel, profile edits, and merge / split (audited).

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::conversations::{PageParams, acting, message_views};
use super::error::{ApiError, ErrorCode};
use super::scoped::visible_contact;
use super::views::{ContactView, Reveal};
use crate::app::AppState;
use crate::audit::Entry;
use crate::crypto::mask;
use crate::domain::access::Permission;
use crate::domain::{ContactId, IdentityKind};
use crate::engine::view::InboxRef;
use crate::store::{audit as audit_log, contacts, conversations, identities, inboxes, messages};

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityView {
    pub id: i64,
    /// `visitor`, `openid`, `unionid`, `external`, `email` or `phone`.
    pub kind: String,
    /// Masked.
    pub value: String,
    pub verified: bool,
    pub inbox_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactConversation {
    pub id: i64,
    pub inbox: Option<InboxRef>,
    pub status: String,
    pub assignee_id: Option<i64>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

/// The contact panel: masked PII, identities, custom attributes, every conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: ContactView,
    pub vip: bool,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub identities: Vec<IdentityView>,
    /// Newest first; only those in the caller's scope.
    pub conversations: Vec<ContactConversation>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectoryParams {
    /// An exact phone number, e-mail address or contact id, or part of the name.
    pub q: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// The `cursor` of the last row of the previous page.
    pub before: Option<String>,
}

/// One contact in the directory; PII masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactListItem {
    pub id: i64,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vip: bool,
    pub last_activity_at: i64,
    /// Conversations of this contact the caller may see.
    pub conversations: i64,
    /// Pass as `before` for the next page.
    pub cursor: String,
}

/// How many contacts a name search decrypts at most per request (names are encrypted, so a
/// substring match cannot run in SQL).
const NAME_SCAN_LIMIT: usize = 5000;

/// Contacts with a conversation the caller may see, newest activity first; `q` finds one by
/// exact phone, e-mail or id (blind-index lookups), or by part of the name.
#[utoipa::path(params(DirectoryParams), responses((status = 200, body = [ContactListItem]), (status = 422, body = super::error::ErrorBody)), tag = "contacts")]
#[get("/api/v1/contacts")]
pub async fn directory(
    state: web::Data<AppState>,
    c: Caller,
    q: web::Query<DirectoryParams>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ContactsRead, "contacts")
        .await?;
    let p = q.into_inner();
    let limit = super::conversations::page_limit(p.limit);
    let after = match p.before.as_deref() {
        None | Some("") => None,
        Some(cur) => Some(
            crate::engine::view::parse_cursor(cur)
                .ok_or_else(|| ApiError::validation("bad cursor"))?,
        ),
    };
    let text = p.q.as_deref().map(str::trim).unwrap_or("").to_string();
    if text.chars().count() > 100 {
        return Err(ApiError::validation("q is at most 100 characters"));
    }
    let (scope, me) = (c.scope().clone(), c.user_id());
    let rows = state
        .store
        .read(move |conn, ring| {
            if text.is_empty() {
                let q = contacts::DirectoryQuery {
                    only: None,
                    after,
                    limit,
                };
                return contacts::directory(conn, ring, &scope, me, &q);
            }
            // Exact lookups first: a phone, an e-mail, an id.
            let mut ids: Vec<i64> = Vec::new();
            if text.contains('@') {
                ids.extend(
                    contacts::find_by_email(conn, ring, &text)?
                        .iter()
                        .map(|c| c.0),
                );
            } else if text
                .chars()
                .all(|ch| ch.is_ascii_digit() || "+-() ".contains(ch))
            {
                ids.extend(
                    contacts::find_by_phone(conn, ring, &text)?
                        .iter()
                        .map(|c| c.0),
                );
                if let Ok(id) = text.parse::<i64>() {
                    ids.push(id);
                }
            }
            if !ids.is_empty() || text.contains('@') {
                let q = contacts::DirectoryQuery {
                    only: Some(ids),
                    after,
                    limit,
                };
                return contacts::directory(conn, ring, &scope, me, &q);
            }
            // Part of the name: decrypt page by page, newest first.
            let needle = text.to_lowercase();
            let (mut out, mut scanned, mut cursor) = (Vec::new(), 0, after);
            while out.len() < limit as usize && scanned < NAME_SCAN_LIMIT {
                let q = contacts::DirectoryQuery {
                    only: None,
                    after: cursor,
                    limit: 500,
                };
                let page = contacts::directory(conn, ring, &scope, me, &q)?;
                let Some(last) = page.last() else { break };
                cursor = Some((last.last_activity_at, last.contact.id.0));
                scanned += page.len();
                let last_page = page.len() < 500;
                out.extend(page.into_iter().filter(|r| {
                    r.contact
                        .fields
                        .name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
                }));
                if last_page {
                    break;
                }
            }
            out.truncate(limit as usize);
            Ok(out)
        })
        .await?;
    let list: Vec<ContactListItem> = rows
        .iter()
        .map(|r| {
            let f = &r.contact.fields;
            ContactListItem {
                id: r.contact.id.0,
                name: f.name.as_deref().map(mask::name),
                phone: f.phone.as_deref().map(mask::phone),
                email: f.email.as_deref().map(mask::email),
                vip: r.vip,
                last_activity_at: r.last_activity_at,
                conversations: r.conversations,
                cursor: format!("{}.{}", r.last_activity_at, r.contact.id.0),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

fn mask_identity(kind: IdentityKind, v: &str) -> String {
    match kind {
        IdentityKind::Phone => mask::phone(v),
        IdentityKind::Email => mask::email(v),
        _ => mask::identifier(v),
    }
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = ContactDetail), (status = 404, body = super::error::ErrorBody)), tag = "contacts")]
#[get("/api/v1/contacts/{id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let contact = visible_contact(&state, &c, path.into_inner(), Permission::ContactsRead).await?;
    let (id, scope, me) = (contact.id, c.scope().clone(), c.user_id());
    let (extra, idents, convs, boxes) = state
        .store
        .read(move |conn, ring| {
            Ok((
                contacts::extra(conn, ring, id)?,
                identities::list(conn, ring, id)?,
                conversations::of_contact(conn, id)?,
                inboxes::all(conn, ring)?,
            ))
        })
        .await?;
    let (vip, attributes) = extra.unwrap_or((false, serde_json::json!({})));
    let detail = ContactDetail {
        contact: ContactView::new(&contact, Reveal::Masked),
        vip,
        attributes,
        identities: idents
            .iter()
            .map(|i| IdentityView {
                id: i.id,
                kind: i.kind.as_str().into(),
                value: mask_identity(i.kind, &i.value),
                verified: i.verified,
                inbox_id: i.inbox_id,
            })
            .collect(),
        conversations: convs
            .iter()
            .filter(|r| scope.allows(r.inbox_id, r.team_id) || r.assignee_id == Some(me))
            .map(|r| ContactConversation {
                id: r.id.0,
                inbox: r.inbox_id.and_then(|iid| {
                    boxes.iter().find(|b| b.id == iid).map(|b| InboxRef {
                        id: b.id,
                        name: b.name.clone(),
                        channel: b.channel.clone(),
                    })
                }),
                status: r.status.as_str().into(),
                assignee_id: r.assignee_id,
                last_activity_at: r.last_activity_at,
                created_at: r.created_at,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok().json(detail))
}

/// Every message of the contact's conversations in the caller's scope, across channels.
#[utoipa::path(params(("id" = i64, Path), PageParams), responses((status = 200, body = [crate::engine::view::MessageView])), tag = "contacts")]
#[get("/api/v1/contacts/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let contact =
        visible_contact(&state, &c, path.into_inner(), Permission::ConversationsRead).await?;
    let (id, scope, me) = (contact.id, c.scope().clone(), c.user_id());
    let (before, limit) = (q.before, super::conversations::page_limit(q.limit));
    let v = state
        .store
        .read(move |conn, ring| {
            let convs: Vec<i64> = conversations::of_contact(conn, id)?
                .iter()
                .filter(|r| scope.allows(r.inbox_id, r.team_id) || r.assignee_id == Some(me))
                .map(|r| r.id.0)
                .collect();
            let rows = messages::timeline(conn, ring, &convs, before, limit)?;
            message_views(conn, ring, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    pub name: Option<String>,
    pub vip: Option<bool>,
    /// Custom fields: a JSON object of strings, numbers or booleans.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

/// Edit name, VIP flag and custom attributes (`contacts:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = UpdateContact, responses((status = 204), (status = 422, body = super::error::ErrorBody)), tag = "contacts")]
#[put("/api/v1/contacts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateContact>,
) -> Result<HttpResponse, ApiError> {
    let contact = visible_contact(&state, &c, path.into_inner(), Permission::ContactsWrite).await?;
    let b = body.into_inner();
    if let Some(n) = &b.name
        && (n.trim().is_empty() || n.chars().count() > 100)
    {
        return Err(ApiError::validation("name must be 1 to 100 characters"));
    }
    if let Some(a) = &b.attributes {
        match a.as_object() {
            Some(o) => {
                crate::engine::identify::check_attributes(o).map_err(ApiError::validation)?
            }
            None => return Err(ApiError::validation("attributes must be an object")),
        }
    }
    let (id, now, actor) = (contact.id, state.clock.now_ms(), c.actor.clone());
    let fields: Vec<&str> = [
        ("name", b.name.is_some()),
        ("vip", b.vip.is_some()),
        ("attributes", b.attributes.is_some()),
    ]
    .iter()
    .filter(|(_, s)| *s)
    .map(|(n, _)| *n)
    .collect();
    let e = Entry::new(&actor, "contact.update", format!("contact:{}", id.0))
        .details(serde_json::json!({ "fields": fields }));
    state
        .store
        .write(move |conn, ring| {
            contacts::update_profile(
                conn,
                ring,
                id,
                b.name.as_deref().map(str::trim),
                b.vip,
                b.attributes.as_ref(),
                now,
            )?;
            audit_log::append(conn, ring, now, &e)?;
            crate::engine::events::contact_updated(conn, ring, id, None, now)
        })
        .await
        .map(|n| state.engine.events_queued(n))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// This contact is merged into the one in the path.
    pub other_id: i64,
}

/// Merge another contact into this one: one contact, one timeline (audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = MergeRequest, responses((status = 204), (status = 404, body = super::error::ErrorBody)), tag = "contacts")]
#[post("/api/v1/contacts/{id}/merge")]
pub async fn merge(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let into = visible_contact(&state, &c, path.into_inner(), Permission::ContactsWrite).await?;
    let from = visible_contact(&state, &c, body.other_id, Permission::ContactsWrite).await?;
    wholly_in_scope(&state, &c, &[into.id, from.id]).await?;
    state
        .engine
        .merge_contacts(&acting(&c), into.id, from.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub identity_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SplitResponse {
    pub contact_id: i64,
}

/// Move one identity (and its inbox's conversations) to a new contact (audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = SplitRequest, responses((status = 201, body = SplitResponse)), tag = "contacts")]
#[post("/api/v1/contacts/{id}/split")]
pub async fn split(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<SplitRequest>,
) -> Result<HttpResponse, ApiError> {
    let contact = visible_contact(&state, &c, path.into_inner(), Permission::ContactsWrite).await?;
    wholly_in_scope(&state, &c, &[contact.id]).await?;
    let new = state
        .engine
        .split_contact(&acting(&c), ContactId(contact.id.0), body.identity_id)
        .await?;
    Ok(HttpResponse::Created().json(SplitResponse { contact_id: new.0 }))
}

/// Merging or splitting moves every conversation of the contacts: the caller's scope must
/// cover all of them, not only one (403 `forbidden`, audited, otherwise).
async fn wholly_in_scope(state: &AppState, c: &Caller, ids: &[ContactId]) -> Result<(), ApiError> {
    if matches!(c.scope(), crate::domain::access::Scope::All) {
        return Ok(());
    }
    let (scope, ids_) = (c.scope().clone(), ids.to_vec());
    let outside = state
        .store
        .read(move |conn, _| {
            for id in ids_ {
                if !contacts::contact_wholly_in_scope(conn, id, &scope)? {
                    return Ok(Some(id));
                }
            }
            Ok(None)
        })
        .await?;
    let Some(id) = outside else { return Ok(()) };
    let e = Entry::new(&c.actor, "access.denied", format!("contact:{}", id.0))
        .outcome(crate::audit::Outcome::Denied)
        .details(serde_json::json!({ "reason": "conversations_out_of_scope" }));
    super::caller::audit(state, e).await?;
    Err(ApiError::with_detail(
        ErrorCode::Forbidden,
        "the contact has conversations outside your data scope",
    ))
}
