//! The agent WebSocket `GET /api/v1/ws?since=SEQ&epoch=E`.
//!
//! Authenticated by the session cookie; the `Origin` must be this server's own origin (a page on
//! another site cannot open a socket with the agent's cookie). The first frame is
//! `{"type":"hello","seq":N,"epoch":E}`; then every bus event the agent may see (scope, assignee,
//! mentions), in sequence order; events ready at the same moment share one frame, a JSON array. A client resuming with `since`/`epoch` first receives every
//! event it missed, or `{"type":"resync"}` when they are no longer available. The session is
//! re-checked periodically: a revoked or expired session closes the socket. The client may send
//! `{"type":"typing","conversation_id":…,"typing":…}`, `{"type":"watch","conversation_id":…}` /
//! `{"type":"unwatch",…}` (the conversation it shows, to receive its activity when someone else
//! holds it) and `{"type":"ping"}`. Typing and watch frames beyond 20 a second are dropped with
//! `{"type":"error","code":"rate_limited"}` (each costs a database read).

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason, Message};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::{Entry, Outcome};
use crate::domain::ConversationId;
use crate::domain::access::{Permission, Scope};
use crate::engine::Engine;
use crate::engine::bus::{Audience, Delivery, Resume, Subscription, Viewer};
use crate::store::{conversations, identity};

#[derive(Debug, Deserialize, IntoParams)]
pub struct WsParams {
    /// The last sequence number the client received.
    pub since: Option<u64>,
    /// The epoch from the `hello` frame of the previous connection.
    pub epoch: Option<String>,
}

/// Frames sent per wake-up at most, so one busy socket does not starve the others.
const BATCH: usize = 512;

/// Typing/watch/unwatch frames a socket may send per second.
const CLIENT_FRAMES_PER_SEC: u32 = 20;
/// How often the socket pings and the session is re-checked.
const HEARTBEAT: Duration = Duration::from_secs(25);
const RESYNC: &str = r#"{"type":"resync"}"#;

/// A client silent for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(75);

/// This server's own origins, as a browser would send them.
pub(super) fn origin_allowed(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if let Some(public) = &state.config.http.public_url {
        let p = public.trim_end_matches('/').to_ascii_lowercase();
        if p == origin {
            return true;
        }
    }
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase();
    origin == own
}

/// Realtime events for the signed-in agent.
#[utoipa::path(params(WsParams), responses((status = 101, description = "WebSocket upgrade"), (status = 403, body = super::error::ErrorBody)), tag = "realtime")]
#[get("/api/v1/ws")]
pub async fn connect(
    state: web::Data<AppState>,
    c: Caller,
    req: HttpRequest,
    body: web::Payload,
    q: web::Query<WsParams>,
) -> Result<HttpResponse, ApiError> {
    c.require(&state, Permission::ConversationsRead, "websocket")
        .await?;
    if !origin_allowed(&req, &state) {
        let e = Entry::new(&c.actor, "access.denied", "websocket")
            .outcome(Outcome::Denied)
            .details(serde_json::json!({ "reason": "origin_not_allowed" }));
        super::caller::audit(&state, e).await?;
        return Err(ApiError::with_detail(
            ErrorCode::OriginNotAllowed,
            "this page's origin may not open the workspace socket",
        ));
    }
    let (resp, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::with_detail(ErrorCode::BadRequest, e.to_string()))?;
    let conn = Conn {
        user: c.user_id(),
        session_id: c.id(),
        scope: c.scope().clone(),
        supervisor: c.has(Permission::ConversationsAssign),
        engine: state.engine.clone(),
        store_idle_ms: state.config.auth.idle_timeout_ms(),
        state: state.clone(),
        window: std::sync::Mutex::new((std::time::Instant::now(), 0)),
    };
    let q = q.into_inner();
    actix_web::rt::spawn(conn.run(session, stream, q.since, q.epoch));
    Ok(resp)
}

struct Conn {
    user: i64,
    session_id: i64,
    scope: Scope,
    /// Holds `conversations:assign` (receives agents' presence).
    supervisor: bool,
    engine: Arc<Engine>,
    store_idle_ms: i64,
    state: web::Data<AppState>,
    /// Start of the current one-second window and the frames counted in it.
    window: std::sync::Mutex<(std::time::Instant, u32)>,
}

#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    conversation_id: Option<i64>,
    typing: Option<bool>,
}

