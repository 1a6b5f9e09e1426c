//! Administration of a WeChat inbox (Official Account or Mini Program): the AppID and
//! AppSecret from the WeChat console, the callback token and EncodingAESKey Atrium generated
//! for pasting into it, the API base URL and the outbound proxy; and a connection test that
//! fetches an access token. All `channels:write`; reading the secrets and every change are
//! audited (secrets never appear in the audit log).

use actix_web::{HttpResponse, get, post, put, web};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::caller::Caller;
use super::error::{ApiError, ErrorCode};
use crate::app::AppState;
use crate::audit::Entry;
use crate::channels::wechat::{self, Config, client};
use crate::domain::access::Permission;
use crate::store::{audit as audit_log, inboxes};

/// A fresh callback token: 32 letters and digits.
pub fn new_callback_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(rng.sample(rand::distr::Alphanumeric)))
        .collect()
}

/// A fresh EncodingAESKey: 32 random bytes as 43 base64 characters.
pub fn new_aes_key() -> String {
    let key: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(key)
}

/// Credentials of a new WeChat inbox: the callback token and key, nothing from WeChat yet.
pub fn initial_credentials() -> String {
    let cfg = Config {
        token: Zeroizing::new(new_callback_token()),
        encoding_aes_key: Zeroizing::new(new_aes_key()),
        ..Config::default()
    };
    serde_json::to_string(&cfg).unwrap_or_else(|_| "{}".into())
}

/// What the settings page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct WechatView {
    pub app_id: String,
    /// Whether an AppSecret is stored (it is never shown).
    pub has_app_secret: bool,
    /// Paste into the WeChat console (服务器配置 → 令牌 Token).
    pub token: String,
    /// Paste into the WeChat console (消息加解密密钥 EncodingAESKey).
    pub encoding_aes_key: String,
    /// Empty for WeChat's own.
    pub api_base: String,
    pub proxy: String,
    /// The callback path; the console needs `https://<public host>` in front of it.
    pub callback_path: String,
    /// 微信客服 inboxes: the customer-service account (`wk…`).
    pub open_kfid: String,
    /// Plaintext-mode pushes (明文模式, body unsigned) are accepted.
    pub accept_plaintext: bool,
}

async fn load(state: &AppState, c: &Caller, id: i64) -> Result<(Config, bool), ApiError> {
    c.require(state, Permission::ChannelsWrite, &format!("inbox:{id}"))
        .await?;
    let row = state
        .store
        .read(move |conn, ring| inboxes::get(conn, ring, id))
        .await?
        .filter(|i| wechat::is_tencent(&i.channel))
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok((
        Config::parse(&row.credentials),
        row.channel == wechat::kf::CHANNEL,
    ))
}

fn view(id: i64, cfg: &Config, wecom: bool) -> WechatView {
    WechatView {
        app_id: cfg.app_id.clone(),
        has_app_secret: !cfg.app_secret.is_empty(),
        token: cfg.token.to_string(),
        encoding_aes_key: cfg.encoding_aes_key.to_string(),
        api_base: cfg.api_base.clone(),
        proxy: cfg.proxy.clone().unwrap_or_default(),
        callback_path: if wecom {
            format!("/hooks/wecom/{id}")
        } else {
            format!("/hooks/wechat/{id}")
        },
        open_kfid: cfg.open_kfid.clone(),
        accept_plaintext: cfg.accept_plaintext,
    }
}

