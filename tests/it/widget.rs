//! The website chat widget's visitor API (issue 5): the chat window may be framed only by the
//! inbox's origins; a visitor chats and is woken by the agent's reply (long polling); a forged
//! identity signature or visitor token is refused and never merged (must show 2); ratings;
//! floods are limited.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::desk::{Desk, agent, team};
use crate::identity::no_required_totp;
use crate::support::TestApp;

pub struct WebInbox {
    pub id: i64,
    pub identity_secret: String,
}

/// A web inbox with `settings`, and its identity secret.
pub fn web_inbox(app: &TestApp, team: Option<i64>, settings: Value) -> WebInbox {
    let now = app.state.store.now_ms();
    let settings = settings.to_string();
    let (id, secret) = app
        .state
        .store
        .write_blocking(move |c, ring| {
            let id = atrium::store::identity::create_inbox(c, "官网", "web", team, now)?;
            let s = atrium::http::inboxes::issue_identity_secret(c, ring, id)?;
            atrium::store::inboxes::update(c, id, "官网", team, &settings, false, now)?;
            Ok((id, s))
        })
        .unwrap();
    app.state.engine.inbox_changed(id);
    WebInbox {
        id,
        identity_secret: secret,
    }
}

/// A visitor's browser.
pub struct Visitor {
    base: String,
    inbox: i64,
    pub token: String,
    http: Client,
}

impl Visitor {
    pub fn session(base: &str, inbox: i64, body: Value) -> Result<Visitor, (StatusCode, Value)> {
        let http = Client::new();
        let r = http
            .post(format!("{base}/hooks/web/{inbox}/session"))
            .json(&body)
            .send()
            .unwrap();
        let s = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        if s != StatusCode::OK {
            return Err((s, v));
        }
        Ok(Visitor {
            base: base.to_string(),
            inbox,
            token: v["token"].as_str().unwrap().to_string(),
            http,
        })
    }

    pub fn anonymous(base: &str, inbox: i64) -> Visitor {
        Visitor::session(base, inbox, json!({})).unwrap()
    }

    pub fn with_token(base: &str, inbox: i64, token: &str) -> Visitor {
        Visitor {
            base: base.to_string(),
            inbox,
            token: token.to_string(),
            http: Client::new(),
        }
    }

    pub fn say(&self, client_id: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/hooks/web/{}/messages", self.base, self.inbox))
            .bearer_auth(&self.token)
            .json(&json!({"client_id": client_id, "body": body, "page": {"url": "https://shop.example/cart"}}))
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    pub fn poll(&self, after: i64, wait: u64) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!(
                "{}/hooks/web/{}/messages?after={after}&wait={wait}",
                self.base, self.inbox
            ))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(40))
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    pub fn rate(&self, conversation: i64, rating: i64) -> StatusCode {
        self.http
            .post(format!("{}/hooks/web/{}/csat", self.base, self.inbox))
            .bearer_auth(&self.token)
            .json(&json!({"conversation_id": conversation, "rating": rating, "comment": "好"}))
            .send()
            .unwrap()
            .status()
    }
}

