//! A fake WeChat server, built from WeChat's public documentation, for tests and for demos
//! without a real Official Account (`atrium fake-wechat`). It serves what Atrium calls —
//! stable/classic access tokens, `message/custom/send` (with the 48-hour window and the
//! 5-replies quota), typing and `media/get` — and plays WeChat's side of the callback: it
//! signs and encrypts pushes like WeChat, waits 5 seconds for an answer and tries 3 times in
//! all. Control endpoints under `/fake/` drive it: push a customer message, expire the token,
//! make the next call fail with a given code, move its clock, list what was sent. It also
//! plays WeCom 微信客服: `gettoken`, a message log paged by `kf/sync_msg` cursors (with a
//! hold that keeps a pull waiting, for crash tests), `kf/send_msg` (a repeated `msgid` is not
//! sent twice; a reply outside the 48-hour window or over the quota is accepted and then
//! reported by a `msg_send_fail` event, as WeCom does) and `send_msg_on_event`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::crypto::{MsgCrypt, signature};
use super::xml::cdata;

/// The fake's account.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub app_id: String,
    pub app_secret: String,
    pub token: String,
    pub encoding_aes_key: String,
    /// The account's original id (`gh_…`).
    pub account: String,
    /// Where pushes go (Atrium's `/hooks/wechat/{inbox}` URL, or `/hooks/wecom/{inbox}` for a
    /// 微信客服 fake, whose `app_id` is then the CorpID).
    pub callback_url: Option<String>,
    /// The 微信客服 account.
    pub open_kfid: String,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            app_id: "wxfake0000000001".into(),
            app_secret: "fakesecret0123456789abcdef012345".into(),
            token: "faketoken".into(),
            encoding_aes_key: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into(),
            account: "gh_fake00000001".into(),
            callback_url: None,
            open_kfid: "wkfake0000000001".into(),
        }
    }
}

#[derive(Default)]
struct Window {
    last_ms: i64,
    replies: u32,
}

#[derive(Default)]
struct State {
    token: Option<(String, i64)>,
    token_calls: u32,
    /// `message/custom/send` calls, accepted or not.
    send_attempts: u32,
    sends: Vec<Value>,
    typing: Vec<Value>,
    windows: HashMap<String, Window>,
    fail_next: VecDeque<(i64, String)>,
    clock_offset_ms: i64,
    media: HashMap<String, (Vec<u8>, String, String)>,
    msg_seq: u64,
    kf: KfState,
}

/// The 微信客服 side: the account's message log that `sync_msg` pages through.
struct KfState {
    log: Vec<Value>,
    sends: Vec<Value>,
    on_event: Vec<Value>,
    msgids: std::collections::HashSet<String>,
    /// Most messages per `sync_msg` answer (WeCom's limit is 1000; tests page smaller).
    batch: usize,
    /// `sync_msg` calls reading at or past this offset wait until it is cleared.
    hold_from: Option<usize>,
    held: u32,
    sync_calls: u32,
    windows: HashMap<String, Window>,
}

impl Default for KfState {
    fn default() -> Self {
        KfState {
            log: Vec::new(),
            sends: Vec::new(),
            on_event: Vec::new(),
            msgids: std::collections::HashSet::new(),
            batch: 1000,
            hold_from: None,
            held: 0,
            sync_calls: 0,
            windows: HashMap::new(),
        }
    }
}

/// The fake's shared state and configuration.
pub struct Fake {
    cfg: Mutex<FakeConfig>,
    state: Mutex<State>,
}

/// Replies per customer message, and the window, as WeChat enforces them.
const MAX_REPLIES: u32 = 5;
const WINDOW_MS: i64 = 48 * 3600 * 1000;
const TOKEN_TTL_S: i64 = 7200;

fn now_ms() -> i64 {
    crate::clock::Clock::now_ms(&crate::clock::SystemClock)
}

