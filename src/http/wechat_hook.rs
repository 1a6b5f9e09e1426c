//! WeChat's callback for Official Account and Mini Program inboxes: `/hooks/wechat/{inbox}`.
//!
//! `GET` is the console's URL check (answer `echostr` when the signature matches). `POST` is a
//! push in plaintext, compatible or safe mode — chosen per request by `encrypt_type=aes` in the
//! query, never by configuration, so switching modes in the console breaks nothing. Every push
//! is verified (signature, and `msg_signature` over the ciphertext, both in constant time; the
//! timestamp within 5 minutes), decrypted, parsed without any DTD or entity expansion, stored
//! through the engine, and only then acknowledged with `success`. WeChat retries a push it got
//! no answer for: the MsgId makes the retry a duplicate, stored once. Events update the contact
//! (subscribe, unsubscribe, scans, location) and a menu click with a configured answer gets it
//! as an instant passive reply. Repeated signature failures are audited.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::{Actor, Entry, Outcome};
use crate::channels::wechat::push::{self, Push};
use crate::channels::wechat::xml::{self, cdata};
use crate::channels::wechat::{self, Config, Receiver, kf};
use crate::domain::{
    ContactDraft, IdentityClaim, IdentityKind, InboundMessage, MessageContext, MessageKind,
};
use crate::engine::identify::Identify;
use crate::store::{audit as audit_log, inboxes};

/// Largest push body accepted.
pub const MAX_PUSH: usize = xml::MAX_XML;

/// How far a push's timestamp may be from this server's clock.
const FRESH_S: i64 = 300;

#[derive(Debug, Deserialize)]
pub struct HookQuery {
    #[serde(default)]
    signature: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    echostr: Option<String>,
    #[serde(default)]
    encrypt_type: Option<String>,
    #[serde(default)]
    msg_signature: Option<String>,
}

/// The inbox's receiving side, built from its encrypted credentials once per change.
/// A caller who does not know a WeChat inbox's token learns nothing, not even whether the
/// inbox exists: an unknown id is refused like a bad signature.
async fn receiver(
    state: &AppState,
    inbox: i64,
    wecom: bool,
) -> Result<std::sync::Arc<Receiver>, ApiError> {
    let unknown = || {
        ApiError::with_detail(
            ErrorCode::SignatureInvalid,
            "no WeChat inbox with this id accepts this signature",
        )
    };
    let info = state.engine.inbox(inbox).await.map_err(|_| unknown())?;
    let ours = if wecom {
        info.channel == kf::CHANNEL
    } else {
        wechat::is_wechat(&info.channel)
    };
    if !ours {
        return Err(unknown());
    }
    let generation = state.engine.inbox_generation();
    if let Some(r) = state.channels.wechat.receivers.get(inbox, generation) {
        return Ok(r);
    }
    let creds = state
        .store
        .read(move |c, ring| inboxes::get(c, ring, inbox))
        .await?
        .map(|i| i.credentials)
        .ok_or_else(unknown)?;
    let cfg = Config::parse(&creds);
    if !cfg.receives() {
        return Err(ApiError::with_detail(
            ErrorCode::NotReady,
            "the inbox has no callback token yet",
        ));
    }
    let crypt = cfg
        .crypt()
        .map_err(|e| ApiError::with_detail(ErrorCode::NotReady, e.to_string()))?;
    Ok(state.channels.wechat.receivers.put(
        inbox,
        generation,
        Receiver {
            crypt,
            has_key: !cfg.encoding_aes_key.is_empty(),
            accept_plaintext: cfg.accept_plaintext,
            app_id: cfg.app_id.clone(),
        },
    ))
}

/// The receiving side for a push of `len` bytes (refused when larger than [`MAX_PUSH`]).
async fn push_receiver(
    state: &AppState,
    inbox: i64,
    wecom: bool,
    len: usize,
) -> Result<std::sync::Arc<Receiver>, ApiError> {
    let r = receiver(state, inbox, wecom).await?;
    if len > MAX_PUSH {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge));
    }
    Ok(r)
}