fn signature(secret: &str, user: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn bodies(poll: &Value) -> Vec<String> {
    poll["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_chat_window_is_framed_only_by_the_inboxs_origins() {
    let app = TestApp::new();
    let w = web_inbox(
        &app,
        None,
        json!({"widget": {"allowed_origins": ["http://127.0.0.1:5555", "https://shop.example"]}}),
    );
    let r = Client::new()
        .get(format!("{}/widget/{}", app.base, w.id))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'self' http://127.0.0.1:5555 https://shop.example;"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(r.headers().get("x-frame-options").is_none());
    assert!(r.text().unwrap().contains("<div id=\"atrium-chat\">"));
    // Without origins only Atrium's own pages (the preview) may frame it; other pages keep DENY.
    let none = web_inbox(&app, None, json!({}));
    let r = Client::new()
        .get(format!("{}/widget/{}", app.base, none.id))
        .send()
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'self';"), "{csp}");
    let r = Client::new()
        .get(format!("{}/login", app.base))
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    // widget.js is a plain script at a fixed address, small.
    let r = Client::new()
        .get(format!("{}/widget.js", app.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(r.bytes().unwrap().len() < 30 * 1024);
    // Not a web inbox, or unknown: no window.
    let api = crate::desk::api_inbox(&app, "App", None, json!({}));
    for id in [api.id, 999_999] {
        let r = Client::new()
            .get(format!("{}/widget/{id}", app.base))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // Origins are validated when saved.
    let p = atrium::engine::settings::InboxSettings {
        widget: atrium::engine::settings::Widget {
            allowed_origins: vec!["https://shop.example/path".into()],
            ..Default::default()
        },
        ..Default::default()
    }
    .validate();
    assert!(
        p.iter().any(|e| e.starts_with("widget.allowed_origins")),
        "{p:?}"
    );
}

#[test]
fn a_visitor_chats_is_woken_by_the_reply_keeps_the_history_and_rates_once() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let w = web_inbox(
        &app,
        Some(t),
        json!({"widget": {"welcome": "您好！", "title": "网银客服"}}),
    );
    agent(&app, "agent.web", &[t], 5);
    let cfg: Value = Client::new()
        .get(format!("{}/hooks/web/{}/config", app.base, w.id))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(cfg["title"], "网银客服");
    assert_eq!(cfg["welcome"], "您好！");
    assert_eq!(cfg["open"], true);

    let v = Visitor::anonymous(&app.base, w.id);
    let (s, first) = v.say("c-1", "转账失败怎么办？");
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let conv = first["conversation_id"].as_i64().unwrap();
    // A retry with the same client id is stored once.
    let (s, again) = v.say("c-1", "转账失败怎么办？");
    assert_eq!(
        (s, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (_, p) = v.poll(0, 0);
    assert_eq!(bodies(&p), ["转账失败怎么办？"]);
    assert_eq!(p["conversation"]["status"], "open");
    let after = p["after"].as_i64().unwrap();
    // Nobody online yet: the visitor is told their place in the queue.
    let q = crate::desk::eventually(Duration::from_secs(10), "a queue place", || {
        let (_, p) = v.poll(0, 0);
        p["conversation"]["queue"]["position"]
            .as_i64()
            .map(|_| p["conversation"]["queue"].clone())
    });
    assert_eq!(q["position"], 1, "{q}");

    // The visitor waits; the agent's reply wakes the waiting request.
    let desk = Desk::login(&app.base, "agent.web");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let v2 = Visitor::with_token(&app.base, w.id, &v.token);
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let (s, p) = v2.poll(after, 20);
        (s, p, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    desk.reply(conv, "<b>请提供</b>交易流水号");
    let (s, p, took) = waiter.join().unwrap();
    assert_eq!(s, StatusCode::OK);
    assert!(
        took < Duration::from_secs(10),
        "woken, not timed out: {took:?}"
    );
    assert_eq!(
        bodies(&p),
        ["<b>请提供</b>交易流水号"],
        "stored as text, never as HTML"
    );
    assert_eq!(p["messages"][0]["direction"], "outgoing");
    assert_eq!(p["messages"][0]["sender"], "agent.web");

    // A new tab (the same token) sees the whole history; a private note is never shown.
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "内部：客户情绪激动", "private": true})),
    );
    let (_, all) = Visitor::with_token(&app.base, w.id, &v.token).poll(0, 0);
    assert_eq!(
        bodies(&all),
        ["转账失败怎么办？", "<b>请提供</b>交易流水号"]
    );

    // Not resolved yet: no rating. Resolved: the status shows, one rating.
    assert_eq!(v.rate(conv, 5), StatusCode::CONFLICT);
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/status"),
        Some(json!({"status": "resolved"})),
    );
    let (_, p) = v.poll(all["after"].as_i64().unwrap(), 0);
    assert_eq!(p["conversation"]["status"], "resolved");
    assert_eq!(p["conversation"]["rated"], false);
    assert_eq!(v.rate(conv, 5), StatusCode::NO_CONTENT);
    assert_eq!(v.rate(conv, 4), StatusCode::CONFLICT);
    let (_, p) = v.poll(0, 0);
    assert_eq!(p["conversation"]["rated"], true);
    // Another visitor cannot rate it.
    let other = Visitor::anonymous(&app.base, w.id);
    assert_eq!(other.rate(conv, 1), StatusCode::NOT_FOUND);
}

/// Must show 2: a forged identity signature is rejected and no contact is merged.
#[test]
fn a_forged_identity_signature_or_token_is_refused_and_nothing_is_merged() {
    let app = TestApp::new();
    let w = web_inbox(&app, None, json!({}));
    // The real user, signed by the host site's server.
    let real = Visitor::session(
        &app.base,
        w.id,
        json!({"identity": {"user_id": "u-100", "signature": signature(&w.identity_secret, "u-100"), "name": "王小明"}}),
    )
    .unwrap();
    let (s, v) = real.say("r-1", "我的账户余额是多少");
    assert_eq!(s, StatusCode::CREATED);
    let real_contact = app
        .state
        .store
        .read_blocking(move |c, _| {
            Ok(atrium::store::conversations::get(
                c,
                atrium::domain::ConversationId(v["conversation_id"].as_i64().unwrap()),
            )?
            .unwrap()
            .contact_id)
        })
        .unwrap();
    let contacts_before = app
        .state
        .store
        .read_blocking(|c, _| atrium::store::contacts::max_id(c))
        .unwrap();

    // Someone claims to be u-100: unsigned, wrongly signed, signed for another id, or signed
    // with another inbox's secret.
    let other = web_inbox(&app, None, json!({}));
    for sig in [
        String::new(),
        "00".repeat(32),
        signature(&w.identity_secret, "u-101"),
        signature(&other.identity_secret, "u-100"),
        signature(&w.identity_secret, "u-100")
            .to_uppercase()
            .replace('A', "B"),
    ] {
        let e = Visitor::session(
            &app.base,
            w.id,
            json!({"identity": {"user_id": "u-100", "signature": sig, "name": "攻击者"}}),
        )
        .err()
        .expect("refused");
        assert_eq!(
            (e.0, e.1["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("identity_invalid")),
            "{sig}"
        );
    }
    // A forged or borrowed token: refused on every call.
    use base64::Engine as _;
    let forged = format!(
        "v1.{}.u.{}.{}",
        w.id,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("u-100"),
        "0".repeat(32)
    );
    let other_inbox =
        real.token
            .replacen(&format!("v1.{}.", w.id), &format!("v1.{}.", other.id), 1);
    for token in [forged.as_str(), other_inbox.as_str(), "", "garbage"] {
        let f = Visitor::with_token(&app.base, w.id, token);
        let (s, e) = f.poll(0, 0);
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("visitor_token_invalid")),
            "{token}"
        );
        assert_eq!(f.say("x", "hi").0, StatusCode::UNAUTHORIZED);
    }
    // A session offering a forged token as "kept" gets a fresh anonymous visitor instead.
    let fresh = Visitor::session(&app.base, w.id, json!({"token": forged})).unwrap();
    assert_ne!(fresh.token, forged);
    let (_, p) = fresh.poll(0, 0);
    assert_eq!(p["messages"], json!([]), "sees nothing of u-100");
    let (s, _) = fresh.say("f-1", "我是王小明，告诉我余额");
    assert_eq!(s, StatusCode::CREATED);

    // Nothing was merged into the real user's contact; the attacker is someone else.
    let (_, real_view) = real.poll(0, 0);
    assert_eq!(bodies(&real_view), ["我的账户余额是多少"]);
    let (name, ids) = app
        .state
        .store
        .read_blocking(move |c, ring| {
            let name = atrium::store::contacts::get_contact(c, ring, real_contact)?
                .unwrap()
                .fields
                .name;
            let ids = atrium::store::identities::list(c, ring, real_contact)?;
            Ok((name, ids))
        })
        .unwrap();
    assert_eq!(name.as_deref(), Some("王小明"));
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(ids[0].value, "u-100");
    let contacts_after = app
        .state
        .store
        .read_blocking(|c, _| atrium::store::contacts::max_id(c))
        .unwrap();
    assert!(
        contacts_after > contacts_before,
        "the attacker got a contact of their own"
    );
}

#[test]
fn a_new_visitor_waits_instead_of_spinning_and_their_first_message_wakes_other_windows() {
    let app = TestApp::new();
    let w = web_inbox(&app, None, json!({}));
    let v = Visitor::anonymous(&app.base, w.id);
    // Nothing written yet: a poll with a wait really waits.
    let started = Instant::now();
    let (s, p) = v.poll(0, 1);
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["messages"], json!([]));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // Another window of the same visitor waits; the first message wakes it.
    let other = Visitor::with_token(&app.base, w.id, &v.token);
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let (_, p) = other.poll(0, 20);
        (p, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(v.say("n-1", "第一条消息").0, StatusCode::CREATED);
    let (p, took) = waiter.join().unwrap();
    assert!(took < Duration::from_secs(10), "woken: {took:?}");
    assert_eq!(bodies(&p), ["第一条消息"]);
}

#[test]
fn typing_is_shown_both_ways() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let w = web_inbox(&app, Some(t), json!({}));
    agent(&app, "agent.typ", &[t], 5);
    let v = Visitor::anonymous(&app.base, w.id);
    let (_, first) = v.say("t-1", "在吗");
    let conv = first["conversation_id"].as_i64().unwrap();
    let desk = Desk::login(&app.base, "agent.typ");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let mut sock = desk.socket(None);
    // The visitor types: the agent's socket hears it as the customer.
    let s = Client::new()
        .post(format!("{}/hooks/web/{}/typing", app.base, w.id))
        .bearer_auth(&v.token)
        .json(&json!({"typing": true}))
        .send()
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::NO_CONTENT);
    let frames = sock.until(Duration::from_secs(10), |f| {
        f["type"] == "typing" && f["data"]["who"] == "contact"
    });
    let f = frames.last().unwrap();
    assert_eq!(f["data"]["conversation_id"], conv);
    assert_eq!(f["data"]["typing"], true);
    // The agent types: the visitor's waiting request returns with it.
    let (_, p) = v.poll(0, 0);
    let after = p["after"].as_i64().unwrap();
    assert_eq!(p["agent_typing"], false);
    let v2 = Visitor::with_token(&app.base, w.id, &v.token);
    let waiter = std::thread::spawn(move || v2.poll(after, 20));
    std::thread::sleep(Duration::from_millis(300));
    sock.send(json!({"type": "typing", "conversation_id": conv, "typing": true}));
    let (_, p) = waiter.join().unwrap();
    assert_eq!(p["agent_typing"], true, "{p}");
    sock.send(json!({"type": "typing", "conversation_id": conv, "typing": false}));
    std::thread::sleep(Duration::from_millis(300));
    let (_, p) = v.poll(after, 0);
    assert_eq!(p["agent_typing"], false);
}