impl Fake {
    pub fn new(cfg: FakeConfig) -> Arc<Fake> {
        Arc::new(Fake {
            cfg: Mutex::new(cfg),
            state: Mutex::new(State {
                msg_seq: 6_054_768_590_064_713_728,
                ..State::default()
            }),
        })
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn config(&self) -> FakeConfig {
        self.cfg
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn now(&self) -> i64 {
        now_ms() + self.st().clock_offset_ms
    }

    fn issue_token(st: &mut State, now: i64) -> (String, i64) {
        let t = format!("FAKE_TOKEN_{}_{}", now, rand::random::<u32>());
        st.token = Some((t.clone(), now + TOKEN_TTL_S * 1000));
        st.token_calls += 1;
        (t, TOKEN_TTL_S)
    }

    /// Check an `access_token` query value: `None` when valid, else WeChat's error.
    fn check_token(&self, req: &HttpRequest) -> Option<Value> {
        let q = web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok()?;
        let given = q.get("access_token").cloned().unwrap_or_default();
        let now = self.now();
        let st = self.st();
        match &st.token {
            Some((t, exp)) if *t == given && *exp > now => None,
            Some((t, _)) if *t == given => Some(err(42001, "access_token expired")),
            _ => Some(err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            )),
        }
    }
}

fn err(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": msg})
}

#[derive(Deserialize)]
struct StableTokenReq {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    force_refresh: bool,
}

async fn stable_token(fake: web::Data<Arc<Fake>>, body: web::Json<StableTokenReq>) -> HttpResponse {
    let cfg = fake.config();
    if body.grant_type != "client_credential" {
        return HttpResponse::Ok().json(err(40002, "invalid grant_type"));
    }
    if body.appid != cfg.app_id {
        return HttpResponse::Ok().json(err(40013, "invalid appid"));
    }
    if body.secret != cfg.app_secret {
        return HttpResponse::Ok().json(err(40125, "invalid appsecret"));
    }
    let now = fake.now();
    let mut st = fake.st();
    if let Some((code, msg)) = st.fail_next.front().cloned()
        && matches!(code, 40164 | 45009 | -1)
    {
        st.fail_next.pop_front();
        return HttpResponse::Ok().json(err(code, &msg));
    }
    // The stable token stays the same until it expires or a refresh is forced.
    let (t, ttl) = match &st.token {
        Some((t, exp)) if !body.force_refresh && *exp > now => (t.clone(), (*exp - now) / 1000),
        _ => Fake::issue_token(&mut st, now),
    };
    HttpResponse::Ok().json(json!({"access_token": t, "expires_in": ttl}))
}

async fn classic_token(
    fake: web::Data<Arc<Fake>>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let cfg = fake.config();
    if q.get("appid") != Some(&cfg.app_id) {
        return HttpResponse::Ok().json(err(40013, "invalid appid"));
    }
    if q.get("secret") != Some(&cfg.app_secret) {
        return HttpResponse::Ok().json(err(40125, "invalid appsecret"));
    }
    let now = fake.now();
    // Each classic call replaces the previous token.
    let (t, ttl) = Fake::issue_token(&mut fake.st(), now);
    HttpResponse::Ok().json(json!({"access_token": t, "expires_in": ttl}))
}

/// Types `message/custom/send` accepts, and the field each needs.
fn check_custom(body: &Value, mini: bool) -> Result<(), Value> {
    let touser = body.get("touser").and_then(Value::as_str).unwrap_or("");
    if touser.is_empty() {
        return Err(err(40003, "invalid openid"));
    }
    let t = body.get("msgtype").and_then(Value::as_str).unwrap_or("");
    let allowed: &[&str] = if mini {
        &["text", "image", "link", "miniprogrampage"]
    } else {
        &[
            "text",
            "image",
            "voice",
            "video",
            "music",
            "news",
            "mpnews",
            "mpnewsarticle",
            "msgmenu",
            "wxcard",
            "miniprogrampage",
        ]
    };
    if !allowed.contains(&t) || body.get(t).is_none_or(|v| !v.is_object()) {
        return Err(err(40008, "invalid message type"));
    }
    if t == "text" {
        let c = body
            .pointer("/text/content")
            .and_then(Value::as_str)
            .unwrap_or("");
        if c.is_empty() {
            return Err(err(44003, "empty content"));
        }
        if c.len() > 2048 {
            return Err(err(45002, "content size out of limit"));
        }
    }
    if t == "news"
        && body
            .pointer("/news/articles")
            .and_then(Value::as_array)
            .is_none_or(|a| a.len() != 1)
    {
        return Err(err(45008, "article size out of limit"));
    }
    Ok(())
}

async fn custom_send(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    fake.st().send_attempts += 1;
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let mini = req.path().contains("/business/");
    let body = body.into_inner();
    if let Err(e) = check_custom(&body, mini) {
        return HttpResponse::Ok().json(e);
    }
    let now = fake.now();
    let mut st = fake.st();
    if let Some(id) = body.pointer("/image/media_id").and_then(Value::as_str)
        && !st.media.contains_key(id)
    {
        return HttpResponse::Ok().json(err(40007, "invalid media_id"));
    }
    if let Some((code, msg)) = st.fail_next.pop_front() {
        return HttpResponse::Ok().json(err(code, &msg));
    }
    let openid = body
        .get("touser")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let w = st.windows.entry(openid).or_default();
    if w.last_ms == 0 || now - w.last_ms > WINDOW_MS {
        return HttpResponse::Ok().json(err(
            45015,
            "response out of time limit or subscription is canceled",
        ));
    }
    if w.replies >= MAX_REPLIES {
        return HttpResponse::Ok().json(err(45047, "out of response count limit"));
    }
    w.replies += 1;
    st.sends.push(body);
    HttpResponse::Ok().json(err(0, "ok"))
}

async fn typing(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let cmd = body.get("command").and_then(Value::as_str).unwrap_or("");
    if cmd != "Typing" && cmd != "CancelTyping" {
        return HttpResponse::Ok().json(err(45072, "command invalid"));
    }
    fake.st().typing.push(body.into_inner());
    HttpResponse::Ok().json(err(0, "ok"))
}

async fn media_upload(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
    mut parts: actix_multipart::Multipart,
) -> HttpResponse {
    use futures_util::StreamExt as _;
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let kind = q.get("type").cloned().unwrap_or_default();
    if !matches!(
        kind.as_str(),
        "image" | "voice" | "video" | "thumb" | "file"
    ) {
        return HttpResponse::Ok().json(err(40004, "invalid media type"));
    }
    let mut file = None;
    while let Some(Ok(mut part)) = parts.next().await {
        if part.name() != Some("media") {
            continue;
        }
        let name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("media")
            .to_string();
        let ct = part.content_type().map_or_else(
            || "application/octet-stream".to_string(),
            ToString::to_string,
        );
        match part.bytes(10 << 20).await {
            Ok(Ok(b)) => file = Some((name, ct, b.to_vec())),
            _ => return HttpResponse::Ok().json(err(40009, "invalid image size")),
        }
    }
    let Some((name, ct, bytes)) = file else {
        return HttpResponse::Ok().json(err(41005, "media data missing"));
    };
    if kind == "image" && !ct.starts_with("image/") {
        return HttpResponse::Ok().json(err(40004, "invalid media type"));
    }
    let now = fake.now();
    let id = {
        let mut st = fake.st();
        st.msg_seq += 1;
        format!("MEDIA_UP_{}", st.msg_seq)
    };
    fake.add_media(&id, bytes, &ct, &name);
    HttpResponse::Ok().json(json!({"type": kind, "media_id": id, "created_at": now / 1000}))
}

async fn media_get(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let id = q.get("media_id").cloned().unwrap_or_default();
    match fake.st().media.get(&id) {
        Some((bytes, ct, name)) => HttpResponse::Ok()
            .content_type(ct.as_str())
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{name}\""),
            ))
            .body(bytes.clone()),
        None => HttpResponse::Ok().json(err(40007, "invalid media_id")),
    }
}