/// A WeChat inbox's connection settings (`channels:write`; audited, as it shows the callback
/// token and key).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = WechatView), (status = 404, body = super::error::ErrorBody)), tag = "inboxes")]
#[get("/api/v1/inboxes/{id}/wechat")]
pub async fn get(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (cfg, wecom) = load(&state, &c, id).await?;
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    state
        .store
        .write(move |conn, ring| {
            let e = Entry::new(&actor, "inbox.wechat_view", format!("inbox:{id}"));
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(id, &cfg, wecom)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWechat {
    /// AppID (Official Account, Mini Program) or CorpID (微信客服).
    pub app_id: String,
    /// Omit (or leave empty) to keep the stored one.
    #[serde(default)]
    pub app_secret: Option<String>,
    #[serde(default)]
    pub api_base: String,
    #[serde(default)]
    pub proxy: String,
    /// 微信客服 only: the customer-service account (`wk…`) this inbox answers for.
    #[serde(default)]
    pub open_kfid: String,
    /// Accept pushes in WeChat's plaintext mode (明文模式), whose body no signature covers;
    /// omit to keep the stored choice (off unless turned on).
    #[serde(default)]
    pub accept_plaintext: Option<bool>,
    /// Generate a new callback token (the console must then be updated).
    #[serde(default)]
    pub new_token: bool,
    /// Generate a new EncodingAESKey (the console must then be updated).
    #[serde(default)]
    pub new_aes_key: bool,
}

/// Save a WeChat inbox's connection settings (`channels:write`; audited without secrets).
#[utoipa::path(params(("id" = i64, Path)), request_body = UpdateWechat, responses((status = 200, body = WechatView), (status = 422, body = super::error::ErrorBody)), tag = "inboxes")]
#[put("/api/v1/inboxes/{id}/wechat")]
pub async fn update(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
    body: web::Json<UpdateWechat>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (mut cfg, wecom) = load(&state, &c, id).await?;
    let b = body.into_inner();
    let new_secret = b.app_secret.filter(|s| !s.trim().is_empty());
    let (base, proxy) = (
        b.api_base.trim().to_string(),
        Some(b.proxy.trim().to_string()).filter(|p| !p.is_empty()),
    );
    // The stored secret goes only where it went before: a new address needs it typed again.
    if (base != cfg.api_base || proxy != cfg.proxy)
        && !cfg.app_secret.is_empty()
        && new_secret.is_none()
    {
        return Err(ApiError::validation(
            "app_secret: enter the secret again when changing the API base URL or the proxy",
        )
        .with_details(vec![
            "app_secret: enter the secret again when changing the API base URL or the proxy".into(),
        ]));
    }
    cfg.open_kfid = b.open_kfid.trim().to_string();
    cfg.app_id = b.app_id.trim().to_string();
    if let Some(s) = new_secret {
        cfg.app_secret = Zeroizing::new(s.trim().to_string());
    }
    cfg.api_base = base;
    cfg.proxy = proxy;
    if let Some(p) = b.accept_plaintext {
        cfg.accept_plaintext = p;
    }
    if b.new_token {
        cfg.token = Zeroizing::new(new_callback_token());
    }
    if b.new_aes_key {
        cfg.encoding_aes_key = Zeroizing::new(new_aes_key());
    }
    let problems = cfg.validate(wecom);
    if !problems.is_empty() {
        return Err(ApiError::validation(problems.join("; ")).with_details(problems));
    }
    // The proxy is dialled, so it must be an address the sysadmin allows.
    if let Some(p) = &cfg.proxy
        && let Err(r) = state.channels.policy().check_url(p).await
    {
        let m = format!("proxy: this address is not allowed for outbound connections ({r})");
        return Err(ApiError::validation(m.clone()).with_details(vec![m]));
    }
    let json = Zeroizing::new(serde_json::to_string(&cfg).map_err(ApiError::internal)?);
    let (now, actor) = (state.clock.now_ms(), c.actor.clone());
    let details = serde_json::json!({
        "app_id": cfg.app_id, "open_kfid": cfg.open_kfid, "api_base": cfg.api_base, "proxy": cfg.proxy,
        "accept_plaintext": cfg.accept_plaintext,
        "new_token": b.new_token, "new_aes_key": b.new_aes_key,
    });
    state
        .store
        .write(move |conn, ring| {
            inboxes::set_credentials(conn, ring, id, &json)?;
            let e =
                Entry::new(&actor, "inbox.wechat_update", format!("inbox:{id}")).details(details);
            audit_log::append(conn, ring, now, &e)
        })
        .await?;
    state.engine.inbox_changed(id);
    if wecom {
        // Pull at once with the new settings.
        state.channels.wechat.kf.notify(id, None, now);
    }
    Ok(HttpResponse::Ok().json(view(id, &cfg, wecom)))
}

/// The outcome of a connection test.
#[derive(Debug, Serialize, ToSchema)]
pub struct WechatTest {
    pub ok: bool,
    /// WeChat's error code when it refused (e.g. 40164: IP not whitelisted).
    pub code: Option<i64>,
    pub reason: Option<String>,
}

/// Fetch an access token with the stored settings (`channels:write`).
#[utoipa::path(params(("id" = i64, Path)), responses((status = 200, body = WechatTest)), tag = "inboxes")]
#[post("/api/v1/inboxes/{id}/wechat/test")]
pub async fn test(
    state: web::Data<AppState>,
    c: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (cfg, wecom) = load(&state, &c, id).await?;
    if cfg.app_id.is_empty() || cfg.app_secret.is_empty() {
        return Err(ApiError::validation(
            "app_id/app_secret: save the AppID and AppSecret first",
        ));
    }
    let ctx = client::Ctx::new(&state.channels, id, &cfg, state.clock.now_ms(), wecom);
    let out = match state.channels.wechat.api.check(ctx).await {
        Ok(_) => WechatTest {
            ok: true,
            code: None,
            reason: None,
        },
        Err(e) => WechatTest {
            ok: false,
            code: match &e {
                client::CallError::Wx(w) => Some(w.code),
                _ => None,
            },
            reason: Some(e.reason()),
        },
    };
    Ok(HttpResponse::Ok().json(out))
}