#[test]
fn a_flooding_visitor_is_slowed_down() {
    let app = TestApp::new();
    let w = web_inbox(&app, None, json!({}));
    let v = Visitor::anonymous(&app.base, w.id);
    let mut limited = 0;
    for i in 0..40 {
        let (s, e) = v.say(&format!("f-{i}"), "刷屏");
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(e["code"], "rate_limited");
            limited += 1;
        }
    }
    assert_eq!(
        limited,
        40 - 30,
        "widget.visitor_messages_per_minute defaults to 30"
    );
    // Another visitor is not affected.
    let other = Visitor::anonymous(&app.base, w.id);
    assert_eq!(other.say("o-1", "你好").0, StatusCode::CREATED);
}

/// A chat window's socket (`/hooks/web/{inbox}/ws`).
pub struct VisitorSocket {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
}

impl VisitorSocket {
    /// Open the socket claiming `origin`; `Err` carries the refusal's HTTP status.
    pub fn open(base: &str, inbox: i64, origin: &str) -> Result<VisitorSocket, String> {
        use tungstenite::client::IntoClientRequest;
        let host = base.trim_start_matches("http://");
        let mut req = format!("ws://{host}/hooks/web/{inbox}/ws")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        let stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match tungstenite::client(req, tungstenite::stream::MaybeTlsStream::Plain(stream)) {
            Ok((ws, _)) => Ok(VisitorSocket { ws }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
                Err(r.status().as_u16().to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn send(&mut self, frame: Value) {
        self.ws
            .send(tungstenite::Message::text(frame.to_string()))
            .unwrap();
    }

    /// The next frame within `timeout`; `Err` when the server closed the socket.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Value>, String> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(t)) => {
                    return Ok(Some(serde_json::from_str(t.as_str()).unwrap()));
                }
                Ok(tungstenite::Message::Close(c)) => return Err(format!("closed: {c:?}")),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(None)
    }

    /// Frames until one matches `done` (returned), or panic after `timeout`.
    pub fn until(&mut self, timeout: Duration, mut done: impl FnMut(&Value) -> bool) -> Value {
        let end = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < end {
            if let Some(f) = self.next(Duration::from_millis(200)).unwrap() {
                if done(&f) {
                    return f;
                }
                seen.push(f);
            }
        }
        panic!("no matching frame within {timeout:?}; saw {seen:?}");
    }
}

/// The chat window's socket: only from Atrium's own origin, the token in the first frame (a bad
/// one closes it), news pushed the moment it happens (the visitor's own message, the agent's
/// reply, how far the agent read), and the visitor's typing and read receipts back to agents.
#[test]
fn the_visitor_socket_pushes_news_and_carries_typing_and_read_receipts() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let w = web_inbox(&app, Some(t), json!({}));
    agent(&app, "agent.sock", &[t], 5);
    let v = Visitor::anonymous(&app.base, w.id);

    assert_eq!(
        VisitorSocket::open(&app.base, w.id, "https://evil.example")
            .err()
            .as_deref(),
        Some("403"),
        "a foreign origin is refused"
    );
    let mut bad = VisitorSocket::open(&app.base, w.id, &app.base).unwrap();
    bad.send(json!({"type": "hello", "token": format!("{}x", v.token), "after": 0}));
    let f = bad
        .next(Duration::from_secs(10))
        .unwrap()
        .expect("an error frame");
    assert_eq!(f, json!({"type": "error", "code": "visitor_token_invalid"}));
    assert!(bad.next(Duration::from_secs(5)).is_err(), "then closed");

    let mut sock = VisitorSocket::open(&app.base, w.id, &app.base).unwrap();
    sock.send(json!({"type": "hello", "token": v.token, "after": 0}));
    let f = sock.next(Duration::from_secs(10)).unwrap().expect("news");
    assert_eq!(f["type"], "news");
    assert_eq!(f["messages"], json!([]));
    // Written over HTTP, pushed back over the socket (the visitor had no contact before).
    let (_, first) = v.say("s-1", "信用卡额度怎么提升？");
    let conv = first["conversation_id"].as_i64().unwrap();
    let mine = first["message_id"].as_i64().unwrap();
    let f = sock.until(Duration::from_secs(10), |f| {
        f["messages"].as_array().is_some_and(|m| !m.is_empty())
    });
    assert_eq!(bodies(&f), ["信用卡额度怎么提升？"]);
    assert_eq!(f["agent_read_up_to"], 0);

    let desk = Desk::login(&app.base, "agent.sock");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let mut agent_sock = desk.socket(None);
    // The agent opens the conversation: the visitor sees their message was read.
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/read"),
        Some(json!({"message_id": mine})),
    );
    let f = sock.until(Duration::from_secs(10), |f| f["agent_read_up_to"] == mine);
    assert_eq!(f["type"], "news");
    // The agent replies: pushed at once.
    let reply = desk.reply(conv, "请在 App 中申请临时额度")["id"]
        .as_i64()
        .unwrap();
    let f = sock.until(Duration::from_secs(10), |f| {
        f["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["id"] == reply))
    });
    assert_eq!(bodies(&f), ["请在 App 中申请临时额度"]);
    // The visitor types and reads it: the agent hears both.
    sock.send(json!({"type": "typing", "typing": true}));
    agent_sock.until(Duration::from_secs(10), |f| {
        f["type"] == "typing" && f["data"]["who"] == "contact" && f["data"]["typing"] == true
    });
    sock.send(json!({"type": "receipt", "up_to": reply, "state": "delivered"}));
    agent_sock.until(Duration::from_secs(10), |f| {
        f["type"] == "message.updated"
            && f["data"]["id"] == reply
            && f["data"]["delivery"] == "delivered"
    });
    sock.send(json!({"type": "receipt", "up_to": reply, "state": "read"}));
    agent_sock.until(Duration::from_secs(10), |f| {
        f["type"] == "message.updated"
            && f["data"]["id"] == reply
            && f["data"]["delivery"] == "read"
    });
    // A late "delivered" does not move it back.
    sock.send(json!({"type": "receipt", "up_to": reply, "state": "delivered"}));
    sock.send(json!({"type": "ping"}));
    sock.until(Duration::from_secs(10), |f| f["type"] == "pong");
    let history = desk.ok(
        "GET",
        &format!("/api/v1/conversations/{conv}/messages"),
        None,
    );
    let stored = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == reply)
        .unwrap()
        .clone();
    assert_eq!(stored["delivery"], "read");
    // A bad frame gets an error and the socket stays.
    sock.send(json!({"type": "receipt", "up_to": reply, "state": "seen"}));
    let f = sock.until(Duration::from_secs(10), |f| f["type"] == "error");
    assert_eq!(f["code"], "bad_request");

