//! WeChat channels: the Official Account (公众号, channel `wechat_mp`) and the Mini Program's
//! customer messages (`miniprogram`). Pushes arrive at `/hooks/wechat/{inbox}` (see
//! `http::wechat_hook`); agents' replies leave through the customer-service message API
//! (`message/custom/send`) from the outbox.

pub mod client;
pub mod crypto;
pub mod fake;
pub mod kf;
pub mod push;
pub mod xml;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{Outbound, SendError};
use crate::domain::{IdentityKind, MessageKind};
use crate::engine::settings::InboxInfo;

/// WeChat's public API host.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// WeCom's public API host (微信客服).
pub const WECOM_API_BASE: &str = "https://qyapi.weixin.qq.com";

/// How long after the customer's last message an account may still answer.
pub const REPLY_WINDOW_MS: i64 = 48 * 3600 * 1000;

/// Official Account and Mini Program: pushes to `/hooks/wechat/…`, replies by `custom/send`.
pub fn is_wechat(channel: &str) -> bool {
    matches!(channel, "wechat_mp" | "miniprogram")
}

/// Every channel this module serves (with WeCom 微信客服).
pub fn is_tencent(channel: &str) -> bool {
    is_wechat(channel) || channel == kf::CHANNEL
}

/// What a WeChat inbox keeps encrypted (`inboxes.credentials`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// AppID (wx…): the receiver id inside every ciphertext.
    pub app_id: String,
    pub app_secret: Zeroizing<String>,
    /// The callback token pasted into the WeChat console.
    pub token: Zeroizing<String>,
    /// The 43-character EncodingAESKey (safe and compatible modes).
    pub encoding_aes_key: Zeroizing<String>,
    /// API base URL; empty for WeChat's own (tests and private gateways set another).
    pub api_base: String,
    /// Forward proxy for calls to WeChat (`http://proxy.bank.local:3128`); empty for none.
    pub proxy: Option<String>,
    /// WeCom 微信客服: the customer-service account (`wk…`) this inbox answers for.
    pub open_kfid: String,
    /// Take pushes in WeChat's plaintext mode (明文模式), whose bodies no signature covers.
    /// Off by default: safe and compatible modes sign the body.
    pub accept_plaintext: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("app_id", &self.app_id)
            .field("api_base", &self.api_base)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn parse(credentials: &str) -> Config {
        serde_json::from_str(credentials).unwrap_or_default()
    }

    /// Ready to receive pushes (token set; the AES key, when set, valid).
    pub fn receives(&self) -> bool {
        !self.token.is_empty()
    }

    /// Every problem, each naming its field (`wecom`: a 微信客服 inbox, which needs its
    /// account id).
    pub fn validate(&self, wecom: bool) -> Vec<String> {
        let mut p = Vec::new();
        let kf_ok = self.open_kfid.len() <= 64
            && self
                .open_kfid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if wecom && (self.open_kfid.is_empty() || !kf_ok) {
            p.push("open_kfid: the customer-service account id (wk…) is required".into());
        }
        if wecom && self.encoding_aes_key.is_empty() {
            p.push("encoding_aes_key: WeCom callbacks are always encrypted; generate a key".into());
        }
        let id_ok = self.app_id.len() <= 64
            && self
                .app_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if self.app_id.is_empty() || !id_ok {
            p.push("app_id: the AppID (wx…) or CorpID (ww…) is required".into());
        }
        if self.app_secret.len() > 128 {
            p.push("app_secret: at most 128 characters".into());
        }
        let token_ok = (3..=32).contains(&self.token.len())
            && self.token.bytes().all(|b| b.is_ascii_alphanumeric());
        if !token_ok {
            p.push("token: 3 to 32 letters or digits, as in the WeChat console".into());
        }
        if !self.encoding_aes_key.is_empty() && crypto::decode_key(&self.encoding_aes_key).is_err()
        {
            p.push("encoding_aes_key: 43 characters of base64, as in the WeChat console".into());
        }
        let base = self.api_base.trim();
        if !base.is_empty() {
            let ok = url::Url::parse(base).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none()
                    && u.username().is_empty()
            });
            if !ok {
                p.push("api_base: an http(s) URL without query or user".into());
            }
        }
        if let Some(proxy) = self.proxy.as_deref().filter(|s| !s.trim().is_empty()) {
            let ok = url::Url::parse(proxy).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.username().is_empty()
                    && u.password().is_none()
            });
            if !ok {
                p.push(
                    "proxy: an http(s) proxy URL such as http://proxy.example:3128 (without user or password)"
                        .into(),
                );
            }
        }
        p
    }

    pub fn crypt(&self) -> Result<crypto::MsgCrypt, crypto::CryptError> {
        let key = if self.encoding_aes_key.is_empty() {
            // Plaintext mode: signatures only. A key that decrypts nothing a sender could make.
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        } else {
            self.encoding_aes_key.as_str()
        };
        crypto::MsgCrypt::new(&self.token, key, &self.app_id)
    }
}