async fn wecom_token(
    fake: web::Data<Arc<Fake>>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let cfg = fake.config();
    if q.get("corpid") != Some(&cfg.app_id) {
        return HttpResponse::Ok().json(err(40013, "invalid corpid"));
    }
    if q.get("corpsecret") != Some(&cfg.app_secret) {
        return HttpResponse::Ok().json(err(40001, "invalid credential"));
    }
    let now = fake.now();
    let mut st = fake.st();
    let (t, ttl) = match &st.token {
        Some((t, exp)) if *exp > now => (t.clone(), (*exp - now) / 1000),
        _ => Fake::issue_token(&mut st, now),
    };
    HttpResponse::Ok()
        .json(json!({"errcode": 0, "errmsg": "ok", "access_token": t, "expires_in": ttl}))
}

fn cursor_of(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

fn offset_of(cursor: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw).ok()?.strip_prefix('o')?.parse().ok()
}

async fn kf_sync(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let cfg = fake.config();
    if body.get("open_kfid").and_then(Value::as_str) != Some(cfg.open_kfid.as_str()) {
        return HttpResponse::Ok().json(err(95004, "open_kfid not exist"));
    }
    let offset = match body.get("cursor").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(c) => match offset_of(c) {
            Some(o) => o,
            None => return HttpResponse::Ok().json(err(95000, "invalid cursor")),
        },
    };
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let held = {
        let mut st = fake.st();
        st.kf.sync_calls += 1;
        let h = st.kf.hold_from.is_some_and(|h| offset >= h);
        if h {
            st.kf.held += 1;
        }
        h
    };
    if held {
        // Hold the answer (the test kills Atrium meanwhile) until released.
        while fake.st().kf.hold_from.is_some_and(|h| offset >= h) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let st = fake.st();
    let n = limit.min(st.kf.batch);
    let end = (offset + n).min(st.kf.log.len());
    let list: Vec<Value> = st
        .kf
        .log
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "errcode": 0, "errmsg": "ok",
        "next_cursor": cursor_of(end),
        "has_more": i32::from(end < st.kf.log.len()),
        "msg_list": list,
    }))
}

