//! Roles and permissions (`roles:*`), teams (`teams:*`), inboxes (`channels:*`) and settings
//! (`settings:*`).

use std::collections::BTreeSet;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::{MAX_NAME, check_roles_separation, roles_by_names};
use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::domain::access::{AdminClass, Permission, check_separation};
use crate::store::audit as audit_log;
use crate::store::identity::{self, RoleRow};

/// A permission and the administrator class it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    pub name: &'static str,
    pub admin_class: Option<AdminClass>,
}

#[utoipa::path(responses((status = 200, body = [PermissionView])), tag = "roles")]
#[get("/api/v1/permissions")]
pub async fn permissions(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::RolesRead, "permissions")
        .await?;
    let v: Vec<PermissionView> = Permission::ALL
        .iter()
        .map(|p| PermissionView {
            name: p.as_str(),
            admin_class: p.admin_class(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(v))
}

/// A role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    pub require_totp: bool,
    pub admin_class: Option<AdminClass>,
    /// Users holding it.
    pub users: i64,
}

impl RoleView {
    fn new(r: &RoleRow) -> Self {
        RoleView {
            id: r.id,
            name: r.name.clone(),
            description: r.description.clone(),
            builtin: r.builtin,
            permissions: r
                .permissions
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            require_totp: r.require_totp,
            admin_class: check_separation(&r.permissions).ok().flatten(),
            users: r.users,
        }
    }
}

#[utoipa::path(responses((status = 200, body = [RoleView])), tag = "roles")]
#[get("/api/v1/roles")]
pub async fn list_roles(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::RolesRead, "roles").await?;
    let roles = state.store.read(|c, _| identity::list_roles(c)).await?;
    Ok(HttpResponse::Ok().json(roles.iter().map(RoleView::new).collect::<Vec<_>>()))
}

fn parse_permissions(names: &[String]) -> Result<BTreeSet<Permission>, ApiError> {
    let mut out = BTreeSet::new();
    let mut unknown = Vec::new();
    for n in names {
        match Permission::parse(n) {
            Some(p) => {
                out.insert(p);
            }
            None => unknown.push(n.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(out)
    } else {
        Err(
            ApiError::validation(format!("unknown permissions: {}", unknown.join(", ")))
                .with_details(unknown),
        )
    }
}

fn valid_role_name(name: &str) -> bool {
    let n = name.chars().count();
    (2..=48).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ' '))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub require_totp: Option<bool>,
}

