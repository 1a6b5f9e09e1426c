//! The open API channel: customer systems post inbound messages with the inbox token; agents'
//! replies go to the inbox's webhook URL as signed JSON.
//!
//! Signature: `X-Atrium-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
//! `X-Atrium-Timestamp` (Unix seconds) and `X-Atrium-Event-Id` (also sent as `Idempotency-Key`;
//! the same for every retry of one reply, so receivers de-duplicate on it).

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::net::OutboundPolicy;
use super::{Outbound, SendError};
use crate::domain::IdentityKind;
use crate::engine::settings::InboxInfo;

/// What an API inbox keeps encrypted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Credentials {
    pub webhook_secret: String,
}

/// `sha256=<hex>` over `"{timestamp}.{body}"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The webhook body for a reply. Attachment URLs are the inbox's download path, which the
/// customer system calls with its inbox token.
pub fn payload(inbox_id: i64, msg: &Outbound, now_ms: i64) -> serde_json::Value {
    let external = msg
        .recipient
        .iter()
        .find(|i| i.kind == IdentityKind::External)
        .map(|i| i.value.clone());
    let m = &msg.message;
    serde_json::json!({
        "id": msg.idempotency_key(),
        "event": "message.created",
        "created_at": now_ms,
        "data": {
            "conversation_id": msg.conversation_id,
            "contact": {"external_id": external},
            "message": {
                "id": m.id.0,
                "kind": m.kind.as_str(),
                "body": m.body,
                "content": m.content,
                "attachments": msg.attachments.iter().map(|a| serde_json::json!({
                    "id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size,
                    "url": format!("/hooks/api/{inbox_id}/attachments/{}", a.id),
                })).collect::<Vec<_>>(),
                "sender": m.sender_name,
                "created_at": m.created_at,
            },
        },
    })
}

pub async fn send(
    http: &reqwest::Client,
    policy: &OutboundPolicy,
    inbox: &InboxInfo,
    credentials: &str,
    msg: &Outbound,
    now: i64,
) -> Result<(), SendError> {
    let url = inbox.settings.webhook.url.trim();
    if url.is_empty() {
        return Err(SendError::Retryable(
            "the inbox has no webhook URL yet; replies wait until one is set".into(),
        ));
    }
    let creds: Credentials = serde_json::from_str(credentials).unwrap_or_default();
    let body = serde_json::to_vec(&payload(inbox.id, msg, now))
        .map_err(|e| SendError::Permanent(format!("cannot encode the message: {e}")))?;
    post_signed(
        http,
        policy,
        url,
        creds.webhook_secret.as_bytes(),
        &msg.idempotency_key(),
        body,
        now,
    )
    .await
}

/// POST a signed JSON body to a webhook URL: the address is checked against the outbound
/// policy first, redirects are not followed, 408/429/5xx and network errors are worth a
/// retry, any other answer but 2xx is final.
pub async fn post_signed(
    http: &reqwest::Client,
    policy: &OutboundPolicy,
    url: &str,
    secret: &[u8],
    event_id: &str,
    body: Vec<u8>,
    now: i64,
) -> Result<(), SendError> {
    // Literal addresses never reach the resolver: check them (and names) before anything is sent.
    policy
        .check_url(url)
        .await
        .map_err(|r| SendError::Permanent(format!("webhook address refused: {r}")))?;
    let ts = now / 1000;
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-atrium-event-id", event_id)
        .header("idempotency-key", event_id)
        .header("x-atrium-timestamp", ts.to_string())
        .header("x-atrium-signature", signature(secret, ts, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| match super::net::refusal(&e) {
            Some(r) => SendError::Permanent(format!("webhook address refused: {r}")),
            None => SendError::Retryable(format!("webhook unreachable: {}", without_url(&e))),
        })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let reason = format!("webhook answered HTTP {}", status.as_u16());
    if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Retryable(reason))
    } else if status.is_redirection() {
        Err(SendError::Permanent(format!(
            "{reason} (redirects are not followed; configure the final URL)"
        )))
    } else {
        Err(SendError::Permanent(reason))
    }
}

/// reqwest errors include the URL (which may carry a token in its query); keep the kind only.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac s3cret
        let s = signature(b"s3cret", 1_700_000_000, b"{}");
        assert_eq!(
            s,
            "sha256=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
        assert_ne!(s, signature(b"s3cret", 1_700_000_001, b"{}"));
        assert_ne!(s, signature(b"other", 1_700_000_000, b"{}"));
    }
}
