//! The chat window's socket `GET /hooks/web/{inbox_id}/ws`: the same news as the long poll
//! (`GET /hooks/web/{inbox_id}/messages`), pushed the moment it happens, and the visitor's
//! typing and read receipts on the way back. The window falls back to long polling when a proxy
//! refuses the upgrade, and resumes either way from the last message id it has.
//!
//! The `Origin` must be Atrium's own (the chat window is an Atrium page). The token travels in
//! the first frame, not the URL (URLs end up in proxies' logs):
//!
//! - client → `{"type":"hello","token":"…","after":N}` within 10 s; then
//!   `{"type":"typing","typing":true}`, `{"type":"receipt","up_to":N,"state":"read"}` (or
//!   `"delivered"`) and `{"type":"ping"}`, at most 10 a second;
//! - server → `{"type":"news", …}` (the long poll's answer: messages after the last one sent,
//!   the conversation's status and queue place, agent typing, how far agents read) whenever
//!   something changed, `{"type":"pong"}`, and `{"type":"error","code":…}` (a bad token closes
//!   the socket after it).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorCode};
use super::widget::{
    StateKey, VisitorMessages, limited, news, visitor_saw, visitor_typing, web_inbox,
};
use crate::app::AppState;
use crate::channels::web::{self as widget, Visitor};

/// The hello must come within this.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// How often the socket pings.
const HEARTBEAT: Duration = Duration::from_secs(25);
/// A client silent for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(75);
/// News is re-read this often even without a wake-up (the queue place moves as others are
/// served).
const REFRESH: Duration = Duration::from_secs(20);
/// Client frames a socket may send per second.
const CLIENT_FRAMES_PER_SEC: u32 = 10;

/// Open the chat window's socket.
#[utoipa::path(params(("inbox_id" = i64, Path)), responses((status = 101, description = "WebSocket upgrade"), (status = 403, description = "`origin_not_allowed`", body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)), tag = "widget")]
#[get("/hooks/web/{inbox_id}/ws")]
pub async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let inbox = web_inbox(&state, path.into_inner()).await?;
    limited(&state, &req)?;
    if !super::ws::origin_allowed(&req, &state) {
        return Err(ApiError::with_detail(
            ErrorCode::OriginNotAllowed,
            "only Atrium's chat window may open this socket",
        ));
    }
    let (resp, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::with_detail(ErrorCode::BadRequest, e.to_string()))?;
    actix_web::rt::spawn(run(state, inbox.id, session, stream));
    Ok(resp)
}

#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    token: Option<String>,
    after: Option<i64>,
    typing: Option<bool>,
    up_to: Option<i64>,
    state: Option<String>,
}

#[derive(Serialize)]
struct News<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    news: &'a VisitorMessages,
}