async fn kf_send(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    let body = body.into_inner();
    let cfg = fake.config();
    if body.get("open_kfid").and_then(Value::as_str) != Some(cfg.open_kfid.as_str()) {
        return HttpResponse::Ok().json(err(95004, "open_kfid not exist"));
    }
    let user = body
        .get("touser")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let msgid = body
        .get("msgid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let msgid_ok = msgid.len() <= 32
        && msgid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if user.is_empty() || !msgid_ok {
        return HttpResponse::Ok().json(err(40003, "invalid touser or msgid"));
    }
    let t = body.get("msgtype").and_then(Value::as_str).unwrap_or("");
    let ok = match t {
        "text" => body
            .pointer("/text/content")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty()),
        "image" => body
            .pointer("/image/media_id")
            .and_then(Value::as_str)
            .is_some_and(|id| fake.st().media.contains_key(id)),
        _ => false,
    };
    if !ok {
        return HttpResponse::Ok().json(err(40008, "invalid message type or media_id"));
    }
    let now = fake.now();
    let fail = {
        let mut st = fake.st();
        if !msgid.is_empty() && !st.kf.msgids.insert(msgid.clone()) {
            // The same msgid again: already taken, not sent twice.
            return HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}));
        }
        let w = st.kf.windows.entry(user.clone()).or_default();
        let fail = if w.last_ms == 0 || now - w.last_ms > WINDOW_MS {
            Some(4)
        } else if w.replies >= MAX_REPLIES {
            Some(6)
        } else {
            w.replies += 1;
            None
        };
        if fail.is_none() {
            st.kf.sends.push(body);
        }
        fail
    };
    // WeCom accepts the call; the failure arrives later as an event.
    if let Some(fail_type) = fail {
        let event = json!({"msgid": format!("fail-{msgid}"), "open_kfid": cfg.open_kfid,
            "send_time": now / 1000, "origin": 4, "msgtype": "event",
            "event": {"event_type": "msg_send_fail", "open_kfid": cfg.open_kfid,
                "external_userid": user, "fail_msgid": msgid, "fail_type": fail_type}});
        fake.st().kf.log.push(event);
        let f = fake.get_ref().clone();
        actix_web::rt::spawn(async move {
            let _ = f.kf_callback().await;
        });
    }
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}))
}

async fn kf_send_on_event(
    fake: web::Data<Arc<Fake>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if let Some(e) = fake.check_token(&req) {
        return HttpResponse::Ok().json(e);
    }
    if body
        .get("code")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return HttpResponse::Ok().json(err(95000, "invalid code"));
    }
    fake.st().kf.on_event.push(body.into_inner());
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// `POST /fake/kf/say`: a customer writes to the 微信客服 account.
#[derive(Deserialize)]
pub struct KfSay {
    pub external_userid: String,
    pub texts: Vec<String>,
    /// Pictures sent before the texts (their media ids).
    #[serde(default)]
    pub images: Vec<String>,
}