    // The long-poll fallback's receipt call checks its state too.
    let s = Client::new()
        .post(format!("{}/hooks/web/{}/receipts", app.base, w.id))
        .bearer_auth(&v.token)
        .json(&json!({"up_to": reply, "state": "seen"}))
        .send()
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let s = Client::new()
        .post(format!("{}/hooks/web/{}/receipts", app.base, w.id))
        .bearer_auth(&v.token)
        .json(&json!({"up_to": reply, "state": "read"}))
        .send()
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::NO_CONTENT);
}

impl Visitor {
    /// Send a file from the chat window.
    pub fn send_file(&self, client_id: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let r = self
            .http
            .post(format!(
                "{}/hooks/web/{}/files?client_id={client_id}",
                self.base, self.inbox
            ))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    pub fn fetch_file(&self, id: i64) -> (StatusCode, Vec<u8>, String) {
        let r = self
            .http
            .get(format!("{}/hooks/web/{}/files/{id}", self.base, self.inbox))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        let s = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (s, r.bytes().unwrap().to_vec(), ct)
    }
}

/// Visitors send pictures and files (type read from the bytes, size limited) and download
/// theirs and the agents' replies' — never another visitor's, a private note's or a recalled one.
#[test]
fn visitors_send_and_receive_files_and_only_their_own() {
    let app = TestApp::with_env(&[("ATRIUM_ATTACHMENTS__MAX_BYTES", "4096")], None);
    no_required_totp(&app);
    let t = team(&app, "T");
    let w = web_inbox(&app, Some(t), json!({}));
    agent(&app, "agent.files", &[t], 5);
    let v = Visitor::anonymous(&app.base, w.id);
    let png = crate::desk::tiny_png();

    let (s, sent) = v.send_file("f-1", "截图.png", png.clone());
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    let conv = sent["conversation_id"].as_i64().unwrap();
    // A retry with the same client id is stored once.
    let (s, again) = v.send_file("f-1", "截图.png", png.clone());
    assert_eq!(
        (s, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (_, p) = v.poll(0, 0);
    let m = &p["messages"][0];
    assert_eq!(
        (m["kind"].as_str(), m["body"].as_str()),
        (Some("image"), Some(""))
    );
    assert_eq!(p["messages"].as_array().unwrap().len(), 1, "{p}");
    let att = &m["attachments"][0];
    assert_eq!(att["content_type"], "image/png");
    let mine = att["id"].as_i64().unwrap();
    let (s, bytes, ct) = v.fetch_file(mine);
    assert_eq!(
        (s, bytes, ct.as_str()),
        (StatusCode::OK, png.clone(), "image/png")
    );
    // Not another visitor's to read.
    let other = Visitor::anonymous(&app.base, w.id);
    assert_eq!(other.fetch_file(mine).0, StatusCode::NOT_FOUND);
    assert_eq!(other.fetch_file(424_242).0, StatusCode::NOT_FOUND);

    // The agent sees it and answers with a file, and a note with another.
    let desk = Desk::login(&app.base, "agent.files");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let history = desk.ok(
        "GET",
        &format!("/api/v1/conversations/{conv}/messages"),
        None,
    );
    assert_eq!(history[0]["attachments"][0]["name"], "截图.png");
    let agent_upload = |name: &str, bytes: Vec<u8>| {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let (s, f) = desk.upload(&format!("/api/v1/attachments?conversation_id={conv}"), form);
        assert_eq!(s, StatusCode::CREATED, "{f}");
        f["id"].as_i64().unwrap()
    };
    let pdf = agent_upload("回单.pdf", b"%PDF-1.7\n1 0 obj\n".to_vec());
    let note = agent_upload("内部.png", png.clone());
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "请查收回单", "attachment_ids": [pdf]})),
    );
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "内部", "private": true, "attachment_ids": [note]})),
    );
    let (s, bytes, _) = v.fetch_file(pdf);
    assert_eq!(s, StatusCode::OK);
    assert!(bytes.starts_with(b"%PDF-1.7"));
    assert_eq!(v.fetch_file(note).0, StatusCode::NOT_FOUND);

    // Bad files: a lying name, over the limit, empty, no client id, no token.
    let (s, e) = v.send_file("f-2", "合同.pdf", png.clone());
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("attachment_type_mismatch")
        )
    );
    let (s, e) = v.send_file("f-3", "big.txt", vec![b'a'; 8192]);
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("attachment_too_large"))
    );
    let (s, e) = v.send_file("f-4", "empty.txt", Vec::new());
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = v.send_file("", "a.png", png.clone());
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let anon = Visitor::with_token(&app.base, w.id, "v1.forged");
    assert_eq!(
        anon.send_file("f-5", "a.png", png.clone()).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(anon.fetch_file(mine).0, StatusCode::UNAUTHORIZED);
    // Nothing of the refused files was kept as a message.
    let (_, p) = v.poll(0, 0);
    assert_eq!(p["messages"].as_array().unwrap().len(), 2, "{p}");
}

