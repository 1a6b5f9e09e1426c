//! The agent workspace's conversation routes: lists, history, replies and notes, and the
//! actions (claim, assign, transfer, status, labels, priority, read, pin, resend, recall).
//! Every id is checked against the caller's scope (see [`super::scoped`]).

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use super::scoped::visible_conversation;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::{ConversationId, ConversationStatus, MessageId, Priority};
use crate::engine::actions::{Acting, Transfer};
use crate::engine::reply::{Reply, attachment_views};
use crate::engine::view::{ConversationView, MessageView, parse_cursor};
use crate::store::conversations::{self, ListQuery, Sort, Summary, View};
use crate::store::messages;

/// The caller as the engine records them.
pub fn acting(c: &Caller) -> Acting {
    Acting {
        user: Some(c.user_id()),
        name: if c.user.display_name.is_empty() {
            c.user.username.clone()
        } else {
            c.user.display_name.clone()
        },
        actor: c.actor.clone(),
    }
}

/// A conversation the caller may see (404 otherwise) and act on with `p` (403 otherwise).
async fn permitted(
    state: &AppState,
    c: &Caller,
    id: i64,
    p: Permission,
) -> Result<crate::store::conversations::ConvRow, ApiError> {
    let conv = visible_conversation(state, c, id).await?;
    c.require(state, p, &format!("conversation:{}", conv.id))
        .await?;
    Ok(conv)
}

fn view(state: &AppState, s: &Summary, sort: Sort) -> ConversationView {
    ConversationView::new(s, state.engine.queue_info(s.row.id.0), sort, true)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `mine` (default), `unassigned`, `teams` or `all`.
    pub view: Option<String>,
    /// `open` (default), `pending`, `snoozed`, `resolved` or `any`.
    pub status: Option<String>,
    pub inbox_id: Option<i64>,
    pub label: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    /// `activity` (default) or `waiting`.
    pub sort: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// The `cursor` of the last row of the previous page.
    pub before: Option<String>,
}

fn parse_list(p: ListParams) -> Result<ListQuery, ApiError> {
    let view = match p.view.as_deref().unwrap_or("mine") {
        "mine" => View::Mine,
        "unassigned" => View::Unassigned,
        "teams" => View::Teams,
        "all" => View::All,
        v => return Err(ApiError::validation(format!("unknown view {v:?}"))),
    };
    let status = match p.status.as_deref().unwrap_or("open") {
        "any" => None,
        s => Some(
            ConversationStatus::parse(s)
                .ok_or_else(|| ApiError::validation(format!("unknown status {s:?}")))?,
        ),
    };
    let priority = match p.priority.as_deref() {
        None => None,
        Some(s) => Some(i64::from(
            Priority::parse(s)
                .ok_or_else(|| ApiError::validation(format!("unknown priority {s:?}")))?
                .level(),
        )),
    };
    let sort = match p.sort.as_deref().unwrap_or("activity") {
        "activity" => Sort::Activity,
        "waiting" => Sort::Waiting,
        s => return Err(ApiError::validation(format!("unknown sort {s:?}"))),
    };
    let after = match p.before.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| ApiError::validation("bad cursor"))?),
    };
    Ok(ListQuery {
        view,
        status,
        inbox: p.inbox_id,
        label: p.label,
        priority,
        sort,
        limit: page_limit(p.limit),
        after,
    })
}

/// Conversations the caller may see, filtered and sorted (pinned first on the first page).
#[utoipa::path(params(ListParams), responses((status = 200, body = [ConversationView])), tag = "conversations")]
#[get("/api/v1/conversations")]
pub async fn list(
    state: web::Data<AppState>,
    c: Caller,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsRead, "conversations")
        .await?;
    let q = parse_list(q.into_inner())?;
    let (me, scope) = (c.user_id(), c.scope().clone());
    let teams = c.user.teams.iter().copied().collect();
    let sort = q.sort;
    let rows = state
        .store
        .read(move |conn, ring| conversations::list(conn, ring, me, &teams, &scope, &q))
        .await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(|s| view(&state, s, sort))
            .collect::<Vec<_>>(),
    ))
}

/// The labels in use on conversations the caller may see (for the list's label filter).
#[utoipa::path(responses((status = 200, body = [String])), tag = "conversations")]
#[get("/api/v1/labels")]
pub async fn labels_in_use(
    state: web::Data<AppState>,
    c: Caller,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsRead, "labels")
        .await?;
    let (scope, me) = (c.scope().clone(), c.user_id());
    let v = state
        .store
        .read(move |conn, _| conversations::labels(conn, &scope, me, 500))
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn summary(state: &AppState, c: &Caller, id: i64) -> Result<Summary, ApiError> {
    let me = c.user_id();
    state
        .store
        .read(move |conn, ring| conversations::summary(conn, ring, ConversationId(id), me))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = ConversationView), (status = 404, body = super::error::ErrorBody)), tag = "conversations")]
