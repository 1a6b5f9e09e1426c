//! Canned replies: each agent's own and the shared ones (shared ones are kept by supervisors,
//! `conversations:assign`, or system administrators, `settings:write`), searched by shortcut or title for the composer's `/` popup, and rendered for a
//! conversation (`{{contact.name}}` masked, `{{agent.name}}`, `{{inbox.name}}`).

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use super::scoped::visible_conversation;
use crate::app::AppState;
use crate::audit::Entry;
use crate::crypto::mask;
use crate::domain::access::Permission;
use crate::store::canned::{self, Canned};
use crate::store::{audit as audit_log, contacts};

#[derive(Debug, Serialize, ToSchema)]
pub struct CannedView {
    pub id: i64,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    pub shared: bool,
}

impl From<&Canned> for CannedView {
    fn from(c: &Canned) -> Self {
        CannedView {
            id: c.id,
            shortcut: c.shortcut.clone(),
            title: c.title.clone(),
            body: c.body.clone(),
            shared: c.owner_id.is_none(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Matches shortcut or title (shortcut prefixes first).
    pub q: Option<String>,
}

#[utoipa::path(params(SearchParams), responses((status = 200, body = [CannedView])), tag = "canned replies")]
#[get("/api/v1/canned-replies")]
pub async fn search(
    state: web::Data<AppState>,
    c: Caller,
    q: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    c.require_any(
        &state,
        &[Permission::ConversationsRead, Permission::SettingsWrite],
        "canned_replies",
    )
    .await?;
    let (me, q) = (
        c.user_id(),
        q.into_inner()
            .q
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect::<String>(),
    );
    let rows = state
        .store
        .read(move |conn, _| canned::search(conn, me, q.trim().trim_start_matches('/'), 200))
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(CannedView::from).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    pub shortcut: String,
    #[serde(default)]
    pub title: String,
    pub body: String,
    /// Visible to every agent (needs `conversations:assign` or `settings:write`).
    #[serde(default)]
    pub shared: bool,
}

fn check(i: &CannedInput) -> Result<(), ApiError> {
    let s = i.shortcut.trim();
    if s.is_empty()
        || s.chars().count() > 32
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(ApiError::validation(
            "shortcut: 1 to 32 characters without spaces or '/'",
        ));
    }
    if i.title.chars().count() > 100 {
        return Err(ApiError::validation("title: at most 100 characters"));
    }
    if i.body.trim().is_empty() || i.body.chars().count() > 5000 {
        return Err(ApiError::validation("body: 1 to 5000 characters"));
    }
    Ok(())
}

/// Who keeps the shared canned replies.
const SHARED_EDITORS: &[Permission] = &[Permission::ConversationsAssign, Permission::SettingsWrite];

/// Anyone who may keep canned replies at all (their own, or the shared ones).
const EDITORS: &[Permission] = &[
    Permission::ConversationsReply,
    Permission::ConversationsAssign,
    Permission::SettingsWrite,
];

async fn may_edit(
    state: &AppState,
    c: &Caller,
    shared: bool,
    owner: Option<i64>,
) -> Result<(), ApiError> {
    if shared {
        c.require_any(state, SHARED_EDITORS, "canned_replies").await
    } else if owner == Some(c.user_id()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::NotFound))
    }
}

/// A canned reply the caller may change: their own, or a shared one for shared editors
/// (someone else's answers 404, like a missing one).
async fn editable(state: &AppState, c: &Caller, id: i64) -> Result<Canned, ApiError> {
    c.require_any(state, EDITORS, "canned_replies").await?;
    let cur = state
        .store
        .read(move |conn, _| canned::get(conn, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    may_edit(state, c, cur.owner_id.is_none(), cur.owner_id).await?;
    Ok(cur)
}

/// Insert (`new`) or update a canned reply whose shortcut is free among its owner's (or the
/// shared ones); changes to shared replies are audited.
async fn save(state: &AppState, c: &Caller, row: &Canned, new: bool) -> Result<(), ApiError> {
    let (r, now, actor) = (row.clone(), state.clock.now_ms(), c.actor.clone());
    let ok = state
        .store
        .write(move |conn, ring| {
            let except = (!new).then_some(r.id);
            if canned::shortcut_taken(conn, r.owner_id, &r.shortcut, except)? {
                return Ok(false);
            }
            if new {
                canned::insert(conn, &r, now)?;
            } else {
                canned::update(conn, &r, now)?;
            }
            if r.owner_id.is_none() {
                let action = if new { "create" } else { "update" };
                let e = Entry::new(&actor, "canned.shared_update", format!("canned:{}", r.id))
                    .details(serde_json::json!({"action": action, "shortcut": r.shortcut}));
                audit_log::append(conn, ring, now, &e)?;
            }
            Ok(true)
        })
        .await?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "this shortcut is taken",
        ))
    }
}

