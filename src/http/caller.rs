//! Who is calling: the session extractors, CSRF, permission and scope checks.
//!
//! [`Session`] accepts any live session, including one that must first change its password or
//! enrol a second factor (the few routes that let them do so use it). [`Caller`] is what every
//! other route takes: it refuses restricted sessions. Identity comes only from the session
//! cookie; headers such as `X-Forwarded-User` are never trusted (their presence is audited).
//! A state-changing request must carry the session's CSRF token in `X-CSRF-Token`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::auth::{password, token_hash};
use crate::domain::access::{Permission, Scope};
use crate::store::identity::{self, Grants, SessionRow, UserRow};

pub const SESSION_COOKIE: &str = "atrium_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Headers some proxies use to pass an authenticated user. Atrium never trusts them.
const IDENTITY_HEADERS: [&str; 5] = [
    "x-forwarded-user",
    "x-remote-user",
    "remote-user",
    "x-auth-user",
    "x-webauth-user",
];

/// What a session may do before it does something else first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    PasswordChange,
    TotpEnrolment,
}

/// The client's address: the TCP peer, or — only when `http.behind_tls_proxy` is set — the
/// last address the proxy appended to `X-Forwarded-For`.
pub fn source_ip(req: &HttpRequest, state: &AppState) -> String {
    if state.config.http.behind_tls_proxy
        && let Some(v) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(last) = v.rsplit(',').next().map(str::trim)
        && last.parse::<std::net::IpAddr>().is_ok()
    {
        return last.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Whether the session cookie must be `Secure`.
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.tls.is_some() || state.config.http.behind_tls_proxy
}

/// Append an audit record on its own (for events that are not part of another write).
pub async fn audit(state: &AppState, entry: Entry) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    state
        .store
        .write(move |c, ring| crate::store::audit::append(c, ring, now, &entry).map(|_| ()))
        .await?;
    Ok(())
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub session: SessionRow,
    pub user: UserRow,
    pub grants: Grants,
    pub actor: Actor,
    pub restriction: Option<Restriction>,
    pub password_expires_at: Option<i64>,
}

impl Session {
    pub fn id(&self) -> i64 {
        self.session.id
    }

    pub fn user_id(&self) -> i64 {
        self.user.id
    }
}

/// A session allowed to use the whole API (within its permissions).
#[derive(Debug, Clone)]
pub struct Caller(pub Session);

impl std::ops::Deref for Caller {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl Session {
    pub fn has(&self, p: Permission) -> bool {
        self.grants.permissions.contains(&p)
    }

    pub fn scope(&self) -> &Scope {
        &self.grants.scope
    }

    /// Refuse (403, audited) unless the caller holds `p`.
    pub async fn require(
        &self,
        state: &AppState,
        p: Permission,
        target: &str,
    ) -> Result<(), ApiError> {
        if self.has(p) {
            return Ok(());
        }
        let e = Entry::new(&self.actor, "access.denied", target)
            .outcome(Outcome::Denied)
            .details(serde_json::json!({ "missing_permission": p.as_str() }));
        audit(state, e).await?;
        Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            format!("this needs the {p} permission"),
        ))
    }

    /// Refuse (403, audited) unless the caller holds at least one of `any`.
    pub async fn require_any(
        &self,
        state: &AppState,
        any: &[Permission],
        target: &str,
    ) -> Result<(), ApiError> {
        match any {
            [] => Ok(()),
            _ if any.iter().any(|p| self.has(*p)) => Ok(()),
            [only] => self.require(state, *only, target).await,
            _ => {
                let names: Vec<&str> = any.iter().map(|p| p.as_str()).collect();
                let e = Entry::new(&self.actor, "access.denied", target)
                    .outcome(Outcome::Denied)
                    .details(serde_json::json!({ "missing_any_of": names }));
                audit(state, e).await?;
                Err(ApiError::with_detail(
                    ErrorCode::Forbidden,
                    format!("this needs one of the permissions {}", names.join(", ")),
                ))
            }
        }
    }

    /// Refuse (404, like a missing id, audited) an object outside the caller's scope.
    pub async fn deny_out_of_scope(&self, state: &AppState, target: &str) -> ApiError {
        let e = Entry::new(&self.actor, "access.denied", target)
            .outcome(Outcome::Denied)
            .details(serde_json::json!({ "reason": "out_of_scope" }));
        match audit(state, e).await {
            Ok(()) => ApiError::new(ErrorCode::NotFound),
            Err(e) => e,
        }
    }
}

