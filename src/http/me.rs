//! The signed-in user's own account: profile, password, two-factor sign-in, sessions.
//! Password and 2FA changes re-check the current password (or code) on the server.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::admin::UserView;
use super::caller::{Session, audit};
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::{Entry, Outcome};
use crate::auth::{password, totp};
use crate::store::audit as audit_log;
use crate::store::identity;

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub permissions: Vec<String>,
    /// When the password expires (ms); `null` when the policy has no expiry.
    pub password_expires_at: Option<i64>,
    pub password_policy: password::PolicySummary,
}

#[utoipa::path(responses((status = 200, body = MeView)), tag = "me")]
#[get("/api/v1/me")]
pub async fn me(state: web::Data<AppState>, s: Session) -> HttpResponse {
    HttpResponse::Ok().json(MeView {
        user: UserView::new(&s.user, state.clock.now_ms()),
        permissions: s
            .grants
            .permissions
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        password_expires_at: s.password_expires_at,
        password_policy: password::summary(state.config.auth.password_policy),
    })
}

/// Re-authenticate with the current password (401 `reauth_failed`, audited, when wrong).
async fn reauth(
    state: &AppState,
    s: &Session,
    pw: Zeroizing<String>,
    event: &'static str,
) -> Result<(), ApiError> {
    let id = s.user_id();
    let hash = state
        .store
        .read(move |c, ring| Ok(identity::credentials(c, ring, id)?.map(|c| c.password_hash)))
        .await?;
    let ok = state
        .hasher
        .verify(pw, hash)
        .await
        .map_err(ApiError::internal)?;
    if ok {
        return Ok(());
    }
    let e = Entry::new(&s.actor, event, format!("user:{id}"))
        .outcome(Outcome::Failure)
        .details(serde_json::json!({ "reason": "reauth_failed" }));
    audit(state, e).await?;
    Err(ApiError::new(ErrorCode::ReauthFailed))
}