fn peer(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// A signature failure: counted, audited when they repeat, answered 401.
async fn signature_failed(state: &AppState, req: &HttpRequest, inbox: i64) -> ApiError {
    let now = state.clock.now_ms();
    if state.channels.wechat.failures.record(inbox, now) {
        let ip = peer(req);
        tracing::warn!(inbox, %ip, "repeated WeChat signature failures");
        let _ = state
            .store
            .write(move |c, ring| {
                let actor = Actor {
                    ip: ip.clone(),
                    ..Actor::system()
                };
                let e = Entry::new(
                    &actor,
                    "wechat.signature_failures",
                    format!("inbox:{inbox}"),
                )
                .outcome(Outcome::Denied)
                .details(json!({"failures": wechat::AUDIT_AFTER, "within_seconds": 60}));
                audit_log::append(c, ring, now, &e)
            })
            .await;
    }
    ApiError::new(ErrorCode::SignatureInvalid)
}

fn fresh(state: &AppState, ts: &str) -> Result<(), ApiError> {
    let t: i64 = ts
        .trim()
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::TimestampStale))?;
    if (state.clock.now_ms() / 1000).abs_diff(t) > FRESH_S.unsigned_abs() {
        return Err(ApiError::new(ErrorCode::TimestampStale));
    }
    Ok(())
}

/// The WeChat console's URL check: answers `echostr` when `signature` matches the inbox's
/// token.
#[utoipa::path(params(("inbox_id" = i64, Path), ("signature" = String, Query), ("timestamp" = String, Query), ("nonce" = String, Query), ("echostr" = String, Query)), responses((status = 200, description = "the echostr", body = String), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)), tag = "channels")]
#[get("/hooks/wechat/{inbox_id}")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<HookQuery>,
) -> Result<HttpResponse, ApiError> {
    let inbox = path.into_inner();
    let r = receiver(&state, inbox, false).await?;
    let Some(echo) = q.echostr.as_deref() else {
        return Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            "echostr is missing",
        ));
    };
    if !r.crypt.verify_plain(&q.timestamp, &q.nonce, &q.signature) {
        return Err(signature_failed(&state, &req, inbox).await);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(echo.to_string()))
}

/// A push from WeChat (XML, or JSON for mini programs so configured), in plaintext,
/// compatible or safe mode (`encrypt_type=aes` with `msg_signature`). Answers `success` (or
/// an instant passive reply) after the message is stored.
#[utoipa::path(params(("inbox_id" = i64, Path), ("signature" = String, Query), ("timestamp" = String, Query), ("nonce" = String, Query), ("encrypt_type" = Option<String>, Query), ("msg_signature" = Option<String>, Query)), request_body(content = String, content_type = "text/xml"), responses((status = 200, description = "`success`, or a passive reply", body = String), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)), tag = "channels")]
#[post("/hooks/wechat/{inbox_id}")]
pub async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<HookQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let inbox = path.into_inner();
    let r = push_receiver(&state, inbox, false, body.len()).await?;
    if !r.crypt.verify_plain(&q.timestamp, &q.nonce, &q.signature) {
        return Err(signature_failed(&state, &req, inbox).await);
    }
    fresh(&state, &q.timestamp)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::with_detail(ErrorCode::PushInvalid, "the body is not UTF-8"))?;
    let json_body = text.trim_start().starts_with('{');
    let bad =
        |e: &dyn std::fmt::Display| ApiError::with_detail(ErrorCode::PushInvalid, e.to_string());
    let outer = if json_body {
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e))?;
        push::json_fields(&v).ok_or_else(|| bad(&"the JSON push is not an object"))?
    } else {
        xml::parse(text).map_err(|e| bad(&e))?
    };
    let safe = q.encrypt_type.as_deref() == Some("aes");
    // The plain `signature` does not cover the body: an inbox that has a key takes only pushes
    // whose body is signed (`msg_signature` over the ciphertext, safe and compatible modes),
    // unless an administrator chose plaintext mode for it.
    if !safe && r.has_key && !r.accept_plaintext {
        return Err(signature_failed(&state, &req, inbox).await);
    }
    // Safe mode: the message is only inside `Encrypt`, signed by `msg_signature`.
    let (fields, raw) = if safe {
        if !r.has_key {
            return Err(bad(&"safe mode needs the inbox's EncodingAESKey"));
        }
        let enc = outer
            .get("Encrypt")
            .ok_or_else(|| bad(&"the push has no Encrypt"))?;
        let given = q.msg_signature.as_deref().unwrap_or("");
        let plain = match r.crypt.open(&q.timestamp, &q.nonce, enc, given) {
            Ok(p) => p,
            Err(crate::channels::wechat::crypto::CryptError::Signature) => {
                return Err(signature_failed(&state, &req, inbox).await);
            }
            Err(e) => return Err(bad(&e)),
        };
        let inner = if plain.trim_start().starts_with('{') {
            let v: Value = serde_json::from_str(&plain).map_err(|e| bad(&e))?;
            push::json_fields(&v).ok_or_else(|| bad(&"the JSON push is not an object"))?
        } else {
            xml::parse(&plain).map_err(|e| bad(&e))?
        };
        (inner, plain)
    } else {
        // Plaintext and compatible modes: the plain fields are signed by `signature`.
        (outer, text.to_string())
    };
    let decoded = push::decode(&fields, &raw).map_err(|e| bad(&e))?;
    let passive = match decoded {
        Push::Message(m) => {
            let msg_id = m.msg_id.clone();
            let stored = state
                .store
                .read(move |c, _| crate::store::messages::find_external(c, inbox, &msg_id))
                .await?;
            // A retry of a push already stored: acknowledged again, nothing fetched or stored.
            if stored.is_none() {
                let file = match &m.media_id {
                    Some(id) => media(&state, inbox, &m, id).await,
                    None => None,
                };
                message(&state, inbox, m, file, &raw).await?;
            }
            None
        }
        Push::Event(e) => event(&state, inbox, &e).await?,
    };
    let reply = match passive {
        Some(content) if !json_body => {
            let now = state.clock.now_ms() / 1000;
            let xml = format!(
                "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{now}</CreateTime><MsgType>{}</MsgType><Content>{}</Content></xml>",
                cdata(fields.str("FromUserName")),
                cdata(fields.str("ToUserName")),
                cdata("text"),
                cdata(&content),
            );
            if safe {
                r.crypt.seal_xml(&xml, &now.to_string(), &q.nonce)
            } else {
                xml
            }
        }
        _ => "success".to_string(),
    };
    Ok(HttpResponse::Ok()
        .content_type(if reply == "success" {
            "text/plain; charset=utf-8"
        } else {
            "application/xml; charset=utf-8"
        })
        .body(reply))
}

