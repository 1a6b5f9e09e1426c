//! One table of error codes for every HTTP answer, and the JSON error body.
//!
//! Clients get `{code, message, request_id}`: a stable snake_case code to branch on (the web UI
//! translates it), a short English message for developers, and the request id to quote to
//! support. The log gets the whole error chain. A 5xx never echoes internals.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the HTTP API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    NotReady,
    DataIntegrity,
    InvalidCredentials,
    TotpRequired,
    TotpInvalid,
    AccountLocked,
    AccountDisabled,
    SessionExpired,
    CsrfFailed,
    PasswordChangeRequired,
    TotpEnrolmentRequired,
    ReauthFailed,
    PasswordPolicy,
    TotpRequiredByRole,
    SeparationOfDuties,
    SetupTokenInvalid,
    Validation,
    AttachmentTooLarge,
    AttachmentTypeNotAllowed,
    AttachmentTypeMismatch,
    AttachmentEmpty,
    OriginNotAllowed,
    InboxNotFound,
    InboxDisabled,
    IdentityInvalid,
    IdentityRequired,
    VisitorTokenInvalid,
    SignatureInvalid,
    TimestampStale,
    PushInvalid,
}

impl ErrorCode {
    /// The whole table: code, status, default message.
    pub const ALL: [ErrorCode; 41] = [
        Self::BadRequest,
        Self::InvalidJson,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::Internal,
        Self::NotReady,
        Self::DataIntegrity,
        Self::InvalidCredentials,
        Self::TotpRequired,
        Self::TotpInvalid,
        Self::AccountLocked,
        Self::AccountDisabled,
        Self::SessionExpired,
        Self::CsrfFailed,
        Self::PasswordChangeRequired,
        Self::TotpEnrolmentRequired,
        Self::ReauthFailed,
        Self::PasswordPolicy,
        Self::TotpRequiredByRole,
        Self::SeparationOfDuties,
        Self::SetupTokenInvalid,
        Self::Validation,
        Self::AttachmentTooLarge,
        Self::AttachmentTypeNotAllowed,
        Self::AttachmentTypeMismatch,
        Self::AttachmentEmpty,
        Self::OriginNotAllowed,
        Self::InboxNotFound,
        Self::InboxDisabled,
        Self::IdentityInvalid,
        Self::IdentityRequired,
        Self::VisitorTokenInvalid,
        Self::SignatureInvalid,
        Self::TimestampStale,
        Self::PushInvalid,
    ];

    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    pub fn status(self) -> StatusCode {
        self.row().1
    }

