//! The auditor's view of the audit log: filter, verify, export (`audit:read`, `audit:export`).

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use super::caller::{Caller, audit};
use super::error::ApiError;
use crate::app::AppState;
use crate::audit::{Break, EVENTS, Entry, Outcome, Record, export};
use crate::domain::access::Permission;
use crate::store::audit::{self as audit_log, Filter};

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    /// Time (ms).
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub event: String,
    pub target: String,
    #[schema(value_type = String)]
    pub outcome: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Hex SHA-256 chain hash of this record.
    pub hash: String,
}

impl From<Record> for AuditRecordView {
    fn from(r: Record) -> Self {
        AuditRecordView {
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            hash: hex::encode(&r.hash),
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor: r.actor,
            ip: r.ip,
            event: r.event,
            target: r.target,
            outcome: r.outcome,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// From (ms, inclusive).
    pub from: Option<i64>,
    /// To (ms, inclusive).
    pub to: Option<i64>,
    /// Exact user name.
    pub actor: Option<String>,
    pub event: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// Text in target, details, actor or address.
    pub q: Option<String>,
    /// Records with a smaller seq (paging).
    pub before: Option<i64>,
    /// At most this many (default 50, max 500).
    pub limit: Option<u32>,
}

/// A page of records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecordView>,
    /// Pass as `before` for the next page; `null` at the end.
    pub next_before: Option<i64>,
}

#[utoipa::path(params(AuditQuery), responses((status = 200, body = AuditPage)), tag = "audit")]
#[get("/api/v1/audit")]
pub async fn list(
    state: web::Data<AppState>,
    c: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::AuditRead, "audit_log")
        .await?;
    let q = q.into_inner();
    if q.outcome
        .as_deref()
        .is_some_and(|o| Outcome::parse(o).is_none())
    {
        return Err(ApiError::validation(
            "outcome must be success, failure or denied",
        ));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let text = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let f = Filter {
        from: q.from,
        to: q.to,
        actor: text(q.actor),
        event: text(q.event),
        outcome: q.outcome,
        text: text(q.q),
        before: q.before,
        limit,
    };
    let records = state.store.read(move |c, _| audit_log::list(c, &f)).await?;
    let next_before = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(HttpResponse::Ok().json(AuditPage {
        records: records.into_iter().map(AuditRecordView::from).collect(),
        next_before,
    }))
}

#[utoipa::path(responses((status = 200, body = [String])), tag = "audit")]
#[get("/api/v1/audit/events")]
pub async fn events(state: web::Data<AppState>, c: Caller) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::AuditRead, "audit_log")
        .await?;
    Ok(HttpResponse::Ok().json(EVENTS))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
}

/// The first record that fails verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokenRecord {
    pub seq: i64,
    pub reason: Break,
    pub description: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    pub ok: bool,
    pub checked: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// Hex hash of the last record checked: note it to compare later.
    pub head_hash: Option<String>,
    pub first_broken: Option<BrokenRecord>,
}

#[utoipa::path(request_body = VerifyRequest, responses((status = 200, body = VerifyResult)), tag = "audit")]
#[post("/api/v1/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    c: Caller,
    body: Option<web::Json<VerifyRequest>>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::AuditRead, "audit_log")
        .await?;
    let b = body.map(web::Json::into_inner).unwrap_or_default();
    let (from, to) = (b.from, b.to);
    let v = state
        .store
        .read(move |c, ring| audit_log::verify(c, ring, from, to))
        .await?;
    let result = VerifyResult {
        ok: v.broken.is_none(),
        checked: v.checked,
        first_seq: v.first_seq,
        last_seq: v.last_seq,
        head_hash: v.head_hash.as_ref().map(hex::encode),
        first_broken: v.broken.map(|(seq, reason)| BrokenRecord {
            seq,
            reason,
            description: reason.describe(),
        }),
    };
    let e = Entry::new(&c.actor, "audit.verify", "audit_log")
        .outcome(if result.ok {
            Outcome::Success
        } else {
            Outcome::Failure
        })
        .details(serde_json::json!({
            "from": from, "to": to, "checked": result.checked,
            "first_broken": result.first_broken.as_ref().map(|b| b.seq),
        }));
    audit(&state, e).await?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// From (ms, inclusive).
    pub from: i64,
    /// To (ms, inclusive).
    pub to: i64,
    /// At least 12 characters; needed to open the archive.
    pub passphrase: String,
}

/// Export records in a time range as an encrypted, self-verifying archive (see the admin guide;
/// check it with `atrium audit verify-export FILE`). The export itself is audited first.
#[utoipa::path(
    request_body = ExportRequest,
    responses((status = 200, description = "The archive", content_type = "application/octet-stream")),
    tag = "audit"
)]
#[post("/api/v1/audit/export")]
pub async fn export_archive(
    state: web::Data<AppState>,
    c: Caller,
    body: web::Json<ExportRequest>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::AuditExport, "audit_log")
        .await?;
    let body = body.into_inner();
    let pass = Zeroizing::new(body.passphrase);
    if pass.chars().count() < export::MIN_PASSPHRASE_CHARS || pass.chars().count() > 1024 {
        return Err(ApiError::validation(
            "the passphrase must have 12 to 1024 characters",
        ));
    }
    if body.from > body.to {
        return Err(ApiError::validation("from is after to"));
    }
    let (from, to) = (body.from, body.to);
    let e = Entry::new(&c.actor, "audit.export", "audit_log")
        .details(serde_json::json!({ "from": from, "to": to, "via": "web" }));
    audit(&state, e).await?;
    let now = state.clock.now_ms();
    let who = c.actor.name.clone();
    let fingerprint = state.store.key_fingerprint_hex();
    let bytes = state
        .store
        .read(move |c, _| {
            let (anchor, records) = audit_log::range(c, from, to)?;
            Ok((anchor, records))
        })
        .await?;
    let archive = crate::store::run_blocking(move || {
        let (anchor, records) = bytes;
        let manifest =
            crate::audit::export_manifest(now, (from, to), anchor, &records, fingerprint, who);
        export::seal(&manifest, &records, &pass, export::KdfParams::default())
    })
    .await?
    .map_err(|e| match e {
        export::Error::WeakPassphrase => ApiError::validation(e.to_string()),
        e => ApiError::internal(e),
    })?;
    let name = format!("atrium-audit-{from}-{to}.aae");
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(archive))
}
