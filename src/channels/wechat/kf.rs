//! WeCom 微信客服 (channel `wecom_kf`). The callback carries no content, only a hint
//! (`kf_msg_or_event` with a short-lived token): Atrium then pulls with `sync_msg` from the
//! inbox's saved cursor, stores every message of a batch through the engine, and saves the
//! batch's `next_cursor` only after that — a crash between batches re-reads at most one batch,
//! which the message ids make harmless (stored once). Each inbox is also pulled on start and
//! every minute, so a lost callback delays nothing for long. Replies go out with `send_msg`
//! using the outbox row as `msgid` (a retry cannot send twice); a later `msg_send_fail` marks
//! the reply failed with its reason; `enter_session` gets the inbox's greeting through
//! `send_msg_on_event`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::client::Ctx;
use super::{Config, Outbound, SendError};
use crate::channels::Channels;
use crate::domain::{
    ContactDraft, IdentityClaim, IdentityKind, InboundMessage, MessageContext, MessageKind,
};
use crate::engine::Engine;
use crate::engine::settings::InboxInfo;
use crate::store::inboxes;

/// The channel's name.
pub const CHANNEL: &str = "wecom_kf";

/// How often every 微信客服 inbox is pulled without a callback.
const POLL: Duration = Duration::from_secs(60);

/// Messages asked for per `sync_msg` call (WeCom's maximum).
const BATCH: u32 = 1000;

/// A callback's token is good for 10 minutes; use it for 9.
const TOKEN_TTL_MS: i64 = 9 * 60 * 1000;

