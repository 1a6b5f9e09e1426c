//! Attachment upload and download.
//!
//! Upload is `multipart/form-data` with one part named `file`, for a conversation in the
//! caller's scope (`conversations:reply`). Its body limit is `attachments.max_bytes` plus 64 KiB
//! of framing, independent of `http.max_body_bytes`; the type is sniffed from the bytes
//! ([`crate::domain::attachment::check`]) and the file stored encrypted before its row. The
//! upload stays unattached until a message sends it.
//!
//! Download answers the decrypted bytes only to callers who may see the attachment's
//! conversation (else 404, audited), as a download (`Content-Disposition: attachment`; images
//! `inline`), with `nosniff` and a `sandbox` CSP so nothing in a file can run in Atrium's origin.

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::scoped::visible_conversation;
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::attachment::{self, AttachmentError};
use crate::store::attachments::{self as files, NewAttachment};
use crate::store::run_blocking;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The conversation the file will be sent in.
    pub conversation_id: i64,
}

/// The upload form (documentation only: the handler reads the multipart stream itself).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart body in the OpenAPI document"
)]
pub struct UploadForm {
    /// The file. Its name is kept (cleaned); its type is read from its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored upload, ready to be sent with a message (`attachment_ids`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedAttachment {
    pub id: i64,
    /// The cleaned file name, its extension matching the content.
    pub name: String,
    /// The type sniffed from the bytes.
    pub content_type: String,
    pub size: i64,
    /// Where to download it: `/api/v1/attachments/{id}`.
    pub url: String,
}

fn too_large(max: u64) -> ApiError {
    ApiError::from(AttachmentError::TooLarge { max })
}

/// Map the multipart parser's errors: an over-long body is `attachment_too_large`, a body that
/// is not multipart `unsupported_media_type`, anything else `bad_request`.
fn multipart_error(e: actix_multipart::MultipartError, max: u64) -> ApiError {
    use actix_multipart::MultipartError as E;
    match e {
        E::Payload(PayloadError::Overflow) => too_large(max),
        E::ContentTypeMissing
        | E::ContentTypeParse
        | E::ContentTypeIncompatible
        | E::BoundaryMissing => ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "send multipart/form-data with one part named `file`",
        ),
        other => ApiError::with_detail(
            ErrorCode::BadRequest,
            format!("bad multipart body: {other}"),
        ),
    }
}

/// Read the part named `file` (its file name and bytes) from a multipart body, reading at most
/// `limit` bytes of body and keeping at most `max` bytes of file. Other parts are skipped.
async fn read_file_part(
    req: &HttpRequest,
    payload: web::Payload,
    max: u64,
    limit: u64,
) -> Result<(String, Vec<u8>), ApiError> {
    let mut seen: u64 = 0;
    let bounded = payload.map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if seen > limit {
            Err(PayloadError::Overflow)
        } else {
            Ok(chunk)
        }
    });
    let mut parts = Multipart::new(req.headers(), bounded);
    let mut file = None;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| multipart_error(e, max))?;
        if part.name() != Some("file") {
            while let Some(chunk) = part.next().await {
                chunk.map_err(|e| multipart_error(e, max))?;
            }
            continue;
        }
        if file.is_some() {
            return Err(ApiError::validation("send one file per upload"));
        }
        let name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or_default()
            .to_string();
        let cap = usize::try_from(max).unwrap_or(usize::MAX);
        let bytes = part
            .bytes(cap)
            .await
            .map_err(|_| too_large(max))?
            .map_err(|e| multipart_error(e, max))?;
        file = Some((name, bytes.to_vec()));
    }
    file.ok_or_else(|| ApiError::validation("the form needs a part named `file`"))
}

/// Upload a file for a conversation (`conversations:reply`, conversation in scope).
#[utoipa::path(
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = UploadedAttachment),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such conversation in the caller's scope", body = ErrorBody),
        (status = 413, description = "`attachment_too_large`", body = ErrorBody),
        (status = 415, description = "`attachment_type_not_allowed`, `attachment_type_mismatch`, `unsupported_media_type` (not multipart)", body = ErrorBody),
        (status = 422, description = "`attachment_empty`, `validation_failed` (no `file` part)", body = ErrorBody),
    ),
    tag = "attachments"
)]
#[post("/api/v1/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    c: Caller,
    req: HttpRequest,
    query: Option<web::Query<UploadQuery>>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let conversation_id = query.map(|q| q.conversation_id);
    let target = conversation_id.map_or_else(
        || "attachments".to_string(),
        |id| format!("conversation:{id}"),
    );
    c.require(&state, Permission::ConversationsReply, &target)
        .await?;
    let Some(conversation_id) = conversation_id else {
        return Err(ApiError::validation("conversation_id is required"));
    };
    let conv = visible_conversation(&state, &c, conversation_id).await?;

    let uploaded = store_upload(
        &state,
        &req,
        payload,
        Owner {
            conversation: Some(conv.id.0),
            inbox: None,
            uploader: Some(c.user_id()),
        },
    )
    .await?;
    let url = format!("/api/v1/attachments/{}", uploaded.id);
    Ok(created(uploaded, url))
}

