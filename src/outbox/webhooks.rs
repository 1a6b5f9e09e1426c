//! Delivery of integration events to webhook subscriptions: the same signing, retries and
//! backoff as replies through the API channel. Each pass takes the due events (the oldest
//! pending one per subscription and conversation, so they arrive in order), posts them with
//! `X-Atrium-Event-Id: evt_<id>`, and records the outcome. A retryable failure backs off until
//! the event is `max_age` old; then, or on a final refusal, it is marked failed and waits for
//! an administrator's resend. Rows survive restarts; an event interrupted mid-send is posted
//! again with the same id, and receivers de-duplicate on it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{OutboxConfig, backoff_ms};
use crate::channels::{Channels, SendError};
use crate::engine::{self, Engine};
use crate::store::webhooks::{self, EventRow};

/// Delivered events are kept this long (for the administrators' view), then pruned.
pub const KEEP_SENT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Run delivery until the process stops.
pub async fn run(engine: Arc<Engine>, channels: Arc<Channels>, cfg: OutboxConfig) {
    let wake = engine.events_wake.clone();
    super::drive(&engine, &wake, "webhook", webhooks::next_due_at, || {
        pass(&engine, &channels, &cfg)
    })
    .await;
}

/// Where and how a subscription's events go.
struct Target {
    url: String,
    secret: String,
}

/// Post every event due now; returns how many were attempted.
pub async fn pass(
    engine: &Arc<Engine>,
    channels: &Arc<Channels>,
    cfg: &OutboxConfig,
) -> engine::Result<usize> {
    let now = engine.now();
    let (due, targets) = engine
        .store
        .read(move |c, ring| {
            let due = webhooks::due(c, now, 256)?;
            let mut targets = HashMap::new();
            for id in due.iter().map(|e| e.webhook_id) {
                if targets.contains_key(&id) {
                    continue;
                }
                if let (Some(w), Some(secret)) =
                    (webhooks::get(c, id)?, webhooks::secret(c, ring, id)?)
                {
                    targets.insert(id, Arc::new(Target { url: w.url, secret }));
                }
            }
            Ok((due, targets))
        })
        .await?;
    let n = due.len();
    let targets = &targets;
    futures_util::stream::iter(due)
        .for_each_concurrent(cfg.concurrency.max(1), |row| async move {
            let target = targets.get(&row.webhook_id).cloned();
            let (id, attempts) = (row.id, row.attempts);
            if let Err(e) = deliver(engine, channels, cfg, row, target).await {
                tracing::warn!(event_id = id, error = %e, "webhook delivery failed before sending");
                super::back_off(engine, cfg, id, attempts, &e, webhooks::mark_attempt_failed).await;
            }
        })
        .await;
    Ok(n)
}

async fn deliver(
    engine: &Arc<Engine>,
    channels: &Channels,
    cfg: &OutboxConfig,
    row: EventRow,
    target: Option<Arc<Target>>,
) -> engine::Result<()> {
    let id = row.id;
    let Some(target) = target else {
        // The subscription was deleted while the pass ran (its rows went with it).
        return Ok(());
    };
    let Some(body) = engine
        .store
        .read(move |c, ring| webhooks::payload(c, ring, id))
        .await?
    else {
        return Ok(());
    };
    let started = engine.now();
    let key = format!("evt_{id}");
    let result = channels
        .post_event(
            &target.url,
            &target.secret,
            &key,
            body.into_bytes(),
            started,
        )
        .await;
    let now = engine.now();
    let max_age = i64::try_from(cfg.max_age.as_millis()).unwrap_or(i64::MAX);
    let retry_at = match &result {
        Err(SendError::Retryable(_)) if now - row.created_at < max_age => {
            Some(now + backoff_ms(cfg, row.attempts))
        }
        _ => None,
    };
    match &result {
        Ok(()) => tracing::debug!(event_id = id, event = %row.event, "webhook event delivered"),
        Err(e) => tracing::info!(
            event_id = id,
            webhook_id = row.webhook_id,
            attempts = row.attempts + 1,
            retry = retry_at.is_some(),
            error = %e,
            "webhook event not delivered"
        ),
    }
    engine
        .store
        .write(move |c, _| match result {
            Ok(()) => webhooks::mark_sent(c, id, now),
            Err(SendError::Retryable(e) | SendError::Permanent(e)) => {
                webhooks::mark_attempt_failed(c, id, &e, retry_at, now)
            }
        })
        .await?;
    Ok(())
}
