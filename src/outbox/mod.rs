//! Outbox delivery: workers take due rows (the oldest pending reply of each conversation, so
//! replies arrive in order), send them through the channel with the row id as idempotency key,
//! and record the outcome. Retryable failures back off exponentially (with jitter) until
//! `max_age`; then, or on a permanent refusal, the message is marked failed with its reason and
//! stays visible with a resend action. Rows survive restarts: a reply interrupted mid-send is
//! sent again with the same key, and receivers de-duplicate on it.

pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::channels::{Channels, Outbound, SendError};
use crate::domain::{ContactId, Delivery};
use crate::engine::bus::Audience;
use crate::engine::reply::attachment_views;
use crate::engine::view::MessageView;
use crate::engine::{self, Engine};
use crate::store::{self, conversations, identities, inboxes, messages, outbox};

/// Tunables (from `[outbox]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct OutboxConfig {
    /// Sends in flight at once.
    pub concurrency: usize,
    /// First retry delay; doubles per attempt.
    pub backoff_base: Duration,
    /// Longest delay between attempts.
    pub backoff_max: Duration,
    /// Give up (mark failed) when a reply is still unsent after this long.
    pub max_age: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            concurrency: 16,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// Delay before attempt `attempts + 1`: base × 2^attempts, capped, with ±20 % jitter so
/// many replies to one recovering endpoint do not retry in lockstep.
pub fn backoff_ms(cfg: &OutboxConfig, attempts: i64) -> i64 {
    let base = i64::try_from(cfg.backoff_base.as_millis()).unwrap_or(2000);
    let max = i64::try_from(cfg.backoff_max.as_millis()).unwrap_or(600_000);
    let exp = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let d = base.saturating_mul(1_i64 << exp.min(20)).min(max);
    let jitter = d / 5;
    if jitter == 0 {
        return d;
    }
    d - jitter + rand::random_range(0..=2 * jitter)
}

/// Run delivery until the process stops.
pub async fn run(engine: Arc<Engine>, channels: Arc<Channels>, cfg: OutboxConfig) {
    let wake = engine.outbox_wake.clone();
    drive(&engine, &wake, "outbox", outbox::next_due_at, || {
        pass(&engine, &channels, &cfg)
    })
    .await;
}