#[utoipa::path(
    request_body = CreateRole,
    responses((status = 201, body = RoleView), (status = 409, description = "`conflict` or `separation_of_duties`", body = super::error::ErrorBody)),
    tag = "roles"
)]
#[post("/api/v1/roles")]
pub async fn create_role(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<CreateRole>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::RolesWrite, "roles").await?;
    let body = body.into_inner();
    let name = body.name.trim().to_string();
    if !valid_role_name(&name) {
        return Err(ApiError::validation(
            "role name: 2–48 letters, digits, spaces or . _ -",
        ));
    }
    if body.description.chars().count() > 500 {
        return Err(ApiError::validation(
            "description is longer than 500 characters",
        ));
    }
    let perms = parse_permissions(&body.permissions)?;
    let class = check_separation(&perms)
        .map_err(|e| ApiError::with_detail(ErrorCode::SeparationOfDuties, e.to_string()))?;
    let require_totp = body.require_totp.unwrap_or(class.is_some());
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let desc = body.description;
    let n = name.clone();
    let id = state
        .store
        .write(move |conn, ring| {
            if identity::role_by_name(conn, &n)?.is_some() {
                return Ok(None);
            }
            let id = identity::create_role(conn, &n, &desc, &perms, require_totp, now)?;
            let e = Entry::new(&actor, "role.create", format!("role:{id}")).details(
                serde_json::json!({
                    "name": n, "require_totp": require_totp,
                    "permissions": perms.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                }),
            );
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(id))
        })
        .await?;
    let Some(id) = id else {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            format!("a role named {name:?} exists"),
        ));
    };
    let r = state
        .store
        .read(move |c, _| identity::role(c, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Created().json(RoleView::new(&r)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    #[serde(default)]
    pub description: Option<String>,
    /// Custom roles only.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    #[serde(default)]
    pub require_totp: Option<bool>,
}

#[utoipa::path(
    params(("id" = i64, Path)),
    request_body = UpdateRole,
    responses((status = 200, body = RoleView), (status = 409, description = "`separation_of_duties`", body = super::error::ErrorBody)),
    tag = "roles"
)]
#[patch("/api/v1/roles/{id}")]
pub async fn update_role(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateRole>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::RolesWrite, &format!("role:{id}"))
        .await?;
    let body = body.into_inner();
    let role = state
        .store
        .read(move |c, _| identity::role(c, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    if role.builtin && (body.permissions.is_some() || body.description.is_some()) {
        return Err(ApiError::validation(
            "built-in roles keep their permissions and description; only require_totp changes",
        ));
    }
    if body
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        return Err(ApiError::validation(
            "description is longer than 500 characters",
        ));
    }
    let perms = match &body.permissions {
        Some(p) => {
            let p = parse_permissions(p)?;
            check_separation(&p)
                .map_err(|e| ApiError::with_detail(ErrorCode::SeparationOfDuties, e.to_string()))?;
            // Every holder's roles together must still respect the separation.
            let holders = state.store.read(|c, _| identity::list_users(c)).await?;
            let all = state.store.read(|c, _| identity::list_roles(c)).await?;
            for u in holders.iter().filter(|u| u.roles.contains(&role.name)) {
                let mut theirs = roles_by_names(&all, &u.roles)?;
                for r in &mut theirs {
                    if r.id == id {
                        r.permissions = p.clone();
                    }
                }
                check_roles_separation(&theirs)?;
            }
            Some(p)
        }
        None => None,
    };
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let details = serde_json::json!({
        "name": role.name,
        "description": body.description,
        "require_totp": body.require_totp,
        "permissions": perms.as_ref().map(|p| p.iter().map(|x| x.as_str()).collect::<Vec<_>>()),
    });
    state
        .store
        .write(move |conn, ring| {
            identity::update_role(
                conn,
                id,
                body.description.as_deref(),
                body.require_totp,
                now,
            )?;
            if let Some(p) = &perms {
                identity::set_role_permissions(conn, id, p)?;
            }
            let e = Entry::new(&actor, "role.update", format!("role:{id}")).details(details);
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    let r = state
        .store
        .read(move |c, _| identity::role(c, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Ok().json(RoleView::new(&r)))
}

#[utoipa::path(
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "built-in or still held", body = super::error::ErrorBody)),
    tag = "roles"
)]
#[delete("/api/v1/roles/{id}")]
pub async fn delete_role(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::RolesWrite, &format!("role:{id}"))
        .await?;
    let role = state
        .store
        .read(move |c, _| identity::role(c, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    if role.builtin || role.users > 0 {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "built-in roles and roles held by users cannot be deleted",
        ));
    }
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    state
        .store
        .write(move |conn, ring| {
            identity::delete_role(conn, id)?;
            let e = Entry::new(&actor, "role.delete", format!("role:{id}"))
                .details(serde_json::json!({ "name": role.name }));
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- teams and inboxes

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    pub members: i64,
    pub created_at: i64,
}

#[utoipa::path(responses((status = 200, body = [TeamView])), tag = "teams")]
#[get("/api/v1/teams")]
pub async fn list_teams(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::TeamsRead, "teams").await?;
    let teams = state.store.read(|c, _| identity::list_teams(c)).await?;
    let v: Vec<TeamView> = teams
        .into_iter()
        .map(|t| TeamView {
            id: t.id,
            name: t.name,
            members: t.members,
            created_at: t.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamName {
    pub name: String,
}

fn team_name(n: &str) -> Result<String, ApiError> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME {
        return Err(ApiError::validation("team name: 1–100 characters"));
    }
    Ok(n.to_string())
}

#[utoipa::path(request_body = TeamName, responses((status = 201, body = TeamView), (status = 409, body = super::error::ErrorBody)), tag = "teams")]
#[post("/api/v1/teams")]
pub async fn create_team(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<TeamName>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::TeamsWrite, "teams").await?;
    let name = team_name(&body.name)?;
    let (now, actor, n) = (state.clock.now_ms(), c.actor.clone(), name.clone());
    let id = state
        .store
        .write(move |conn, ring| {
            if identity::team_name_taken(conn, &n)? {
                return Ok(None);
            }
            let id = identity::create_team(conn, &n, now)?;
            let e = Entry::new(&actor, "team.create", format!("team:{id}"))
                .details(serde_json::json!({ "name": n }));
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(id))
        })
        .await?;
    match id {
        Some(id) => Ok(HttpResponse::Created().json(TeamView {
            id,
            name,
            members: 0,
            created_at: now,
        })),
        None => Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "a team with this name exists",
        )),
    }
}

