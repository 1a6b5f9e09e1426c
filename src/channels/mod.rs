//! Channel connectors. Each turns platform traffic into [`crate::domain::InboundMessage`]s for
//! the engine and sends agents' replies from the outbox. Only the outbound side lives behind
//! [`Channels::send`]; inbound sides are HTTP hooks or long-running tasks per connector.

pub mod api;
pub mod net;

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
    pub conversation_id: i64,
    pub message: MessageRow,
    pub attachments: Vec<AttachmentView>,
    /// The customer's identities in this inbox (the connector picks the one it addresses).
    pub recipient: Vec<Identity>,
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
        Ok(Channels { http, policy })
    }

    /// Which addresses outbound requests may reach.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
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
            other => Err(SendError::Permanent(format!(
                "sending through the {other} channel is not available in this version"
            ))),
        }
    }
}
