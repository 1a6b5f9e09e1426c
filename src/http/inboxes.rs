//! Inbox and team settings for the conversation engine: routing, business hours, automatic
//! replies, reply-time thresholds, the API channel's webhook, and the inbox token.

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::channel_api::TOKEN_DOMAIN;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::auth::new_token;
use crate::domain::access::Permission;
use crate::engine::settings::{InboxSettings, TeamSettings};
use crate::store::{audit as audit_log, identity, inboxes};

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxDetail {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub team_id: Option<i64>,
    pub disabled: bool,
    pub settings: InboxSettings,
    /// Where customer systems post messages (API inboxes).
    pub hook_path: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = InboxDetail), (status = 404, body = super::error::ErrorBody)), tag = "inboxes")]
#[get("/api/v1/inboxes/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsRead, &format!("inbox:{id}"))
        .await?;
    let i = state
        .store
        .read(move |conn, ring| inboxes::get(conn, ring, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Ok().json(InboxDetail {
        settings: InboxSettings::parse_stored(i.id, &i.settings),
        hook_path: (i.channel == "api").then(|| format!("/hooks/api/{}/messages", i.id)),
        id: i.id,
        name: i.name,
        channel: i.channel,
        team_id: i.team_id,
        disabled: i.disabled,
        created_at: i.created_at,
        updated_at: i.updated_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInbox {
    pub name: String,
    pub team_id: Option<i64>,
    #[serde(default)]
    pub disabled: bool,
    pub settings: InboxSettings,
}

/// Change an inbox's name, team and settings (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = UpdateInbox, responses((status = 204), (status = 422, body = super::error::ErrorBody)), tag = "inboxes")]
#[put("/api/v1/inboxes/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateInbox>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::ChannelsWrite, &format!("inbox:{id}"))
        .await?;
    let b = body.into_inner();
    let name = b.name.trim().to_string();
    let mut problems = b.settings.validate();
    // A webhook may only point where outbound requests are allowed to go (checked again on
    // every send: names can change what they resolve to).
    if let Err(r) = state
        .channels
        .policy()
        .check_url(&b.settings.webhook.url)
        .await
    {
        problems.push(format!("webhook.url: {r}"));
    }
    if name.is_empty() || name.chars().count() > super::roles::MAX_INBOX_NAME {
        problems.push(format!(
            "name: 1 to {} characters",
            super::roles::MAX_INBOX_NAME
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::validation("invalid inbox settings").with_details(problems));
    }
    let overflow = b.settings.routing.overflow_team_id;
    let settings = serde_json::to_string(&b.settings).map_err(ApiError::internal)?;
    let (now, actor, team, disabled) =
        (state.clock.now_ms(), c.actor.clone(), b.team_id, b.disabled);
    let found = state
        .store
        .write(move |conn, ring| {
            if let Some(t) = overflow
                && !identity::missing_ids(conn, "teams", &[t])?.is_empty()
            {
                return Err(crate::engine::abort(crate::engine::Error::Invalid(
                    format!("routing: overflow_team_id: team {t} does not exist"),
                )));
            }
            if let Some(t) = team
                && !identity::missing_ids(conn, "teams", &[t])?.is_empty()
            {
                return Ok(Some(false));
            }
            if !inboxes::update(conn, id, &name, team, &settings, disabled, now)? {
                return Ok(None);
            }
            let e = Entry::new(&actor, "inbox.update", format!("inbox:{id}"))
                .details(serde_json::json!({"name": name, "team_id": team, "disabled": disabled}));
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(true))
        })
        .await
        .map_err(crate::engine::Error::from)?;
    match found {
        None => return Err(ApiError::new(ErrorCode::NotFound)),
        Some(false) => return Err(ApiError::validation("unknown team id")),
        Some(true) => {}
    }
    state.engine.inbox_changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// A new API token and webhook signing secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxSecrets {
    pub token: String,
    pub webhook_secret: String,
}

/// Create (or replace) an API inbox's token and webhook secret in the same transaction that
/// is given; returns them for showing once.
pub fn issue_secrets(
    conn: &rusqlite::Connection,
    ring: &crate::crypto::Keyring,
    id: i64,
) -> crate::store::Result<InboxSecrets> {
    let s = InboxSecrets {
        token: new_token(),
        webhook_secret: new_token(),
    };
    inboxes::set_token(
        conn,
        id,
        &ring.secret_digest(TOKEN_DOMAIN, s.token.as_bytes()),
    )?;
    inboxes::set_credentials(
        conn,
        ring,
        id,
        &serde_json::json!({ "webhook_secret": s.webhook_secret }).to_string(),
    )?;
    Ok(s)
}

/// Create (or replace) a web inbox's identity secret in the given transaction; returns it for
/// showing once.
pub fn issue_identity_secret(
    conn: &rusqlite::Connection,
    ring: &crate::crypto::Keyring,
    id: i64,
) -> crate::store::Result<String> {
    let secret = new_token();
    inboxes::set_credentials(
        conn,
        ring,
        id,
        &serde_json::json!({ "identity_secret": secret }).to_string(),
    )?;
    Ok(secret)
}

/// A web inbox's new identity secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentitySecret {
    pub identity_secret: String,
}

/// Replace a web inbox's identity secret: signatures made with the old one stop working at
/// once (`channels:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = IdentitySecret), (status = 404, body = super::error::ErrorBody)), tag = "inboxes")]
#[post("/api/v1/inboxes/{id}/identity-secret")]
pub async fn rotate_identity_secret(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let secret = replace_secret(
        &state,
        &c,
        path.into_inner(),
        "web",
        "inbox.identity_secret_rotate",
        issue_identity_secret,
    )
    .await?;
    Ok(HttpResponse::Ok().json(IdentitySecret {
        identity_secret: secret,
    }))
}

/// Replace an API inbox's token and webhook secret (the old ones stop working at once).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = InboxSecrets)), tag = "inboxes")]
#[post("/api/v1/inboxes/{id}/token")]
pub async fn rotate_token(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let secrets = replace_secret(
        &state,
        &c,
        path.into_inner(),
        "api",
        "inbox.token_rotate",
        issue_secrets,
    )
    .await?;
    Ok(HttpResponse::Ok().json(secrets))
}

/// Replace the secrets of inbox `id` of `channel` with `issue` in one audited transaction
/// (`channels:write`); 404 when there is no such inbox of that channel.
async fn replace_secret<T: Send + 'static>(
    state: &AppState,
    c: &Caller,
    id: i64,
    channel: &'static str,
    action: &'static str,
    issue: fn(&rusqlite::Connection, &crate::crypto::Keyring, i64) -> crate::store::Result<T>,
) -> Result<T, ApiError> {
    c.require(state, Permission::ChannelsWrite, &format!("inbox:{id}"))
        .await?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let issued = state
        .store
        .write(move |conn, ring| {
            match inboxes::get(conn, ring, id)? {
                Some(i) if i.channel == channel => {}
                _ => return Ok(None),
            }
            let s = issue(conn, ring, id)?;
            let e = Entry::new(&actor, action, format!("inbox:{id}"));
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(s))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    state.engine.inbox_changed(id);
    Ok(issued)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDetail {
    pub id: i64,
    pub name: String,
    pub settings: TeamSettings,
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = TeamDetail)), tag = "teams")]
#[get("/api/v1/teams/{id}")]
pub async fn get_team(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::TeamsRead, &format!("team:{id}"))
        .await?;
    let t = state
        .store
        .read(|conn, _| inboxes::team_settings(conn))
        .await?
        .into_iter()
        .find(|(tid, _, _)| *tid == id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Ok().json(TeamDetail {
        id,
        name: t.1,
        settings: TeamSettings::parse_stored(id, &t.2),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamSettings {
    pub settings: TeamSettings,
}

/// Set a team's routing policy (`teams:write`; audited).
#[utoipa::path(params(("id" = i64, Path)), request_body = UpdateTeamSettings, responses((status = 204)), tag = "teams")]
#[put("/api/v1/teams/{id}/settings")]
pub async fn update_team(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateTeamSettings>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::TeamsWrite, &format!("team:{id}"))
        .await?;
    let s = body.into_inner().settings;
    let mut problems: Vec<String> = s
        .routing
        .validate()
        .into_iter()
        .map(|e| format!("routing: {e}"))
        .collect();
    if s.routing.overflow_team_id == Some(id) {
        problems.push("routing: overflow_team_id: a team cannot overflow into itself".into());
    }
    if !problems.is_empty() {
        return Err(ApiError::validation("invalid team settings").with_details(problems));
    }
    let overflow = s.routing.overflow_team_id;
    let json = serde_json::to_string(&s).map_err(ApiError::internal)?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let found = state
        .store
        .write(move |conn, ring| {
            if let Some(t) = overflow
                && !identity::missing_ids(conn, "teams", &[t])?.is_empty()
            {
                return Err(crate::engine::abort(crate::engine::Error::Invalid(
                    format!("routing: overflow_team_id: team {t} does not exist"),
                )));
            }
            if let Some(t) = overflow
                && overflow_reaches(conn, t, id)?
            {
                return Err(crate::engine::abort(crate::engine::Error::Invalid(
                    format!(
                        "routing: overflow_team_id: team {t} already overflows back into this team"
                    ),
                )));
            }
            if !inboxes::set_team_settings(conn, id, &json)? {
                return Ok(false);
            }
            let e = Entry::new(&actor, "team.update", format!("team:{id}"))
                .details(serde_json::json!({"settings": "routing"}));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await
        .map_err(crate::engine::Error::from)?;
    if !found {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    state.engine.team_changed(id);
    Ok(HttpResponse::NoContent().finish())
}

/// Whether following overflow teams from `start` arrives at `target` (a cycle if `target`
/// then overflowed into `start`). Stops at the first repeat, so stored cycles cannot hang it.
fn overflow_reaches(
    conn: &rusqlite::Connection,
    start: i64,
    target: i64,
) -> crate::store::Result<bool> {
    let mut seen = std::collections::HashSet::new();
    let mut at = Some(start);
    while let Some(team) = at {
        if team == target {
            return Ok(true);
        }
        if !seen.insert(team) {
            return Ok(false);
        }
        at = inboxes::team_settings_of(conn, team)?
            .map(|s| crate::engine::settings::TeamSettings::parse_stored(team, &s))
            .and_then(|s| s.routing.overflow_team_id);
    }
    Ok(false)
}
