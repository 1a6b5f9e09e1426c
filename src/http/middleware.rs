//! The request-context middleware that wraps every route: request id, uniform error bodies,
//! security headers, metrics and the access log.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use rand::RngCore;

use super::error::{ApiError, ErrorCode};
use crate::app::AppState;

/// The id of the current request, in request extensions and the `X-Request-Id` header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Wraps every request; see the module docs.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = crate::clock::instant();
    let request_id = new_request_id();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();

    // Handlers' and extractors' errors arrive as responses; an `Err` here comes from an inner
    // middleware and is rendered by actix (no request is left to attach a body to).
    let mut res = next.call(req).await?.map_into_boxed_body();

    let status = res.status();
    if status.is_client_error() || status.is_server_error() {
        res = shape_error(res, &request_id);
    }

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let tls = state
        .as_ref()
        .is_some_and(|s| s.config.tls.is_some() || s.config.http.behind_tls_proxy);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert(X_REQUEST_ID, v);
    }
    set_security_headers(h, tls);
    if route.starts_with("/api/") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    let elapsed = started.elapsed();
    if let Some(s) = &state {
        s.metrics
            .http_requests
            .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
            .inc();
        s.metrics
            .http_seconds
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(elapsed.as_secs_f64());
    }
    tracing::debug!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = status.as_u16(),
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// Headers on every response. Pages that need another rule (the widget) set their own first.
fn set_security_headers(h: &mut actix_web::http::header::HeaderMap, tls: bool) {
    let defaults: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    // A page that set its own policy (the chat widget's window, with the `frame-ancestors` it
    // may be embedded by) is not also denied framing by the older header.
    let own_policy = h.contains_key(header::CONTENT_SECURITY_POLICY);
    for (name, value) in defaults {
        if name == header::X_FRAME_OPTIONS && own_policy {
            continue;
        }
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if tls && !h.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

/// Give every error the `{code, message, request_id}` body, whoever raised it, and log 5xx
/// causes with the request id.
fn shape_error(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let api = match res.response().error() {
        Some(e) => match e.as_error::<ApiError>() {
            Some(api) => ApiError {
                code: api.code,
                detail: api.detail.clone(),
                cause: api.cause.clone(),
                details: api.details.clone(),
            },
            None => {
                let code = framework_code(status, e);
                ApiError {
                    code,
                    detail: Some(e.to_string()),
                    cause: Some(e.to_string()),
                    details: None,
                }
            }
        },
        None => {
            let is_json = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if is_json {
                return res;
            }
            ApiError::new(ErrorCode::from_status(status))
        }
    };
    if status.is_server_error() {
        tracing::error!(request_id, code = api.code.as_str(), cause = ?api.cause, "request failed");
    }
    let body = api.body(request_id);
    let (req, _) = res.into_parts();
    let resp = HttpResponse::build(api.code.status()).json(body);
    ServiceResponse::new(req, resp)
}

fn framework_code(status: actix_web::http::StatusCode, e: &actix_web::Error) -> ErrorCode {
    if e.as_error::<actix_web::error::JsonPayloadError>().is_some() && status.as_u16() == 400 {
        return ErrorCode::InvalidJson;
    }
    ErrorCode::from_status(status)
}
