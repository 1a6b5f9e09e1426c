//! Harness of the conversation-engine tests: API inboxes, customers writing through the open API
//! channel, agents signed in over HTTP with their realtime socket, and a webhook receiver that
//! plays the customer's system (it can be down, then come back on the same port).

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::identity::seed_user;
use crate::support::TestApp;

pub const PW: &str = "Desk-Pass-2026!";

/// An API inbox with its one-time secrets.
#[derive(Debug, Clone)]
pub struct ApiInbox {
    pub id: i64,
    pub token: String,
    pub webhook_secret: String,
}

/// Create an API inbox (in `team`) with `settings` (an `InboxSettings` JSON object).
pub fn api_inbox(app: &TestApp, name: &str, team: Option<i64>, settings: Value) -> ApiInbox {
    let now = app.state.store.now_ms();
    let name = name.to_string();
    let settings = settings.to_string();
    let (id, s) = app
        .state
        .store
        .write_blocking(move |c, ring| {
            let id = atrium::store::identity::create_inbox(c, &name, "api", team, now)?;
            let s = atrium::http::inboxes::issue_secrets(c, ring, id)?;
            atrium::store::inboxes::update(c, id, &name, team, &settings, false, now)?;
            Ok((id, s))
        })
        .unwrap();
    app.state.engine.inbox_changed(id);
    ApiInbox {
        id,
        token: s.token,
        webhook_secret: s.webhook_secret,
    }
}

/// A message of a conversation as the agent's history shows it.
pub fn message_in(desk: &Desk, conv: i64, id: &Value) -> Value {
    desk.get(&format!("/api/v1/conversations/{conv}/messages"))
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == *id)
        .cloned()
        .unwrap()
}

/// Wait (up to `within`) until a message's delivery state is `state`; returns the message.
pub fn delivery_becomes(
    desk: &Desk,
    conv: i64,
    id: &Value,
    state: &str,
    within: Duration,
) -> Value {
    eventually(within, &format!("delivery {state}"), || {
        let m = message_in(desk, conv, id);
        (m["delivery"] == state).then_some(m)
    })
}

/// The smallest PNG header the server's type sniffing recognises.
pub fn tiny_png() -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77,
            0x53, 0xde,
        ],
    ]
    .concat()
}