/// `POST /fake/kf/hold`: `sync_msg` calls reading from `from` on wait (`null` releases).
#[derive(Deserialize)]
pub struct KfHold {
    pub from: Option<usize>,
    /// Messages per `sync_msg` answer.
    #[serde(default)]
    pub batch: Option<usize>,
}

impl Fake {
    /// A customer's messages join the log and WeCom calls back.
    pub async fn kf_say(&self, r: &KfSay) -> Result<u16, String> {
        let cfg = self.config();
        let now = self.now();
        {
            let mut st = self.st();
            for media in &r.images {
                st.msg_seq += 1;
                let id = format!("kfmsg{}", st.msg_seq);
                st.kf
                    .log
                    .push(json!({"msgid": id, "open_kfid": cfg.open_kfid,
                    "external_userid": r.external_userid, "send_time": now / 1000, "origin": 3,
                    "msgtype": "image", "image": {"media_id": media}}));
            }
            for t in &r.texts {
                st.msg_seq += 1;
                let id = format!("kfmsg{}", st.msg_seq);
                st.kf
                    .log
                    .push(json!({"msgid": id, "open_kfid": cfg.open_kfid,
                    "external_userid": r.external_userid, "send_time": now / 1000, "origin": 3,
                    "msgtype": "text", "text": {"content": t}}));
            }
            let w = st.kf.windows.entry(r.external_userid.clone()).or_default();
            w.last_ms = now;
            w.replies = 0;
        }
        self.kf_callback().await
    }

    /// A customer opens the chat (enter_session with a welcome code).
    pub async fn kf_enter(&self, user: &str) -> Result<u16, String> {
        let cfg = self.config();
        let now = self.now();
        {
            let mut st = self.st();
            st.msg_seq += 1;
            let id = format!("kfevt{}", st.msg_seq);
            st.kf.log.push(
                json!({"msgid": id, "open_kfid": cfg.open_kfid, "send_time": now / 1000,
                "origin": 4, "msgtype": "event", "event": {"event_type": "enter_session",
                "open_kfid": cfg.open_kfid, "external_userid": user, "scene": "123",
                "welcome_code": format!("WELCOME_{id}")}}),
            );
        }
        self.kf_callback().await
    }

    /// WeCom's callback: `kf_msg_or_event` with a token, encrypted, signed.
    pub async fn kf_callback(&self) -> Result<u16, String> {
        let cfg = self.config();
        let url = cfg
            .callback_url
            .clone()
            .ok_or("no callback URL configured")?;
        let now = self.now() / 1000;
        let inner = format!(
            "<xml><ToUserName>{}</ToUserName><CreateTime>{now}</CreateTime><MsgType>{}</MsgType><Event>{}</Event><Token>{}</Token><OpenKfId>{}</OpenKfId></xml>",
            cdata(&cfg.app_id),
            cdata("event"),
            cdata("kf_msg_or_event"),
            cdata(&format!("ENC{}", rand::random::<u32>())),
            cdata(&cfg.open_kfid),
        );
        let crypt = MsgCrypt::new(&cfg.token, &cfg.encoding_aes_key, &cfg.app_id)
            .map_err(|e| e.to_string())?;
        let enc = crypt.encrypt(&inner);
        let (ts, nonce) = (now.to_string(), rand::random::<u32>().to_string());
        let mut q = url::Url::parse(&url).map_err(|e| e.to_string())?;
        q.query_pairs_mut()
            .append_pair("msg_signature", &crypt.msg_signature(&ts, &nonce, &enc))
            .append_pair("timestamp", &ts)
            .append_pair("nonce", &nonce);
        let body = format!(
            "<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt><AgentID>{}</AgentID></xml>",
            cdata(&cfg.app_id),
            cdata(&enc),
            cdata("")
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let r = http
            .post(q.as_str())
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.status().as_u16())
    }

    /// Replies `kf/send_msg` accepted, oldest first.
    pub fn kf_sends(&self) -> Vec<Value> {
        self.st().kf.sends.clone()
    }

    /// Greetings sent with `send_msg_on_event`.
    pub fn kf_greetings(&self) -> Vec<Value> {
        self.st().kf.on_event.clone()
    }

