//! Inbox and team settings: the JSON administrators edit, parsed and validated once, cached
//! per inbox so the ingest path reads no settings rows.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::routing::{BusinessHours, RoutingSettings};

/// Automatic messages sent on the inbox's behalf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutoReply {
    /// Sent when a new conversation starts (empty: none).
    pub greeting: String,
    /// Sent once per conversation when nobody can answer: outside business hours or no agent
    /// online. Invites the customer to leave a message.
    pub offline: String,
}

/// Reply-time thresholds that raise an alert (0 = off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Sla {
    pub first_response_secs: u64,
    pub next_response_secs: u64,
    /// Return a conversation to the queue when its agent lets the customer wait this long
    /// (0 = never).
    pub reassign_after_secs: u64,
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            first_response_secs: 120,
            next_response_secs: 300,
            reassign_after_secs: 0,
        }
    }
}

/// Where the API channel delivers agents' replies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Webhook {
    /// `http(s)://…`; empty: replies stay queued until one is set.
    pub url: String,
}

/// Instant answers of a WeChat inbox (Official Account): a greeting for new followers and
/// fixed answers to menu clicks, sent as passive replies within WeChat's 5 seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WechatSettings {
    /// Sent to someone who just followed the account (empty: none).
    pub subscribe_greeting: String,
    /// Answers to menu `CLICK` keys.
    pub click_replies: Vec<ClickReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickReply {
    /// The menu button's key, as configured in the WeChat console.
    pub key: String,
    pub reply: String,
}

impl WechatSettings {
    pub fn click_reply(&self, key: &str) -> Option<String> {
        self.click_replies
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.reply.clone())
            .filter(|r| !r.is_empty())
    }

    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.subscribe_greeting.chars().count() > 600 {
            p.push("wechat.subscribe_greeting: at most 600 characters".into());
        }
        if self.click_replies.len() > 50 {
            p.push("wechat.click_replies: at most 50".into());
        }
        for (i, c) in self.click_replies.iter().enumerate() {
            if c.key.trim().is_empty() || c.key.len() > 128 {
                p.push(format!("wechat.click_replies[{i}].key: 1 to 128 bytes"));
            }
            if c.reply.chars().count() > 600 {
                p.push(format!(
                    "wechat.click_replies[{i}].reply: at most 600 characters"
                ));
            }
        }
        p
    }
}

/// The website chat widget of a web inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Widget {
    /// Sites that may embed the chat window, as origins (`https://www.example.com`); none: it
    /// cannot be embedded anywhere.
    pub allowed_origins: Vec<String>,
    /// The launcher's and header's colour, `#rrggbb`.
    pub color: String,
    /// `right` or `left` (bottom corner).
    pub position: String,
    /// The chat window's title (empty: the inbox's name).
    pub title: String,
    /// Shown in the window before the visitor writes (not sent as a message).
    pub welcome: String,
    /// `zh-CN`, `en`, or empty for the visitor's browser language.
    pub language: String,
    /// Only visitors the host site identified (signed user id) may chat.
    pub require_identity: bool,
    /// What the window asks an anonymous visitor before their first message.
    pub prechat: Prechat,
    /// Outside business hours, the window offers a form to leave a message with a phone number
    /// or email address to be answered at.
    pub leave_message: bool,
    /// Proactive invitations: the window invites a visitor to chat (first matching rule).
    pub invitations: Vec<Invitation>,
}

/// A proactive invitation: after `delay_secs` on a page whose address contains `url_contains`
/// (empty: any page), for returning visitors only or everyone, the chat window shows `message`
/// beside its button — once per browser session, never to a visitor already chatting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Invitation {
    pub message: String,
    pub delay_secs: u32,
    pub url_contains: String,
    pub returning_only: bool,
}

impl Default for Invitation {
    fn default() -> Self {
        Invitation {
            message: String::new(),
            delay_secs: 30,
            url_contains: String::new(),
            returning_only: false,
        }
    }
}

/// Most invitation rules of one widget.
pub const MAX_INVITATIONS: usize = 10;

/// The pre-chat form: each field `off`, `optional` or `required` (all `off`: no form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Prechat {
    pub name: String,
    pub phone: String,
    pub email: String,
}