/// An API inbox delivering replies to `webhook`, whose one customer wrote, and an agent
/// (`agent_name`, signed in) who took the conversation: ready for replies.
pub fn claimed_conversation(app: &TestApp, webhook: &str, agent_name: &str) -> (Desk, i64) {
    crate::identity::no_required_totp(app);
    let t = team(app, "T");
    let inbox = api_inbox(app, "App", Some(t), json!({"webhook": {"url": webhook}}));
    agent(app, agent_name, &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m", "在吗");
    let conv = v["conversation_id"].as_i64().unwrap();
    let desk = Desk::login(&app.base, agent_name);
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    (desk, conv)
}

pub fn team(app: &TestApp, name: &str) -> i64 {
    let now = app.state.store.now_ms();
    let name = name.to_string();
    app.state
        .store
        .write_blocking(move |c, _| atrium::store::identity::create_team(c, &name, now))
        .unwrap()
}

/// An agent account (built-in `agent` role) in `teams`, with routing capacity `capacity`.
pub fn agent(app: &TestApp, username: &str, teams: &[i64], capacity: u32) -> i64 {
    let id = seed_user(app, username, PW, &["agent"], teams, &[]);
    let now = app.state.store.now_ms();
    app.state
        .store
        .write_blocking(move |c, _| {
            atrium::store::agents::set_capacity_skills(c, id, capacity, &BTreeSet::new(), now)
        })
        .unwrap();
    id
}

/// A customer's message through the open API channel; returns (status, answer).
pub fn customer_says(
    base: &str,
    inbox: &ApiInbox,
    customer: &str,
    message_id: &str,
    body: &str,
) -> (StatusCode, Value) {
    post_inbound(
        base,
        inbox,
        &json!({"message_id": message_id, "contact": {"id": customer}, "body": body}),
    )
}

pub fn post_inbound(base: &str, inbox: &ApiInbox, payload: &Value) -> (StatusCode, Value) {
    let r = Client::new()
        .post(format!("{base}/hooks/api/{}/messages", inbox.id))
        .bearer_auth(&inbox.token)
        .json(payload)
        .send()
        .unwrap();
    let s = r.status();
    (s, r.json().unwrap_or(Value::Null))
}

/// An agent's browser: session cookie, CSRF token, JSON calls and the realtime socket.
pub struct Desk {
    c: Client,
    pub base: String,
    cookie: String,
    csrf: String,
    pub user_id: i64,
}

impl Desk {
    pub fn login(base: &str, username: &str) -> Desk {
        Self::login_with(base, username, PW)
    }

    pub fn login_with(base: &str, username: &str, password: &str) -> Desk {
        let c = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let r = c
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "sign-in of {username}");
        let cookie = r
            .cookies()
            .find(|k| k.name() == "atrium_session")
            .map(|k| format!("atrium_session={}", k.value()))
            .unwrap();
        let v: Value = r.json().unwrap();
        Desk {
            c,
            base: base.to_string(),
            cookie,
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
            user_id: v["user"]["id"].as_i64().unwrap(),
        }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .c
            .request(m, format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    /// The `Cookie` header of this session (for requests made by hand).
    pub fn cookie_header(&self) -> &str {
        &self.cookie
    }

    /// A multipart upload; returns (status, answer).
    pub fn upload(
        &self,
        path: &str,
        form: reqwest::blocking::multipart::Form,
    ) -> (StatusCode, Value) {
        let r = self
            .c
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
            .multipart(form)
            .send()
            .unwrap();
        let s = r.status();
        (s, r.json().unwrap_or(Value::Null))
    }

    /// A call that must succeed; returns the JSON answer.
    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method, path, body);
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    pub fn get(&self, path: &str) -> Value {
        self.ok("GET", path, None)
    }

    pub fn set_status(&self, status: &str) {
        self.ok("PUT", "/api/v1/me/agent", Some(json!({ "status": status })));
    }

    pub fn reply(&self, conversation: i64, body: &str) -> Value {
        self.ok(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({ "body": body })),
        )
    }

    /// Open the realtime socket from this server's own origin, optionally resuming.
    pub fn socket(&self, resume: Option<(u64, &str)>) -> Socket {
        self.socket_from(&self.base, resume)
            .unwrap_or_else(|e| panic!("socket refused: {e}"))
    }

    /// Open the socket claiming `origin`; `Err` carries the refusal's HTTP status.
    pub fn socket_from(&self, origin: &str, resume: Option<(u64, &str)>) -> Result<Socket, String> {
        use tungstenite::client::IntoClientRequest;
        let host = self.base.trim_start_matches("http://");
        let query = resume.map_or(String::new(), |(s, e)| format!("?since={s}&epoch={e}"));
        let mut req = format!("ws://{host}/api/v1/ws{query}")
            .into_client_request()
            .unwrap();
        let h = req.headers_mut();
        h.insert("Cookie", self.cookie.parse().unwrap());
        h.insert("Origin", origin.parse().unwrap());
        let stream = TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match tungstenite::client(req, MaybeTlsStream::Plain(stream)) {
            Ok((ws, _)) => {
                let mut s = Socket {
                    ws,
                    pending: Default::default(),
                    seq: 0,
                    epoch: String::new(),
                };
                let hello = s.next(Duration::from_secs(10)).expect("hello frame");
                assert_eq!(hello["type"], "hello", "{hello}");
                s.seq = hello["seq"].as_u64().unwrap();
                s.epoch = hello["epoch"].as_str().unwrap().to_string();
                Ok(s)
            }
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
                Err(format!("{}", r.status().as_u16()))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// An agent's realtime socket.
pub struct Socket {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    /// Events of a batch frame (a JSON array) not handed out yet.
    pending: std::collections::VecDeque<Value>,
    /// The `seq` of the hello frame (the newest event when the socket opened).
    pub seq: u64,
    pub epoch: String,
}

impl Socket {
    /// The next event within `timeout`, or `None` (a batch frame is handed out event by event).
    pub fn next(&mut self, timeout: Duration) -> Option<Value> {
        if let Some(v) = self.pending.pop_front() {
            return Some(v);
        }
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    let Value::Array(events) = v else {
                        return Some(v);
                    };
                    assert!(!events.is_empty(), "an empty batch frame");
                    self.pending.extend(events);
                    return self.pending.pop_front();
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("socket closed: {e}"),
            }
        }
        None
    }

    /// Frames until one matches `done` (included), or panic after `timeout`.
    pub fn until(&mut self, timeout: Duration, mut done: impl FnMut(&Value) -> bool) -> Vec<Value> {
        let end = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < end {
            if let Some(f) = self.next(Duration::from_millis(200)) {
                let stop = done(&f);
                seen.push(f);
                if stop {
                    return seen;
                }
            }
        }
        panic!("no matching frame within {timeout:?}; saw {seen:?}");
    }

    pub fn send(&mut self, frame: Value) {
        self.ws.send(Message::text(frame.to_string())).unwrap();
    }

    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// Wait until `check` holds, polling every 20 ms, or panic with `what` after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The receiver's check: `X-Atrium-Signature` is HMAC-SHA256 over "timestamp.body".
pub fn verify_signature(secret: &str, d: &Delivery) {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(d.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&d.raw);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(d.signature, want, "signature of {}", d.event_id);
}

/// One webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event_id: String,
    pub signature: String,
    pub timestamp: String,
    pub body: Value,
    pub raw: Vec<u8>,
}

/// The customer's system: receives signed webhook deliveries on a fixed loopback port. It can
/// be down (nothing listens: connections are refused) and come back on the same port.
pub struct Webhook {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Delivery>>>,
    /// The HTTP status it answers (200 unless a test refuses deliveries).
    pub status: Arc<std::sync::atomic::AtomicU16>,
    server: Option<(Arc<tiny_http::Server>, std::thread::JoinHandle<()>)>,
}

impl Webhook {
    /// A receiver that is down, with its port chosen.
    pub fn down() -> Webhook {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        Webhook {
            port,
            received: Arc::new(Mutex::new(Vec::new())),
            status: Arc::new(std::sync::atomic::AtomicU16::new(200)),
            server: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/atrium-hook", self.port)
    }

    pub fn up(&mut self) {
        let server = Arc::new(tiny_http::Server::http(("127.0.0.1", self.port)).unwrap());
        let (s, received, status) = (server.clone(), self.received.clone(), self.status.clone());
        let t = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let header = |n: &'static str| {
                    req.headers()
                        .iter()
                        .find(|h| h.field.equiv(n))
                        .map(|h| h.value.to_string())
                        .unwrap_or_default()
                };
                let (event_id, signature, timestamp) = (
                    header("X-Atrium-Event-Id"),
                    header("X-Atrium-Signature"),
                    header("X-Atrium-Timestamp"),
                );
                let mut raw = Vec::new();
                let _ = std::io::Read::read_to_end(req.as_reader(), &mut raw);
                received.lock().unwrap().push(Delivery {
                    event_id,
                    signature,
                    timestamp,
                    body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
                    raw,
                });
                let code = status.load(std::sync::atomic::Ordering::SeqCst);
                let _ = req.respond(tiny_http::Response::from_string("ok").with_status_code(code));
            }
        });
        self.server = Some((server, t));
    }

    pub fn stop(&mut self) {
        if let Some((s, t)) = self.server.take() {
            s.unblock();
            let _ = t.join();
        }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop();
    }
}