/// Who an upload belongs to until a message uses it.
pub(crate) struct Owner {
    pub conversation: Option<i64>,
    pub inbox: Option<i64>,
    pub uploader: Option<i64>,
}

/// `201` with the upload and where to download it.
pub(crate) fn created(mut u: UploadedAttachment, url: String) -> HttpResponse {
    u.url = url.clone();
    HttpResponse::Created()
        .insert_header((header::LOCATION, url))
        .json(u)
}

/// Read the `file` part of a multipart upload within `attachments.max_bytes`, check its type by
/// its bytes, store it encrypted, then its row (owned by `owner`).
pub(crate) async fn store_upload(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    owner: Owner,
) -> Result<UploadedAttachment, ApiError> {
    let (max, limit) = (
        state.config.attachments.max_bytes,
        state.config.attachments.request_limit(),
    );
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(max));
    }
    let (name, bytes) = read_file_part(req, payload, max, limit).await?;
    store_bytes(state, name, bytes, owner).await
}

/// Check (type sniffed from the bytes, size), encrypt and store a file that arrived whole.
pub(crate) async fn store_bytes(
    state: &AppState,
    name: String,
    bytes: Vec<u8>,
    owner: Owner,
) -> Result<UploadedAttachment, ApiError> {
    let max = state.config.attachments.max_bytes;
    // Sniffing, hashing, encrypting and writing a file of many MiB: off the async runtime.
    let id = state.store.next_id();
    let data_dir = state.config.data_dir.clone();
    let ring = state.store.keyring().clone();
    let (checked, sha256, size) = run_blocking(move || -> Result<_, ApiError> {
        let checked = attachment::check(&name, &bytes, max)?;
        let sha256 = Sha256::digest(&bytes).to_vec();
        files::save_file(&data_dir, &ring, id, &bytes)?;
        Ok((
            checked,
            sha256,
            i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        ))
    })
    .await??;

    let now = state.clock.now_ms();
    let (name, content_type) = (checked.safe_name.clone(), checked.content_type);
    state
        .store
        .write(move |conn, ring| {
            files::insert(
                conn,
                ring,
                &NewAttachment {
                    id,
                    conversation_id: owner.conversation,
                    inbox_id: owner.inbox,
                    message_id: None,
                    uploader_id: owner.uploader,
                    name: &name,
                    content_type,
                    size,
                    sha256: &sha256,
                    now,
                },
            )
        })
        .await?;
    tracing::debug!(attachment_id = id, size, "attachment stored");
    Ok(UploadedAttachment {
        id,
        name: checked.safe_name,
        content_type: content_type.to_string(),
        size,
        url: String::new(),
    })
}

/// Image types a browser may show in place; everything else is offered as a download.
const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn disposition(name: &str, content_type: &str) -> ContentDisposition {
    let disposition = if INLINE_TYPES.contains(&content_type) {
        DispositionType::Inline
    } else {
        DispositionType::Attachment
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// Download an attachment of a conversation in the caller's scope (`conversations:read`).
#[utoipa::path(
    params(("id" = i64, Path, description = "attachment id")),
    responses(
        (status = 200, description = "the file, with its stored content type", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such attachment, or its conversation is out of scope", body = ErrorBody),
    ),
    tag = "attachments"
)]
#[get("/api/v1/attachments/{id}")]
pub async fn download(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    c.require(
        &state,
        Permission::ConversationsRead,
        &format!("attachment:{id}"),
    )
    .await?;
    let row = state
        .store
        .read(move |conn, ring| files::get(conn, ring, id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let Some(conversation) = row.conversation_id else {
        // A channel's upload no message has used yet: not part of any conversation.
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    visible_conversation(&state, &c, conversation).await?;
    file_response(&state, row).await
}

/// The decrypted file of `row`, as a download that cannot run in Atrium's origin.
pub(crate) async fn file_response(
    state: &AppState,
    row: files::AttachmentRow,
) -> Result<HttpResponse, ApiError> {
    let data_dir = state.config.data_dir.clone();
    let ring = state.store.keyring().clone();
    let id = row.id;
    let bytes = run_blocking(move || files::read_file(&data_dir, &ring, id)).await??;

    // Verified UTF-8 at upload: say so, so no browser guesses another charset.
    let content_type = if row.content_type.starts_with("text/") {
        format!("{}; charset=utf-8", row.content_type)
    } else {
        row.content_type.clone()
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(disposition(&row.name, &row.content_type))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=0"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_encodes_names_and_inlines_only_images() {
        let d = disposition("报价 \"单\".pdf", "application/pdf").to_string();
        assert_eq!(
            d,
            "attachment; filename=\"__ ___.pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%20%22%E5%8D%95%22.pdf"
        );
        assert!(
            disposition("a.png", "image/png")
                .to_string()
                .starts_with("inline;")
        );
        assert!(
            disposition("a.svg", "image/svg+xml")
                .to_string()
                .starts_with("attachment;")
        );
    }
}