impl Default for Prechat {
    fn default() -> Self {
        Prechat {
            name: "off".into(),
            phone: "off".into(),
            email: "off".into(),
        }
    }
}

impl Prechat {
    /// The fields that must be filled in.
    pub fn required(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("name", &self.name),
            ("phone", &self.phone),
            ("email", &self.email),
        ]
        .into_iter()
        .filter(|(_, m)| m.as_str() == "required")
        .map(|(f, _)| f)
    }
}

impl Default for Widget {
    fn default() -> Self {
        Widget {
            allowed_origins: Vec::new(),
            color: "#1f5fbf".into(),
            position: "right".into(),
            title: String::new(),
            welcome: String::new(),
            language: String::new(),
            require_identity: false,
            prechat: Prechat::default(),
            leave_message: true,
            invitations: Vec::new(),
        }
    }
}

/// Most allowed origins of one widget.
pub const MAX_ORIGINS: usize = 20;

/// `scheme://host[:port]` with nothing else, normalised to lowercase, or why not.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let t = s.trim();
    let u = reqwest::Url::parse(t).map_err(|_| format!("{t:?} is not an origin"))?;
    let plain = matches!(u.scheme(), "http" | "https")
        && u.host().is_some()
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && u.fragment().is_none()
        && u.path() == "/"
        && !t.trim_end_matches('/').ends_with(':');
    if !plain || t.trim_end_matches('/').len() != t.trim_end_matches('/').trim_end().len() {
        return Err(format!(
            "{t:?} is not an origin (scheme://host[:port], no path)"
        ));
    }
    Ok(u.origin().ascii_serialization())
}

impl Widget {
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.allowed_origins.len() > MAX_ORIGINS {
            p.push(format!("widget.allowed_origins: at most {MAX_ORIGINS}"));
        }
        for o in &self.allowed_origins {
            if let Err(e) = parse_origin(o) {
                p.push(format!("widget.allowed_origins: {e}"));
            }
        }
        let c = self.color.as_bytes();
        if c.len() != 7 || c.first() != Some(&b'#') || !c.iter().skip(1).all(u8::is_ascii_hexdigit)
        {
            p.push("widget.color: #rrggbb".into());
        }
        if !matches!(self.position.as_str(), "right" | "left") {
            p.push("widget.position: right or left".into());
        }
        if !matches!(self.language.as_str(), "" | "zh-CN" | "en") {
            p.push("widget.language: zh-CN, en or empty".into());
        }
        if self.title.chars().count() > 60 {
            p.push("widget.title: at most 60 characters".into());
        }
        if self.welcome.chars().count() > MAX_TEXT {
            p.push(format!("widget.welcome: at most {MAX_TEXT} characters"));
        }
        for (f, m) in [
            ("name", &self.prechat.name),
            ("phone", &self.prechat.phone),
            ("email", &self.prechat.email),
        ] {
            if !matches!(m.as_str(), "off" | "optional" | "required") {
                p.push(format!("widget.prechat.{f}: off, optional or required"));
            }
        }
        if self.invitations.len() > MAX_INVITATIONS {
            p.push(format!("widget.invitations: at most {MAX_INVITATIONS}"));
        }
        for (i, inv) in self.invitations.iter().enumerate() {
            let n = inv.message.trim().chars().count();
            if n == 0 || n > 200 {
                p.push(format!(
                    "widget.invitations[{i}].message: 1 to 200 characters"
                ));
            }
            if inv.delay_secs > 3600 {
                p.push(format!("widget.invitations[{i}].delay_secs: 0 to 3600"));
            }
            if inv.url_contains.chars().count() > 200 {
                p.push(format!(
                    "widget.invitations[{i}].url_contains: at most 200 characters"
                ));
            }
        }
        p
    }

    /// The allowed origins, normalised (invalid ones left out).
    pub fn origins(&self) -> Vec<String> {
        self.allowed_origins
            .iter()
            .filter_map(|o| parse_origin(o).ok())
            .collect()
    }
}

/// `inboxes.settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct InboxSettings {
    #[schema(value_type = Object)]
    pub routing: RoutingSettings,
    /// Absent: always open.
    #[schema(value_type = Option<Object>)]
    pub hours: Option<BusinessHours>,
    pub auto_reply: AutoReply,
    pub sla: Sla,
    pub webhook: Webhook,
    pub widget: Widget,
    pub wechat: WechatSettings,
}

