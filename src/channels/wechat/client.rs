//! Calls to WeChat's server API: access tokens from the stable-token endpoint, cached per app
//! with a single-flight refresh; a call refused for an expired or invalid token (40001, 40014,
//! 42001) refreshes once and is retried once; every other error code becomes a clear,
//! classified reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::Config;
use crate::channels::SendError;
use crate::channels::net::OutboundPolicy;

/// Codes that mean "the token is no good": refresh and retry once.
const TOKEN_CODES: [i64; 3] = [40001, 40014, 42001];

/// Refresh this long before WeChat says a token expires.
const EARLY_MS: i64 = 300_000;

#[derive(Clone)]
struct Token {
    value: Arc<Zeroizing<String>>,
    expires_at: i64,
}

/// One cache slot per (inbox, AppID, API base): changing either starts a new slot, so a token
/// is never sent to another server than the one that issued it.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Access tokens and per-proxy HTTP clients for every WeChat inbox.
#[derive(Default)]
pub struct Api {
    tokens: Mutex<HashMap<(i64, String, String), Slot>>,
    proxied: Mutex<HashMap<String, reqwest::Client>>,
}

/// WeChat's answer when it is an error: `{"errcode": n, "errmsg": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxError {
    pub code: i64,
    pub message: String,
}

impl WxError {
    /// The reason an agent reads (stable: begins with `wechat <code>`).
    pub fn reason(&self) -> String {
        let what = match self.code {
            45015 => {
                "the 48-hour reply window has closed (the customer has not written for 48 hours, or unfollowed)"
            }
            45047 => {
                "the reply quota is used up (at most 5 replies per customer message within 48 hours)"
            }
            43004 => "the customer does not follow the account",
            43019 => "the customer is blacklisted",
            48002 => "the customer refused messages from the account",
            40003 => "the OpenID is not valid for this account",
            45002 => "the message is too long",
            40164 => "this server's IP address is not on the account's IP whitelist",
            40013 => "the AppID is not valid",
            40125 | 40001 => "the AppSecret is not valid",
            45009 => "the daily API quota is used up",
            45011 => "API calls are too frequent",
            48001 => "the account is not authorised for this API",
            48004 => "the API is banned for this account",
            -1 => "WeChat is busy",
            95018 => "the session does not allow sending now (a WeCom agent holds it, or it ended)",
            95013 => "the session has ended",
            95004 => "the customer-service account (open_kfid) does not exist",
            60020 => "this server's IP address is not among the corp's trusted IPs",
            _ => "",
        };
        if what.is_empty() {
            format!("wechat {}: {}", self.code, self.message)
        } else {
            format!("wechat {}: {what}", self.code)
        }
    }

    /// Worth trying again later: WeChat busy or rate-limited, or the account's configuration
    /// (IP whitelist, secret, authorisation) — which an administrator fixes while the reply
    /// waits, its reason visible; anything about this customer or message is final.
    pub fn retryable(&self) -> bool {
        matches!(
            self.code,
            -1 | 45009 | 45011 | 40164 | 60020 | 40125 | 40013 | 40001 | 48001 | 48004
        )
    }

    pub fn into_send_error(self) -> SendError {
        if self.retryable() {
            SendError::Retryable(self.reason())
        } else {
            SendError::Permanent(self.reason())
        }
    }
}

/// Why a call did not return a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// WeChat answered with an error code.
    Wx(WxError),
    /// No usable answer (network, timeout, HTTP error, not JSON).
    Transport(String),
    /// The request was never sent (address refused, bad configuration).
    Refused(String),
}

impl CallError {
    pub fn into_send_error(self) -> SendError {
        match self {
            CallError::Wx(e) => e.into_send_error(),
            CallError::Transport(m) => SendError::Retryable(m),
            CallError::Refused(m) => SendError::Permanent(m),
        }
    }

    pub fn reason(&self) -> String {
        match self {
            CallError::Wx(e) => e.reason(),
            CallError::Transport(m) | CallError::Refused(m) => m.clone(),
        }
    }
}

