//! What an Official Account or Mini Program push means: a customer's message (text, image,
//! voice with recognition, video, short video, location, link, mini-program page, or a type we
//! do not know, kept as "unsupported" with its raw payload) or an event (subscribe,
//! unsubscribe, SCAN, CLICK, VIEW, LOCATION, kf sessions, the mini program's
//! `user_enter_tempsession`, …).

use super::xml::Fields;
use crate::domain::MessageKind;

/// A push, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Push {
    Message(Message),
    Event(Event),
}

/// A customer's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// WeChat's MsgId (64-bit; kept as text, it exceeds 2^53).
    pub msg_id: String,
    pub openid: String,
    /// The account's original id (gh_…).
    pub to: String,
    pub created: i64,
    pub kind: MessageKind,
    pub body: String,
    pub content: Option<serde_json::Value>,
    /// Media to fetch with `media/get` (image, voice, video).
    pub media_id: Option<String>,
    /// The type WeChat named, when we do not support it.
    pub unsupported: Option<String>,
}

/// An event (no MsgId: de-duplicated by sender, time, event and key).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub openid: String,
    pub to: String,
    pub created: i64,
    pub event: String,
    pub key: String,
    pub fields: Fields,
}

impl Event {
    /// WeChat's documented de-duplication key for events.
    pub fn dedupe_key(&self) -> String {
        format!(
            "evt:{}:{}:{}:{}",
            self.openid, self.created, self.event, self.key
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("the push has no {0}")]
    Missing(&'static str),
}

/// Decode a push's fields.
pub fn decode(f: &Fields, raw: &str) -> Result<Push, PushError> {
    let openid = f.str("FromUserName").trim().to_string();
    if openid.is_empty() {
        return Err(PushError::Missing("FromUserName"));
    }
    let msg_type = f.str("MsgType").trim().to_string();
    if msg_type.is_empty() {
        return Err(PushError::Missing("MsgType"));
    }
    let to = f.str("ToUserName").trim().to_string();
    let created = f.str("CreateTime").trim().parse::<i64>().unwrap_or(0);
    if msg_type == "event" {
        return Ok(Push::Event(Event {
            openid,
            to,
            created,
            event: f.str("Event").trim().to_string(),
            key: f.str("EventKey").trim().to_string(),
            fields: f.clone(),
        }));
    }
    let msg_id = f.str("MsgId").trim().to_string();
    // A message without MsgId (never seen) is still de-duplicated, like an event.
    let msg_id = if msg_id.is_empty() {
        format!("msg:{openid}:{created}:{msg_type}")
    } else {
        msg_id
    };
    let media = |k: &str| {
        f.get(k)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let (kind, body, content, media_id, unsupported) = match msg_type.as_str() {
        "text" => (
            MessageKind::Text,
            f.str("Content").to_string(),
            None,
            None,
            None,
        ),
        "image" => (
            MessageKind::Image,
            String::new(),
            None,
            media("MediaId"),
            None,
        ),
        "voice" => (
            MessageKind::Audio,
            // WeChat's speech recognition, when the account enabled it.
            f.str("Recognition").trim().to_string(),
            None,
            media("MediaId"),
            None,
        ),
        "video" | "shortvideo" => (
            MessageKind::Video,
            String::new(),
            None,
            media("MediaId"),
            None,
        ),
        "location" => {
            let lat = f
                .str("Location_X")
                .trim()
                .parse::<f64>()
                .unwrap_or(f64::NAN);
            let lng = f
                .str("Location_Y")
                .trim()
                .parse::<f64>()
                .unwrap_or(f64::NAN);
            let label = f.str("Label").to_string();
            if lat.is_finite() && lng.is_finite() {
                (
                    MessageKind::Location,
                    label.clone(),
                    Some(serde_json::json!({"latitude": lat, "longitude": lng, "label": label})),
                    None,
                    None,
                )
            } else {
                unsupported(&msg_type, raw)
            }
        }
        "link" => {
            let url = f.str("Url").trim().to_string();
            let http = {
                let l = url.to_ascii_lowercase();
                l.starts_with("http://") || l.starts_with("https://")
            };
            if http {
                let title = f.str("Title").to_string();
                (
                    MessageKind::Link,
                    title.clone(),
                    Some(serde_json::json!({
                        "url": url, "title": title, "description": f.str("Description"),
                    })),
                    None,
                    None,
                )
            } else {
                unsupported(&msg_type, raw)
            }
        }
        // A mini-program card the customer sent: its title and page.
        "miniprogrampage" => (
            MessageKind::Text,
            format!("{} ({})", f.str("Title"), f.str("PagePath")),
            None,
            None,
            None,
        ),
        other => unsupported(other, raw),
    };
    Ok(Push::Message(Message {
        msg_id,
        openid,
        to,
        created,
        kind,
        body,
        content,
        media_id,
        unsupported,
    }))
}

type Decoded = (
    MessageKind,
    String,
    Option<serde_json::Value>,
    Option<String>,
    Option<String>,
);

fn unsupported(kind: &str, raw: &str) -> Decoded {
    (
        MessageKind::Unsupported,
        String::new(),
        Some(serde_json::json!({"type": kind, "raw": raw})),
        None,
        Some(kind.to_string()),
    )
}

/// The `PicUrl` of a picture push, when it is an http(s) address.
pub fn picture_url(raw: &str) -> Option<String> {
    let f = super::xml::parse(raw).ok()?;
    let url = f.str("PicUrl").trim().to_string();
    let l = url.to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://")).then_some(url)
}

/// The parameters a mini program's contact button passes as `session-from`, in the layout
/// Chinese vendors document: `source|nickname|avatarUrl|{custom JSON}` (any part may be
/// missing; a value that is not this layout is kept whole as the source).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFrom {
    pub source: String,
    pub nickname: String,
    pub avatar_url: String,
    pub custom: serde_json::Map<String, serde_json::Value>,
}

pub fn session_from(s: &str) -> SessionFrom {
    let mut parts = s.splitn(4, '|');
    let source = parts.next().unwrap_or("").trim().to_string();
    let nickname = parts.next().unwrap_or("").trim().to_string();
    let avatar_url = parts.next().unwrap_or("").trim().to_string();
    let custom = parts
        .next()
        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    SessionFrom {
        source,
        nickname,
        avatar_url,
        custom,
    }
}

/// A JSON push (mini programs may be configured for JSON) as the same flat fields.
pub fn json_fields(v: &serde_json::Value) -> Option<Fields> {
    let obj = v.as_object()?;
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in obj {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            // Numbers keep their exact text (a MsgId exceeds 2^53).
            other => other.to_string(),
        };
        out.insert(k.clone(), s);
    }
    Some(Fields(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_from_layouts() {
        let s = session_from("mall|小明|https://x/a.png|{\"order\":\"A1\"}");
        assert_eq!(s.source, "mall");
        assert_eq!(s.nickname, "小明");
        assert_eq!(s.avatar_url, "https://x/a.png");
        assert_eq!(s.custom["order"], "A1");
        let w = session_from("wxapp");
        assert_eq!(w.source, "wxapp");
        assert!(w.nickname.is_empty() && w.custom.is_empty());
        let bad = session_from("a|b|c|not json");
        assert!(bad.custom.is_empty());
    }

    #[test]
    fn json_msgid_keeps_all_digits() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"MsgId": 6054768590064713728, "FromUserName":"o1"}"#).unwrap();
        let f = json_fields(&v).unwrap();
        assert_eq!(f.str("MsgId"), "6054768590064713728");
    }
}
