//! User management (`users:*`) and the one-time setup of the first administrator.
//!
//! Separation of duties is enforced here, on the server: a user's roles together may carry at
//! most one administrator class; roles with administrator permissions are given or taken only by
//! a holder of `roles:assign_admin` (the security administrator); nobody changes their own roles;
//! and only the security administrator manages accounts of the security and audit classes, so a
//! system administrator cannot take over the auditor's account by resetting its password.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::caller::{Caller, audit, source_ip};
use super::error::{ApiError, ErrorCode};
use super::me::check_new_password;
use crate::app::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::auth::{self, password};
use crate::domain::access::{AdminClass, Permission, check_separation};
use crate::store::audit as audit_log;
use crate::store::identity::{self, NewUser, RoleRow, UserRow};

/// A user account as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub teams: Vec<i64>,
    pub inboxes: Vec<i64>,
    pub disabled: bool,
    /// Locked by failed sign-ins right now.
    pub locked: bool,
    pub totp_enabled: bool,
    pub must_change_password: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

impl UserView {
    pub fn new(u: &UserRow, now: i64) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            teams: u.teams.clone(),
            inboxes: u.inboxes.clone(),
            disabled: u.disabled,
            locked: u.locked_until.is_some_and(|t| t > now),
            totp_enabled: u.totp_enabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// Longest display name, team and role name.
pub const MAX_NAME: usize = 100;

/// Trimmed user name and display name of a new account, or 422 naming the problem.
fn new_account_names(username: &str, display: Option<&str>) -> Result<(String, String), ApiError> {
    let username = username.trim().to_string();
    if !auth::valid_username(&username) {
        return Err(ApiError::validation(
            "user name: 2–64 letters, digits or . _ - @",
        ));
    }
    let display = display.unwrap_or_default().trim().to_string();
    if display.chars().count() > MAX_NAME {
        return Err(ApiError::validation(
            "display_name is longer than 100 characters",
        ));
    }
    Ok((username, display))
}

/// Resolve role names; 422 naming unknown ones.
pub fn roles_by_names(all: &[RoleRow], names: &[String]) -> Result<Vec<RoleRow>, ApiError> {
    let mut out = Vec::new();
    for n in names {
        match all.iter().find(|r| r.name.eq_ignore_ascii_case(n)) {
            Some(r) => out.push(r.clone()),
            None => return Err(ApiError::validation(format!("unknown role {n:?}"))),
        }
    }
    Ok(out)
}

fn classes_of(roles: &[RoleRow]) -> BTreeSet<AdminClass> {
    roles
        .iter()
        .flat_map(|r| r.permissions.iter().filter_map(|p| p.admin_class()))
        .collect()
}

/// 409 `separation_of_duties` when the roles together span two administrator classes.
pub fn check_roles_separation(roles: &[RoleRow]) -> Result<(), ApiError> {
    let perms: Vec<Permission> = roles
        .iter()
        .flat_map(|r| r.permissions.iter().copied())
        .collect();
    check_separation(&perms)
        .map(|_| ())
        .map_err(|e| ApiError::with_detail(ErrorCode::SeparationOfDuties, e.to_string()))
}

async fn load_roles(state: &AppState) -> Result<Vec<RoleRow>, ApiError> {
    Ok(state.store.read(|c, _| identity::list_roles(c)).await?)
}

async fn load_user(state: &AppState, id: i64) -> Result<UserRow, ApiError> {
    state
        .store
        .read(move |c, _| identity::user(c, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}

async fn check_ids(state: &AppState, table: &'static str, ids: &[i64]) -> Result<(), ApiError> {
    let ids = ids.to_vec();
    let missing = state
        .store
        .read(move |c, _| identity::missing_ids(c, table, &ids))
        .await?;
    match missing.first() {
        None => Ok(()),
        Some(id) => Err(ApiError::validation(format!(
            "unknown {} id {id}",
            &table[..table.len() - 1]
        ))),
    }
}

#[utoipa::path(responses((status = 200, body = [UserView])), tag = "users")]
#[get("/api/v1/users")]
pub async fn list_users(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::UsersRead, "users").await?;
    let now = state.clock.now_ms();
    let users = state.store.read(|c, _| identity::list_users(c)).await?;
    let v: Vec<UserView> = users.iter().map(|u| UserView::new(u, now)).collect();
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = UserView), (status = 404, body = super::error::ErrorBody)), tag = "users")]
#[get("/api/v1/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(&state, Permission::UsersRead, &format!("user:{id}"))
        .await?;
    let u = load_user(&state, id).await?;
    Ok(HttpResponse::Ok().json(UserView::new(&u, state.clock.now_ms())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub teams: Vec<i64>,
    #[serde(default)]
    pub inboxes: Vec<i64>,
}

/// A new account and its one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    /// Shown once; the user must change it at first sign-in.
    pub initial_password: String,
}