fn unauthorized(expired: bool) -> ApiError {
    ApiError::new(if expired {
        ErrorCode::SessionExpired
    } else {
        ErrorCode::Unauthorized
    })
}

/// Resolve the session of a request: cookie → live session → user, grants, restriction; CSRF
/// check for state-changing methods; refresh `last_seen_at` now and then.
async fn resolve(req: HttpRequest) -> Result<Session, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let ip = source_ip(&req, &state);
    if let Some(h) = IDENTITY_HEADERS
        .iter()
        .find(|h| req.headers().contains_key(**h))
    {
        tracing::warn!(header = h, ip = %ip, "identity header ignored");
        let actor = Actor {
            id: None,
            name: "anonymous".into(),
            ip: ip.clone(),
        };
        let e = Entry::new(&actor, "auth.identity_header_ignored", *h).outcome(Outcome::Denied);
        audit(&state, e).await?;
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Err(unauthorized(false));
    };
    let mut session = load(&state, token_hash(cookie.value()), ip).await?;
    let (actor, now) = (session.actor.clone(), state.clock.now_ms());
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(session.session.csrf_token.as_bytes())) {
            let e = Entry::new(&actor, "auth.csrf_failed", req.path().to_string())
                .outcome(Outcome::Denied)
                .details(serde_json::json!({ "method": req.method().as_str() }));
            audit(&state, e).await?;
            return Err(ApiError::new(ErrorCode::CsrfFailed));
        }
    }

    // Refresh the idle clock, at most a few times per idle period (not every request).
    let idle_ms = state.config.auth.idle_timeout_ms();
    let refresh_after = (idle_ms / 4).min(30_000);
    if now - session.session.last_seen_at >= refresh_after {
        let id = session.session.id;
        session.session.last_seen_at = now;
        let store = state.store.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = store
                .write(move |c, _| identity::touch_session(c, id, now))
                .await
            {
                tracing::warn!(error = %e, "cannot refresh session activity");
            }
        });
    }
    Ok(session)
}

/// Load the live session whose token hashes to `hash`: 401 `session_expired` when it is
/// unknown, revoked, idle too long, past its lifetime, or its user is disabled.
pub async fn load(state: &AppState, hash: Vec<u8>, ip: String) -> Result<Session, ApiError> {
    let now = state.clock.now_ms();
    let found = state
        .store
        .read(move |c, _| {
            let Some(s) = identity::session_by_token(c, &hash)? else {
                return Ok(None);
            };
            let Some(u) = identity::user(c, s.user_id)? else {
                return Ok(None);
            };
            let g = identity::grants(c, &u)?;
            Ok(Some((s, u, g)))
        })
        .await?;
    let Some((session, user, grants)) = found else {
        return Err(unauthorized(true));
    };
    let auth = &state.config.auth;
    let idle_ms = auth.idle_timeout_ms();
    if session.revoked || session.expires_at <= now || now - session.last_seen_at >= idle_ms {
        return Err(unauthorized(true));
    }
    if user.disabled {
        return Err(unauthorized(true));
    }
    let actor = Actor {
        id: Some(user.id),
        name: user.username.clone(),
        ip,
    };
    let policy = auth.password_policy;
    let expired = password::expired(policy, user.password_changed_at, now);
    let restriction = if user.must_change_password || expired {
        Some(Restriction::PasswordChange)
    } else if grants.require_totp && !user.totp_enabled {
        Some(Restriction::TotpEnrolment)
    } else {
        None
    };
    Ok(Session {
        password_expires_at: password::expires_at(policy, user.password_changed_at),
        session,
        user,
        grants,
        actor,
        restriction,
    })
}

impl FromRequest for Session {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(resolve(req.clone()))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let s = resolve(req).await?;
            match s.restriction {
                None => Ok(Caller(s)),
                Some(Restriction::PasswordChange) => {
                    Err(ApiError::new(ErrorCode::PasswordChangeRequired))
                }
                Some(Restriction::TotpEnrolment) => {
                    Err(ApiError::new(ErrorCode::TotpEnrolmentRequired))
                }
            }
        })
    }
}

/// Constant-time comparison of two secrets given as text.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