/// Check `new` against the policy and the user's history; 422 `password_policy` with the
/// broken rules in `details`.
pub async fn check_new_password(
    state: &AppState,
    user_id: Option<i64>,
    username: &str,
    new: &Zeroizing<String>,
) -> Result<(), ApiError> {
    let policy = state.config.auth.password_policy;
    let mut broken = password::check(policy, username, new);
    let history = password::summary(policy).history;
    if let Some(id) = user_id
        && history > 0
        && broken.is_empty()
    {
        let old = state
            .store
            .read(move |c, _| identity::password_history(c, id, history))
            .await?;
        if state
            .hasher
            .matches_any(new.clone(), old)
            .await
            .map_err(ApiError::internal)?
        {
            broken.push(password::Rule::Reused);
        }
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::PasswordPolicy)
        .with_details(broken.iter().map(|r| r.as_str().to_string()).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change the own password (re-authenticates with the current one). Other sessions end.
#[utoipa::path(
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "`reauth_failed`", body = super::error::ErrorBody),
        (status = 422, description = "`password_policy`, rules in `details`", body = super::error::ErrorBody),
    ),
    tag = "me"
)]
#[post("/api/v1/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    s: Session,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (current, new) = (
        Zeroizing::new(body.current_password),
        Zeroizing::new(body.new_password),
    );
    reauth(&state, &s, current, "password.change").await?;
    check_new_password(&state, Some(s.user_id()), &s.user.username, &new).await?;
    let hash = state.hasher.hash(new).await.map_err(ApiError::internal)?;
    let now = state.clock.now_ms();
    let (uid, sid, actor) = (s.user_id(), s.id(), s.actor.clone());
    state
        .store
        .write(move |c, ring| {
            identity::set_password(c, uid, &hash, false, now)?;
            let ended = identity::revoke_user_sessions(c, uid, Some(sid), "password_change", now)?;
            let e = Entry::new(&actor, "password.change", format!("user:{uid}"))
                .details(serde_json::json!({ "other_sessions_ended": ended }));
            audit_log::append(c, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordOnly {
    pub password: String,
}

/// A secret to enter into an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32 secret, for typing in.
    pub secret: String,
    /// `otpauth://totp/...`, for the QR code.
    pub otpauth_uri: String,
}

/// Start (or restart) enrolling an authenticator app; confirm with a code next.
#[utoipa::path(
    request_body = PasswordOnly,
    responses((status = 200, body = TotpSetup), (status = 401, description = "`reauth_failed`", body = super::error::ErrorBody)),
    tag = "me"
)]
#[post("/api/v1/me/totp/setup")]
pub async fn totp_setup(
    state: web::Data<AppState>,
    s: Session,
    body: web::Json<PasswordOnly>,
) -> Result<HttpResponse, ApiError> {
    reauth(
        &state,
        &s,
        Zeroizing::new(body.into_inner().password),
        "totp.enrol",
    )
    .await?;
    let secret = totp::new_secret();
    let uri = totp::otpauth_uri(&secret, &s.user.username)
        .ok_or_else(|| ApiError::internal("cannot build otpauth URI"))?;
    let view = TotpSetup {
        secret: totp::base32(&secret),
        otpauth_uri: uri,
    };
    let uid = s.user_id();
    state
        .store
        .write(move |c, ring| identity::set_totp_pending(c, ring, uid, &secret))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeOnly {
    pub code: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

fn digests(state: &AppState, codes: &[String]) -> Vec<Vec<u8>> {
    codes
        .iter()
        .map(|c| crate::auth::recovery_code_digest(state.store.keyring(), c))
        .collect()
}

/// Finish enrolment with a code from the app; returns fresh recovery codes.
#[utoipa::path(
    request_body = CodeOnly,
    responses((status = 200, body = RecoveryCodes), (status = 401, description = "`totp_invalid`", body = super::error::ErrorBody)),
    tag = "me"
)]
#[post("/api/v1/me/totp/confirm")]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    s: Session,
    body: web::Json<CodeOnly>,
) -> Result<HttpResponse, ApiError> {
    let uid = s.user_id();
    let pending = state
        .store
        .read(move |c, ring| identity::totp_pending(c, ring, uid))
        .await?;
    let Some(secret) = pending else {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "start with POST /api/v1/me/totp/setup",
        ));
    };
    let now = state.clock.now_ms();
    let secs = u64::try_from(now / 1000).unwrap_or(0);
    let Some(step) = totp::verify(&secret, &body.code, secs, 0) else {
        let e = Entry::new(&s.actor, "totp.enrol", format!("user:{uid}"))
            .outcome(Outcome::Failure)
            .details(serde_json::json!({ "reason": "totp_invalid" }));
        audit(&state, e).await?;
        return Err(ApiError::new(ErrorCode::TotpInvalid));
    };
    let codes = totp::new_recovery_codes();
    let d = digests(&state, &codes);
    let actor = s.actor.clone();
    state
        .store
        .write(move |c, ring| {
            identity::enable_totp(c, ring, uid, &secret, step)?;
            identity::replace_recovery_codes(c, uid, &d)?;
            audit_log::append(
                c,
                ring,
                now,
                &Entry::new(&actor, "totp.enrol", format!("user:{uid}")),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordAndCode {
    pub password: String,
    pub code: String,
}

/// Check the current password and a fresh TOTP code; returns the accepted step.
async fn reauth_with_code(
    state: &AppState,
    s: &Session,
    body: PasswordAndCode,
    event: &'static str,
) -> Result<i64, ApiError> {
    reauth(state, s, Zeroizing::new(body.password), event).await?;
    let uid = s.user_id();
    let creds = state
        .store
        .read(move |c, ring| identity::credentials(c, ring, uid))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let Some(secret) = creds.totp_secret else {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "two-factor sign-in is not enabled",
        ));
    };
    let secs = u64::try_from(state.clock.now_ms() / 1000).unwrap_or(0);
    match totp::verify(&secret, &body.code, secs, creds.totp_last_step) {
        Some(step) => Ok(step),
        None => {
            let e = Entry::new(&s.actor, event, format!("user:{uid}"))
                .outcome(Outcome::Failure)
                .details(serde_json::json!({ "reason": "totp_invalid" }));
            audit(state, e).await?;
            Err(ApiError::new(ErrorCode::ReauthFailed))
        }
    }
}

/// Turn two-factor sign-in off (refused when a role requires it).
#[utoipa::path(
    request_body = PasswordAndCode,
    responses((status = 204, description = "Disabled"), (status = 403, description = "`totp_required_by_role`", body = super::error::ErrorBody)),
    tag = "me"
)]
#[post("/api/v1/me/totp/disable")]
pub async fn totp_disable(
    state: web::Data<AppState>,
    s: Session,
    body: web::Json<PasswordAndCode>,
) -> Result<HttpResponse, ApiError> {
    if s.grants.require_totp {
        return Err(ApiError::new(ErrorCode::TotpRequiredByRole));
    }
    reauth_with_code(&state, &s, body.into_inner(), "totp.disable").await?;
    let (uid, actor, now) = (s.user_id(), s.actor.clone(), state.clock.now_ms());
    state
        .store
        .write(move |c, ring| {
            identity::disable_totp(c, uid)?;
            audit_log::append(
                c,
                ring,
                now,
                &Entry::new(&actor, "totp.disable", format!("user:{uid}")),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the recovery codes (the old ones stop working).
#[utoipa::path(
    request_body = PasswordAndCode,
    responses((status = 200, body = RecoveryCodes)),
    tag = "me"
)]
#[post("/api/v1/me/totp/recovery-codes")]
pub async fn recovery_codes(
    state: web::Data<AppState>,
    s: Session,
    body: web::Json<PasswordAndCode>,
) -> Result<HttpResponse, ApiError> {
    let step = reauth_with_code(&state, &s, body.into_inner(), "totp.recovery_codes").await?;
    let codes = totp::new_recovery_codes();
    let d = digests(&state, &codes);
    let (uid, actor, now) = (s.user_id(), s.actor.clone(), state.clock.now_ms());
    state
        .store
        .write(move |c, ring| {
            identity::set_totp_last_step(c, uid, step)?;
            identity::replace_recovery_codes(c, uid, &d)?;
            let e = Entry::new(&actor, "totp.recovery_codes", format!("user:{uid}"));
            audit_log::append(c, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// One of the caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// The session making this request.
    pub current: bool,
}

#[utoipa::path(responses((status = 200, body = [SessionInfo])), tag = "me")]
#[get("/api/v1/me/sessions")]
pub async fn sessions(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, ApiError> {
    let (uid, now) = (s.user_id(), state.clock.now_ms());
    let idle = state.config.auth.idle_timeout_ms();
    let rows = state
        .store
        .read(move |c, _| identity::live_sessions(c, uid, now, idle))
        .await?;
    let view: Vec<SessionInfo> = rows
        .into_iter()
        .map(|r| SessionInfo {
            current: r.id == s.id(),
            id: r.id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
        .collect();
    Ok(HttpResponse::Ok().json(view))
}

/// End one of the caller's sessions.
#[utoipa::path(
    params(("id" = i64, Path, description = "Session id")),
    responses((status = 204, description = "Ended"), (status = 404, body = super::error::ErrorBody)),
    tag = "me"
)]
#[delete("/api/v1/me/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    s: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (uid, sid, actor, now) = (
        s.user_id(),
        path.into_inner(),
        s.actor.clone(),
        state.clock.now_ms(),
    );
    let done = state
        .store
        .write(move |c, ring| {
            if !identity::revoke_session(c, uid, sid, "revoked_by_user", now)? {
                return Ok(false);
            }
            let e = Entry::new(&actor, "auth.session_revoked", format!("session:{sid}"));
            audit_log::append(c, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if done {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::NotFound))
    }
}
