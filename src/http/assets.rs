//! The web front-end, embedded in the binary at build time (`assets/dist`, built by build.rs).
//!
//! Hashed files under `/assets/` are served `immutable` for a year; `index.html` and other
//! unhashed files `no-cache` with an ETag. Any other GET path without a file extension gets
//! `index.html`, so the single-page app's routes survive a reload. Compression is done by the
//! `Compress` middleware.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::Embed;

use super::error::{ApiError, ErrorCode};

#[derive(Embed)]
#[folder = "assets/dist/"]
struct Dist;

/// Paths the front-end never owns: they stay JSON 404s.
const API_PREFIXES: [&str; 3] = ["/api/", "/hooks/", "/ws/"];

fn respond(req: &HttpRequest, path: &str, immutable: bool) -> Option<HttpResponse> {
    let file = Dist::get(path)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut b = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    b.insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .insert_header((header::ETAG, etag));
    if not_modified {
        return Some(b.finish());
    }
    Some(b.content_type(mime.as_ref()).body(file.data.into_owned()))
}

/// An embedded build file's bytes.
pub fn file(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Dist::get(path).map(|f| f.data)
}

/// Whether the front-end build is embedded (a build without it fails in build.rs).
pub fn has_index() -> bool {
    Dist::get("index.html").is_some()
}

/// Hashed build outputs.
pub async fn hashed(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    respond(&req, &format!("assets/{path}"), true).ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}

/// Everything not routed elsewhere: unhashed files, the SPA fallback, or a JSON 404.
pub async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let is_get = req.method() == actix_web::http::Method::GET
        || req.method() == actix_web::http::Method::HEAD;
    if !is_get {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    if API_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty()
        && let Some(r) = respond(&req, file, false)
    {
        return Ok(r);
    }
    let last = file.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    respond(&req, "index.html", false).ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}
