//! Sign-in, sign-out, the session, and the one-time setup link for the first administrator.
//!
//! Sign-in answers the same `invalid_credentials`, after the same argon2 work, whether the user
//! name exists or not; lockout counts failures per user name (existing or not), so `account_locked`
//! reveals nothing either. Every attempt is audited.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::caller::{SESSION_COOKIE, Session, audit, secure_cookies, source_ip};
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::auth::{self, password, totp};
use crate::store::audit as audit_log;
use crate::store::identity::{self, NewSession};

/// Longest user name, password and code accepted before any work is done.
const MAX_USERNAME: usize = 64;
const MAX_CODE: usize = 32;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code from the authenticator app, when asked (`totp_required`).
    #[serde(default)]
    pub totp: Option<String>,
    /// A recovery code instead of `totp`.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// A session, as sign-in and `GET /api/v1/auth/session` describe it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub user: SessionUser,
    /// Send as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    /// Only `POST /api/v1/me/password` (and session/logout/me) work until the password is changed.
    pub must_change_password: bool,
    /// Only `/api/v1/me/totp/*` (and session/logout/me) work until two-factor sign-in is set up.
    pub totp_enrolment_required: bool,
    pub idle_timeout_secs: u64,
    /// When the session ends at the latest (ms).
    pub expires_at: i64,
}

impl SessionView {
    pub fn new(s: &Session, state: &AppState) -> Self {
        use super::caller::Restriction;
        SessionView {
            user: SessionUser {
                id: s.user.id,
                username: s.user.username.clone(),
                display_name: s.user.display_name.clone(),
                roles: s.user.roles.clone(),
                permissions: s
                    .grants
                    .permissions
                    .iter()
                    .map(|p| p.as_str().to_string())
                    .collect(),
            },
            csrf_token: s.session.csrf_token.clone(),
            must_change_password: s.restriction == Some(Restriction::PasswordChange),
            totp_enrolment_required: s.restriction == Some(Restriction::TotpEnrolment),
            idle_timeout_secs: state.config.auth.idle_timeout.as_secs(),
            expires_at: s.session.expires_at,
        }
    }
}

fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(state))
        .path("/")
        .finish()
}

fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

/// Why a sign-in failed, for the audit record (never shown to the client).
fn failure(actor: &Actor, reason: &str, outcome: Outcome) -> Entry {
    Entry::new(actor, "auth.login", format!("user:{}", actor.name))
        .outcome(outcome)
        .details(serde_json::json!({ "reason": reason }))
}

