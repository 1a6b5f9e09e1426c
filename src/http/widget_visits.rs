//! Where a widget visitor is and has been: the chat window reports each page it loads on
//! (`POST /hooks/web/{inbox_id}/visits`), and agents read the visitor's context beside a
//! conversation (`GET /api/v1/conversations/{id}/visitor`): device and browser, the referrer and
//! the search that brought them, the landing page and the pages opened since, with times.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use super::widget::visitor_call;
use crate::app::AppState;
use crate::channels::web::Visitor;
use crate::channels::web_context::{self, VisitorContext};
use crate::domain::IdentityKind;
use crate::store::{identities, visits};

/// Longest page address or referrer kept.
const MAX_URL: usize = 2048;
/// Longest page title kept.
const MAX_TITLE: usize = 200;
/// Longest user agent kept.
const MAX_UA: usize = 512;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorPageView {
    /// The host page's address (`http://` or `https://`).
    pub url: String,
    pub title: Option<String>,
    /// The host page's referrer.
    pub referrer: Option<String>,
}

fn web_url(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://")) && u.len() <= MAX_URL
}

/// Cut `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_string()
}

/// The chat window loaded on a page of the host site.
#[utoipa::path(params(("inbox_id" = i64, Path)), request_body = VisitorPageView, responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), security(("visitor_token" = [])), tag = "widget")]
#[post("/hooks/web/{inbox_id}/visits")]
pub async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<VisitorPageView>,
) -> Result<HttpResponse, ApiError> {
    let (v, inbox) = visitor_call(&state, &req, path.into_inner()).await?;
    let b = body.into_inner();
    if !web_url(&b.url) {
        return Err(ApiError::validation(format!(
            "url: an http(s) address of at most {MAX_URL} bytes"
        )));
    }
    let referrer = b.referrer.filter(|r| !r.is_empty());
    if referrer.as_deref().is_some_and(|r| !web_url(r)) {
        return Err(ApiError::validation(format!(
            "referrer: an http(s) address of at most {MAX_URL} bytes"
        )));
    }
    let title = b
        .title
        .map(|t| cut(t.trim(), MAX_TITLE))
        .filter(|t| !t.is_empty());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
        .map(|ua| cut(ua, MAX_UA))
        .unwrap_or_default();
    let visit = visits::Visit {
        id: state.store.next_id(),
        url: b.url,
        title,
        referrer,
        user_agent,
        at: state.clock.now_ms(),
    };
    let key = v.key(inbox.id);
    let iid = inbox.id;
    state
        .store
        .write(move |c, ring| {
            let who = visits::visitor_digest(ring, &key);
            visits::insert(c, ring, iid, &who, &visit)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The widget visitor behind a conversation: device, where they came from, the pages they
/// opened. `404` for a conversation that did not come through a website widget.
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = VisitorContext), (status = 404, body = super::error::ErrorBody)), tag = "conversations")]
#[get("/api/v1/conversations/{id}/visitor")]
pub async fn context(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let conv = super::scoped::visible_conversation(&state, &c, path.into_inner()).await?;
    let (Some(inbox), Some(identity)) = (conv.inbox_id, conv.identity_id) else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    let info = state
        .engine
        .inbox(inbox)
        .await
        .map_err(|_| ApiError::new(ErrorCode::NotFound))?;
    if info.channel != "web" {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let pages = state
        .store
        .read(move |c, ring| {
            let Some(id) = identities::get(c, ring, identity)? else {
                return Ok(None);
            };
            let v = match id.kind {
                IdentityKind::Visitor => Visitor::Anonymous(id.value),
                IdentityKind::External => Visitor::User(id.value),
                _ => return Ok(None),
            };
            let who = visits::visitor_digest(ring, &v.key(inbox));
            Ok(Some(visits::list(c, ring, inbox, &who)?))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(HttpResponse::Ok().json(web_context::context(&pages)))
}