/// An inbox's stored configuration (defaults when the inbox or its credentials are missing).
pub async fn stored_config(
    store: &crate::store::Store,
    inbox: i64,
) -> crate::store::Result<Config> {
    let creds = store
        .read(move |c, ring| crate::store::inboxes::get(c, ring, inbox))
        .await?
        .map(|i| i.credentials)
        .unwrap_or_default();
    Ok(Config::parse(&creds))
}

/// One inbox's receiving side, built once per configuration.
pub struct Receiver {
    pub crypt: crypto::MsgCrypt,
    /// Whether an EncodingAESKey is configured (safe and compatible modes need it).
    pub has_key: bool,
    /// Plaintext-mode pushes accepted (see [`Config::accept_plaintext`]).
    pub accept_plaintext: bool,
    pub app_id: String,
}

/// Receivers by inbox, rebuilt when the engine's inbox cache moves on (an inbox changed).
#[derive(Default)]
pub struct Receivers {
    map: RwLock<HashMap<i64, (u64, Arc<Receiver>)>>,
}

impl Receivers {
    pub fn get(&self, inbox: i64, generation: u64) -> Option<Arc<Receiver>> {
        let m = self.map.read().ok()?;
        m.get(&inbox)
            .filter(|(g, _)| *g == generation)
            .map(|(_, r)| r.clone())
    }

    pub fn put(&self, inbox: i64, generation: u64, r: Receiver) -> Arc<Receiver> {
        let r = Arc::new(r);
        if let Ok(mut m) = self.map.write() {
            m.insert(inbox, (generation, r.clone()));
        }
        r
    }
}

/// Signature failures per inbox within a minute before one audit entry is written.
pub const AUDIT_AFTER: u32 = 5;

/// Signature failures by inbox: (minute window start, count).
#[derive(Default)]
pub struct Failures(std::sync::Mutex<HashMap<i64, (i64, u32)>>);