fn openid_claim(openid: &str) -> IdentityClaim {
    IdentityClaim {
        kind: IdentityKind::OpenId,
        value: openid.to_string(),
        // WeChat signed the push that names it.
        verified: true,
    }
}

/// Longest the hook waits for WeChat's media server before storing the message without its
/// file (WeChat gives the whole push 5 seconds).
const MEDIA_WAIT: std::time::Duration = std::time::Duration::from_millis(2500);

/// Fetch a message's image, voice or video from WeChat (`media/get`; WeChat keeps it 3 days)
/// and store it encrypted as an upload of the inbox, for the message to carry. A retried push
/// (already stored) fetches nothing; a failure is logged and the message is stored without it.
async fn media(state: &AppState, inbox: i64, m: &push::Message, media_id: &str) -> Option<i64> {
    let cfg = wechat::stored_config(&state.store, inbox).await.ok()?;
    if cfg.app_secret.is_empty() {
        return None;
    }
    let ctx = wechat::client::Ctx::new(&state.channels, inbox, &cfg, state.clock.now_ms(), false);
    let cap = usize::try_from(state.config.attachments.max_bytes).unwrap_or(usize::MAX);
    let fetched = tokio::time::timeout(
        MEDIA_WAIT,
        state.channels.wechat.api.get_media(ctx, media_id, cap),
    )
    .await;
    let (bytes, name) = match fetched {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::warn!(inbox, error = %e.reason(), "wechat media not fetched");
            return None;
        }
        Err(_) => {
            tracing::warn!(inbox, "wechat media not fetched in time");
            return None;
        }
    };
    let default = match m.kind {
        MessageKind::Image => "image.jpg",
        MessageKind::Audio => "voice.amr",
        _ => "video.mp4",
    };
    let name = name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| default.into());
    let owner = super::attachments::Owner {
        conversation: None,
        inbox: Some(inbox),
        uploader: None,
    };
    match super::attachments::store_bytes(state, name, bytes, owner).await {
        Ok(u) => Some(u.id),
        Err(e) => {
            tracing::warn!(inbox, error = %e, "wechat media refused");
            None
        }
    }
}