#[utoipa::path(request_body = CannedInput, responses((status = 201, body = CannedView), (status = 409, body = super::error::ErrorBody)), tag = "canned replies")]
#[post("/api/v1/canned-replies")]
pub async fn create(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<CannedInput>,
) -> Result<HttpResponse, ApiError> {
    let i = body.into_inner();
    if !i.shared {
        c.require(&state, Permission::ConversationsReply, "canned_replies")
            .await?;
    }
    let owner = (!i.shared).then_some(c.user_id());
    may_edit(&state, &c, i.shared, owner).await?;
    check(&i)?;
    let row = Canned {
        id: state.store.next_id(),
        owner_id: owner,
        shortcut: i.shortcut.trim().to_string(),
        title: i.title.trim().to_string(),
        body: i.body,
        updated_at: state.clock.now_ms(),
    };
    save(&state, &c, &row, true).await?;
    Ok(HttpResponse::Created().json(CannedView::from(&row)))
}

#[utoipa::path(params(("id" = i64, Path)), request_body = CannedInput, responses((status = 200, body = CannedView)), tag = "canned replies")]
#[put("/api/v1/canned-replies/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<CannedInput>,
) -> Result<HttpResponse, ApiError> {
    let i = body.into_inner();
    let cur = editable(&state, &c, path.into_inner()).await?;
    check(&i)?;
    let row = Canned {
        shortcut: i.shortcut.trim().to_string(),
        title: i.title.trim().to_string(),
        body: i.body,
        ..cur
    };
    save(&state, &c, &row, false).await?;
    Ok(HttpResponse::Ok().json(CannedView::from(&row)))
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 204)), tag = "canned replies")]
#[delete("/api/v1/canned-replies/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let cur = editable(&state, &c, path.into_inner()).await?;
    let id = cur.id;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    state
        .store
        .write(move |conn, ring| {
            canned::delete(conn, id)?;
            if cur.owner_id.is_none() {
                let e = Entry::new(&actor, "canned.shared_update", format!("canned:{id}"))
                    .details(serde_json::json!({"action": "delete", "shortcut": cur.shortcut}));
                audit_log::append(conn, ring, now, &e)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    pub text: String,
}

/// Fill `{{contact.name}}` (masked), `{{agent.name}}` and `{{inbox.name}}` for a conversation;
/// unknown variables are left as written.
pub fn render(text: &str, contact: &str, agent: &str, inbox: &str) -> String {
    text.replace("{{contact.name}}", contact)
        .replace("{{agent.name}}", agent)
        .replace("{{inbox.name}}", inbox)
}

#[utoipa::path(params(("id" = i64, Path)), request_body = RenderRequest, responses((status = 200, body = RenderRequest)), tag = "canned replies")]
#[post("/api/v1/conversations/{id}/render")]
pub async fn render_for(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<RenderRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = visible_conversation(&state, &c, path.into_inner()).await?;
    let (cid, iid) = (conv.contact_id, conv.inbox_id);
    let (contact, inbox) = state
        .store
        .read(move |conn, ring| {
            let name = contacts::get_contact(conn, ring, cid)?.and_then(|c| c.fields.name);
            let inbox = match iid {
                Some(i) => crate::store::inboxes::get(conn, ring, i)?.map(|x| x.name),
                None => None,
            };
            Ok((name, inbox))
        })
        .await?;
    let agent = if c.user.display_name.is_empty() {
        c.user.username.clone()
    } else {
        c.user.display_name.clone()
    };
    let text = render(
        &body.text,
        &contact.as_deref().map(mask::name).unwrap_or_default(),
        &agent,
        &inbox.unwrap_or_default(),
    );
    Ok(HttpResponse::Ok().json(RenderRequest { text }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_unknown_ones_kept() {
        assert_eq!(
            render(
                "您好 {{contact.name}}，我是{{agent.name}}（{{inbox.name}}）{{x}}",
                "张*",
                "李四",
                "官网"
            ),
            "您好 张*，我是李四（官网）{{x}}"
        );
    }
}
