//! Liveness, readiness and metrics endpoints.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorCode};
use crate::app::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when migrations are done and the database writer answers.
    pub status: &'static str,
    pub schema_version: i64,
    /// Write jobs waiting for the writer.
    pub writer_queue_depth: i64,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Ready to serve: migrations are done and the database writer commits an empty transaction
/// within 2 seconds.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, description = "starting, stopping or the writer is stuck", body = super::error::ErrorBody),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = &state.store;
    let ping = tokio::time::timeout(Duration::from_secs(2), store.write(|_, _| Ok(()))).await;
    match ping {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(Readiness {
            status: "ready",
            schema_version: crate::store::migrations::LATEST,
            writer_queue_depth: store.writer().queue_depth(),
        })),
        Ok(Err(e)) => Err(ApiError {
            code: ErrorCode::NotReady,
            detail: None,
            cause: Some(e.to_string()),
            details: None,
        }),
        Err(_) => Err(ApiError {
            code: ErrorCode::NotReady,
            detail: None,
            cause: Some("writer did not answer within 2s".into()),
            details: None,
        }),
    }
}

/// A direct loopback client (not relayed by a proxy on the same host).
fn is_local(req: &HttpRequest) -> bool {
    let relayed = req.headers().contains_key(header::FORWARDED)
        || req.headers().contains_key("x-forwarded-for");
    !relayed && req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

/// Prometheus metrics (text format). Loopback clients only, unless `metrics.token` is set and
/// sent as a bearer token.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", content_type = "text/plain"),
    (status = 403, body = super::error::ErrorBody),
), security((), ("metrics_token" = [])))]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token_ok = state.config.metrics.token.as_ref().is_some_and(|t| {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(t.expose().as_bytes())))
    });
    if !token_ok && !is_local(&req) {
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            "metrics are served to loopback clients, or with the configured bearer token",
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render()))
}
