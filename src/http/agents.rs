//! Agents' status and load, their routing profile (capacity and skills), and the supervisor's
//! live overview of queues and agents.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::domain::access::Permission;
use crate::engine::agents::AgentView;
use crate::engine::view::ConversationView;
use crate::store::conversations::{self, ListQuery, Sort, View};
use crate::store::{agents, audit as audit_log, identity};

async fn agent_views(state: &AppState) -> Result<Vec<AgentView>, ApiError> {
    Ok(state.engine.agent_views().await?)
}

/// Everyone who can take conversations (for assignment, transfer and @mentions; and for the
/// administrators who set agents' capacity and skills: `conversations:read` or `users:read`).
#[utoipa::path(responses((status = 200, body = [AgentView])), tag = "agents")]
#[get("/api/v1/agents")]
pub async fn list_agents(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require_any(
        &state,
        &[Permission::ConversationsRead, Permission::UsersRead],
        "agents",
    )
    .await?;
    Ok(HttpResponse::Ok().json(agent_views(&state).await?))
}

/// The caller's own agent status, load and capacity.
#[utoipa::path(responses((status = 200, body = AgentView)), tag = "agents")]
#[get("/api/v1/me/agent")]
pub async fn my_agent(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsReply, "agent_status")
        .await?;
    Ok(HttpResponse::Ok().json(agent_view(&state, c.user_id()).await?))
}

/// One agent's view (404 when the user is no agent: disabled, or without
/// `conversations:reply`).
async fn agent_view(state: &AppState, id: i64) -> Result<AgentView, ApiError> {
    agent_views(state)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `online`, `busy`, `away` or `offline`.
    pub status: String,
}

/// Set the caller's status (only `online` agents receive new conversations).
#[utoipa::path(request_body = StatusChange, responses((status = 200, body = AgentView)), tag = "agents")]
#[put("/api/v1/me/agent")]
pub async fn set_status(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsReply, "agent_status")
        .await?;
    let s = body.into_inner().status;
    if !["online", "busy", "away", "offline"].contains(&s.as_str()) {
        return Err(ApiError::validation(
            "status must be online, busy, away or offline",
        ));
    }
    let (me, now) = (c.user_id(), state.clock.now_ms());
    state
        .store
        .write(move |conn, _| agents::set_status(conn, me, &s, now))
        .await?;
    state.engine.agents_changed();
    state.engine.presence_changed([me]);
    Ok(HttpResponse::Ok().json(agent_view(&state, me).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// Conversations at once, 0..=1000.
    pub capacity: u32,
    pub skills: BTreeSet<String>,
}

/// Set an agent's capacity and skills (`users:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = ProfileChange, responses((status = 204)), tag = "agents")]
#[put("/api/v1/agents/{id}")]
pub async fn set_profile(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<ProfileChange>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::UsersWrite, &format!("user:{id}"))
        .await?;
    let b = body.into_inner();
    if b.capacity > 1000
        || b.skills.len() > 50
        || b.skills
            .iter()
            .any(|s| s.trim().is_empty() || s.chars().count() > 40)
    {
        return Err(ApiError::validation(
            "capacity is 0..=1000; at most 50 skills of 1 to 40 characters",
        ));
    }
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    state
        .store
        .write(move |conn, ring| {
            if identity::user(conn, id)?.is_none() {
                return Ok(false);
            }
            agents::set_capacity_skills(conn, id, b.capacity, &b.skills, now)?;
            let e = Entry::new(&actor, "agent.update", format!("user:{id}"))
                .details(serde_json::json!({"capacity": b.capacity, "skills": b.skills}));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?
        .then_some(())
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    state.engine.agents_changed();
    state.engine.presence_changed([id]);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamQueue {
    /// `null` for conversations of inboxes without a team.
    pub id: Option<i64>,
    pub name: String,
    pub queued: usize,
    pub longest_wait_ms: i64,
    pub online_agents: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub teams: Vec<TeamQueue>,
    pub agents: Vec<AgentView>,
    /// Unassigned conversations, longest waiting first (at most 100).
    pub waiting: Vec<ConversationView>,
    /// Assigned conversations whose customer has waited past the reply-time threshold,
    /// longest waiting first (at most 100): candidates for taking over.
    pub overdue: Vec<ConversationView>,
}

/// Live queues per team, agents' states and loads, the longest waits.
#[utoipa::path(responses((status = 200, body = Overview)), tag = "agents")]
#[get("/api/v1/supervisor/overview")]
pub async fn overview(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsAssign, "supervisor")
        .await?;
    let agents = agent_views(&state).await?;
    let (me, scope) = (c.user_id(), c.scope().clone());
    let q = ListQuery {
        view: View::Unassigned,
        status: Some(crate::domain::ConversationStatus::Open),
        inbox: None,
        label: None,
        priority: None,
        sort: Sort::Waiting,
        limit: 1000,
        after: None,
    };
    let all = ListQuery {
        view: View::All,
        ..q.clone()
    };
    let (rows, assigned, teams) = state
        .store
        .read(move |conn, ring| {
            Ok((
                conversations::list(conn, ring, me, &BTreeSet::new(), &scope, &q)?,
                conversations::list(conn, ring, me, &BTreeSet::new(), &scope, &all)?,
                identity::list_teams(conn)?,
            ))
        })
        .await?;
    let now = state.clock.now_ms();
    let mut per: BTreeMap<Option<i64>, (usize, i64)> = BTreeMap::new();
    for s in &rows {
        let e = per.entry(s.row.team_id).or_insert((0, 0));
        e.0 += 1;
        let since = s.row.queued_at.or(s.row.waiting_since).unwrap_or(now);
        e.1 = e.1.max(now - since);
    }
    let mut out: Vec<TeamQueue> = teams
        .iter()
        .map(|t| {
            let (queued, longest) = per.get(&Some(t.id)).copied().unwrap_or((0, 0));
            TeamQueue {
                id: Some(t.id),
                name: t.name.clone(),
                queued,
                longest_wait_ms: longest,
                online_agents: agents
                    .iter()
                    .filter(|a| a.status == "online" && a.teams.contains(&t.id))
                    .count(),
            }
        })
        .collect();
    if let Some((queued, longest)) = per.get(&None) {
        // The team-less queue is served by the members of its inboxes.
        let inboxes: BTreeSet<i64> = rows
            .iter()
            .filter(|s| s.row.team_id.is_none())
            .filter_map(|s| s.row.inbox_id)
            .collect();
        out.push(TeamQueue {
            id: None,
            name: String::new(),
            queued: *queued,
            longest_wait_ms: *longest,
            online_agents: agents
                .iter()
                .filter(|a| a.status == "online" && !a.inboxes.is_disjoint(&inboxes))
                .count(),
        });
    }
    let waiting = rows
        .iter()
        .take(100)
        .map(|s| ConversationView::new(s, state.engine.queue_info(s.row.id.0), Sort::Waiting, true))
        .collect();
    let overdue = assigned
        .iter()
        .filter(|s| s.row.assignee_id.is_some() && s.row.alert.is_some())
        .take(100)
        .map(|s| ConversationView::new(s, None, Sort::Waiting, true))
        .collect();
    Ok(HttpResponse::Ok().json(Overview {
        teams: out,
        agents,
        waiting,
        overdue,
    }))
}