/// Count a failed attempt for the name and the address, audit it (and a lockout it causes).
async fn record_failure(
    state: &AppState,
    actor: Actor,
    reason: &'static str,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    state.limiter.fail(&actor.ip, now);
    let max = state.config.auth.max_failures;
    let lockout = state.config.auth.lockout_ms();
    state
        .store
        .write(move |c, ring| {
            let (t, locked) = identity::throttle_fail(c, &actor.name, now, max, lockout)?;
            let e = failure(&actor, reason, Outcome::Failure);
            audit_log::append(
                c,
                ring,
                now,
                &e.details(serde_json::json!({
                    "reason": reason, "failures": t.failures
                })),
            )?;
            if locked {
                let e = Entry::new(&actor, "auth.lockout", format!("user:{}", actor.name)).details(
                    serde_json::json!({
                        "failures": t.failures, "locked_until": t.locked_until
                    }),
                );
                audit_log::append(c, ring, now, &e)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Sign in with user name and password (and the second factor when enrolled).
#[utoipa::path(
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the `atrium_session` cookie", body = SessionView),
        (status = 401, description = "`invalid_credentials`, `totp_required` or `totp_invalid`", body = super::error::ErrorBody),
        (status = 403, description = "`account_disabled`", body = super::error::ErrorBody),
        (status = 423, description = "`account_locked`", body = super::error::ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures from this address", body = super::error::ErrorBody),
    ),
    tag = "auth"
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ip = source_ip(&req, &state);
    let now = state.clock.now_ms();
    let username = body.username.trim().to_string();
    let pw = Zeroizing::new(body.password);
    if username.chars().count() > MAX_USERNAME
        || pw.chars().count() > password::MAX_LENGTH
        || body.totp.as_ref().is_some_and(|c| c.len() > MAX_CODE)
        || body
            .recovery_code
            .as_ref()
            .is_some_and(|c| c.len() > MAX_CODE)
    {
        return Err(ApiError::validation(
            "user name, password or code is too long",
        ));
    }
    let mut actor = Actor {
        id: None,
        name: username.clone(),
        ip: ip.clone(),
    };
    if state.limiter.blocked(&ip, now) {
        let e =
            Entry::new(&actor, "auth.rate_limited", format!("ip:{ip}")).outcome(Outcome::Denied);
        audit(&state, e).await?;
        return Err(ApiError::new(ErrorCode::RateLimited));
    }

    let name = username.clone();
    let (throttle, creds) = state
        .store
        .read(move |c, ring| {
            Ok((
                identity::throttle(c, &name)?,
                identity::credentials_by_name(c, ring, &name)?,
            ))
        })
        .await?;
    if throttle.locked_until.is_some_and(|t| t > now) {
        audit(&state, failure(&actor, "locked", Outcome::Denied)).await?;
        return Err(ApiError::new(ErrorCode::AccountLocked));
    }
    let ok = state
        .hasher
        .verify(pw, creds.as_ref().map(|c| c.password_hash.clone()))
        .await
        .map_err(|e| match e {
            password::Error::Busy => ApiError::new(ErrorCode::RateLimited),
            e => ApiError::internal(e),
        })?;
    let known = creds.is_some();
    let Some(creds) = creds.filter(|_| ok) else {
        let reason = if known {
            "wrong_password"
        } else {
            "unknown_user"
        };
        record_failure(&state, actor, reason).await?;
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    };
    actor.id = Some(creds.id);
    actor.name = creds.username.clone();
    if creds.disabled {
        audit(&state, failure(&actor, "disabled", Outcome::Denied)).await?;
        return Err(ApiError::new(ErrorCode::AccountDisabled));
    }

    // Second factor.
    let mut step = None;
    let mut recovery = None;
    let mut method = "password";
    if let Some(secret) = &creds.totp_secret {
        let secs = u64::try_from(now / 1000).unwrap_or(0);
        match (body.totp.as_deref(), body.recovery_code.as_deref()) {
            (Some(code), _) if !code.trim().is_empty() => {
                match totp::verify(secret, code, secs, creds.totp_last_step) {
                    Some(s) => step = Some(s),
                    None => {
                        record_failure(&state, actor, "totp_invalid").await?;
                        return Err(ApiError::new(ErrorCode::TotpInvalid));
                    }
                }
                method = "password+totp";
            }
            (_, Some(code)) if !code.trim().is_empty() => {
                recovery = Some(auth::recovery_code_digest(state.store.keyring(), code));
                method = "password+recovery_code";
            }
            _ => return Err(ApiError::new(ErrorCode::TotpRequired)),
        }
    }

    let token = auth::new_token();
    let csrf = auth::new_token();
    let lifetime = state.config.auth.session_lifetime_ms();
    let user_agent: String = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect();
    let user_id = creds.id;
    let hash = auth::token_hash(&token);
    let a = actor.clone();
    let created = state
        .store
        .write(move |c, ring| {
            if let Some(d) = &recovery
                && !identity::use_recovery_code(c, user_id, d, now)?
            {
                return Ok(false);
            }
            identity::throttle_clear(c, &a.name)?;
            identity::record_login(c, user_id, now, step)?;
            let sid = identity::create_session(
                c,
                &NewSession {
                    token_hash: &hash,
                    user_id,
                    csrf_token: &csrf,
                    expires_at: now.saturating_add(lifetime),
                    ip: &a.ip,
                    user_agent: &user_agent,
                },
                now,
            )?;
            let e = Entry::new(&a, "auth.login", format!("user:{user_id}"))
                .details(serde_json::json!({ "method": method, "session": sid }));
            audit_log::append(c, ring, now, &e)?;
            Ok(true)
        })
        .await?;
    if !created {
        record_failure(&state, actor, "recovery_code_invalid").await?;
        return Err(ApiError::new(ErrorCode::TotpInvalid));
    }
    let live = super::caller::load(&state, auth::token_hash(&token), ip).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, token))
        .json(SessionView::new(&live, &state)))
}

/// The current session (401 when there is none).
#[utoipa::path(
    responses(
        (status = 200, body = SessionView),
        (status = 401, description = "`unauthorized` or `session_expired`", body = super::error::ErrorBody),
    ),
    tag = "auth"
)]
#[get("/api/v1/auth/session")]
pub async fn session(state: web::Data<AppState>, s: Session) -> HttpResponse {
    HttpResponse::Ok().json(SessionView::new(&s, &state))
}

/// Sign out: end this session and clear the cookie.
#[utoipa::path(
    responses((status = 204, description = "Signed out")),
    tag = "auth"
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(state: web::Data<AppState>, s: Session) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now_ms();
    let (uid, sid, actor) = (s.user_id(), s.id(), s.actor.clone());
    state
        .store
        .write(move |c, ring| {
            identity::revoke_session(c, uid, sid, "logout", now)?;
            let e = Entry::new(&actor, "auth.logout", format!("session:{sid}"));
            audit_log::append(c, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(&state))
        .finish())
}