#[utoipa::path(params(("id" = i64, Path)), request_body = TeamName, responses((status = 204, description = "Renamed")), tag = "teams")]
#[patch("/api/v1/teams/{id}")]
pub async fn rename_team(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<TeamName>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::TeamsWrite, &format!("team:{id}"))
        .await?;
    let name = team_name(&body.name)?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let found = state
        .store
        .write(move |conn, ring| {
            if !identity::rename_team(conn, id, &name)? {
                return Ok(false);
            }
            let e = Entry::new(&actor, "team.update", format!("team:{id}"))
                .details(serde_json::json!({ "name": name }));
            audit_log::append(conn, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::NotFound))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxView {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub team_id: Option<i64>,
    pub created_at: i64,
    /// A disabled inbox accepts no messages.
    pub disabled: bool,
    /// API inboxes, on creation only: the bearer token for `/hooks/api/{id}/messages`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// API inboxes, on creation only: the key that signs webhook deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    /// Web inboxes, on creation only: the key host sites sign their users' ids with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
}

/// Every inbox (`channels:read`), or for agents (`conversations:read`) the inboxes of their
/// data scope (for the workspace's filters).
#[utoipa::path(responses((status = 200, body = [InboxView])), tag = "inboxes")]
#[get("/api/v1/inboxes")]
pub async fn list_inboxes(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require_any(
        &state,
        &[Permission::ChannelsRead, Permission::ConversationsRead],
        "inboxes",
    )
    .await?;
    let all = c.has(Permission::ChannelsRead);
    let scope = c.scope().clone();
    let rows = state.store.read(|c, _| identity::list_inboxes(c)).await?;
    let v: Vec<InboxView> = rows
        .into_iter()
        .filter(|i| all || scope.allows(Some(i.id), i.team_id))
        .map(|i| InboxView {
            id: i.id,
            name: i.name,
            channel: i.channel,
            team_id: i.team_id,
            created_at: i.created_at,
            disabled: i.disabled,
            token: None,
            webhook_secret: None,
            identity_secret: None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(v))
}

/// Longest inbox name, in characters (creating and editing alike).
pub const MAX_INBOX_NAME: usize = 60;

/// Channel kinds an inbox can be.
pub const CHANNELS: [&str; 8] = [
    "web",
    "api",
    "wechat_mp",
    "miniprogram",
    "wecom_kf",
    "email",
    "sms",
    "phone",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    pub name: String,
    /// One of `web`, `api`, `wechat_mp`, `miniprogram`, `wecom_kf`, `email`, `sms`, `phone`.
    pub channel: String,
    #[serde(default)]
    pub team_id: Option<i64>,
}

#[utoipa::path(request_body = CreateInbox, responses((status = 201, body = InboxView)), tag = "inboxes")]
#[post("/api/v1/inboxes")]
pub async fn create_inbox(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<CreateInbox>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ChannelsWrite, "inboxes")
        .await?;
    let body = body.into_inner();
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_INBOX_NAME {
        return Err(ApiError::validation(format!(
            "name: 1 to {MAX_INBOX_NAME} characters"
        )));
    }
    if !CHANNELS.contains(&body.channel.as_str()) {
        return Err(ApiError::validation(format!(
            "channel must be one of {}",
            CHANNELS.join(", ")
        )));
    }
    if let Some(t) = body.team_id {
        let missing = state
            .store
            .read(move |c, _| identity::missing_ids(c, "teams", &[t]))
            .await?;
        if !missing.is_empty() {
            return Err(ApiError::validation(format!("unknown team id {t}")));
        }
    }
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let (n, ch, team) = (name.clone(), body.channel.clone(), body.team_id);
    let id = state
        .store
        .write(move |conn, ring| {
            let id = identity::create_inbox(conn, &n, &ch, team, now)?;
            // API inboxes get their token and webhook secret now, shown once.
            let secrets = if ch == "api" {
                Some(super::inboxes::issue_secrets(conn, ring, id)?)
            } else {
                None
            };
            // WeChat inboxes get the callback token and key to paste into the console.
            if crate::channels::wechat::is_tencent(&ch) {
                crate::store::inboxes::set_credentials(
                    conn,
                    ring,
                    id,
                    &super::wechat_admin::initial_credentials(),
                )?;
            }
            // Web inboxes get the secret that signs host sites' user ids, shown once.
            let identity = if ch == "web" {
                Some(super::inboxes::issue_identity_secret(conn, ring, id)?)
            } else {
                None
            };
            let e = Entry::new(&actor, "inbox.create", format!("inbox:{id}"))
                .details(serde_json::json!({ "name": n, "channel": ch, "team_id": team }));
            audit_log::append(conn, ring, now, &e)?;
            Ok((id, secrets, identity))
        })
        .await?;
    let (id, secrets, identity_secret) = id;
    Ok(HttpResponse::Created().json(InboxView {
        id,
        name,
        channel: body.channel,
        team_id: body.team_id,
        created_at: now,
        disabled: false,
        token: secrets.as_ref().map(|s| s.token.clone()),
        webhook_secret: secrets.map(|s| s.webhook_secret),
        identity_secret,
    }))
}

// ---------------------------------------------------------------- settings

/// Organisation-wide settings.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct SettingsView {
    pub org_name: String,
    /// `zh-CN` or `en`.
    pub default_locale: String,
}