#[get("/api/v1/conversations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    visible_conversation(&state, &c, id).await?;
    let s = summary(&state, &c, id).await?;
    let mut v = view(&state, &s, Sort::Activity);
    if s.channel
        .as_deref()
        .is_some_and(crate::channels::wechat::is_wechat)
        && let Some(inbox) = s.row.inbox_id
    {
        let contact = s.row.contact_id;
        let last = state
            .store
            .read(move |c, _| messages::last_incoming_at(c, contact, inbox))
            .await?;
        let closes_at = last.map(|t| t + crate::channels::wechat::REPLY_WINDOW_MS);
        v.reply_window = Some(crate::engine::view::ReplyWindow {
            open: closes_at.is_some_and(|t| t > state.clock.now_ms()),
            closes_at,
        });
    }
    Ok(HttpResponse::Ok().json(v))
}

/// A page size asked for: 1 to 200, 50 when not given (every paged list).
pub(crate) fn page_limit(asked: Option<u32>) -> u32 {
    asked.unwrap_or(50).clamp(1, 200)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Messages with ids below this one.
    pub before: Option<i64>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
}

/// Messages with their attachments as views.
pub(crate) fn message_views(
    conn: &rusqlite::Connection,
    ring: &crate::crypto::Keyring,
    rows: &[messages::MessageRow],
) -> crate::store::Result<Vec<MessageView>> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id.0).collect();
    let atts = attachment_views(conn, ring, &ids)?;
    Ok(rows
        .iter()
        .map(|m| {
            let mine = atts
                .iter()
                .filter(|(mid, _)| *mid == m.id.0)
                .map(|(_, a)| a.clone())
                .collect();
            MessageView::new(m, mine)
        })
        .collect())
}