/// Pull state shared by the callback and the worker.
#[derive(Default)]
pub struct Kf {
    /// Inboxes whose callback said there is something to pull.
    pending: Mutex<HashSet<i64>>,
    wake: tokio::sync::Notify,
    /// The latest callback token per inbox (lets `sync_msg` run without WeCom's strict limit).
    tokens: Mutex<HashMap<i64, (String, i64)>>,
    /// One pull at a time per inbox.
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl Kf {
    /// The callback said inbox `inbox` has news (with the token to pull it).
    pub fn notify(&self, inbox: i64, token: Option<String>, now: i64) {
        if let Some(t) = token.filter(|t| !t.is_empty())
            && let Ok(mut m) = self.tokens.lock()
        {
            m.insert(inbox, (t, now + TOKEN_TTL_MS));
        }
        if let Ok(mut p) = self.pending.lock() {
            p.insert(inbox);
        }
        self.wake.notify_one();
    }

    fn token(&self, inbox: i64, now: i64) -> Option<String> {
        let m = self.tokens.lock().ok()?;
        m.get(&inbox)
            .filter(|(_, exp)| *exp > now)
            .map(|(t, _)| t.clone())
    }

    fn lock(&self, inbox: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry(inbox).or_default().clone()
    }

    fn take_pending(&self) -> Vec<i64> {
        self.pending
            .lock()
            .map(|mut p| p.drain().collect())
            .unwrap_or_default()
    }
}

/// Pull every 微信客服 inbox now and every minute, and any inbox at once when its callback
/// arrives. Runs until the process stops.
pub async fn run(engine: Arc<Engine>, channels: Arc<Channels>) {
    let mut next_all = tokio::time::Instant::now();
    loop {
        let all = tokio::time::Instant::now() >= next_all;
        let inboxes = if all {
            next_all = tokio::time::Instant::now() + POLL;
            let _ = channels.wechat.kf.take_pending();
            engine
                .store
                .read(|c, _| inboxes::ids_of_channel(c, CHANNEL))
                .await
                .unwrap_or_default()
        } else {
            channels.wechat.kf.take_pending()
        };
        for inbox in inboxes {
            match sync(&engine, &channels, inbox).await {
                Ok(n) if n > 0 => tracing::debug!(inbox, messages = n, "wecom kf pulled"),
                Ok(_) => {}
                Err(e) => tracing::warn!(inbox, error = %e, "wecom kf pull failed; will retry"),
            }
        }
        let wait = next_all.saturating_duration_since(tokio::time::Instant::now());
        let _ = tokio::time::timeout(wait, channels.wechat.kf.wake.notified()).await;
    }
}

/// Pull inbox `inbox` until WeCom has nothing more; returns how many messages were handled.
pub async fn sync(engine: &Arc<Engine>, channels: &Channels, inbox: i64) -> Result<usize, String> {
    let lock = channels.wechat.kf.lock(inbox);
    let _one = lock.lock().await;
    let info = engine.inbox(inbox).await.map_err(|e| e.to_string())?;
    if info.disabled || info.channel != CHANNEL {
        return Ok(0);
    }
    let cfg = super::stored_config(&engine.store, inbox)
        .await
        .map_err(|e| e.to_string())?;
    if cfg.app_id.is_empty() || cfg.app_secret.is_empty() || cfg.open_kfid.is_empty() {
        return Ok(0);
    }
    let kfid = cfg.open_kfid.clone();
    let mut cursor = engine
        .store
        .read(move |c, _| inboxes::cursor(c, inbox, &kfid))
        .await
        .map_err(|e| e.to_string())?;
    let mut handled = 0;
    loop {
        let now = engine.now();
        let ctx = Ctx::new(channels, inbox, &cfg, now, true);
        let mut body = serde_json::Map::new();
        body.insert("limit".into(), json!(BATCH));
        body.insert("voice_format".into(), json!(0));
        body.insert("open_kfid".into(), json!(cfg.open_kfid));
        if let Some(c) = &cursor {
            body.insert("cursor".into(), json!(c));
        }
        if let Some(t) = channels.wechat.kf.token(inbox, now) {
            body.insert("token".into(), json!(t));
        }
        let body = Value::Object(body);
        let v = channels
            .wechat
            .api
            .call(ctx, "/cgi-bin/kf/sync_msg", &body)
            .await
            .map_err(|e| e.reason())?;
        let list = v
            .get("msg_list")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for m in &list {
            handle(engine, channels, &info, &cfg, m).await?;
            handled += 1;
        }
        // Only now, with every message of the batch committed, is the cursor moved on.
        let next = v
            .get("next_cursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if let Some(next) = next.clone().filter(|n| Some(n) != cursor.as_ref()) {
            let (kfid, t) = (cfg.open_kfid.clone(), engine.now());
            engine
                .store
                .write(move |c, _| inboxes::set_cursor(c, inbox, &kfid, &next, t))
                .await
                .map_err(|e| e.to_string())?;
        }
        let progressed = next.is_some() && next != cursor;
        cursor = next.or(cursor);
        // Stop when WeCom says so, or when its cursor stands still (no endless loop).
        if v.get("has_more").and_then(Value::as_i64) != Some(1) || !progressed {
            break;
        }
    }
    Ok(handled)
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

/// One pulled message or event.
async fn handle(
    engine: &Arc<Engine>,
    channels: &Channels,
    info: &InboxInfo,
    cfg: &Config,
    m: &Value,
) -> Result<(), String> {
    let origin = m.get("origin").and_then(Value::as_i64).unwrap_or(0);
    let msgtype = s(m, "/msgtype");
    if msgtype == "event" {
        return event(engine, channels, info, cfg, m).await;
    }
    if origin != 3 {
        // 4: a system message; 5: an agent answering from the WeCom client — not the customer.
        tracing::debug!(inbox = info.id, origin, msgtype, "wecom kf message skipped");
        return Ok(());
    }
    let (msgid, user) = (s(m, "/msgid"), s(m, "/external_userid"));
    if msgid.is_empty() || user.is_empty() {
        return Err("a pulled message has no msgid or external_userid".into());
    }
    let (kind, body, content) = match msgtype {
        "text" => (MessageKind::Text, s(m, "/text/content").to_string(), None),
        // The file itself is not fetched from WeCom yet: kept with its raw record.
        "image" | "voice" | "video" | "file" => unsupported(msgtype, m),
        "location" => {
            let lat = m.pointer("/location/latitude").and_then(Value::as_f64);
            let lng = m.pointer("/location/longitude").and_then(Value::as_f64);
            let label = format!("{} {}", s(m, "/location/name"), s(m, "/location/address"))
                .trim()
                .to_string();
            match (lat, lng) {
                (Some(lat), Some(lng)) => (
                    MessageKind::Location,
                    label.clone(),
                    Some(json!({"latitude": lat, "longitude": lng, "label": label})),
                ),
                _ => unsupported(msgtype, m),
            }
        }
        "link" if s(m, "/link/url").starts_with("http") => (
            MessageKind::Link,
            s(m, "/link/title").to_string(),
            Some(json!({
                "url": s(m, "/link/url"), "title": s(m, "/link/title"),
                "description": s(m, "/link/desc"),
            })),
        ),
        "miniprogram" => (
            MessageKind::Text,
            format!(
                "{} ({})",
                s(m, "/miniprogram/title"),
                s(m, "/miniprogram/pagepath")
            ),
            None,
        ),
        other => unsupported(other, m),
    };
    let mut msg = InboundMessage {
        inbox_id: info.id,
        external_id: Some(msgid.to_string()),
        identities: vec![IdentityClaim {
            kind: IdentityKind::OpenId,
            value: user.to_string(),
            verified: true,
        }],
        profile: ContactDraft::default(),
        kind,
        body,
        content,
        context: MessageContext::default(),
        attachments: Vec::new(),
    };
    match engine.ingest(msg.clone()).await {
        Ok(_) => Ok(()),
        // A message the engine refuses (empty, too long…) must not stop the pull for ever:
        // it is kept as unsupported with its raw record, or skipped with a warning.
        Err(crate::engine::Error::Invalid(why)) => {
            tracing::warn!(inbox = info.id, msgid, %why, "wecom kf message kept as unsupported");
            let (kind, body, content) = unsupported(msgtype, m);
            (msg.kind, msg.body, msg.content) = (kind, body, content);
            if let Err(e) = engine.ingest(msg).await {
                tracing::warn!(inbox = info.id, msgid, error = %e, "wecom kf message skipped");
            }
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn unsupported(kind: &str, m: &Value) -> (MessageKind, String, Option<Value>) {
    (
        MessageKind::Unsupported,
        String::new(),
        Some(json!({"type": kind, "raw": m.to_string()})),
    )
}

/// Why WeCom did not deliver a reply (`msg_send_fail.fail_type`).
pub(crate) fn fail_reason(t: i64) -> String {
    let what = match t {
        1 => "the customer-service account was deleted",
        2 => "the app was closed",
        4 => "the 48-hour reply window has closed",
        5 => "the session has ended",
        6 => "the reply quota is used up (at most 5 replies per customer message within 48 hours)",
        7..=9 => "the customer has not verified or cannot receive messages",
        10 => "the customer refused messages",
        _ => "WeCom did not say why",
    };
    format!("wecom fail_type {t}: {what}")
}

async fn event(
    engine: &Arc<Engine>,
    channels: &Channels,
    info: &InboxInfo,
    cfg: &Config,
    m: &Value,
) -> Result<(), String> {
    match s(m, "/event/event_type") {
        "enter_session" => {
            let code = s(m, "/event/welcome_code");
            let greeting = info.settings.wechat.subscribe_greeting.clone();
            if !code.is_empty() && !greeting.is_empty() {
                let ctx = Ctx::new(channels, info.id, cfg, engine.now(), true);
                // The code is single-use and short-lived: sent now, best effort.
                let msgid = format!("atrium-w-{}", s(m, "/msgid"))
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .take(32)
                    .collect::<String>();
                let body = json!({"code": code, "msgid": msgid, "msgtype": "text",
                    "text": {"content": greeting}});
                if let Err(e) = channels
                    .wechat
                    .api
                    .call(ctx, "/cgi-bin/kf/send_msg_on_event", &body)
                    .await
                {
                    tracing::info!(inbox = info.id, error = %e.reason(), "wecom kf greeting not sent");
                }
            }
            Ok(())
        }
        "msg_send_fail" => {
            let failed = s(m, "/event/fail_msgid");
            let kind = m
                .pointer("/event/fail_type")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if let Some(id) = outbox_of(failed) {
                crate::outbox::report_failed(engine, info.id, id, fail_reason(kind))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        other => {
            tracing::debug!(inbox = info.id, event = other, "wecom kf event");
            Ok(())
        }
    }
}

/// The `msgid` of part `part` of an outbox row's reply, sent again `resends` times: `a-{row}`,
/// `a-{row}-{part}`, `a-{row}-r{resends}[-{part}]` (at most 32 characters, as WeCom allows).
fn msgid(row: i64, resends: i64, part: usize) -> String {
    let mut id = format!("a-{row}");
    if resends > 0 {
        id.push_str(&format!("-r{resends}"));
    }
    if part > 0 {
        id.push_str(&format!("-{part}"));
    }
    id
}

/// The outbox row a `msgid` of ours names.
fn outbox_of(msgid: &str) -> Option<i64> {
    msgid.strip_prefix("a-")?.split('-').next()?.parse().ok()
}

/// Send one reply with `send_msg` (the outbox row id is the `msgid`, so a retry of a reply
/// WeCom already took cannot be sent twice).
pub async fn send(
    channels: &Channels,
    inbox: &InboxInfo,
    credentials: &str,
    msg: &Outbound,
    now: i64,
) -> Result<(), SendError> {
    let cfg = Config::parse(credentials);
    let user = super::recipient(&cfg, inbox, msg, now, true)?;
    let api = &channels.wechat.api;
    let ctx = Ctx::new(channels, inbox.id, &cfg, now, true);
    let mut parts: Vec<Value> = super::upload_images(api, ctx, msg)
        .await?
        .into_iter()
        .map(|id| json!({"touser": user, "msgtype": "image", "image": {"media_id": id}}))
        .collect();
    if !msg.message.body.trim().is_empty() || msg.attachments.is_empty() {
        let text = super::custom_message(&inbox.channel, &user, msg)?;
        if text.get("msgtype").and_then(Value::as_str) != Some("text") {
            return Err(SendError::Permanent(format!(
                "wecom: a {} message cannot be sent through 微信客服 in this version",
                msg.message.kind
            )));
        }
        parts.push(text);
    }
    let kfid = cfg.open_kfid.clone();
    super::send_parts(parts, |i, mut body| {
        // The outbox row is the msgid (one per part, and per resend after a failure): a
        // retried part cannot be sent twice, a resent reply is a new message for WeCom.
        let msgid = msgid(msg.outbox_id, msg.resends, i);
        if let Some(o) = body.as_object_mut() {
            o.insert("open_kfid".into(), json!(kfid));
            o.insert("msgid".into(), json!(msgid));
        }
        async move {
            api.call(ctx, "/cgi-bin/kf/send_msg", &body)
                .await
                .map(|_| ())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgids_name_their_row_and_fit_wecom() {
        let row = 1_839_335_376_109_569;
        assert_eq!(outbox_of(&msgid(row, 0, 0)), Some(row));
        assert_eq!(outbox_of(&msgid(row, 0, 2)), Some(row));
        assert_eq!(outbox_of(&msgid(row, 12, 3)), Some(row));
        assert_ne!(
            msgid(row, 0, 0),
            msgid(row, 1, 0),
            "a resend is a new message"
        );
        assert!(msgid(row, 999, 9).len() <= 32);
        assert_eq!(outbox_of("kfmsg12"), None);
    }
}