/// Send deliveries as one frame: a lone event as itself, several as a JSON array of them (in
/// sequence order); a lag notice as `resync` after what precedes it. False when the socket is
/// gone.
async fn send_batch(session: &mut actix_ws::Session, batch: &[Delivery]) -> bool {
    let mut events: Vec<&str> = Vec::with_capacity(batch.len());
    for d in batch {
        match d {
            Delivery::Event(e) => events.push(&e.frame),
            Delivery::Lagged { .. } => {
                if !flush(session, &mut events).await || session.text(RESYNC).await.is_err() {
                    return false;
                }
            }
        }
    }
    flush(session, &mut events).await
}

async fn flush(session: &mut actix_ws::Session, events: &mut Vec<&str>) -> bool {
    let text = match events.as_slice() {
        [] => return true,
        [one] => (*one).to_string(),
        many => {
            let mut t = String::with_capacity(many.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
            t.push('[');
            for (i, e) in many.iter().enumerate() {
                if i > 0 {
                    t.push(',');
                }
                t.push_str(e);
            }
            t.push(']');
            t
        }
    };
    events.clear();
    session.text(text).await.is_ok()
}

impl Conn {
    async fn run(
        self,
        mut session: actix_ws::Session,
        stream: actix_ws::MessageStream,
        since: Option<u64>,
        epoch: Option<String>,
    ) {
        let mut stream = stream.max_frame_size(16 * 1024);
        // Register first: from `from_seq` on, the queue holds every event this agent may see.
        let viewer = Viewer {
            user: self.user,
            scope: self.scope.clone(),
            supervisor: self.supervisor,
        };
        let Some(mut sub) = self.engine.bus.subscribe(viewer) else {
            let _ = session.close(None).await;
            return;
        };
        let registered = sub.from_seq;
        if self.engine.presence.connect(self.user) {
            self.presence_changed();
        }
        // The hello names the sequence this connection continues after: every later event the
        // agent may see follows, in order. A resume that cannot be served says `resync` right
        // after the hello (reload, then continue from the hello's sequence).
        let resume = since.filter(|_| {
            self.engine
                .bus
                .resumable(since, epoch.as_deref(), registered)
        });
        let start = resume.unwrap_or(registered);
        let hello = format!(
            r#"{{"type":"hello","seq":{start},"epoch":"{}"}}"#,
            self.engine.bus.epoch()
        );
        let mut alive = session.text(hello).await.is_ok();
        if since.is_some() && resume.is_none() && alive {
            alive = session.text(RESYNC).await.is_ok();
        }
        // Replay what the client missed up to the registration, from the ring.
        let mut replayed = start;
        while alive && replayed < registered {
            match self.engine.bus.between(replayed, registered, BATCH) {
                Resume::Events(evs) if !evs.is_empty() => {
                    replayed = evs.last().map_or(replayed, |e| e.seq);
                    let mine: Vec<Delivery> = evs
                        .into_iter()
                        .filter(|e| e.audience.admits(sub.viewer()))
                        .map(Delivery::Event)
                        .collect();
                    if !mine.is_empty() {
                        alive = send_batch(&mut session, &mine).await;
                    }
                }
                Resume::Events(_) => break,
                Resume::Resync { .. } => {
                    alive = session.text(RESYNC).await.is_ok();
                    break;
                }
            }
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let mut last_heard = tokio::time::Instant::now();
        while alive {
            tokio::select! {
                d = sub.next() => {
                    let Some(d) = d else { break };
                    // Everything already waiting goes out in one frame (a JSON array in
                    // sequence order): under load one write carries many events.
                    let mut batch = vec![d];
                    while batch.len() < BATCH {
                        match sub.try_next() {
                            Some(next) => batch.push(next),
                            None => break,
                        }
                    }
                    alive = send_batch(&mut session, &batch).await;
                }
                msg = stream.recv() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        last_heard = tokio::time::Instant::now();
                        alive = self.client_frame(&mut session, &sub, &t).await;
                    }
                    Some(Ok(Message::Ping(b))) => {
                        last_heard = tokio::time::Instant::now();
                        alive = session.pong(&b).await.is_ok();
                    }
                    Some(Ok(Message::Pong(_))) => last_heard = tokio::time::Instant::now(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > CLIENT_TIMEOUT || !self.session_alive().await {
                        let _ = session.clone().close(Some(CloseReason {
                            code: CloseCode::Policy,
                            description: Some("session ended".into()),
                        })).await;
                        break;
                    }
                    alive = session.ping(b"").await.is_ok();
                }
            }
        }
        drop(sub);
        let _ = session.close(None).await;
        if self
            .engine
            .presence
            .disconnect(self.user, self.engine.now())
        {
            // The dispatcher re-routes only after the grace period; it re-checks on its tick.
            self.presence_changed();
        }
    }

    fn presence_changed(&self) {
        self.engine.presence_changed([self.user]);
    }

    /// The session is still alive and the user's rights are what this connection was opened
    /// with (a changed scope, role or a disabled account closes it; the client reconnects with
    /// the rights it has now).
    async fn session_alive(&self) -> bool {
        let (id, idle, now, user) = (
            self.session_id,
            self.store_idle_ms,
            self.engine.now(),
            self.user,
        );
        let (scope, supervisor) = (self.scope.clone(), self.supervisor);
        self.state
            .store
            .read(move |c, _| {
                if !identity::session_alive(c, id, now, idle)? {
                    return Ok(false);
                }
                let Some(u) = identity::user(c, user)? else {
                    return Ok(false);
                };
                let g = identity::grants(c, &u)?;
                Ok(!u.disabled
                    && g.permissions.contains(&Permission::ConversationsRead)
                    && g.scope == scope
                    && g.permissions.contains(&Permission::ConversationsAssign) == supervisor)
            })
            .await
            .unwrap_or(false)
    }

    /// Handle a client frame; false when the socket should close.
    async fn client_frame(
        &self,
        session: &mut actix_ws::Session,
        sub: &Subscription,
        text: &str,
    ) -> bool {
        let Ok(f) = serde_json::from_str::<ClientFrame>(text) else {
            return session
                .text(r#"{"type":"error","code":"bad_request"}"#)
                .await
                .is_ok();
        };
        if matches!(f.kind.as_str(), "typing" | "watch" | "unwatch") && !self.within_rate() {
            return session
                .text(r#"{"type":"error","code":"rate_limited"}"#)
                .await
                .is_ok();
        }
        match f.kind.as_str() {
            "ping" => session.text(r#"{"type":"pong"}"#).await.is_ok(),
            "typing" => {
                if let Some(id) = f.conversation_id {
                    self.typing(id, f.typing.unwrap_or(false)).await;
                }
                true
            }
            // The agent shows this conversation: receive its activity even when someone else
            // holds it (only for conversations the agent may see).
            "watch" => {
                if let Some(id) = f.conversation_id
                    && self.visible(id).await.is_some()
                {
                    sub.watch(id);
                }
                true
            }
            "unwatch" => {
                if let Some(id) = f.conversation_id {
                    sub.unwatch(id);
                }
                true
            }
            _ => session
                .text(r#"{"type":"error","code":"bad_request"}"#)
                .await
                .is_ok(),
        }
    }

    /// Count a costly client frame; false when this second's allowance is spent.
    fn within_rate(&self) -> bool {
        let Ok(mut w) = self.window.lock() else {
            return false;
        };
        if w.0.elapsed() >= Duration::from_secs(1) {
            *w = (std::time::Instant::now(), 0);
        }
        w.1 += 1;
        w.1 <= CLIENT_FRAMES_PER_SEC
    }

    /// A conversation this agent may see (in scope, or assigned to them).
    async fn visible(&self, id: i64) -> Option<conversations::ConvRow> {
        let conv = self
            .state
            .store
            .read(move |c, _| conversations::get(c, ConversationId(id)))
            .await
            .ok()
            .flatten()?;
        (self.scope.allows(conv.inbox_id, conv.team_id) || conv.assignee_id == Some(self.user))
            .then_some(conv)
    }

    /// Relay an agent's typing state to the others who see the conversation (and, through the
    /// bus, to channels that show it).
    async fn typing(&self, id: i64, typing: bool) {
        let Some(conv) = self.visible(id).await else {
            return;
        };
        self.engine.bus.publish(
            "typing",
            Audience::activity(conv.id.0, conv.inbox_id, conv.team_id, conv.assignee_id),
            &serde_json::json!({ "conversation_id": id, "who": self.user, "typing": typing }),
        );
        // A widget visitor sees "the agent is typing" (other channels ignore it).
        let until = typing.then(|| self.engine.now() + crate::engine::visitors::TYPING_TTL_MS);
        self.engine
            .visitors
            .set_agent_typing(conv.contact_id.0, until);
        // A WeChat customer sees "对方正在输入" too.
        if typing
            && let Some(inbox) = conv.inbox_id
            && let Ok(info) = self.engine.inbox(inbox).await
        {
            crate::channels::wechat::relay_typing(
                &self.state.channels,
                &self.state.store,
                &info,
                conv.contact_id,
                id,
                self.engine.now(),
            );
        }
    }
}