    /// How many `sync_msg` calls were held so far.
    pub fn kf_held(&self) -> u32 {
        self.st().kf.held
    }

    pub fn kf_hold(&self, from: Option<usize>, batch: Option<usize>) {
        let mut st = self.st();
        st.kf.hold_from = from;
        if let Some(b) = batch {
            st.kf.batch = b.clamp(1, 1000);
        }
    }
}

async fn ctl_kf_say(fake: web::Data<Arc<Fake>>, body: web::Json<KfSay>) -> HttpResponse {
    match fake.kf_say(&body).await {
        Ok(status) => HttpResponse::Ok().json(json!({"callback_status": status})),
        Err(e) => HttpResponse::BadRequest().json(json!({"error": e})),
    }
}

#[derive(Deserialize)]
struct KfEnter {
    external_userid: String,
}

async fn ctl_kf_enter(fake: web::Data<Arc<Fake>>, body: web::Json<KfEnter>) -> HttpResponse {
    match fake.kf_enter(&body.external_userid).await {
        Ok(status) => HttpResponse::Ok().json(json!({"callback_status": status})),
        Err(e) => HttpResponse::BadRequest().json(json!({"error": e})),
    }
}

async fn ctl_kf_hold(fake: web::Data<Arc<Fake>>, body: web::Json<KfHold>) -> HttpResponse {
    fake.kf_hold(body.from, body.batch);
    HttpResponse::NoContent().finish()
}

async fn ctl_kf(fake: web::Data<Arc<Fake>>) -> HttpResponse {
    let st = fake.st();
    HttpResponse::Ok().json(json!({
        "sends": st.kf.sends, "greetings": st.kf.on_event, "held": st.kf.held,
        "sync_calls": st.kf.sync_calls, "log_len": st.kf.log.len(),
    }))
}

/// `POST /fake/push`: WeChat's side of a push.
#[derive(Deserialize)]
pub struct PushReq {
    /// The customer.
    pub openid: String,
    /// Text to send (ignored when `xml` is given).
    #[serde(default)]
    pub text: String,
    /// A whole message XML instead (its FromUserName and MsgId are used as they are).
    #[serde(default)]
    pub xml: Option<String>,
    /// `aes` (safe, default), `compat` or `plain`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Deliver the same signed request this many times (WeChat's retries), default 1.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Override the callback URL.
    #[serde(default)]
    pub url: Option<String>,
    /// A mini program's JSON push instead (encrypted into `{"ToUserName","Encrypt"}` in safe
    /// mode).
    #[serde(default)]
    pub json: Option<Value>,
}

/// What happened to a push.
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct PushResult {
    pub attempts: u32,
    pub status: u16,
    pub body: String,
    pub msg_id: String,
}

