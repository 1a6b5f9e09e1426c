//! Channel connectors. Each turns platform traffic into [`crate::domain::InboundMessage`]s for
//! the engine and sends agents' replies from the outbox. Only the outbound side lives behind
//! [`Channels::send`]; inbound sides are HTTP hooks or long-running tasks per connector.

pub mod api;
pub mod net;
pub mod web;
pub mod web_context;
pub mod wechat;

use std::sync::Arc;
use std::time::Duration;

use net::OutboundPolicy;

use crate::engine::settings::InboxInfo;
use crate::engine::view::AttachmentView;
use crate::store::identities::Identity;
use crate::store::messages::MessageRow;

/// An outgoing message as a connector needs it.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The outbox row id: stable across retries and restarts, so it is the idempotency key.
    pub outbox_id: i64,
    /// Times an agent sent it again after it failed.
    pub resends: i64,
    pub conversation_id: i64,
    pub message: MessageRow,
    pub attachments: Vec<AttachmentView>,
    /// The customer's identities in this inbox (the connector picks the one it addresses).
    pub recipient: Vec<Identity>,
    /// When the customer last wrote in this conversation (channels with a reply window).
    pub last_inbound_at: Option<i64>,
    /// The attachments' bytes, in the order of `attachments`, for channels that upload files
    /// themselves (WeChat); empty for the others.
    pub files: Vec<Vec<u8>>,
}

impl Outbound {
    /// The idempotency key receivers de-duplicate on.
    pub fn idempotency_key(&self) -> String {
        format!("atrium-out-{}", self.outbox_id)
    }
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (network, timeout, 5xx, rate limit).
    #[error("{0}")]
    Retryable(String),
    /// Retrying cannot help (refused by the platform, misconfigured inbox).
    #[error("{0}")]
    Permanent(String),
}

/// Outbound transport shared by every connector.
pub struct Channels {
    http: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    /// Access tokens, callback receivers and failure counts of the WeChat channels.
    pub wechat: wechat::State,
}

/// Longest a platform may take to answer a send.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Channels {
    pub fn new(policy: OutboundPolicy) -> Result<Channels, reqwest::Error> {
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            // A redirect could point a webhook at an address nobody approved.
            .redirect(reqwest::redirect::Policy::none())
            // Every name is resolved through the policy, so only allowed addresses are dialled.
            .dns_resolver(Arc::new(net::GuardedResolver {
                policy: policy.clone(),
            }))
            // No proxy from the environment: the policy judges the address actually dialled.
            .no_proxy()
            .timeout(SEND_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Atrium/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Channels {
            http,
            policy,
            wechat: wechat::State::default(),
        })
    }

    /// Which addresses outbound requests may reach.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// POST one integration event (a JSON body) to a webhook URL, signed with `secret`.
    pub async fn post_event(
        &self,
        url: &str,
        secret: &str,
        event_id: &str,
        body: Vec<u8>,
        now: i64,
    ) -> Result<(), SendError> {
        api::post_signed(
            &self.http,
            &self.policy,
            url,
            secret.as_bytes(),
            event_id,
            body,
            now,
        )
        .await
    }

    /// The shared HTTP client (redirects off, addresses checked by the policy).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Send through the inbox's channel. `credentials` is the inbox's decrypted credentials JSON.
    pub async fn send(
        &self,
        inbox: &InboxInfo,
        credentials: &str,
        msg: &Outbound,
        now: i64,
    ) -> Result<(), SendError> {
        match inbox.channel.as_str() {
            "api" => api::send(&self.http, &self.policy, inbox, credentials, msg, now).await,
            // Stored for the visitor's widget to fetch: nothing to send.
            "web" => Ok(()),
            wechat::kf::CHANNEL => wechat::kf::send(self, inbox, credentials, msg, now).await,
            c if wechat::is_wechat(c) => wechat::send(self, inbox, credentials, msg, now).await,
            other => Err(SendError::Permanent(format!(
                "sending through the {other} channel is not available in this version"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client dials only what the policy allows: a name that resolves to loopback is refused
    /// by the client's own resolver (the check every send makes first is not what is tested).
    #[tokio::test]
    async fn the_http_client_resolves_names_through_the_policy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let refused = Channels::new(OutboundPolicy::default()).unwrap();
        let e = refused.http.get(&url).send().await.unwrap_err();
        let r = net::refusal(&e).expect("refused by the policy");
        assert_eq!(r.class, "loopback");
        // The same request with loopback allowed reaches the listener.
        let allowed = Channels::new(OutboundPolicy::parse("127.0.0.1").unwrap()).unwrap();
        let ok = allowed.http.get(&url).send().await.unwrap();
        assert_eq!(ok.status(), 200);
    }
}