/// `teams.settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TeamSettings {
    #[schema(value_type = Object)]
    pub routing: RoutingSettings,
}

const MAX_TEXT: usize = 2000;

impl InboxSettings {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<String> {
        let mut p: Vec<String> = self
            .routing
            .validate()
            .into_iter()
            .map(|e| format!("routing: {e}"))
            .collect();
        if let Some(h) = &self.hours {
            p.extend(h.validate().into_iter().map(|e| format!("hours: {e}")));
        }
        for (k, v) in [
            ("auto_reply.greeting", &self.auto_reply.greeting),
            ("auto_reply.offline", &self.auto_reply.offline),
        ] {
            if v.chars().count() > MAX_TEXT {
                p.push(format!("{k}: at most {MAX_TEXT} characters"));
            }
        }
        for (k, v) in [
            ("sla.first_response_secs", self.sla.first_response_secs),
            ("sla.next_response_secs", self.sla.next_response_secs),
            ("sla.reassign_after_secs", self.sla.reassign_after_secs),
        ] {
            if v > 7 * 86_400 {
                p.push(format!("{k}: at most 7 days"));
            }
        }
        p.extend(self.widget.validate());
        p.extend(self.wechat.validate());
        let u = self.webhook.url.trim();
        if let (false, Err(e)) = (u.is_empty(), crate::channels::net::webhook_url_shape(u)) {
            p.push(format!("webhook.url: {e}"));
        }
        p
    }

    /// Parse stored JSON; a row that no longer parses (edited by hand) falls back to defaults
    /// with a warning rather than stopping the inbox.
    pub fn parse_stored(inbox: i64, json: &str) -> InboxSettings {
        serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::warn!(inbox_id = inbox, error = %e, "inbox settings unreadable; using defaults");
            InboxSettings::default()
        })
    }

    pub fn is_open(&self, now_ms: i64) -> bool {
        self.hours.as_ref().is_none_or(|h| h.is_open(now_ms))
    }
}

impl TeamSettings {
    pub fn parse_stored(team: i64, json: &str) -> TeamSettings {
        serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::warn!(team_id = team, error = %e, "team settings unreadable; using defaults");
            TeamSettings::default()
        })
    }
}

/// What the engine keeps in memory about an inbox.
#[derive(Debug, Clone)]
pub struct InboxInfo {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub team_id: Option<i64>,
    pub disabled: bool,
    pub settings: InboxSettings,
}

/// Inbox settings by id, filled on first use and replaced when an administrator saves.
#[derive(Default)]
pub struct Cache {
    inboxes: RwLock<HashMap<i64, Arc<InboxInfo>>>,
    /// API token digest → inbox id (only tokens seen valid; a rotation forgets the inbox's).
    tokens: RwLock<HashMap<Vec<u8>, i64>>,
    teams: RwLock<HashMap<i64, Arc<TeamSettings>>>,
    /// Bumped by every `forget*`: a value read from the database before a change is not
    /// cached after it (the reader passes the generation it saw before reading).
    generation: std::sync::atomic::AtomicU64,
}

impl Cache {
    /// Take before reading the database; pass to the `put*` that caches what was read.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn current(&self, seen: u64) -> bool {
        self.generation() == seen
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub fn get(&self, id: i64) -> Option<Arc<InboxInfo>> {
        self.inboxes.read().ok()?.get(&id).cloned()
    }

    pub fn put(&self, info: InboxInfo, seen: u64) -> Arc<InboxInfo> {
        let info = Arc::new(info);
        if let Ok(mut m) = self.inboxes.write()
            && self.current(seen)
        {
            m.insert(info.id, info.clone());
        }
        info
    }

    pub fn forget(&self, id: i64) {
        self.bump();
        if let Ok(mut m) = self.inboxes.write() {
            m.remove(&id);
        }
        if let Ok(mut t) = self.tokens.write() {
            t.retain(|_, inbox| *inbox != id);
        }
    }

    pub fn team(&self, id: i64) -> Option<Arc<TeamSettings>> {
        self.teams.read().ok()?.get(&id).cloned()
    }