fn error_frame(code: ErrorCode) -> String {
    format!(r#"{{"type":"error","code":"{}"}}"#, code.as_str())
}

/// The hello frame (pings before it are answered); `None` when it does not come in time.
async fn hello(
    session: &mut actix_ws::Session,
    stream: &mut actix_ws::AggregatedMessageStream,
) -> Option<ClientFrame> {
    let wait = async {
        loop {
            match stream.recv().await {
                Some(Ok(actix_ws::AggregatedMessage::Text(t))) => {
                    return serde_json::from_str::<ClientFrame>(&t)
                        .ok()
                        .filter(|f| f.kind == "hello");
                }
                Some(Ok(actix_ws::AggregatedMessage::Ping(b))) => {
                    if session.pong(&b).await.is_err() {
                        return None;
                    }
                }
                Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                _ => return None,
            }
        }
    };
    tokio::time::timeout(HELLO_WITHIN, wait)
        .await
        .ok()
        .flatten()
}

async fn run(
    state: web::Data<AppState>,
    inbox: i64,
    mut session: actix_ws::Session,
    stream: actix_ws::MessageStream,
) {
    let mut stream = stream
        .max_frame_size(4 * 1024)
        .aggregate_continuations()
        .max_continuation_size(4 * 1024);
    let Some(h) = hello(&mut session, &mut stream).await else {
        let _ = session.close(None).await;
        return;
    };
    let Some(v) = h
        .token
        .as_deref()
        .and_then(|t| widget::verify_token(state.store.keyring(), inbox, t))
    else {
        let _ = session
            .text(error_frame(ErrorCode::VisitorTokenInvalid))
            .await;
        let _ = session
            .close(Some(CloseReason {
                code: CloseCode::Policy,
                description: Some("visitor_token_invalid".into()),
            }))
            .await;
        return;
    };
    let mut conn = Conn {
        state,
        inbox,
        v,
        after: h.after.unwrap_or(0).max(0),
        sent: None,
        contact: None,
        window: (tokio::time::Instant::now(), 0),
    };
    conn.serve(&mut session, &mut stream).await;
    let _ = session.close(None).await;
}

struct Conn {
    state: web::Data<AppState>,
    inbox: i64,
    v: Visitor,
    /// The newest message sent to the window.
    after: i64,
    /// What the last news frame said besides messages (status, queue, reading, typing).
    sent: Option<(StateKey, bool)>,
    /// The visitor's contact once they have one (woken under it; before, under their key).
    contact: Option<i64>,
    /// Start of the current one-second window and the client frames counted in it.
    window: (tokio::time::Instant, u32),
}

impl Conn {
    async fn serve(
        &mut self,
        session: &mut actix_ws::Session,
        stream: &mut actix_ws::AggregatedMessageStream,
    ) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.tick().await;
        let mut last_heard = tokio::time::Instant::now();
        loop {
            // Register before reading, so news committed in between wakes this round.
            let key = self.contact.unwrap_or_else(|| self.v.wait_key(self.inbox));
            let n = self.state.engine.visitors.waiter(key);
            let woken = n.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let Some(contact_now) = self.push_news(session).await else {
                return;
            };
            if contact_now != self.contact {
                // The first message made a contact: wait under it from now on.
                self.contact = contact_now;
                continue;
            }
            loop {
                tokio::select! {
                    _ = &mut woken => break,
                    _ = refresh.tick() => break,
                    msg = stream.recv() => match msg {
                        Some(Ok(actix_ws::AggregatedMessage::Text(t))) => {
                            last_heard = tokio::time::Instant::now();
                            if !self.client_frame(session, &t).await {
                                return;
                            }
                        }
                        Some(Ok(actix_ws::AggregatedMessage::Ping(b))) => {
                            last_heard = tokio::time::Instant::now();
                            if session.pong(&b).await.is_err() {
                                return;
                            }
                        }
                        Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {
                            last_heard = tokio::time::Instant::now();
                        }
                        Some(Ok(actix_ws::AggregatedMessage::Binary(_))) => {
                            if session.text(error_frame(ErrorCode::BadRequest)).await.is_err() {
                                return;
                            }
                        }
                        Some(Ok(actix_ws::AggregatedMessage::Close(_))) | None | Some(Err(_)) => {
                            return;
                        }
                    },
                    _ = heartbeat.tick() => {
                        if last_heard.elapsed() > CLIENT_TIMEOUT
                            || session.ping(b"").await.is_err()
                        {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Send what changed since the last frame; the visitor's contact, or `None` when the
    /// socket should close.
    async fn push_news(&mut self, session: &mut actix_ws::Session) -> Option<Option<i64>> {
        match news(&self.state, self.inbox, &self.v, self.after).await {
            Ok((contact, m)) => {
                let said = (m.state_key(), m.agent_typing);
                if !m.messages.is_empty() || self.sent.as_ref() != Some(&said) {
                    let frame = serde_json::to_string(&News {
                        kind: "news",
                        news: &m,
                    })
                    .ok()?;
                    session.text(frame).await.ok()?;
                    self.after = m.after;
                    self.sent = Some(said);
                }
                Some(contact)
            }
            Err(e) => {
                // The inbox was disabled or deleted: say so and close; a passing database
                // error: say so and try again at the next wake-up.
                let _ = session.text(error_frame(e.code)).await;
                match e.code {
                    ErrorCode::InboxNotFound | ErrorCode::InboxDisabled => None,
                    _ => Some(self.contact),
                }
            }
        }
    }

    /// Handle a client frame; false when the socket should close.
    async fn client_frame(&mut self, session: &mut actix_ws::Session, text: &str) -> bool {
        if self.window.0.elapsed() >= Duration::from_secs(1) {
            self.window = (tokio::time::Instant::now(), 0);
        }
        self.window.1 += 1;
        if self.window.1 > CLIENT_FRAMES_PER_SEC {
            return session
                .text(error_frame(ErrorCode::RateLimited))
                .await
                .is_ok();
        }
        let Ok(f) = serde_json::from_str::<ClientFrame>(text) else {
            return session
                .text(error_frame(ErrorCode::BadRequest))
                .await
                .is_ok();
        };
        let done = match (f.kind.as_str(), f.typing, f.up_to, f.state.as_deref()) {
            ("ping", ..) => return session.text(r#"{"type":"pong"}"#).await.is_ok(),
            ("typing", Some(t), ..) => visitor_typing(&self.state, self.inbox, &self.v, t).await,
            ("receipt", _, Some(up_to), Some(s @ ("read" | "delivered"))) => {
                visitor_saw(&self.state, self.inbox, &self.v, up_to, s == "read").await
            }
            _ => {
                return session
                    .text(error_frame(ErrorCode::BadRequest))
                    .await
                    .is_ok();
            }
        };
        match done {
            Ok(()) => true,
            Err(e) => session.text(error_frame(e.code)).await.is_ok(),
        }
    }
}