/// A customer's message: stored through the engine (a retry is a duplicate and stored once).
/// A picture, voice or video whose file could not be fetched is still stored: a picture with
/// its WeChat URL as text, a voice with its recognised text, otherwise as unsupported with the
/// raw push — never dropped.
async fn message(
    state: &AppState,
    inbox: i64,
    mut m: push::Message,
    file: Option<i64>,
    raw: &str,
) -> Result<(), ApiError> {
    let media_kind = matches!(
        m.kind,
        MessageKind::Image | MessageKind::Audio | MessageKind::Video
    );
    if media_kind && file.is_none() && m.body.trim().is_empty() {
        let pic = push::picture_url(raw);
        match pic {
            Some(url) if m.kind == MessageKind::Image => m.body = url,
            _ => {
                m.content = Some(json!({"type": m.kind.as_str(), "raw": raw}));
                m.kind = MessageKind::Unsupported;
            }
        }
    }
    let content = m.content;
    // Only location, link and unsupported messages carry structured content in the store.
    let content = match m.kind {
        MessageKind::Location | MessageKind::Link | MessageKind::Unsupported => content,
        _ => None,
    };
    let msg = InboundMessage {
        inbox_id: inbox,
        external_id: Some(m.msg_id),
        identities: vec![openid_claim(&m.openid)],
        profile: ContactDraft::default(),
        kind: m.kind,
        body: m.body,
        content,
        context: MessageContext::default(),
        attachments: file.into_iter().collect(),
    };
    state.engine.ingest(msg).await?;
    Ok(())
}

/// An event: the contact learns what it says; a menu click may have an instant answer.
async fn event(state: &AppState, inbox: i64, e: &push::Event) -> Result<Option<String>, ApiError> {
    let mut attrs = Map::new();
    let now = state.clock.now_ms();
    // WeChat retries an event it got no answer for: the retry has no second effect (the
    // passive reply is answered again — WeChat shows the customer one).
    let key = e.dedupe_key();
    let first = state
        .store
        .write(move |c, _| inboxes::first_event(c, inbox, &key, now))
        .await?;
    match e.event.as_str() {
        "subscribe" => {
            attrs.insert("wechat_subscribed".into(), Value::Bool(true));
            attrs.insert("wechat_subscribed_at".into(), json!(e.created));
            if let Some(scene) = e.key.strip_prefix("qrscene_") {
                attrs.insert("wechat_scene".into(), Value::String(scene.to_string()));
            }
        }
        "unsubscribe" => {
            attrs.insert("wechat_subscribed".into(), Value::Bool(false));
        }
        "SCAN" => {
            attrs.insert("wechat_scene".into(), Value::String(e.key.clone()));
        }
        "LOCATION" => {
            attrs.insert(
                "wechat_latitude".into(),
                Value::String(e.fields.str("Latitude").to_string()),
            );
            attrs.insert(
                "wechat_longitude".into(),
                Value::String(e.fields.str("Longitude").to_string()),
            );
        }
        "user_enter_tempsession" => {
            let sf = push::session_from(e.fields.str("SessionFrom"));
            attrs.insert(
                "miniprogram_source".into(),
                Value::String(sf.source.chars().take(200).collect()),
            );
            for (k, v) in sf.custom.into_iter().take(10) {
                if v.is_string() || v.is_number() || v.is_boolean() {
                    attrs.insert(format!("mp_{}", k.chars().take(30).collect::<String>()), v);
                }
            }
        }
        _ => {}
    }
    let info = state.engine.inbox(inbox).await?;
    let passive = match e.event.as_str() {
        "CLICK" => info.settings.wechat.click_reply(&e.key),
        "subscribe" => {
            Some(info.settings.wechat.subscribe_greeting.clone()).filter(|s| !s.is_empty())
        }
        _ => None,
    };
    // A customer opening a mini program's chat gets the greeting as a customer message (WeChat
    // allows two within a minute of entering); in the background, best effort.
    let greeting = info.settings.wechat.subscribe_greeting.clone();
    if first && e.event == "user_enter_tempsession" && !greeting.is_empty() {
        let (channels, store, openid) = (
            state.channels.clone(),
            state.store.clone(),
            e.openid.clone(),
        );
        let now = state.clock.now_ms();
        tokio::spawn(async move {
            let Ok(cfg) = wechat::stored_config(&store, inbox).await else {
                return;
            };
            if cfg.app_secret.is_empty() {
                return;
            }
            let ctx = wechat::client::Ctx::new(&channels, inbox, &cfg, now, false);
            let body = json!({"touser": openid, "msgtype": "text", "text": {"content": greeting}});
            if let Err(e) = channels
                .wechat
                .api
                .call(ctx, "/cgi-bin/message/custom/send", &body)
                .await
            {
                tracing::info!(inbox, error = %e.reason(), "mini program greeting not sent");
            }
        });
    }
    if first && !attrs.is_empty() {
        let profile = if e.event == "user_enter_tempsession" {
            let sf = push::session_from(e.fields.str("SessionFrom"));
            ContactDraft {
                name: Some(sf.nickname).filter(|n| !n.is_empty()),
                ..ContactDraft::default()
            }
        } else {
            ContactDraft::default()
        };
        state
            .engine
            .identify(Identify {
                inbox_id: inbox,
                identities: vec![openid_claim(&e.openid)],
                profile,
                vip: None,
                attributes: Some(attrs),
            })
            .await?;
    }
    tracing::debug!(inbox, event = %e.event, key = %e.dedupe_key(), at = now, "wechat event");
    Ok(passive)
}

