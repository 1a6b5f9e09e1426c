//! Conversation-engine workloads: a data directory seeded with teams, API inboxes, agents and
//! their sessions (written straight into the store before the server starts, so thousands of
//! agents need no password hashing), the durable-ingest load through the open API channel,
//! agent WebSocket clients, and a paced inbound load whose messages are timed to the first
//! agent socket that receives them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atrium::store::identity;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite;

use crate::load_support::BODY;

/// What a seeded data directory holds.
pub struct Seeded {
    /// `(inbox id, bearer token)`, one API inbox per team.
    pub inboxes: Vec<(i64, String)>,
    /// Session cookie values, one per agent.
    pub cookies: Vec<String>,
}

/// Seed `dir`'s data directory: `teams` teams with one API inbox each, `agents` agents spread
/// evenly over the teams (capacity 1,000, status `online` when `online`), each with a live
/// session. The server is started on it afterwards.
pub fn seed(dir: &Path, teams: usize, agents: usize, online: bool) -> Seeded {
    let (store, _) = crate::load_support::open_store(dir, 512);
    // One real argon2id hash shared by every bench agent (they sign in by session cookie).
    let hash = atrium::auth::password::hash_blocking("Bench-Agent-2026!").unwrap();
    let tokens: Vec<String> = (0..agents).map(|_| atrium::auth::new_token()).collect();
    let now = store.now_ms();
    let t2 = tokens.clone();
    let inboxes = store
        .write_blocking(move |c, ring| {
            // No second factor for the bench agents.
            for r in identity::list_roles(c)? {
                identity::update_role(c, r.id, None, Some(false), now)?;
            }
            let role = identity::role_by_name(c, "agent")?
                .map(|r| r.id)
                .unwrap_or(0);
            let mut inboxes = Vec::new();
            let mut team_ids = Vec::new();
            for t in 0..teams {
                let team = identity::create_team(c, &format!("bench team {t}"), now)?;
                let inbox =
                    identity::create_inbox(c, &format!("bench app {t}"), "api", Some(team), now)?;
                let s = atrium::http::inboxes::issue_secrets(c, ring, inbox)?;
                // Answers come through the agents, not automatic texts; no reply-time alerts.
                let settings = r#"{"sla":{"first_response_secs":0,"next_response_secs":0}}"#;
                atrium::store::inboxes::update(
                    c,
                    inbox,
                    &format!("bench app {t}"),
                    Some(team),
                    settings,
                    false,
                    now,
                )?;
                inboxes.push((inbox, s.token));
                team_ids.push(team);
            }
            for (i, token) in t2.iter().enumerate() {
                let id = identity::create_user(
                    c,
                    &identity::NewUser {
                        username: &format!("agent{i}"),
                        display_name: "",
                        password_hash: &hash,
                        must_change_password: false,
                        role_ids: &[role],
                    },
                    now,
                )?;
                if let Some(team) = team_ids.get(i % teams.max(1)) {
                    identity::set_user_teams(c, id, &[*team])?;
                }
                atrium::store::agents::set_capacity_skills(c, id, 1000, &Default::default(), now)?;
                if online {
                    atrium::store::agents::set_status(c, id, "online", now)?;
                }
                identity::create_session(
                    c,
                    &identity::NewSession {
                        token_hash: &atrium::auth::token_hash(token),
                        user_id: id,
                        csrf_token: "bench",
                        expires_at: now + 86_400_000,
                        ip: "127.0.0.1",
                        user_agent: "bench",
                    },
                    now,
                )?;
            }
            Ok(inboxes)
        })
        .unwrap();
    store.close();
    Seeded {
        inboxes,
        cookies: tokens,
    }
}