impl Failures {
    /// Count one failure; true exactly when the count reaches the audit threshold.
    pub fn record(&self, inbox: i64, now: i64) -> bool {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = m.entry(inbox).or_insert((now, 0));
        if now - e.0 > 60_000 {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 == AUDIT_AFTER
    }
}

/// What the WeChat channels share: tokens, receivers, signature-failure counts.
#[derive(Default)]
pub struct State {
    pub api: client::Api,
    pub receivers: Receivers,
    pub failures: Failures,
    pub kf: kf::Kf,
    /// Conversations whose "typing" WeChat shows until then (it lasts 15 s and cannot be
    /// sent again meanwhile).
    typing_until: std::sync::Mutex<HashMap<i64, i64>>,
}

/// How long WeChat shows "typing" after one call.
const TYPING_MS: i64 = 15_000;

impl State {
    /// Whether a "typing" call for `conversation` is due now (and note that it is sent).
    pub fn typing_due(&self, conversation: i64, now: i64) -> bool {
        let Ok(mut m) = self.typing_until.lock() else {
            return false;
        };
        m.retain(|_, until| *until > now);
        if m.contains_key(&conversation) {
            return false;
        }
        m.insert(conversation, now + TYPING_MS);
        true
    }
}

/// The customer-service message body for an outgoing message.
pub fn custom_message(channel: &str, openid: &str, msg: &Outbound) -> Result<Value, SendError> {
    let m = &msg.message;
    let body = match m.kind {
        MessageKind::Text => {
            json!({"touser": openid, "msgtype": "text", "text": {"content": m.body}})
        }
        MessageKind::Link | MessageKind::Card => {
            let c = m.content.clone().unwrap_or(Value::Null);
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let title = if s("title").is_empty() {
                m.body.clone()
            } else {
                s("title")
            };
            let image = s("image_url");
            if channel == "miniprogram" {
                json!({"touser": openid, "msgtype": "link", "link": {
                    "title": title, "description": s("description"), "url": s("url"),
                    "thumb_url": image,
                }})
            } else {
                json!({"touser": openid, "msgtype": "news", "news": {"articles": [{
                    "title": title, "description": s("description"), "url": s("url"),
                    "picurl": image,
                }]}})
            }
        }
        other => {
            return Err(SendError::Permanent(format!(
                "wechat: a {other} message cannot be sent through WeChat"
            )));
        }
    };
    Ok(body)
}

/// Largest picture WeChat takes (`media/upload`, type image).
const MAX_IMAGE: usize = 10 << 20;

/// Check that every file of a reply is a picture WeChat can send (JPEG, PNG, GIF within
/// 10 MB), before anything is sent.
fn check_images(msg: &Outbound) -> Result<(), SendError> {
    if msg.files.len() != msg.attachments.len() {
        return Err(SendError::Retryable(
            "wechat: the reply's files could not be read".into(),
        ));
    }
    for (a, bytes) in msg.attachments.iter().zip(&msg.files) {
        if !matches!(
            a.content_type.as_str(),
            "image/jpeg" | "image/png" | "image/gif"
        ) {
            return Err(SendError::Permanent(format!(
                "wechat: only pictures (JPEG, PNG, GIF) can be sent through WeChat; {} is {}",
                a.name, a.content_type
            )));
        }
        if bytes.len() > MAX_IMAGE {
            return Err(SendError::Permanent(format!(
                "wechat: {} is larger than WeChat's 10 MB for pictures",
                a.name
            )));
        }
    }
    Ok(())
}

/// Upload a reply's pictures; their media ids in order.
pub(crate) async fn upload_images(
    api: &client::Api,
    ctx: client::Ctx<'_>,
    msg: &Outbound,
) -> Result<Vec<String>, SendError> {
    check_images(msg)?;
    let mut ids = Vec::new();
    for (a, bytes) in msg.attachments.iter().zip(&msg.files) {
        let id = api
            .upload(ctx, "image", &a.name, &a.content_type, bytes)
            .await
            .map_err(client::CallError::into_send_error)?;
        ids.push(id);
    }
    Ok(ids)
}

/// Send the parts of one reply (pictures, then the text) in order. A failure before the first
/// part keeps its class (a retry is safe); a failure after some parts reached the customer is
/// final, saying how many did — a retry would send those again.
pub(crate) async fn send_parts<F, Fut>(parts: Vec<Value>, mut send: F) -> Result<(), SendError>
where
    F: FnMut(usize, Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), client::CallError>>,
{
    let n = parts.len();
    for (i, p) in parts.into_iter().enumerate() {
        if let Err(e) = send(i, p).await {
            return Err(if i == 0 {
                e.into_send_error()
            } else {
                SendError::Permanent(format!(
                    "{} (the first {i} of {n} parts reached the customer)",
                    e.reason()
                ))
            });
        }
    }
    Ok(())
}

/// Who a reply goes to (the customer's OpenID, or external_userid for 微信客服, in this
/// inbox), once the inbox is configured and the reply window still open — refused before
/// WeChat would refuse it (45015, or WeCom's fail_type 4).
pub(crate) fn recipient(
    cfg: &Config,
    inbox: &InboxInfo,
    msg: &Outbound,
    now: i64,
    wecom: bool,
) -> Result<String, SendError> {
    if cfg.app_id.is_empty() || cfg.app_secret.is_empty() || (wecom && cfg.open_kfid.is_empty()) {
        return Err(SendError::Retryable(if wecom {
            "wecom: the inbox has no CorpID/Secret/account yet; replies wait until they are set"
                .into()
        } else {
            "wechat: the inbox has no AppID/AppSecret yet; replies wait until they are set".into()
        }));
    }
    let Some(id) = msg
        .recipient
        .iter()
        .find(|i| i.kind == IdentityKind::OpenId && i.inbox_id == Some(inbox.id))
        .map(|i| i.value.clone())
    else {
        return Err(SendError::Permanent(if wecom {
            "wecom: the customer has no external_userid in this inbox".into()
        } else {
            "wechat: the customer has no OpenID in this inbox".into()
        }));
    };
    if let Some(last) = msg.last_inbound_at
        && now - last > REPLY_WINDOW_MS
    {
        return Err(SendError::Permanent(if wecom {
            kf::fail_reason(4)
        } else {
            client::WxError {
                code: 45015,
                message: String::new(),
            }
            .reason()
        }));
    }
    Ok(id)
}

/// Send one reply through the customer-service message API.
pub async fn send(
    channels: &super::Channels,
    inbox: &InboxInfo,
    credentials: &str,
    msg: &Outbound,
    now: i64,
) -> Result<(), SendError> {
    let cfg = Config::parse(credentials);
    let openid = recipient(&cfg, inbox, msg, now, false)?;
    let api = &channels.wechat.api;
    let ctx = client::Ctx::new(channels, inbox.id, &cfg, now, false);
    let mut parts: Vec<Value> = upload_images(api, ctx, msg)
        .await?
        .into_iter()
        .map(|id| json!({"touser": openid, "msgtype": "image", "image": {"media_id": id}}))
        .collect();
    if !msg.message.body.trim().is_empty() || msg.attachments.is_empty() {
        parts.push(custom_message(&inbox.channel, &openid, msg)?);
    }
    send_parts(parts, |_, body| async move {
        api.call(ctx, "/cgi-bin/message/custom/send", &body)
            .await
            .map(|_| ())
    })
    .await
}

/// Relay an agent's typing to the customer's WeChat (Official Account and Mini Program;
/// once per 15 seconds per conversation, only while typing). Best effort, in the background.
pub fn relay_typing(
    channels: &std::sync::Arc<super::Channels>,
    store: &std::sync::Arc<crate::store::Store>,
    inbox: &InboxInfo,
    contact: crate::domain::ContactId,
    conversation: i64,
    now: i64,
) {
    if !is_wechat(&inbox.channel) || !channels.wechat.typing_due(conversation, now) {
        return;
    }
    let (channels, store, inbox) = (channels.clone(), store.clone(), inbox.clone());
    tokio::spawn(async move {
        let iid = inbox.id;
        let found = store
            .read(move |c, ring| {
                let creds = crate::store::inboxes::get(c, ring, iid)?.map(|i| i.credentials);
                let openid = crate::store::identities::list(c, ring, contact)?
                    .into_iter()
                    .find(|i| i.kind == IdentityKind::OpenId && i.inbox_id == Some(iid))
                    .map(|i| i.value);
                Ok(creds.zip(openid))
            })
            .await;
        let Ok(Some((creds, openid))) = found else {
            return;
        };
        let cfg = Config::parse(&creds);
        if cfg.app_secret.is_empty() {
            return;
        }
        let ctx = client::Ctx::new(&channels, iid, &cfg, now, false);
        if let Err(e) = typing(&channels.wechat.api, ctx, &inbox.channel, &openid, true).await {
            // 45080 (no message within 30 s) and 45081 (already shown) are normal.
            tracing::debug!(inbox = iid, error = %e.reason(), "wechat typing not shown");
        }
    });
}

/// Tell WeChat the agent is typing (or stopped). Best effort: WeChat allows it only within 30
/// seconds of the customer's last message, and errors are not the agent's concern.
pub async fn typing(
    api: &client::Api,
    ctx: client::Ctx<'_>,
    channel: &str,
    openid: &str,
    on: bool,
) -> Result<(), client::CallError> {
    let path = if channel == "miniprogram" {
        "/cgi-bin/message/custom/business/typing"
    } else {
        "/cgi-bin/message/custom/typing"
    };
    let body = json!({"touser": openid, "command": if on { "Typing" } else { "CancelTyping" }});
    api.call(ctx, path, &body).await.map(|_| ())
}