    pub fn default_message(self) -> &'static str {
        self.row().2
    }

    fn row(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Self::BadRequest => (
                "bad_request",
                StatusCode::BAD_REQUEST,
                "the request is invalid",
            ),
            Self::InvalidJson => (
                "invalid_json",
                StatusCode::BAD_REQUEST,
                "the request body is not valid JSON for this endpoint",
            ),
            Self::Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED, "sign in first"),
            Self::Forbidden => ("forbidden", StatusCode::FORBIDDEN, "you may not do this"),
            Self::NotFound => ("not_found", StatusCode::NOT_FOUND, "no such resource"),
            Self::MethodNotAllowed => (
                "method_not_allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed here",
            ),
            Self::Conflict => (
                "conflict",
                StatusCode::CONFLICT,
                "the resource changed or exists already",
            ),
            Self::PayloadTooLarge => (
                "payload_too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            ),
            Self::UnsupportedMediaType => (
                "unsupported_media_type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported Content-Type",
            ),
            Self::RateLimited => (
                "rate_limited",
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests; retry later",
            ),
            Self::Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; quote the request id to your administrator",
            ),
            Self::NotReady => (
                "not_ready",
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is starting or stopping",
            ),
            Self::DataIntegrity => (
                "data_integrity",
                StatusCode::INTERNAL_SERVER_ERROR,
                "stored data failed its integrity check; quote the request id to your administrator",
            ),
            Self::InvalidCredentials => (
                "invalid_credentials",
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ),
            Self::TotpRequired => (
                "totp_required",
                StatusCode::UNAUTHORIZED,
                "a second factor is required: send `totp` or `recovery_code`",
            ),
            Self::TotpInvalid => (
                "totp_invalid",
                StatusCode::UNAUTHORIZED,
                "the one-time code or recovery code is not valid",
            ),
            Self::AccountLocked => (
                "account_locked",
                StatusCode::LOCKED,
                "too many failed sign-ins: this account is locked for a while",
            ),
            Self::AccountDisabled => (
                "account_disabled",
                StatusCode::FORBIDDEN,
                "this account is disabled",
            ),
            Self::SessionExpired => (
                "session_expired",
                StatusCode::UNAUTHORIZED,
                "the session has ended; sign in again",
            ),
            Self::CsrfFailed => (
                "csrf_failed",
                StatusCode::FORBIDDEN,
                "missing or wrong X-CSRF-Token header",
            ),
            Self::PasswordChangeRequired => (
                "password_change_required",
                StatusCode::FORBIDDEN,
                "change your password first",
            ),
            Self::TotpEnrolmentRequired => (
                "totp_enrolment_required",
                StatusCode::FORBIDDEN,
                "set up two-factor authentication first",
            ),
            Self::ReauthFailed => (
                "reauth_failed",
                StatusCode::UNAUTHORIZED,
                "the current password or code is wrong",
            ),
            Self::PasswordPolicy => (
                "password_policy",
                StatusCode::UNPROCESSABLE_ENTITY,
                "the new password does not meet the password policy",
            ),
            Self::TotpRequiredByRole => (
                "totp_required_by_role",
                StatusCode::FORBIDDEN,
                "a role of this account requires two-factor authentication",
            ),
            Self::SeparationOfDuties => (
                "separation_of_duties",
                StatusCode::CONFLICT,
                "system, security and audit administration must be held by different people",
            ),
            Self::SetupTokenInvalid => (
                "setup_token_invalid",
                StatusCode::NOT_FOUND,
                "the setup link is unknown, used or expired",
            ),
            Self::Validation => (
                "validation_failed",
                StatusCode::UNPROCESSABLE_ENTITY,
                "a field is missing, too long or invalid",
            ),
            Self::AttachmentTooLarge => (
                "attachment_too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "the file is larger than attachments may be",
            ),
            Self::AttachmentTypeNotAllowed => (
                "attachment_type_not_allowed",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "files of this type are not accepted",
            ),
            Self::AttachmentTypeMismatch => (
                "attachment_type_mismatch",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the file name's extension does not match the file's content",
            ),
            Self::AttachmentEmpty => (
                "attachment_empty",
                StatusCode::UNPROCESSABLE_ENTITY,
                "the file is empty",
            ),
            Self::IdentityInvalid => (
                "identity_invalid",
                StatusCode::UNAUTHORIZED,
                "the user id's signature does not match the inbox's identity secret",
            ),
            Self::IdentityRequired => (
                "identity_required",
                StatusCode::UNAUTHORIZED,
                "this chat is only for signed-in users of the site",
            ),
            Self::VisitorTokenInvalid => (
                "visitor_token_invalid",
                StatusCode::UNAUTHORIZED,
                "the visitor token is missing, forged or for another inbox",
            ),
            Self::SignatureInvalid => (
                "signature_invalid",
                StatusCode::UNAUTHORIZED,
                "the push's signature does not match the inbox's token",
            ),
            Self::TimestampStale => (
                "timestamp_stale",
                StatusCode::UNAUTHORIZED,
                "the push's timestamp is too far from this server's time",
            ),
            Self::PushInvalid => (
                "push_invalid",
                StatusCode::BAD_REQUEST,
                "the push could not be decrypted or parsed",
            ),
            Self::OriginNotAllowed => (
                "origin_not_allowed",
                StatusCode::FORBIDDEN,
                "requests from this page's origin are not accepted",
            ),
            Self::InboxNotFound => (
                "inbox_not_found",
                StatusCode::NOT_FOUND,
                "no inbox has this id",
            ),
            Self::InboxDisabled => (
                "inbox_disabled",
                StatusCode::CONFLICT,
                "this inbox is disabled and accepts no messages",
            ),
        }
    }

    /// The code for a bare status (errors raised by the framework itself).
    pub fn from_status(status: StatusCode) -> ErrorCode {
        match status.as_u16() {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            429 => Self::RateLimited,
            503 => Self::NotReady,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// The error body of every failed API call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `not_found`.
    pub code: &'static str,
    /// Short English explanation for developers; UIs translate `code`.
    pub message: String,
    /// The `X-Request-Id` of this request.
    pub request_id: String,
    /// Machine-readable specifics, e.g. the password rules broken (`too_short`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<String>>,
}

/// An error a handler returns. `detail` is for 4xx messages only; 5xx use the table's message.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: Option<String>,
    /// The underlying cause, logged with the request id, never sent.
    pub cause: Option<String>,
    /// Sent as `details` (4xx only).
    pub details: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            cause: None,
            details: None,
        }
    }

    /// Attach machine-readable specifics (sent for 4xx only).
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
            cause: None,
            details: None,
        }
    }

    /// 422 `validation_failed` naming the field's problem.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::with_detail(ErrorCode::Validation, detail)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            detail: None,
            cause: Some(cause.to_string()),
            details: None,
        }
    }

    /// The message the client sees.
    pub fn public_message(&self) -> String {
        match (&self.detail, self.code.status().is_server_error()) {
            (Some(d), false) => d.clone(),
            _ => self.code.default_message().to_string(),
        }
    }

    pub fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            code: self.code.as_str(),
            message: self.public_message(),
            request_id: request_id.to_string(),
            details: if self.code.status().is_server_error() {
                None
            } else {
                self.details.clone()
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        if let Some(c) = &self.cause {
            write!(f, " (cause: {c})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    /// The request-context middleware replaces this body with one carrying the request id.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body(""))
    }
}

impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> Self {
        let code = match &e {
            crate::store::Error::Crypto(_) => ErrorCode::DataIntegrity,
            crate::store::Error::WriterGone => ErrorCode::NotReady,
            _ => ErrorCode::Internal,
        };
        Self {
            code,
            detail: None,
            cause: Some(e.to_string()),
            details: None,
        }
    }
}

