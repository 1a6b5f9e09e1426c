//! What a message is beyond its text: its kind, structured content, delivery state, and the
//! inbound form every channel hands to the engine.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contact::ContactDraft;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// What a message carries. Text is the body; the others add structured `content` and/or
    /// attachments, with the body as a readable fallback. `unsupported`: a type the channel
    /// delivered that Atrium cannot show yet, kept with its raw payload in `content`
    /// (`{"type": …, "raw": …}`), never dropped.
    MessageKind {
        Text = "text",
        Image = "image",
        File = "file",
        Audio = "audio",
        Video = "video",
        Location = "location",
        Link = "link",
        Card = "card",
        Unsupported = "unsupported",
    }
);

str_enum!(
    /// Delivery state of an outgoing message, as far as the channel reports it.
    Delivery {
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
);

str_enum!(
    /// Conversation priority; the queue serves higher first.
    Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
);

impl Priority {
    pub fn level(self) -> u8 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_level(l: i64) -> Priority {
        match l {
            i64::MIN..=0 => Priority::Low,
            1 => Priority::Normal,
            2 => Priority::High,
            _ => Priority::Urgent,
        }
    }
}

str_enum!(
    /// How a channel knows a customer. Visitor ids, openids and external (customer-system) ids
    /// are only meaningful inside one inbox; unionids, e-mail addresses and phone numbers are
    /// global, so a verified one links the same person across channels.
    IdentityKind {
        Visitor = "visitor",
        OpenId = "openid",
        UnionId = "unionid",
        External = "external",
        Email = "email",
        Phone = "phone",
    }
);

impl IdentityKind {
    /// Whether the value is only unique within one inbox.
    pub fn per_inbox(self) -> bool {
        matches!(
            self,
            IdentityKind::Visitor | IdentityKind::OpenId | IdentityKind::External
        )
    }
}

/// Structured content of a location message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub label: String,
}

/// Structured content of a link card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// Structured content of a product or order card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub image_url: String,
}

/// Check `content` against the shape `kind` needs and return it normalised. Kinds without
/// structured content take none (`None`). URLs must be `http(s)`.
pub fn check_content(
    kind: MessageKind,
    content: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, String> {
    fn http_url(u: &str) -> Result<(), String> {
        let l = u.trim().to_ascii_lowercase();
        if u.is_empty() || l.starts_with("https://") || l.starts_with("http://") {
            Ok(())
        } else {
            Err("content urls must start with http:// or https://".into())
        }
    }
    fn to_value<T: Serialize>(v: &T) -> Result<serde_json::Value, String> {
        serde_json::to_value(v).map_err(|e| e.to_string())
    }
    let Some(c) = content else {
        return match kind {
            MessageKind::Location | MessageKind::Link | MessageKind::Card => {
                Err(format!("a {kind} message needs content"))
            }
            _ => Ok(None),
        };
    };
    let bad = |e: serde_json::Error| format!("content of a {kind} message: {e}");
    Ok(Some(match kind {
        MessageKind::Location => {
            let l: Location = serde_json::from_value(c).map_err(bad)?;
            if !(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude) {
                return Err("latitude/longitude out of range".into());
            }
            to_value(&l)?
        }
        MessageKind::Link => {
            let l: Link = serde_json::from_value(c).map_err(bad)?;
            if l.url.is_empty() {
                return Err("a link needs a url".into());
            }
            http_url(&l.url)?;
            to_value(&l)?
        }
        MessageKind::Card => {
            let card: Card = serde_json::from_value(c).map_err(bad)?;
            http_url(&card.url)?;
            http_url(&card.image_url)?;
            to_value(&card)?
        }
        MessageKind::Unsupported if c.is_object() => c,
        _ => return Err(format!("a {kind} message takes no content")),
    }))
}

/// One way a channel identifies the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClaim {
    pub kind: IdentityKind,
    pub value: String,
    /// Verified by the channel (a WeChat unionid, a signed identity, a phone confirmed by SMS):
    /// only verified global identities merge contacts automatically.
    pub verified: bool,
}

/// A message as a channel delivers it to [`crate::engine::ingest`].
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub inbox_id: i64,
    /// The channel's id for this message: a second delivery with the same id is a duplicate.
    pub external_id: Option<String>,
    /// At least one identity of the sender.
    pub identities: Vec<IdentityClaim>,
    /// Profile fields the channel knows (stored on a new contact; never overwrite an agent's).
    pub profile: ContactDraft,
    pub kind: MessageKind,
    pub body: String,
    pub content: Option<serde_json::Value>,
    /// Where the customer writes from (page, language, region), for skill-based routing.
    pub context: MessageContext,
    /// Files the channel uploaded through this inbox beforehand, sent with this message.
    pub attachments: Vec<i64>,
}

/// Most files one inbound message carries.
pub const MAX_INBOUND_ATTACHMENTS: usize = 10;

/// Where a customer writes from, as far as the channel knows (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessageContext {
    /// The page URL (widget) or screen (app).
    pub page: Option<String>,
    /// BCP 47 language tag.
    pub language: Option<String>,
    pub region: Option<String>,
}

impl MessageContext {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (field, v, max) in [
            ("page", &self.page, 2000),
            ("language", &self.language, 35),
            ("region", &self.region, 64),
        ] {
            if v.as_ref().is_some_and(|v| v.chars().count() > max) {
                p.push(format!("context.{field}: at most {max} characters"));
            }
        }
        p
    }
}

/// Longest message body accepted, in characters (WeChat allows 2,048 bytes; e-mail is longer).
pub const MAX_BODY_CHARS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(*k));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::from_level(i64::from(p.level())), *p);
        }
        assert_eq!(IdentityKind::parse("openid"), Some(IdentityKind::OpenId));
        assert!(IdentityKind::Visitor.per_inbox() && !IdentityKind::Phone.per_inbox());
    }

    #[test]
    fn content_is_checked_against_the_kind() {
        let j = |s: &str| Some(serde_json::from_str::<serde_json::Value>(s).unwrap());
        assert!(
            check_content(
                MessageKind::Location,
                j(r#"{"latitude":39.9,"longitude":116.4}"#)
            )
            .is_ok()
        );
        assert!(
            check_content(MessageKind::Location, j(r#"{"latitude":99,"longitude":1}"#)).is_err()
        );
        assert!(
            check_content(
                MessageKind::Link,
                j(r#"{"url":"https://x.cn","title":"t"}"#)
            )
            .is_ok()
        );
        assert!(check_content(MessageKind::Link, j(r#"{"url":"javascript:alert(1)"}"#)).is_err());
        assert!(
            check_content(
                MessageKind::Card,
                j(r#"{"title":"订单","url":"JavaScript:x"}"#)
            )
            .is_err()
        );
        assert!(check_content(MessageKind::Card, None).is_err());
        assert!(check_content(MessageKind::Text, j("{}")).is_err());
        assert_eq!(check_content(MessageKind::Text, None), Ok(None));
    }
}