impl Fake {
    /// Sign, encrypt and deliver one push like WeChat: 5-second timeout, 3 tries in all
    /// (`repeat` sends the same request again even after an answer, as WeChat does when the
    /// answer is lost).
    pub async fn push(&self, r: &PushReq) -> Result<PushResult, String> {
        let cfg = self.config();
        let url = r
            .url
            .clone()
            .or(cfg.callback_url.clone())
            .ok_or("no callback URL configured")?;
        let now = self.now();
        let created = now / 1000;
        let (xml, msg_id) = match (&r.json, &r.xml) {
            (Some(j), _) => (j.to_string(), String::new()),
            (None, Some(x)) => (x.clone(), String::new()),
            (None, None) => {
                let id = {
                    let mut st = self.st();
                    st.msg_seq += 1;
                    st.msg_seq.to_string()
                };
                (
                    format!(
                        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{created}</CreateTime><MsgType>{}</MsgType><Content>{}</Content><MsgId>{id}</MsgId></xml>",
                        cdata(&cfg.account),
                        cdata(&r.openid),
                        cdata("text"),
                        cdata(&r.text),
                    ),
                    id,
                )
            }
        };
        // A customer's message opens (or renews) the reply window; entering a mini program's
        // chat allows two messages.
        if !xml.contains("[CDATA[event]]") && !xml.contains("\"event\"") {
            let mut st = self.st();
            let w = st.windows.entry(r.openid.clone()).or_default();
            w.last_ms = now;
            w.replies = 0;
        } else if xml.contains("user_enter_tempsession") {
            let mut st = self.st();
            let w = st.windows.entry(r.openid.clone()).or_default();
            w.last_ms = now;
            w.replies = MAX_REPLIES - 2;
        }
        let ts = created.to_string();
        let nonce = format!("{}", rand::random::<u32>());
        let sig = signature(&[&cfg.token, &ts, &nonce]);
        let mode = r.mode.as_deref().unwrap_or("aes");
        let mut q = url::Url::parse(&url).map_err(|e| e.to_string())?;
        q.query_pairs_mut()
            .append_pair("signature", &sig)
            .append_pair("timestamp", &ts)
            .append_pair("nonce", &nonce)
            .append_pair("openid", &r.openid);
        let body = if mode == "plain" {
            xml
        } else {
            let crypt = MsgCrypt::new(&cfg.token, &cfg.encoding_aes_key, &cfg.app_id)
                .map_err(|e| e.to_string())?;
            let enc = crypt.encrypt(&xml);
            if mode == "aes" && r.json.is_some() {
                q.query_pairs_mut()
                    .append_pair("encrypt_type", "aes")
                    .append_pair("msg_signature", &crypt.msg_signature(&ts, &nonce, &enc));
                json!({"ToUserName": cfg.account, "Encrypt": enc}).to_string()
            } else if mode == "aes" {
                q.query_pairs_mut()
                    .append_pair("encrypt_type", "aes")
                    .append_pair("msg_signature", &crypt.msg_signature(&ts, &nonce, &enc));
                format!(
                    "<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt></xml>",
                    cdata(&cfg.account),
                    cdata(&enc)
                )
            } else {
                // Compatible mode: the plain fields and the ciphertext side by side; the query
                // signs the ciphertext as in safe mode.
                q.query_pairs_mut()
                    .append_pair("encrypt_type", "aes")
                    .append_pair("msg_signature", &crypt.msg_signature(&ts, &nonce, &enc));
                xml.replacen(
                    "</xml>",
                    &format!("<Encrypt>{}</Encrypt></xml>", cdata(&enc)),
                    1,
                )
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let repeat = r.repeat.unwrap_or(1).clamp(1, 10);
        let mut attempts = 0;
        let mut last = (0u16, String::new());
        let mut delivered = 0;
        while attempts < 3 + repeat - 1 && delivered < repeat {
            attempts += 1;
            match http
                .post(q.as_str())
                .header("content-type", "text/xml")
                .body(body.clone())
                .send()
                .await
            {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    last = (status, text);
                    if status == 200 {
                        delivered += 1;
                    }
                }
                Err(e) => {
                    last = (
                        0,
                        if e.is_timeout() {
                            "timeout".into()
                        } else {
                            "unreachable".into()
                        },
                    )
                }
            }
        }
        Ok(PushResult {
            attempts,
            status: last.0,
            body: last.1,
            msg_id,
        })
    }

    /// Everything `message/custom/send` accepted, oldest first.
    pub fn sends(&self) -> Vec<Value> {
        self.st().sends.clone()
    }

    pub fn typing_calls(&self) -> Vec<Value> {
        self.st().typing.clone()
    }

    /// How many `message/custom/send` calls arrived (accepted or refused).
    pub fn send_attempts(&self) -> u32 {
        self.st().send_attempts
    }

    /// How many tokens were issued.
    pub fn token_calls(&self) -> u32 {
        self.st().token_calls
    }

    /// The current token expires now (the next call with it gets 42001).
    pub fn expire_token(&self) {
        let now = self.now();
        if let Some((_, exp)) = self.st().token.as_mut() {
            *exp = now - 1;
        }
    }

    /// The next API call answers with this error.
    pub fn fail_next(&self, code: i64, msg: &str) {
        self.st().fail_next.push_back((code, msg.to_string()));
    }

    /// Move the fake's clock forward.
    pub fn advance(&self, ms: i64) {
        self.st().clock_offset_ms += ms;
    }

    pub fn add_media(&self, id: &str, bytes: Vec<u8>, content_type: &str, name: &str) {
        self.st()
            .media
            .insert(id.into(), (bytes, content_type.into(), name.into()));
    }

    pub fn set_callback(&self, url: &str) {
        self.cfg
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .callback_url = Some(url.to_string());
    }
}

async fn ctl_push(fake: web::Data<Arc<Fake>>, body: web::Json<PushReq>) -> HttpResponse {
    match fake.push(&body).await {
        Ok(r) => HttpResponse::Ok().json(r),
        Err(e) => HttpResponse::BadRequest().json(json!({"error": e})),
    }
}

async fn ctl_sends(fake: web::Data<Arc<Fake>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sends": fake.sends(),
        "typing": fake.typing_calls(),
        "token_calls": fake.token_calls(),
        "send_attempts": fake.send_attempts(),
    }))
}