/// The inbound request for message `n` of connection `conn`: a customer (one of 2,000, each
/// always in the same inbox) writing, with a unique message id.
pub fn inbound_request(s: &Seeded, conn: usize, n: u64, marker: Option<u64>) -> Vec<u8> {
    // Each customer writes to one inbox (their bank's app): messages continue conversations.
    let customer = (conn as u64 * 7919 + n) % 2000;
    let (inbox, token) = &s.inboxes[customer as usize % s.inboxes.len()];
    let body = match marker {
        Some(m) => format!("#{m}# {BODY}"),
        None => BODY.to_string(),
    };
    let json = serde_json::json!({
        "message_id": format!("b{conn}-{n}"),
        "contact": {"id": format!("cust-{customer}")},
        "body": body,
    })
    .to_string();
    format!(
        "POST /hooks/api/{inbox}/messages HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
    .into_bytes()
}

/// The JSON body of a typical inbound message (for the baseline handler).
pub fn inbound_request_json() -> String {
    serde_json::json!({
        "message_id": "b0-0",
        "contact": {"id": "cust-1"},
        "body": BODY,
    })
    .to_string()
}

/// Messages stored in a (stopped) server's database, by direction `incoming`.
pub fn stored_incoming(dir: &Path) -> i64 {
    let db = crate::load_support::data_dir(dir).join("atrium.db");
    let c = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.query_row(
        "SELECT count(*) FROM messages WHERE direction = 'incoming'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Raise this process's open-file limit (children inherit it); returns the soft limit now.
pub fn raise_fd_limit(want: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    // As root the hard limit can be raised too; otherwise stay under it.
    if setrlimit(Resource::RLIMIT_NOFILE, want.max(soft), want.max(hard)).is_ok() {
        return want.max(soft);
    }
    let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    getrlimit(Resource::RLIMIT_NOFILE).unwrap().0
}

/// The source address of client connection `i`: 127.0.0.2, .3, … take turns, so more
/// connections than one address has ephemeral ports can reach one server port.
fn source(i: usize) -> SocketAddr {
    let host = 2 + (i % 200) as u8;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)), 0)
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Open an agent socket with `cookie` from source address slot `i`; waits for the hello.
pub async fn open_socket(server: SocketAddr, cookie: &str, i: usize) -> Ws {
    use tungstenite::client::IntoClientRequest;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(source(i)).unwrap();
    let stream = sock.connect(server).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut req = format!("ws://{server}/api/v1/ws")
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert(
        "Cookie",
        format!("atrium_session={cookie}").parse().unwrap(),
    );
    h.insert("Origin", format!("http://{server}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream).await.unwrap();
    match ws.next().await {
        Some(Ok(tungstenite::Message::Text(t))) if t.as_str().contains("\"hello\"") => {}
        other => panic!("no hello: {other:?}"),
    }
    ws
}

/// Timing of the paced load: when each message's request started, and whether a socket has
/// received it yet (the first one counts).
pub struct Timing {
    start: Instant,
    sent_at_us: Vec<AtomicU64>,
    seen: Vec<AtomicBool>,
    pub latencies_us: std::sync::Mutex<Vec<u64>>,
    /// Messages numbered below this are the warm-up: delivered and counted, not timed.
    measure_from: usize,
    pub received: AtomicUsize,
}

impl Timing {
    pub fn new(max: usize, measure_from: usize) -> Arc<Timing> {
        Arc::new(Timing {
            start: Instant::now(),
            sent_at_us: (0..max).map(|_| AtomicU64::new(0)).collect(),
            seen: (0..max).map(|_| AtomicBool::new(false)).collect(),
            latencies_us: std::sync::Mutex::new(Vec::with_capacity(max)),
            measure_from,
            received: AtomicUsize::new(0),
        })
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// A frame arrived: if it announces an incoming message with a marker seen for the first
    /// time, record its latency. A cheap scan, not a JSON parse (2,000 clients share the CPU
    /// with the server).
    fn frame(&self, text: &str) {
        // A frame is one event or a JSON array of them: look at each incoming message in it.
        for part in text.split("\"type\":\"message.created\"").skip(1) {
            let event = part.split("\"seq\":").next().unwrap_or(part);
            if !event.contains("\"direction\":\"incoming\"") {
                continue;
            }
            let Some(rest) = event.split("\"body\":\"#").nth(1) else {
                continue;
            };
            let Some(n) = rest.split('#').next().and_then(|v| v.parse::<usize>().ok()) else {
                continue;
            };
            let (Some(seen), Some(sent)) = (self.seen.get(n), self.sent_at_us.get(n)) else {
                continue;
            };
            if !seen.swap(true, Ordering::AcqRel) {
                if n >= self.measure_from {
                    let lat = self.now_us().saturating_sub(sent.load(Ordering::Acquire));
                    self.latencies_us.lock().unwrap().push(lat);
                }
                self.received.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Read every frame of `ws` into `timing` until `stop`.
pub async fn read_frames(mut ws: Ws, timing: Arc<Timing>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
            Ok(Some(Ok(tungstenite::Message::Text(t)))) => timing.frame(t.as_str()),
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(Some(Err(_)) | None) => return,
        }
    }
}

/// Send `rate` inbound messages per second for `secs` seconds from `conns` keep-alive
/// connections (open loop: message k is due at k / rate whatever the answers do); every
/// message's body carries its number. Returns (messages sent, answers other than 201).
pub async fn paced_inbound(
    server: SocketAddr,
    seeded: Arc<Seeded>,
    timing: Arc<Timing>,
    rate: f64,
    secs: f64,
    conns: usize,
) -> (usize, usize) {
    let total = ((rate * secs) as usize).min(timing.sent_at_us.len());
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|c| {
            let (seeded, timing, next) = (seeded.clone(), timing.clone(), next.clone());
            tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(server).await.unwrap();
                s.set_nodelay(true).unwrap();
                let mut buf = vec![0u8; 16 * 1024];
                let mut bad = 0;
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= total {
                        return bad;
                    }
                    let due = t0 + Duration::from_secs_f64(k as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                    let req = inbound_request(&seeded, c, k as u64, Some(k as u64));
                    timing.sent_at_us[k].store(timing.now_us(), Ordering::Release);
                    s.write_all(&req).await.unwrap();
                    if read_status(&mut s, &mut buf).await != 201 {
                        bad += 1;
                    }
                }
            })
        })
        .collect();
    let mut bad = 0;
    for t in tasks {
        bad += t.await.unwrap();
    }
    (total, bad)
}

/// Read one HTTP/1.1 answer with a Content-Length body; its status.
async fn read_status(s: &mut tokio::net::TcpStream, buf: &mut [u8]) -> u16 {
    let mut have = 0;
    loop {
        let n = s.read(&mut buf[have..]).await.unwrap();
        assert!(n > 0, "connection closed");
        have += n;
        if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            let status = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let mut body = have - end - 4;
            while body < len {
                let n = s.read(&mut buf[..]).await.unwrap();
                assert!(n > 0);
                body += n;
            }
            return status;
        }
    }
}

/// Percentile `p` (0–100) of sorted values, in milliseconds.
pub fn pct_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 * p / 100.0) as usize).min(sorted_us.len() - 1);
    sorted_us[i] as f64 / 1000.0
}