/// 403 (audited) unless the caller may give or take these roles.
async fn check_role_change(
    state: &AppState,
    c: &Caller,
    target: &str,
    changed: &[RoleRow],
) -> Result<(), ApiError> {
    if classes_of(changed).is_empty() {
        if c.has(Permission::UsersWrite) || c.has(Permission::RolesAssignAdmin) {
            return Ok(());
        }
        return c.require(state, Permission::UsersWrite, target).await;
    }
    c.require(state, Permission::RolesAssignAdmin, target).await
}

#[utoipa::path(
    request_body = CreateUser,
    responses(
        (status = 201, body = CreatedUser),
        (status = 409, description = "`conflict` (name taken) or `separation_of_duties`", body = super::error::ErrorBody),
        (status = 422, description = "`validation_failed`", body = super::error::ErrorBody),
    ),
    tag = "users"
)]
#[post("/api/v1/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::UsersWrite, "users").await?;
    let body = body.into_inner();
    let (username, display) = new_account_names(&body.username, body.display_name.as_deref())?;
    let all = load_roles(&state).await?;
    let roles = roles_by_names(&all, &body.roles)?;
    check_roles_separation(&roles)?;
    check_role_change(&state, &c, &format!("user:{username}"), &roles).await?;
    check_ids(&state, "teams", &body.teams).await?;
    check_ids(&state, "inboxes", &body.inboxes).await?;

    let initial = password::generate_password();
    let hash = state
        .hasher
        .hash(Zeroizing::new(initial.clone()))
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now_ms();
    let actor = c.actor.clone();
    let role_ids: Vec<i64> = roles.iter().map(|r| r.id).collect();
    let role_names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    let (teams, inboxes) = (body.teams, body.inboxes);
    let name = username.clone();
    let id = state
        .store
        .write(move |conn, ring| {
            if identity::user_id_by_name(conn, &name)?.is_some() {
                return Ok(None);
            }
            let id = identity::create_user(
                conn,
                &NewUser {
                    username: &name,
                    display_name: &display,
                    password_hash: &hash,
                    must_change_password: true,
                    role_ids: &role_ids,
                },
                now,
            )?;
            identity::set_user_teams(conn, id, &teams)?;
            identity::set_user_inboxes(conn, id, &inboxes)?;
            let e = Entry::new(&actor, "user.create", format!("user:{id}")).details(
                serde_json::json!({
                    "username": name, "roles": role_names, "teams": teams, "inboxes": inboxes
                }),
            );
            audit_log::append(conn, ring, now, &e)?;
            Ok(Some(id))
        })
        .await?;
    let Some(id) = id else {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            format!("the user name {username:?} is taken"),
        ));
    };
    let u = load_user(&state, id).await?;
    state.engine.agents_changed();
    Ok(HttpResponse::Created().json(CreatedUser {
        user: UserView::new(&u, now),
        initial_password: initial,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default)]
    pub display_name: Option<String>,
    /// Role names (replaces all).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub teams: Option<Vec<i64>>,
    #[serde(default)]
    pub inboxes: Option<Vec<i64>>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Whether the target holds security- or audit-class roles (only the security administrator
/// manages those accounts).
fn needs_security_admin(target_roles: &[RoleRow]) -> bool {
    classes_of(target_roles)
        .iter()
        .any(|c| matches!(c, AdminClass::Security | AdminClass::Audit))
}

/// Check the caller may manage the target account at all (not themselves, and the class rule).
async fn check_manage(
    state: &AppState,
    c: &Caller,
    target: &UserRow,
    all: &[RoleRow],
) -> Result<(), ApiError> {
    let t = format!("user:{}", target.id);
    if target.id == c.user_id() {
        let e = Entry::new(&c.actor, "access.denied", t.clone())
            .outcome(Outcome::Denied)
            .details(serde_json::json!({ "reason": "self_administration" }));
        audit(state, e).await?;
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            "use your profile for your own account; administrators cannot change their own roles or status",
        ));
    }
    let held = roles_by_names(all, &target.roles)?;
    if needs_security_admin(&held) {
        c.require(state, Permission::RolesAssignAdmin, &t).await
    } else {
        c.require(state, Permission::UsersWrite, &t).await
    }
}