#[derive(Deserialize)]
struct FailReq {
    code: i64,
    #[serde(default)]
    errmsg: String,
}

async fn ctl_fail(fake: web::Data<Arc<Fake>>, body: web::Json<FailReq>) -> HttpResponse {
    fake.fail_next(body.code, &body.errmsg);
    HttpResponse::NoContent().finish()
}

async fn ctl_expire(fake: web::Data<Arc<Fake>>) -> HttpResponse {
    fake.expire_token();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct AdvanceReq {
    ms: i64,
}

async fn ctl_advance(fake: web::Data<Arc<Fake>>, body: web::Json<AdvanceReq>) -> HttpResponse {
    fake.advance(body.ms);
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct CallbackReq {
    url: String,
}

async fn ctl_callback(fake: web::Data<Arc<Fake>>, body: web::Json<CallbackReq>) -> HttpResponse {
    fake.set_callback(&body.url);
    HttpResponse::NoContent().finish()
}

/// The fake's routes (WeChat's API paths and the `/fake/` controls).
pub fn routes(fake: Arc<Fake>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(fake))
            .route("/cgi-bin/stable_token", web::post().to(stable_token))
            .route("/cgi-bin/token", web::get().to(classic_token))
            .route("/cgi-bin/message/custom/send", web::post().to(custom_send))
            .route(
                "/cgi-bin/message/custom/business/send",
                web::post().to(custom_send),
            )
            .route("/cgi-bin/message/custom/typing", web::post().to(typing))
            .route(
                "/cgi-bin/message/custom/business/typing",
                web::post().to(typing),
            )
            .route("/cgi-bin/media/get", web::get().to(media_get))
            .route("/cgi-bin/media/upload", web::post().to(media_upload))
            .route("/fake/push", web::post().to(ctl_push))
            .route("/fake/sends", web::get().to(ctl_sends))
            .route("/fake/fail-next", web::post().to(ctl_fail))
            .route("/fake/expire-token", web::post().to(ctl_expire))
            .route("/fake/advance", web::post().to(ctl_advance))
            .route("/fake/callback", web::post().to(ctl_callback))
            .route("/cgi-bin/gettoken", web::get().to(wecom_token))
            .route("/cgi-bin/kf/sync_msg", web::post().to(kf_sync))
            .route("/cgi-bin/kf/send_msg", web::post().to(kf_send))
            .route(
                "/cgi-bin/kf/send_msg_on_event",
                web::post().to(kf_send_on_event),
            )
            .route("/fake/kf/say", web::post().to(ctl_kf_say))
            .route("/fake/kf/enter", web::post().to(ctl_kf_enter))
            .route("/fake/kf/hold", web::post().to(ctl_kf_hold))
            .route("/fake/kf", web::get().to(ctl_kf));
    }
}

/// A running fake on its own thread.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub fake: Arc<Fake>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serve until the process is stopped.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let h = self.handle.clone();
        let _ =
            std::thread::spawn(move || actix_web::rt::System::new().block_on(h.stop(false))).join();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start the fake on `listen` (port 0 for any) in a thread of its own.
pub fn start(listen: &str, cfg: FakeConfig) -> std::io::Result<Running> {
    let fake = Fake::new(cfg);
    let f = fake.clone();
    let listener = std::net::TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new().configure(routes(f.clone()))
            })
            .workers(1)
            .listen(listener);
            match server {
                Ok(s) => {
                    let s = s.run();
                    let _ = tx.send(Ok(s.handle()));
                    let _ = s.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    let handle = rx
        .recv()
        .map_err(|_| std::io::Error::other("the fake did not start"))??;
    Ok(Running {
        addr,
        fake,
        handle,
        thread: Some(thread),
    })
}