impl From<crate::engine::Error> for ApiError {
    fn from(e: crate::engine::Error) -> Self {
        use crate::engine::Error as E;
        match e {
            E::Store(s) => s.into(),
            E::NotFound(what) => {
                ApiError::with_detail(ErrorCode::NotFound, format!("no such {what}"))
            }
            E::UnknownInbox(id) => ApiError::with_detail(
                ErrorCode::InboxNotFound,
                format!("inbox {id} does not exist"),
            ),
            E::InboxDisabled(id) => {
                ApiError::with_detail(ErrorCode::InboxDisabled, format!("inbox {id} is disabled"))
            }
            E::Invalid(m) => ApiError::validation(m),
            E::Conflict(m) => ApiError::with_detail(ErrorCode::Conflict, m),
        }
    }
}

/// A refused upload: the message names the limit or types; `details` carries them for the UI
/// (`[max_bytes]`, `[detected type]`, `[extension, detected type]`).
impl From<crate::domain::attachment::AttachmentError> for ApiError {
    fn from(e: crate::domain::attachment::AttachmentError) -> Self {
        use crate::domain::attachment::AttachmentError as E;
        let (code, details) = match &e {
            E::TooLarge { max } => (ErrorCode::AttachmentTooLarge, vec![max.to_string()]),
            E::Empty => (ErrorCode::AttachmentEmpty, Vec::new()),
            E::NotAllowed { detected } => (
                ErrorCode::AttachmentTypeNotAllowed,
                vec![(*detected).to_string()],
            ),
            E::TypeMismatch {
                extension,
                detected,
            } => (
                ErrorCode::AttachmentTypeMismatch,
                vec![extension.clone(), (*detected).to_string()],
            ),
        };
        let e = Self::with_detail(code, e.to_string());
        if details.is_empty() {
            e
        } else {
            e.with_details(details)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_')
            );
        }
    }

    #[test]
    fn server_errors_never_show_details() {
        let e = ApiError {
            code: ErrorCode::Internal,
            detail: Some("SELECT * FROM secrets".into()),
            cause: Some("disk I/O error at /var/lib/atrium".into()),
            details: None,
        };
        let body = e.body("r1");
        assert!(!body.message.contains("SELECT") && !body.message.contains("/var/lib"));
        let e = ApiError::with_detail(ErrorCode::BadRequest, "limit must be ≤ 100");
        assert_eq!(e.body("r2").message, "limit must be ≤ 100");
    }
}