#[derive(Debug, Deserialize)]
pub struct WecomQuery {
    #[serde(default)]
    msg_signature: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    echostr: Option<String>,
}

/// WeCom's URL check for a 微信客服 inbox: `echostr` is encrypted; answer its plaintext when
/// `msg_signature` matches.
#[utoipa::path(params(("inbox_id" = i64, Path), ("msg_signature" = String, Query), ("timestamp" = String, Query), ("nonce" = String, Query), ("echostr" = String, Query)), responses((status = 200, description = "the decrypted echostr", body = String), (status = 401, body = super::error::ErrorBody)), tag = "channels")]
#[get("/hooks/wecom/{inbox_id}")]
pub async fn verify_wecom(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<WecomQuery>,
) -> Result<HttpResponse, ApiError> {
    let inbox = path.into_inner();
    let r = receiver(&state, inbox, true).await?;
    let Some(echo) = q.echostr.as_deref() else {
        return Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            "echostr is missing",
        ));
    };
    match r.crypt.open(&q.timestamp, &q.nonce, echo, &q.msg_signature) {
        Ok(plain) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(plain)),
        Err(crate::channels::wechat::crypto::CryptError::Signature) => {
            Err(signature_failed(&state, &req, inbox).await)
        }
        Err(e) => Err(ApiError::with_detail(ErrorCode::PushInvalid, e.to_string())),
    }
}

/// WeCom's callback for a 微信客服 inbox. It carries no message, only `kf_msg_or_event` with
/// a token: Atrium pulls with `sync_msg` at once (and every minute regardless), so nothing
/// depends on this answer but the pull's speed.
#[utoipa::path(params(("inbox_id" = i64, Path), ("msg_signature" = String, Query), ("timestamp" = String, Query), ("nonce" = String, Query)), request_body(content = String, content_type = "text/xml"), responses((status = 200, description = "`success`", body = String), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)), tag = "channels")]
#[post("/hooks/wecom/{inbox_id}")]
pub async fn receive_wecom(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<WecomQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let inbox = path.into_inner();
    let r = push_receiver(&state, inbox, true, body.len()).await?;
    if !r.has_key {
        return Err(ApiError::with_detail(
            ErrorCode::NotReady,
            "the inbox has no EncodingAESKey",
        ));
    }
    let bad =
        |e: &dyn std::fmt::Display| ApiError::with_detail(ErrorCode::PushInvalid, e.to_string());
    let text = std::str::from_utf8(&body).map_err(|e| bad(&e))?;
    let outer = xml::parse(text).map_err(|e| bad(&e))?;
    let enc = outer
        .get("Encrypt")
        .ok_or_else(|| bad(&"the callback has no Encrypt"))?;
    let plain = match r.crypt.open(&q.timestamp, &q.nonce, enc, &q.msg_signature) {
        Ok(p) => p,
        Err(crate::channels::wechat::crypto::CryptError::Signature) => {
            return Err(signature_failed(&state, &req, inbox).await);
        }
        Err(e) => return Err(bad(&e)),
    };
    fresh(&state, &q.timestamp)?;
    let f = xml::parse(&plain).map_err(|e| bad(&e))?;
    if f.str("Event") == "kf_msg_or_event" {
        let token = f.get("Token").map(str::to_string);
        state
            .channels
            .wechat
            .kf
            .notify(inbox, token, state.clock.now_ms());
    } else {
        tracing::debug!(inbox, event = f.str("Event"), "wecom callback ignored");
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("success"))
}