/// Who calls, through what: one inbox's configuration and the shared transport.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub http: &'a reqwest::Client,
    pub policy: &'a OutboundPolicy,
    pub inbox: i64,
    pub cfg: &'a Config,
    pub now: i64,
    /// WeCom (`qyapi`, `gettoken` with CorpID and secret) rather than WeChat (`api`,
    /// `stable_token` with AppID and AppSecret).
    pub wecom: bool,
}

impl<'a> Ctx<'a> {
    /// A call for inbox `inbox` through the shared transport of `channels`.
    pub fn new(
        channels: &'a crate::channels::Channels,
        inbox: i64,
        cfg: &'a Config,
        now: i64,
        wecom: bool,
    ) -> Self {
        Ctx {
            http: channels.http(),
            policy: channels.policy(),
            inbox,
            cfg,
            now,
            wecom,
        }
    }

    /// The API base: the configured one, or the platform's.
    pub fn base(&self) -> &str {
        let b = self.cfg.api_base.trim().trim_end_matches('/');
        match (b.is_empty(), self.wecom) {
            (false, _) => b,
            (true, false) => super::DEFAULT_API_BASE,
            (true, true) => super::WECOM_API_BASE,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: i64,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl Api {
    /// The HTTP client for a configuration: the shared one, or one through its proxy.
    fn client(&self, shared: &reqwest::Client, cfg: &Config) -> Result<reqwest::Client, CallError> {
        let Some(proxy) = cfg.proxy.as_deref().filter(|p| !p.trim().is_empty()) else {
            return Ok(shared.clone());
        };
        let mut map = self
            .proxied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = map.get(proxy) {
            return Ok(c.clone());
        }
        let p = reqwest::Proxy::all(proxy)
            .map_err(|e| CallError::Refused(format!("the proxy address is not valid: {e}")))?;
        let c = reqwest::Client::builder()
            .proxy(p)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Atrium/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CallError::Refused(format!("cannot use the proxy: {e}")))?;
        map.insert(proxy.to_string(), c.clone());
        Ok(c)
    }

    fn slot(&self, inbox: i64, app_id: &str, base: &str) -> Slot {
        let mut map = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|(i, a, b), _| *i != inbox || (a == app_id && b == base));
        map.entry((inbox, app_id.to_string(), base.to_string()))
            .or_default()
            .clone()
    }

    /// The outbound policy judges the address dialled: the proxy's when one is set, else the
    /// API's.
    async fn guard(&self, ctx: Ctx<'_>, url: &str) -> Result<(), CallError> {
        let target = ctx
            .cfg
            .proxy
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(url);
        ctx.policy
            .check_url(target)
            .await
            .map_err(|r| CallError::Refused(format!("WeChat API address refused: {r}")))
    }

    /// A valid access token: the cached one, or a new one (one refresh at a time per app;
    /// `stale` is a token WeChat just refused, so a cached value equal to it is not reused).
    pub async fn token(
        &self,
        ctx: Ctx<'_>,
        stale: Option<&str>,
    ) -> Result<Arc<Zeroizing<String>>, CallError> {
        let (cfg, now) = (ctx.cfg, ctx.now);
        let slot = self.slot(ctx.inbox, &cfg.app_id, ctx.base());
        let mut guard = slot.lock().await;
        if let Some(t) = guard.as_ref()
            && t.expires_at > now
            && stale.is_none_or(|s| s != t.value.as_str())
        {
            return Ok(t.value.clone());
        }
        let mut fresh = self.fetch_token(ctx, false).await?;
        if stale.is_some_and(|s| s == fresh.access_token) {
            // The platform still hands out the refused token: ask for a new one.
            fresh = self.fetch_token(ctx, true).await?;
        }
        let t = Token {
            value: Arc::new(Zeroizing::new(std::mem::take(&mut fresh.access_token))),
            expires_at: now + (fresh.expires_in.clamp(60, 7200) * 1000 - EARLY_MS).max(30_000),
        };
        *guard = Some(t.clone());
        Ok(t.value)
    }

    /// Ask WeChat for a token with these settings (a connection test; nothing is cached).
    pub async fn check(&self, ctx: Ctx<'_>) -> Result<(), CallError> {
        self.fetch_token(ctx, false).await.map(|_| ())
    }

    async fn fetch_token(&self, ctx: Ctx<'_>, force: bool) -> Result<TokenAnswer, CallError> {
        let cfg = ctx.cfg;
        let v = if ctx.wecom {
            // WeCom's token: one per corp app; `force` has no equivalent.
            let mut url = url::Url::parse(&format!("{}/cgi-bin/gettoken", ctx.base()))
                .map_err(|_| CallError::Refused("the API base URL is not valid".into()))?;
            url.query_pairs_mut()
                .append_pair("corpid", &cfg.app_id)
                .append_pair("corpsecret", cfg.app_secret.as_str());
            self.get_json(ctx, url.as_str()).await?
        } else {
            let url = format!("{}/cgi-bin/stable_token", ctx.base());
            let body = serde_json::json!({
                "grant_type": "client_credential",
                "appid": cfg.app_id,
                "secret": cfg.app_secret.as_str(),
                "force_refresh": force,
            });
            self.post_raw(ctx, &url, &body).await?
        };
        let a: TokenAnswer = serde_json::from_value(v)
            .map_err(|_| CallError::Transport("WeChat's token answer is not understood".into()))?;
        if a.errcode != 0 || a.access_token.is_empty() {
            return Err(CallError::Wx(WxError {
                code: if a.errcode == 0 { -2 } else { a.errcode },
                message: a.errmsg,
            }));
        }
        Ok(a)
    }

    /// POST JSON to an API path (`/cgi-bin/message/custom/send`), with the access token; on a
    /// token error, refresh once and retry once.
    pub async fn call(&self, ctx: Ctx<'_>, path: &str, body: &Value) -> Result<Value, CallError> {
        let inbox = ctx.inbox;
        let mut token = self.token(ctx, None).await?;
        let mut refreshed = false;
        loop {
            let url = format!("{}{path}?access_token={}", ctx.base(), token.as_str());
            let v = self.post_raw(ctx, &url, body).await?;
            let code = v.get("errcode").and_then(Value::as_i64).unwrap_or(0);
            if code == 0 {
                return Ok(v);
            }
            if TOKEN_CODES.contains(&code) && !refreshed {
                refreshed = true;
                tracing::info!(
                    inbox,
                    code,
                    "wechat refused the access token; refreshing once"
                );
                token = self.token(ctx, Some(token.as_str())).await?;
                continue;
            }
            let message = v
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            return Err(CallError::Wx(WxError { code, message }));
        }
    }

    async fn get_json(&self, ctx: Ctx<'_>, url: &str) -> Result<Value, CallError> {
        self.request(ctx, url, None).await
    }

    async fn post_raw(&self, ctx: Ctx<'_>, url: &str, body: &Value) -> Result<Value, CallError> {
        self.request(ctx, url, Some(body)).await
    }

    async fn request(
        &self,
        ctx: Ctx<'_>,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let http = self.client(ctx.http, ctx.cfg)?;
        self.guard(ctx, url).await?;
        let req = match body {
            Some(b) => http.post(url).json(b),
            None => http.get(url),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| match crate::channels::net::refusal(&e) {
                Some(r) => CallError::Refused(format!("WeChat API address refused: {r}")),
                None => CallError::Transport(format!(
                    "WeChat API unreachable: {}",
                    if e.is_timeout() {
                        "timed out"
                    } else {
                        "connection failed"
                    }
                )),
            })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(CallError::Transport(format!(
                "WeChat API answered HTTP {}",
                status.as_u16()
            )));
        }
        let bytes = read_capped(resp, 1 << 20).await?;
        serde_json::from_slice(&bytes)
            .map_err(|_| CallError::Transport("WeChat API answer is not JSON".into()))
    }