#[utoipa::path(
    params(("id" = i64, Path)),
    request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 409, description = "`separation_of_duties`", body = super::error::ErrorBody)),
    tag = "users"
)]
#[patch("/api/v1/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let target = format!("user:{id}");
    if !(c.has(Permission::UsersWrite) || c.has(Permission::RolesAssignAdmin)) {
        c.require(&state, Permission::UsersWrite, &target).await?;
    }
    let user = load_user(&state, id).await?;
    let all = load_roles(&state).await?;
    let other_fields = body.display_name.is_some()
        || body.teams.is_some()
        || body.inboxes.is_some()
        || body.disabled.is_some();
    if other_fields || user.id == c.user_id() {
        check_manage(&state, &c, &user, &all).await?;
    }
    let mut new_roles = None;
    if let Some(names) = &body.roles {
        let wanted = roles_by_names(&all, names)?;
        check_roles_separation(&wanted)?;
        let held = roles_by_names(&all, &user.roles)?;
        let changed: Vec<RoleRow> = wanted
            .iter()
            .filter(|r| !held.iter().any(|h| h.id == r.id))
            .chain(held.iter().filter(|h| !wanted.iter().any(|r| r.id == h.id)))
            .cloned()
            .collect();
        check_role_change(&state, &c, &target, &changed).await?;
        new_roles = Some(wanted);
    }
    if let Some(d) = &body.display_name
        && d.chars().count() > MAX_NAME
    {
        return Err(ApiError::validation(
            "display_name is longer than 100 characters",
        ));
    }
    if let Some(t) = &body.teams {
        check_ids(&state, "teams", t).await?;
    }
    if let Some(i) = &body.inboxes {
        check_ids(&state, "inboxes", i).await?;
    }
    let now = state.clock.now_ms();
    let actor = c.actor.clone();
    let details = serde_json::json!({
        "display_name": body.display_name,
        "roles": new_roles.as_ref().map(|r| r.iter().map(|x| x.name.clone()).collect::<Vec<_>>()),
        "teams": body.teams,
        "inboxes": body.inboxes,
        "disabled": body.disabled,
    });
    state
        .store
        .write(move |conn, ring| {
            identity::update_user(conn, id, body.display_name.as_deref(), body.disabled, now)?;
            if let Some(r) = &new_roles {
                let ids: Vec<i64> = r.iter().map(|x| x.id).collect();
                identity::set_user_roles(conn, id, &ids)?;
            }
            if let Some(t) = &body.teams {
                identity::set_user_teams(conn, id, t)?;
            }
            if let Some(i) = &body.inboxes {
                identity::set_user_inboxes(conn, id, i)?;
            }
            if body.disabled == Some(true) {
                identity::revoke_user_sessions(conn, id, None, "disabled", now)?;
            }
            let e = Entry::new(&actor, "user.update", format!("user:{id}")).details(details);
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    let u = load_user(&state, id).await?;
    state.engine.agents_changed();
    Ok(HttpResponse::Ok().json(UserView::new(&u, now)))
}

/// A generated password, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewPassword {
    pub password: String,
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = NewPassword)), tag = "users")]
#[post("/api/v1/users/{id}/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let user = load_user(&state, id).await?;
    let all = load_roles(&state).await?;
    check_manage(&state, &c, &user, &all).await?;
    let pw = password::generate_password();
    let hash = state
        .hasher
        .hash(Zeroizing::new(pw.clone()))
        .await
        .map_err(ApiError::internal)?;
    let (now, actor, name) = (state.clock.now_ms(), c.actor.clone(), user.username.clone());
    state
        .store
        .write(move |conn, ring| {
            identity::set_password(conn, id, &hash, true, now)?;
            identity::revoke_user_sessions(conn, id, None, "password_reset", now)?;
            identity::throttle_clear(conn, &name)?;
            audit_log::append(
                conn,
                ring,
                now,
                &Entry::new(&actor, "password.reset", format!("user:{id}")),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(NewPassword { password: pw }))
}

/// The simple account actions: unlock, force logout, reset 2FA.
async fn account_action(
    state: &AppState,
    c: &Caller,
    id: i64,
    event: &'static str,
) -> Result<HttpResponse, ApiError> {
    let user = load_user(state, id).await?;
    let all = load_roles(state).await?;
    check_manage(state, c, &user, &all).await?;
    let (now, actor, name) = (state.clock.now_ms(), c.actor.clone(), user.username.clone());
    state
        .store
        .write(move |conn, ring| {
            let mut details = serde_json::json!({});
            match event {
                "user.unlock" => identity::throttle_clear(conn, &name)?,
                "user.logout_forced" => {
                    let n = identity::revoke_user_sessions(conn, id, None, "forced_logout", now)?;
                    details = serde_json::json!({ "sessions_ended": n });
                }
                _ => {
                    identity::disable_totp(conn, id)?;
                    identity::revoke_user_sessions(conn, id, None, "totp_reset", now)?;
                }
            }
            let e = Entry::new(&actor, event, format!("user:{id}")).details(details);
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 204, description = "Unlocked")), tag = "users")]
#[post("/api/v1/users/{id}/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    account_action(&state, &c, path.into_inner(), "user.unlock").await
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 204, description = "Every session of the user ended")), tag = "users")]
#[post("/api/v1/users/{id}/logout")]
pub async fn force_logout(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    account_action(&state, &c, path.into_inner(), "user.logout_forced").await
}