async fn read_settings(state: &AppState) -> Result<SettingsView, ApiError> {
    let rows = state.store.read(|c, _| identity::settings(c)).await?;
    let get = |k: &str, d: &str| {
        rows.iter()
            .find(|(key, _)| key == k)
            .map_or_else(|| d.to_string(), |(_, v)| v.clone())
    };
    Ok(SettingsView {
        org_name: get("org_name", ""),
        default_locale: get("default_locale", "zh-CN"),
    })
}

#[utoipa::path(responses((status = 200, body = SettingsView)), tag = "settings")]
#[get("/api/v1/settings")]
pub async fn get_settings(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::SettingsRead, "settings")
        .await?;
    Ok(HttpResponse::Ok().json(read_settings(&state).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    #[serde(default)]
    pub org_name: Option<String>,
    #[serde(default)]
    pub default_locale: Option<String>,
}

#[utoipa::path(request_body = UpdateSettings, responses((status = 200, body = SettingsView)), tag = "settings")]
#[patch("/api/v1/settings")]
pub async fn update_settings(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<UpdateSettings>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::SettingsWrite, "settings")
        .await?;
    let body = body.into_inner();
    if body
        .org_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME)
    {
        return Err(ApiError::validation(
            "org_name is longer than 100 characters",
        ));
    }
    if body
        .default_locale
        .as_ref()
        .is_some_and(|l| !matches!(l.as_str(), "zh-CN" | "en"))
    {
        return Err(ApiError::validation("default_locale must be zh-CN or en"));
    }
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    state
        .store
        .write(move |conn, ring| {
            if let Some(n) = &body.org_name {
                identity::set_setting(conn, "org_name", n)?;
            }
            if let Some(l) = &body.default_locale {
                identity::set_setting(conn, "default_locale", l)?;
            }
            let e = Entry::new(&actor, "settings.update", "settings").details(serde_json::json!({
                "org_name": body.org_name, "default_locale": body.default_locale
            }));
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::Ok().json(read_settings(&state).await?))
}