    /// Upload a temporary media file (`media/upload?type=image`; WeChat keeps it 3 days) and
    /// return its `media_id`. A token refusal refreshes once and retries once.
    pub async fn upload(
        &self,
        ctx: Ctx<'_>,
        kind: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<String, CallError> {
        let mut token = self.token(ctx, None).await?;
        let mut refreshed = false;
        loop {
            let mut url = url::Url::parse(&format!("{}/cgi-bin/media/upload", ctx.base()))
                .map_err(|_| CallError::Refused("the API base URL is not valid".into()))?;
            url.query_pairs_mut()
                .append_pair("access_token", token.as_str())
                .append_pair("type", kind);
            self.guard(ctx, url.as_str()).await?;
            let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(name.to_string())
                .mime_str(content_type)
                .map_err(|_| CallError::Refused("the file's type is not valid".into()))?;
            let form = reqwest::multipart::Form::new().part("media", part);
            let req = self.client(ctx.http, ctx.cfg)?.post(url).multipart(form);
            let resp = send_ok(req, "WeChat media upload").await?;
            let v: Value = serde_json::from_slice(&read_capped(resp, 1 << 16).await?)
                .map_err(|_| CallError::Transport("WeChat API answer is not JSON".into()))?;
            let code = v.get("errcode").and_then(Value::as_i64).unwrap_or(0);
            if code == 0 {
                return v
                    .get("media_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| CallError::Transport("WeChat gave no media_id".into()));
            }
            if TOKEN_CODES.contains(&code) && !refreshed {
                refreshed = true;
                token = self.token(ctx, Some(token.as_str())).await?;
                continue;
            }
            let message = v
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Err(CallError::Wx(WxError { code, message }));
        }
    }

    /// GET a media file (`media/get`): its bytes and content type, or WeChat's JSON error.
    pub async fn get_media(
        &self,
        ctx: Ctx<'_>,
        media_id: &str,
        cap: usize,
    ) -> Result<(Vec<u8>, Option<String>), CallError> {
        let mut token = self.token(ctx, None).await?;
        let mut refreshed = false;
        loop {
            match self.fetch_media(ctx, token.as_str(), media_id, cap).await {
                Err(CallError::Wx(e)) if TOKEN_CODES.contains(&e.code) && !refreshed => {
                    refreshed = true;
                    token = self.token(ctx, Some(token.as_str())).await?;
                }
                other => return other,
            }
        }
    }

    async fn fetch_media(
        &self,
        ctx: Ctx<'_>,
        token: &str,
        media_id: &str,
        cap: usize,
    ) -> Result<(Vec<u8>, Option<String>), CallError> {
        let mut url = url::Url::parse(&format!("{}/cgi-bin/media/get", ctx.base()))
            .map_err(|_| CallError::Refused("the API base URL is not valid".into()))?;
        url.query_pairs_mut()
            .append_pair("access_token", token)
            .append_pair("media_id", media_id);
        self.guard(ctx, url.as_str()).await?;
        let resp = send_ok(self.client(ctx.http, ctx.cfg)?.get(url), "WeChat media").await?;
        let ct = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let name = resp
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|d| d.split("filename=").nth(1))
            .map(|f| f.trim_matches(|c| c == '"' || c == ' ').to_string());
        let bytes = read_capped(resp, cap).await?;
        let json_like = ct
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json") || c.starts_with("text/plain"));
        if json_like {
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let code = v.get("errcode").and_then(Value::as_i64).unwrap_or(-2);
            // A video answers with its download address rather than the file.
            let message = if v.get("video_url").is_some() {
                "WeChat answered a video address; videos are not fetched in this version".into()
            } else {
                v.get("errmsg")
                    .and_then(Value::as_str)
                    .unwrap_or("not a media file")
                    .to_string()
            };
            return Err(CallError::Wx(WxError { code, message }));
        }
        Ok((bytes, name))
    }
}

/// Send a media request; an answer other than 2xx, or none, is a transport error naming `what`.
async fn send_ok(req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, CallError> {
    let resp = req
        .send()
        .await
        .map_err(|_| CallError::Transport(format!("{what} unreachable")))?;
    if !resp.status().is_success() {
        return Err(CallError::Transport(format!(
            "{what} answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    Ok(resp)
}

/// Read a body up to `cap` bytes; larger answers are refused.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|_| CallError::Transport("WeChat's answer broke off".into()))?
    {
        if out.len() + chunk.len() > cap {
            return Err(CallError::Transport(format!(
                "WeChat's answer is larger than {cap} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