/// Messages through `Engine::ingest` in this process (no HTTP): `tasks` concurrent callers on
/// a 2-thread runtime for `secs`, the same customers and inboxes as the HTTP scenario.
/// Returns (acknowledged messages/s, acknowledged, stored, CPU µs per message of the whole
/// process).
pub fn engine_ingest(dir: &Path, seeded: &Seeded, tasks: usize, secs: f64) -> (f64, u64, i64, f64) {
    let store = Arc::new(crate::load_support::open_store(dir, 512).0);
    let engine = Arc::new(atrium::engine::Engine::new(
        store.clone(),
        Arc::new(atrium::clock::SystemClock),
        60_000,
    ));
    let inboxes: Vec<i64> = seeded.inboxes.iter().map(|(id, _)| *id).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let cpu0 = process_cpu_us();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let (engine, done, inboxes) = (engine.clone(), done.clone(), inboxes.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let customer = (t as u64 * 7919 + n) % 2000;
                        let inbox = inboxes[customer as usize % inboxes.len()];
                        let msg = atrium::domain::InboundMessage {
                            inbox_id: inbox,
                            external_id: Some(format!("e{t}-{n}")),
                            identities: vec![atrium::domain::IdentityClaim {
                                kind: atrium::domain::IdentityKind::External,
                                value: format!("cust-{customer}"),
                                verified: true,
                            }],
                            profile: Default::default(),
                            kind: atrium::domain::MessageKind::Text,
                            body: BODY.to_string(),
                            content: None,
                            context: Default::default(),
                            attachments: Vec::new(),
                        };
                        engine.ingest(msg).await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = process_cpu_us() - cpu0;
    let acked = done.load(Ordering::Relaxed);
    let stored = store
        .read_blocking(|c, _| {
            Ok(c.query_row(
                "SELECT count(*) FROM messages WHERE direction = 'incoming'",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    store.close();
    (
        acked as f64 / elapsed,
        acked,
        stored,
        cpu / acked.max(1) as f64,
    )
}

/// CPU time this process has used (user + system), µs.
pub fn process_cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let t = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (t(11) + t(12)) * 10_000.0
}

/// A web inbox and `visitors` signed visitor tokens for it (anonymous visitors who have not
/// written yet: their waiting requests are the idle widget connections).
pub fn seed_widget(dir: &Path, visitors: usize) -> (i64, Vec<String>) {
    let (store, _) = crate::load_support::open_store(dir, 512);
    let now = store.now_ms();
    let inbox = store
        .write_blocking(move |c, _| {
            let id = identity::create_inbox(c, "bench site", "web", None, now)?;
            atrium::store::inboxes::update(
                c,
                id,
                "bench site",
                None,
                r#"{"widget":{"allowed_origins":["https://www.bench.example"]}}"#,
                false,
                now,
            )?;
            Ok(id)
        })
        .unwrap();
    let ring = store.keyring();
    let tokens = (0..visitors)
        .map(|_| {
            atrium::channels::web::token(
                ring,
                inbox,
                &atrium::channels::web::Visitor::new_anonymous(),
            )
        })
        .collect();
    store.close();
    (inbox, tokens)
}

/// Start a visitor's waiting request (`wait` seconds) from source address slot `i`; the answer
/// is not read (the connection stays open while the server holds the request).
pub async fn open_visitor_poll(
    server: SocketAddr,
    inbox: i64,
    token: &str,
    i: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(source(i)).unwrap();
    let mut stream = sock.connect(server).await.unwrap();
    let req = format!(
        "GET /hooks/web/{inbox}/messages?after=0&wait=25 HTTP/1.1\r\nHost: {server}\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    stream
}

/// Open a chat window's socket (`/hooks/web/{inbox}/ws`) for `token` from source address slot
/// `i`; says hello and waits for the first news frame.
pub async fn open_visitor_socket(server: SocketAddr, inbox: i64, token: &str, i: usize) -> Ws {
    use futures_util::SinkExt;
    use tungstenite::client::IntoClientRequest;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(source(i)).unwrap();
    let stream = sock.connect(server).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut req = format!("ws://{server}/hooks/web/{inbox}/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Origin", format!("http://{server}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream).await.unwrap();
    let hello = serde_json::json!({"type": "hello", "token": token, "after": 0}).to_string();
    ws.send(tungstenite::Message::text(hello)).await.unwrap();
    match ws.next().await {
        Some(Ok(tungstenite::Message::Text(t))) if t.as_str().contains("\"news\"") => {}
        other => panic!("no news frame: {other:?}"),
    }
    ws
}

/// The WeChat scenario's account: a `wechat_mp` inbox (in a team without agents) whose callback
/// token and key the load generator uses to sign and encrypt pushes like WeChat.
pub struct SeededWechat {
    /// One account per team (each customer always writes to the same one).
    pub inboxes: Vec<i64>,
    pub token: String,
    pub aes_key: String,
    pub app_id: String,
}

pub fn seed_wechat(dir: &Path) -> SeededWechat {
    let (store, _) = crate::load_support::open_store(dir, 512);
    let now = store.now_ms();
    let (token, aes_key, app_id) = (
        "benchtoken2026".to_string(),
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".to_string(),
        "wxbench000000001".to_string(),
    );
    let creds = serde_json::json!({
        "app_id": app_id, "app_secret": "unused", "token": token, "encoding_aes_key": aes_key,
    })
    .to_string();
    let inboxes = store
        .write_blocking(move |c, ring| {
            let mut ids = Vec::new();
            for t in 0..8 {
                let team = identity::create_team(c, &format!("bench wechat {t}"), now)?;
                let name = format!("bench 服务号 {t}");
                let inbox = identity::create_inbox(c, &name, "wechat_mp", Some(team), now)?;
                atrium::store::inboxes::set_credentials(c, ring, inbox, &creds)?;
                let settings = r#"{"sla":{"first_response_secs":0,"next_response_secs":0}}"#;
                atrium::store::inboxes::update(c, inbox, &name, Some(team), settings, false, now)?;
                ids.push(inbox);
            }
            Ok(ids)
        })
        .unwrap();
    store.close();
    SeededWechat {
        inboxes,
        token,
        aes_key,
        app_id,
    }
}

/// `n` encrypted safe-mode pushes (each a customer's text with its own MsgId; 2,000
/// customers over the accounts), signed like WeChat: ready-made requests for the callback of
/// each customer's account (or for `path` when given).
pub fn wechat_pushes(s: &SeededWechat, path: Option<&str>, n: usize) -> Vec<Vec<u8>> {
    use atrium::channels::wechat::crypto::{MsgCrypt, signature};
    let crypt = MsgCrypt::new(&s.token, &s.aes_key, &s.app_id).unwrap();
    let ts = (atrium::clock::Clock::now_ms(&atrium::clock::SystemClock) / 1000).to_string();
    (0..n)
        .map(|i| {
            let customer = (i * 7919) % 2000;
            let path = path.map_or_else(
                || format!("/hooks/wechat/{}", s.inboxes[customer % s.inboxes.len()]),
                str::to_string,
            );
            let xml = format!(
                "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench{customer}]]></FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{BODY}]]></Content><MsgId>{}</MsgId></xml>",
                7_000_000_000_000_000_000u64 + i as u64
            );
            let enc = crypt.encrypt(&xml);
            let nonce = format!("{}", 100_000 + i);
            let sig = signature(&[&s.token, &ts, &nonce]);
            let msig = crypt.msg_signature(&ts, &nonce, &enc);
            let body = format!(
                "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
            );
            format!(
                "POST {path}?signature={sig}&timestamp={ts}&nonce={nonce}&openid=oBench{customer}&encrypt_type=aes&msg_signature={msig} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect()
}