    pub fn put_team(&self, id: i64, settings: TeamSettings, seen: u64) -> Arc<TeamSettings> {
        let s = Arc::new(settings);
        if let Ok(mut m) = self.teams.write()
            && self.current(seen)
        {
            m.insert(id, s.clone());
        }
        s
    }

    pub fn forget_team(&self, id: i64) {
        self.bump();
        if let Ok(mut m) = self.teams.write() {
            m.remove(&id);
        }
    }

    pub fn token(&self, digest: &[u8]) -> Option<i64> {
        self.tokens.read().ok()?.get(digest).copied()
    }

    pub fn put_token(&self, digest: Vec<u8>, inbox: i64, seen: u64) {
        if let Ok(mut t) = self.tokens.write()
            && self.current(seen)
        {
            t.insert(digest, inbox);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widget_forms_and_invitations_are_checked() {
        let mut w = Widget::default();
        assert!(w.validate().is_empty());
        w.prechat.phone = "sometimes".into();
        w.invitations = vec![
            Invitation {
                message: "需要帮忙吗？".into(),
                ..Invitation::default()
            },
            Invitation {
                message: " ".into(),
                delay_secs: 7200,
                url_contains: "x".repeat(201),
                returning_only: true,
            },
        ];
        assert_eq!(
            w.validate(),
            [
                "widget.prechat.phone: off, optional or required",
                "widget.invitations[1].message: 1 to 200 characters",
                "widget.invitations[1].delay_secs: 0 to 3600",
                "widget.invitations[1].url_contains: at most 200 characters",
            ]
        );
        w.prechat.phone = "required".into();
        w.invitations = vec![w.invitations[0].clone(); MAX_INVITATIONS + 1];
        assert_eq!(w.validate(), ["widget.invitations: at most 10"]);
        assert_eq!(w.prechat.required().collect::<Vec<_>>(), ["phone"]);
    }

    #[test]
    fn widget_origins_are_plain_origins() {
        assert_eq!(
            parse_origin("https://WWW.Example.com").unwrap(),
            "https://www.example.com"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            parse_origin("https://bank.cn:443").unwrap(),
            "https://bank.cn"
        );
        for bad in [
            "www.example.com",
            "https://example.com/chat",
            "https://example.com?x=1",
            "javascript:alert(1)",
            "https://user@example.com",
            "ftp://example.com",
            "*",
            "https://a.com; script-src *",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let w = Widget {
            allowed_origins: vec!["https://a.com".into(), "nope".into()],
            color: "red".into(),
            position: "top".into(),
            language: "fr".into(),
            ..Widget::default()
        };
        let p = w.validate();
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(w.origins(), vec!["https://a.com".to_string()]);
        assert!(Widget::default().validate().is_empty());
    }

    #[test]
    fn empty_settings_are_the_defaults_and_unknown_fields_are_refused() {
        let s: InboxSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, InboxSettings::default());
        assert!(s.validate().is_empty());
        assert!(serde_json::from_str::<InboxSettings>(r#"{"routng":{}}"#).is_err());
    }

    #[test]
    fn bad_values_are_named() {
        let s: InboxSettings = serde_json::from_str(
            r#"{"webhook":{"url":"ftp://x"},"sla":{"first_response_secs":9999999,"next_response_secs":1}}"#,
        )
        .unwrap();
        let p = s.validate();
        assert!(p.iter().any(|e| e.starts_with("webhook.url")), "{p:?}");
        assert!(
            p.iter().any(|e| e.starts_with("sla.first_response_secs")),
            "{p:?}"
        );
    }

    #[test]
    fn a_value_read_before_a_change_is_not_cached_after_it() {
        let c = Cache::default();
        let seen = c.generation();
        // An administrator saves (and the cache forgets) while the old row is being read.
        c.forget_team(7);
        c.put_team(7, TeamSettings::default(), seen);
        assert!(c.team(7).is_none());
        c.put_token(vec![1], 3, seen);
        assert!(c.token(&[1]).is_none());
        // Read after the change: cached.
        let seen = c.generation();
        c.put_team(7, TeamSettings::default(), seen);
        c.put_token(vec![1], 3, seen);
        assert!(c.team(7).is_some());
        assert_eq!(c.token(&[1]), Some(3));
    }
}