/// A page of the conversation's history, oldest first.
#[utoipa::path(params(("id" = i64, Path), PageParams), responses((status = 200, body = [MessageView]), (status = 404, body = super::error::ErrorBody)), tag = "conversations")]
#[get("/api/v1/conversations/{id}/messages")]
pub async fn history(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let conv = visible_conversation(&state, &c, path.into_inner()).await?;
    let (before, limit) = (q.before, page_limit(q.limit));
    let v = state
        .store
        .read(move |conn, ring| {
            let rows = messages::page(conn, ring, conv.id, before, limit)?;
            message_views(conn, ring, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    #[serde(default)]
    pub body: String,
    /// A private note for agents; never sent to the customer.
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
    /// User ids to notify.
    #[serde(default)]
    pub mentions: Vec<i64>,
}

/// Reply to the customer (stored with its outbox row) or add a private note.
#[utoipa::path(params(("id" = i64, Path)), request_body = NewMessage, responses((status = 201, body = MessageView), (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/messages")]
pub async fn send(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<NewMessage>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsReply,
    )
    .await?;
    let b = body.into_inner();
    let v = state
        .engine
        .reply(Reply {
            conversation: conv.id,
            author: c.user_id(),
            body: b.body,
            private: b.private,
            attachment_ids: b.attachment_ids,
            mentions: b.mentions,
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Put a failed reply back in the outbox (same idempotency key).
#[utoipa::path(params(("id" = i64, Path), ("mid" = i64, Path)), responses((status = 200, body = MessageView), (status = 409, body = super::error::ErrorBody)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/messages/{mid}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let conv = permitted(&state, &c, id, Permission::ConversationsReply).await?;
    let v = state.engine.resend(conv.id, MessageId(mid), None).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Recall an agent's message (within 2 minutes).
#[utoipa::path(params(("id" = i64, Path), ("mid" = i64, Path)), responses((status = 200, body = MessageView), (status = 409, body = super::error::ErrorBody)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/messages/{mid}/recall")]
pub async fn recall(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let conv = permitted(&state, &c, id, Permission::ConversationsReply).await?;
    let v = state.engine.recall(conv.id, MessageId(mid)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn answer(
    state: &AppState,
    c: &Caller,
    id: ConversationId,
) -> Result<HttpResponse, ApiError> {
    let s = summary(state, c, id.0).await?;
    Ok(HttpResponse::Ok().json(view(state, &s, Sort::Activity)))
}

/// Take an unassigned conversation (409 when someone else already has it).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = ConversationView), (status = 409, body = super::error::ErrorBody)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/claim")]
pub async fn claim(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsReply,
    )
    .await?;
    state.engine.claim(&acting(&c), conv.id).await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// `null` returns it to the queue.
    pub assignee_id: Option<i64>,
}

/// Assign to an agent, or back to the queue (supervisors: `conversations:assign`).
#[utoipa::path(params(("id" = i64, Path)), request_body = AssignRequest, responses((status = 200, body = ConversationView)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsAssign,
    )
    .await?;
    state
        .engine
        .assign(&acting(&c), conv.id, body.into_inner().assignee_id)
        .await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Transfer to an agent or a team with a note; the whole history goes with it.
#[utoipa::path(params(("id" = i64, Path)), request_body = TransferRequest, responses((status = 200, body = ConversationView)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/transfer")]
pub async fn transfer(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = visible_conversation(&state, &c, path.into_inner()).await?;
    let target = format!("conversation:{}", conv.id);
    c.require(&state, Permission::ConversationsReply, &target)
        .await?;
    // Agents transfer what they hold; moving someone else's conversation is assigning.
    if conv.assignee_id != Some(c.user_id()) {
        c.require(&state, Permission::ConversationsAssign, &target)
            .await?;
    }
    let b = body.into_inner();
    state
        .engine
        .transfer(
            &acting(&c),
            conv.id,
            Transfer {
                assignee: b.assignee_id,
                team: b.team_id,
                note: b.note,
            },
        )
        .await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    /// Required for `snoozed`: when it opens again (ms).
    pub snooze_until: Option<i64>,
}

/// Resolve, reopen, set pending or snooze.
#[utoipa::path(params(("id" = i64, Path)), request_body = StatusRequest, responses((status = 200, body = ConversationView)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/status")]
pub async fn set_status(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<StatusRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsReply,
    )
    .await?;
    let b = body.into_inner();
    let s = ConversationStatus::parse(&b.status)
        .ok_or_else(|| ApiError::validation(format!("unknown status {:?}", b.status)))?;
    state
        .engine
        .set_status(&acting(&c), conv.id, s, b.snooze_until)
        .await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelsRequest {
    pub labels: Vec<String>,
}

#[utoipa::path(params(("id" = i64, Path)), request_body = LabelsRequest, responses((status = 200, body = ConversationView)), tag = "conversations")]
#[put("/api/v1/conversations/{id}/labels")]
pub async fn labels(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<LabelsRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsReply,
    )
    .await?;
    state
        .engine
        .set_labels(conv.id, body.into_inner().labels)
        .await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityRequest {
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
}

#[utoipa::path(params(("id" = i64, Path)), request_body = PriorityRequest, responses((status = 200, body = ConversationView)), tag = "conversations")]
#[put("/api/v1/conversations/{id}/priority")]
pub async fn set_priority(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<PriorityRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = permitted(
        &state,
        &c,
        path.into_inner(),
        Permission::ConversationsReply,
    )
    .await?;
    let p = Priority::parse(&body.priority)
        .ok_or_else(|| ApiError::validation(format!("unknown priority {:?}", body.priority)))?;
    state.engine.set_priority(conv.id, p).await?;
    answer(&state, &c, conv.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub message_id: i64,
}

/// Mark the caller's reading position.
#[utoipa::path(params(("id" = i64, Path)), request_body = ReadRequest, responses((status = 204)), tag = "conversations")]
#[post("/api/v1/conversations/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<ReadRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = visible_conversation(&state, &c, path.into_inner()).await?;
    let (me, mid) = (c.user_id(), body.message_id);
    state
        .store
        .write(move |conn, _| conversations::mark_read(conn, me, conv.id, mid))
        .await?;
    // A widget visitor sees that their messages were read.
    state.engine.visitors.wake(conv.contact_id.0);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    pub pinned: bool,
}

/// Pin or unpin for the caller (pinned conversations head every list).
#[utoipa::path(params(("id" = i64, Path)), request_body = PinRequest, responses((status = 204)), tag = "conversations")]
#[put("/api/v1/conversations/{id}/pin")]
pub async fn pin(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<PinRequest>,
) -> Result<HttpResponse, ApiError> {
    let conv = visible_conversation(&state, &c, path.into_inner()).await?;
    let (me, pinned) = (c.user_id(), body.pinned);
    state
        .store
        .write(move |conn, _| conversations::set_pinned(conn, me, conv.id, pinned))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