#[utoipa::path(params(("id" = i64, Path)), responses((status = 204, description = "2FA removed; the user enrols again")), tag = "users")]
#[post("/api/v1/users/{id}/reset-totp")]
pub async fn reset_totp(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    account_action(&state, &c, path.into_inner(), "totp.reset").await
}

// ---------------------------------------------------------------- first-run setup

/// How long a setup link lives.
pub const SETUP_TTL_MS: i64 = 3_600_000;

/// When no administrator exists, make a fresh one-time setup token (the caller logs the link).
/// Returns `None` when an administrator exists.
pub fn offer_setup(store: &crate::store::Store) -> crate::store::Result<Option<String>> {
    if store.read_blocking(|c, _| identity::has_administrator(c))? {
        return Ok(None);
    }
    let token = auth::new_token();
    let digest = auth::setup_token_digest(store.keyring(), &token);
    let now = store.now_ms();
    store.write_blocking(move |c, ring| {
        identity::create_setup_token(c, &digest, now, now + SETUP_TTL_MS)?;
        let e = Entry::new(&Actor::system(), "auth.setup", "setup_link")
            .details(serde_json::json!({ "expires_at": now + SETUP_TTL_MS, "issued": true }));
        audit_log::append(c, ring, now, &e)
    })?;
    Ok(Some(token))
}

/// A live setup link.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupInfo {
    pub expires_at: i64,
}

#[utoipa::path(
    params(("token" = String, Path)),
    responses((status = 200, body = SetupInfo), (status = 404, description = "`setup_token_invalid`", body = super::error::ErrorBody)),
    tag = "auth"
)]
#[get("/api/v1/setup/{token}")]
pub async fn setup_info(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let digest = auth::setup_token_digest(state.store.keyring(), &path.into_inner());
    let now = state.clock.now_ms();
    let exp = state
        .store
        .read(move |c, _| identity::setup_token_expiry(c, &digest, now))
        .await?;
    match exp {
        Some(expires_at) => Ok(HttpResponse::Ok().json(SetupInfo { expires_at })),
        None => Err(ApiError::new(ErrorCode::SetupTokenInvalid)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    pub token: String,
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub password: String,
}

/// The first administrator's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupDone {
    pub id: i64,
    pub username: String,
}

/// Create the first system administrator with the one-time link's token.
#[utoipa::path(
    request_body = Setup,
    responses(
        (status = 201, body = SetupDone),
        (status = 404, description = "`setup_token_invalid`", body = super::error::ErrorBody),
        (status = 422, description = "`password_policy` or `validation_failed`", body = super::error::ErrorBody),
    ),
    tag = "auth"
)]
#[post("/api/v1/setup")]
pub async fn setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<Setup>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let digest = auth::setup_token_digest(state.store.keyring(), &body.token);
    let now = state.clock.now_ms();
    let d = digest.clone();
    let live = state
        .store
        .read(move |c, _| identity::setup_token_expiry(c, &d, now))
        .await?;
    if live.is_none() {
        return Err(ApiError::new(ErrorCode::SetupTokenInvalid));
    }
    let (username, display) = new_account_names(&body.username, body.display_name.as_deref())?;
    let pw = Zeroizing::new(body.password);
    check_new_password(&state, None, &username, &pw).await?;
    let hash = state.hasher.hash(pw).await.map_err(ApiError::internal)?;
    let actor = Actor {
        id: None,
        name: username.clone(),
        ip: source_ip(&req, &state),
    };
    let name = username.clone();
    let id = state
        .store
        .write(move |c, ring| {
            if identity::has_administrator(c)? || !identity::use_setup_token(c, &digest, now)? {
                return Ok(None);
            }
            if identity::user_id_by_name(c, &name)?.is_some() {
                return Ok(None);
            }
            let role =
                identity::role_by_name(c, "sysadmin")?.ok_or(crate::store::Error::Integrity {
                    path: "roles".into(),
                    detail: "built-in role sysadmin missing".into(),
                })?;
            let id = identity::create_user(
                c,
                &NewUser {
                    username: &name,
                    display_name: &display,
                    password_hash: &hash,
                    must_change_password: false,
                    role_ids: &[role.id],
                },
                now,
            )?;
            let mut a = actor.clone();
            a.id = Some(id);
            let e = Entry::new(&a, "user.create", format!("user:{id}")).details(
                serde_json::json!({ "username": name, "roles": ["sysadmin"], "via": "setup_link" }),
            );
            audit_log::append(c, ring, now, &e)?;
            Ok(Some(id))
        })
        .await?;
    match id {
        Some(id) => Ok(HttpResponse::Created().json(SetupDone { id, username })),
        None => Err(ApiError::new(ErrorCode::SetupTokenInvalid)),
    }
}