/// Run passes until the process stops: another pass at once after one that sent something;
/// after an empty one, wait for `wake` or until the next row is due (`next_due`).
pub(crate) async fn drive<P, F>(
    engine: &Arc<Engine>,
    wake: &tokio::sync::Notify,
    what: &'static str,
    next_due: fn(&rusqlite::Connection) -> store::Result<Option<i64>>,
    mut pass: P,
) where
    P: FnMut() -> F,
    F: std::future::Future<Output = engine::Result<usize>>,
{
    loop {
        match pass().await {
            Ok(0) => {
                let next = engine
                    .store
                    .read(move |c, _| next_due(c))
                    .await
                    .ok()
                    .flatten();
                // Never spin: at least 50 ms between passes that found nothing to send.
                let wait = next.map_or(Duration::from_secs(5), |t| {
                    Duration::from_millis(u64::try_from(t - engine.now()).unwrap_or(0))
                        .clamp(Duration::from_millis(50), Duration::from_secs(5))
                });
                let _ = tokio::time::timeout(wait, wake.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "{what} pass failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Send every row due now; returns how many were attempted.
pub async fn pass(
    engine: &Arc<Engine>,
    channels: &Arc<Channels>,
    cfg: &OutboxConfig,
) -> engine::Result<usize> {
    let now = engine.now();
    let due = engine
        .store
        .read(move |c, _| outbox::due(c, now, 256))
        .await?;
    let n = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(cfg.concurrency.max(1), |row| async move {
            let (id, attempts) = (row.id, row.attempts);
            if let Err(e) = deliver(engine, channels, cfg, row).await {
                tracing::warn!(outbox_id = id, error = %e, "outbox delivery failed before sending");
                back_off(engine, cfg, id, attempts, &e, outbox::mark_attempt_failed).await;
            }
        })
        .await;
    Ok(n)
}

/// A row whose delivery failed before anything was sent (an internal error) must not stay due:
/// it backs off like a failed send, so it neither spins nor holds its conversation's later rows
/// for ever. `mark` records the attempt in the row's queue.
pub(crate) async fn back_off(
    engine: &Engine,
    cfg: &OutboxConfig,
    id: i64,
    attempts: i64,
    e: &engine::Error,
    mark: fn(&rusqlite::Connection, i64, &str, Option<i64>, i64) -> store::Result<()>,
) {
    let (now, retry) = (engine.now(), engine.now() + backoff_ms(cfg, attempts));
    let reason = format!("internal error: {e}");
    let _ = engine
        .store
        .write(move |c, _| mark(c, id, &reason, Some(retry), now))
        .await;
}

async fn deliver(
    engine: &Arc<Engine>,
    channels: &Channels,
    cfg: &OutboxConfig,
    row: outbox::OutboxRow,
) -> engine::Result<()> {
    let inbox = engine.inbox(row.inbox_id).await?;
    let (mid, cid, iid) = (row.message_id, row.conversation_id, row.inbox_id);
    let windowed = crate::channels::wechat::is_tencent(&inbox.channel);
    let data_dir = engine.store.data_dir().to_path_buf();
    let loaded = engine
        .store
        .read(move |c, ring| {
            let Some(m) = messages::get(c, ring, mid)? else {
                return Ok(None);
            };
            let conv = conversations::get(c, cid)?;
            let contact = conv.as_ref().map_or(ContactId(0), |r| r.contact_id);
            // The account the customer wrote through (a merged contact may have several in
            // this inbox), and the contact's global identities (phone, e-mail, unionid).
            let through = conv.as_ref().and_then(|r| r.identity_id);
            let recipient: Vec<_> = identities::list(c, ring, contact)?
                .into_iter()
                .filter(|i| match i.inbox_id {
                    None => true,
                    Some(x) => x == iid && through.is_none_or(|t| t == i.id),
                })
                .collect();
            let atts = attachment_views(c, ring, &[mid.0])?;
            let creds = inboxes::get(c, ring, iid)?.map(|i| i.credentials);
            // Channels with a reply window count from the customer's last message here.
            let last_in = if windowed {
                messages::last_incoming_at(c, contact, iid)?
            } else {
                None
            };
            // WeChat uploads the files itself: read them (decrypted) for it.
            let files = if windowed {
                atts.iter()
                    .map(|(_, a)| crate::store::attachments::read_file(&data_dir, ring, a.id))
                    .collect::<store::Result<Vec<_>>>()?
            } else {
                Vec::new()
            };
            Ok(Some((m, conv, recipient, atts, creds, last_in, files)))
        })
        .await?;
    let Some((message, conv, recipient, atts, creds, last_inbound_at, files)) = loaded else {
        return Ok(());
    };
    let out = Outbound {
        outbox_id: row.id,
        resends: row.resends,
        conversation_id: cid.0,
        message,
        attachments: atts.into_iter().map(|(_, a)| a).collect(),
        recipient,
        last_inbound_at,
        files,
    };
    let started = engine.now();
    let result = if out.message.recalled {
        // Recalled while it waited: it is not sent at all.
        Err(SendError::Permanent(
            "recalled before it was delivered".into(),
        ))
    } else if inbox.disabled {
        Err(SendError::Retryable("the inbox is disabled".into()))
    } else {
        channels
            .send(&inbox, creds.as_deref().unwrap_or("{}"), &out, started)
            .await
    };
    let now = engine.now();
    let max_age = i64::try_from(cfg.max_age.as_millis()).unwrap_or(i64::MAX);
    let (delivery, reason, retry_at) = match &result {
        Ok(()) => (Some(Delivery::Sent), None, None),
        Err(SendError::Retryable(e)) if now - row.created_at < max_age => (
            None,
            Some(e.clone()),
            Some(now + backoff_ms(cfg, row.attempts)),
        ),
        Err(SendError::Retryable(e) | SendError::Permanent(e)) => {
            (Some(Delivery::Failed), Some(e.clone()), None)
        }
    };
    let (oid, r2) = (row.id, reason.clone());
    let changed = engine
        .store
        .write(move |c, ring| {
            match (delivery, &r2) {
                (Some(Delivery::Sent), _) => outbox::mark_sent(c, oid, now)?,
                (_, Some(e)) => outbox::mark_attempt_failed(c, oid, e, retry_at, now)?,
                _ => {}
            }
            let changed = match (delivery, &r2) {
                (Some(d), _) => messages::set_delivery(c, mid, d, r2.as_deref())?,
                (None, Some(e)) => messages::set_retry_reason(c, mid, e)?,
                (None, None) => false,
            };
            let m = if changed {
                messages::get(c, ring, mid)?
            } else {
                None
            };
            store::Result::Ok(m)
        })
        .await?;
    match &result {
        Ok(()) => tracing::debug!(outbox_id = row.id, conversation_id = cid.0, "reply sent"),
        Err(e) => tracing::info!(
            outbox_id = row.id,
            conversation_id = cid.0,
            attempts = row.attempts + 1,
            retry = retry_at.is_some(),
            error = %e,
            "reply not delivered"
        ),
    }
    if let (Some(Delivery::Sent), Some(conv)) = (delivery, &conv) {
        // A widget visitor waiting for replies fetches it now.
        engine.visitors.wake(conv.contact_id.0);
    }
    if let (Some(m), Some(conv)) = (changed, conv) {
        engine.bus.publish(
            "message.updated",
            Audience::activity(conv.id.0, conv.inbox_id, conv.team_id, conv.assignee_id),
            &MessageView::new(&m, out.attachments.clone()),
        );
    }
    Ok(())
}

/// A channel reported later that a reply it accepted was not delivered (WeCom's
/// `msg_send_fail`): the message is marked failed with `reason`, visible with its resend
/// action. Unknown rows, other inboxes' rows and already-failed rows change nothing.
pub async fn report_failed(
    engine: &Engine,
    inbox: i64,
    outbox_id: i64,
    reason: String,
) -> engine::Result<()> {
    let now = engine.now();
    let changed = engine
        .store
        .write(move |c, ring| {
            // Only this inbox's rows: a report about another inbox's id changes nothing.
            let Some(mid) = outbox::message_in(c, outbox_id, inbox)? else {
                return Ok(None);
            };
            outbox::mark_attempt_failed(c, outbox_id, &reason, None, now)?;
            if !messages::set_delivery(c, mid, Delivery::Failed, Some(&reason))? {
                return Ok(None);
            }
            let m = messages::get(c, ring, mid)?;
            let conv = match &m {
                Some(m) => conversations::get(c, m.conversation_id)?,
                None => None,
            };
            let atts = attachment_views(c, ring, &[mid.0])?;
            store::Result::Ok(m.zip(conv).map(|(m, conv)| (m, conv, atts)))
        })
        .await?;
    if let Some((m, conv, atts)) = changed {
        engine.bus.publish(
            "message.updated",
            Audience::activity(conv.id.0, conv.inbox_id, conv.team_id, conv.assignee_id),
            &MessageView::new(&m, atts.into_iter().map(|(_, a)| a).collect()),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let cfg = OutboxConfig::default();
        for attempt in 0..40 {
            let d = backoff_ms(&cfg, attempt);
            let nominal = (2000_i64 << attempt.min(20)).min(600_000);
            assert!(
                d >= nominal * 4 / 5 && d <= nominal * 6 / 5,
                "{attempt}: {d}"
            );
        }
    }
}