impl Visitor {
    pub fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/hooks/web/{}{path}", self.base, self.inbox))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }
}

/// The pre-chat form asks what the inbox requires; outside business hours a visitor leaves a
/// message with a phone number or email address. What they type completes their contact but
/// never links it to another contact.
#[test]
fn the_prechat_form_and_leaving_a_message_outside_business_hours() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let closed = json!({"utc_offset_minutes": 480, "weekly": [[], [], [], [], [], [], []]});
    let w = web_inbox(
        &app,
        Some(t),
        json!({"hours": closed, "widget": {"prechat": {"name": "required", "phone": "optional", "email": "off"}}}),
    );
    agent(&app, "agent.pre", &[t], 5);
    let cfg: Value = Client::new()
        .get(format!("{}/hooks/web/{}/config", app.base, w.id))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        cfg["prechat"],
        json!({"name": "required", "phone": "optional", "email": "off"})
    );
    assert_eq!(
        (cfg["open"].as_bool(), cfg["leave_message"].as_bool()),
        (Some(false), Some(true))
    );

    // The pre-chat form: the name is required, the phone well-formed.
    let v = Visitor::anonymous(&app.base, w.id);
    let (s, e) = v.post("/profile", json!({"phone": "13800138000"}));
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, _) = v.post("/profile", json!({"name": "王小明", "phone": "电话号码"}));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, e) = v.post(
        "/profile",
        json!({"name": " 王小明 ", "phone": "13800138000"}),
    );
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (_, sent) = v.say("p-1", "想咨询理财产品");
    let conv = sent["conversation_id"].as_i64().unwrap();

    let desk = Desk::login(&app.base, "agent.pre");
    let c = desk.get(&format!("/api/v1/conversations/{conv}"));
    let contact = c["contact"]["id"].as_i64().expect("a contact");
    let shown = desk.get(&format!("/api/v1/contacts/{contact}"));
    // Stored trimmed, shown masked to an agent.
    assert_eq!(
        (shown["name"].as_str(), shown["phone"].as_str()),
        (Some("王**"), Some("138****8000")),
        "{shown}"
    );

    // Leaving a message: a way to answer is required, the message too.
    let other = Visitor::anonymous(&app.base, w.id);
    for (body, why) in [
        (
            json!({"client_id": "l-1", "name": "李", "body": "请回电"}),
            "no phone or email",
        ),
        (
            json!({"client_id": "l-1", "phone": "13800138000", "body": "  "}),
            "empty",
        ),
        (
            json!({"client_id": "l-1", "email": "not-an-address", "body": "请回电"}),
            "bad email",
        ),
        (
            json!({"client_id": "", "phone": "13800138000", "body": "请回电"}),
            "no client id",
        ),
    ] {
        let (s, e) = other.post("/leave-message", body);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {e}");
    }
    let left = json!({"client_id": "l-1", "name": "李女士", "phone": "13800138000",
                      "email": "li@example.com", "body": "明天上午请回电，谢谢"});
    let (s, r) = other.post("/leave-message", left.clone());
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, again) = other.post("/leave-message", left);
    assert_eq!(
        (s, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let conv2 = r["conversation_id"].as_i64().unwrap();
    assert_ne!(conv2, conv);
    let (_, p) = other.poll(0, 0);
    assert_eq!(bodies(&p)[0], "明天上午请回电，谢谢");
    // The same phone typed by two visitors does not make them one contact.
    let c2 = desk.get(&format!("/api/v1/conversations/{conv2}"));
    let contact2 = c2["contact"]["id"].as_i64().unwrap();
    assert_ne!(contact2, contact);
    let shown2 = desk.get(&format!("/api/v1/contacts/{contact2}"));
    assert_eq!(shown2["name"], "李**", "{shown2}");
    assert!(
        shown2["email"]
            .as_str()
            .is_some_and(|e| e.ends_with("@example.com")),
        "{shown2}"
    );
}

/// Agents see where a widget visitor came from and what they looked at: the pages the chat
/// window loaded on, the search that brought them, their device; only for conversations they
/// may see, and only the visitor's own pages.
#[test]
fn agents_see_the_visitors_pages_referrer_search_and_device() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let w = web_inbox(&app, Some(t), json!({}));
    agent(&app, "agent.ctx", &[t], 5);
    let v = Visitor::anonymous(&app.base, w.id);
    let wechat_ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";
    let visit = |v: &Visitor, body: Value| {
        Client::new()
            .post(format!("{}/hooks/web/{}/visits", app.base, w.id))
            .bearer_auth(&v.token)
            .header("User-Agent", wechat_ua)
            .json(&body)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(
        visit(
            &v,
            json!({"url": "https://bank.example/loans", "title": "个人贷款",
                         "referrer": "https://www.baidu.com/s?wd=%E6%88%BF%E8%B4%B7%E5%88%A9%E7%8E%87"})
        ),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        visit(
            &v,
            json!({"url": "https://bank.example/loans/apply", "title": "  申请  ",
                         "referrer": "https://bank.example/loans"})
        ),
        StatusCode::NO_CONTENT
    );
    // Bad input: not a web address.
    for bad in [
        json!({"url": "javascript:alert(1)"}),
        json!({"url": "https://bank.example/", "referrer": "file:///etc/passwd"}),
        json!({"url": format!("https://bank.example/{}", "a".repeat(3000))}),
    ] {
        assert_eq!(visit(&v, bad), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Another visitor's pages stay theirs.
    let other = Visitor::anonymous(&app.base, w.id);
    assert_eq!(
        visit(&other, json!({"url": "https://bank.example/other"})),
        StatusCode::NO_CONTENT
    );
    let (_, sent) = v.say("x-1", "房贷利率是多少？");
    let conv = sent["conversation_id"].as_i64().unwrap();

    let desk = Desk::login(&app.base, "agent.ctx");
    let ctx = desk.get(&format!("/api/v1/conversations/{conv}/visitor"));
    assert_eq!(ctx["landing"]["url"], "https://bank.example/loans", "{ctx}");
    assert_eq!(
        ctx["search"],
        json!({"engine": "baidu", "keywords": "房贷利率"})
    );
    assert_eq!(
        ctx["referrer"],
        "https://www.baidu.com/s?wd=%E6%88%BF%E8%B4%B7%E5%88%A9%E7%8E%87"
    );
    let pages: Vec<(&str, &str)> = ctx["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["url"].as_str().unwrap(), p["title"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pages,
        [
            ("https://bank.example/loans/apply", "申请"),
            ("https://bank.example/loans", "个人贷款")
        ]
    );
    assert_eq!(ctx["visits"], 1);
    assert_eq!(ctx["device"]["browser"], "WeChat 8.0.49");
    assert_eq!(ctx["device"]["kind"], "mobile");
    assert_eq!(ctx["device"]["in_wechat"], true);
    // Not an agent's to see when the conversation is out of their scope (answered as if it did
    // not exist); 404 for an unknown one.
    let t2 = team(&app, "T2");
    agent(&app, "agent.other", &[t2], 5);
    let outsider = Desk::login(&app.base, "agent.other");
    let (s, _) = outsider.call(
        "GET",
        &format!("/api/v1/conversations/{conv}/visitor"),
        None,
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = desk.call("GET", "/api/v1/conversations/999999/visitor", None);
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// An anonymous visitor who signs in on the host site in the same browser (the window still
/// holds their anonymous token, and the host site signs the user) is the same person: the
/// anonymous contact joins the user's, audited. A token alone, or a visitor who never wrote,
/// merges nothing.
#[test]
fn signing_in_joins_the_browsers_anonymous_contact_to_the_users() {
    let app = TestApp::new();
    let w = web_inbox(&app, None, json!({}));
    let contact_of = |conv: i64| {
        app.state
            .store
            .read_blocking(move |c, _| {
                Ok(
                    atrium::store::conversations::get(c, atrium::domain::ConversationId(conv))?
                        .unwrap()
                        .contact_id
                        .0,
                )
            })
            .unwrap()
    };
    // The user wrote before, signed in on another device.
    let sig = signature(&w.identity_secret, "u-8");
    let elsewhere = Visitor::session(
        &app.base,
        w.id,
        json!({"identity": {"user_id": "u-8", "signature": sig, "name": "赵六"}}),
    )
    .unwrap();
    let (_, earlier) = elsewhere.say("e-1", "上周问过的问题");
    let user_contact = contact_of(earlier["conversation_id"].as_i64().unwrap());
    // In this browser they chat anonymously first.
    let anon = Visitor::anonymous(&app.base, w.id);
    let (_, first) = anon.say("a-1", "我还没登录，想问问信用卡");
    let anon_contact = contact_of(first["conversation_id"].as_i64().unwrap());
    assert_ne!(anon_contact, user_contact);
    // A visitor who never wrote signs in: nothing to join.
    let quiet = Visitor::anonymous(&app.base, w.id);
    Visitor::session(
        &app.base,
        w.id,
        json!({"token": quiet.token, "identity": {"user_id": "u-7", "signature": signature(&w.identity_secret, "u-7")}}),
    )
    .unwrap();
    // A token with a forged signature joins nothing either.
    let (s, _) = Visitor::session(
        &app.base,
        w.id,
        json!({"token": anon.token, "identity": {"user_id": "u-8", "signature": signature("wrong", "u-8")}}),
    )
    .err()
    .unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(crate::identity::audit_records(&app, "contact.merge").is_empty());

    // They sign in in this browser: the anonymous contact joins theirs.
    let user = Visitor::session(
        &app.base,
        w.id,
        json!({"token": anon.token, "identity": {"user_id": "u-8", "signature": sig}}),
    )
    .unwrap();
    let (_, second) = user.say("u-1", "登录了，继续问");
    assert_eq!(
        contact_of(second["conversation_id"].as_i64().unwrap()),
        user_contact
    );
    assert_eq!(
        contact_of(first["conversation_id"].as_i64().unwrap()),
        user_contact,
        "one contact, one timeline"
    );
    let merges = crate::identity::audit_records(&app, "contact.merge");
    assert_eq!(merges.len(), 1);
    assert_eq!(merges[0].target, format!("contact:{user_contact}"));
    // The anonymous token still works in that browser's other tabs; its window shows only the
    // anonymous conversation (the user's history stays with the signed-in session).
    let (_, p) = anon.poll(0, 0);
    assert_eq!(bodies(&p), ["我还没登录，想问问信用卡"]);
}
