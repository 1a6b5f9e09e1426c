//! Contacts, conversations and messages as the engine sees them (decrypted).
//!
//! The full model (inboxes, channel identities, assignment, labels…) grows with the conversation
//! engine; these are the fields the store already encrypts.

use serde::{Deserialize, Serialize};

use super::ids::{ContactId, ConversationId, MessageId};

/// PII fields of a contact as supplied by a channel or an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDraft {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// 身份证 or other identity document number.
    pub id_number: Option<String>,
    pub address: Option<String>,
}

impl ContactDraft {
    /// Longest value of each field, in characters.
    pub const LIMITS: [(&'static str, usize); 5] = [
        ("name", 100),
        ("phone", 32),
        ("email", 254),
        ("id_number", 64),
        ("address", 500),
    ];

    /// Every problem, each naming its field (a value over its limit).
    pub fn validate(&self) -> Vec<String> {
        let values = [
            &self.name,
            &self.phone,
            &self.email,
            &self.id_number,
            &self.address,
        ];
        Self::LIMITS
            .iter()
            .zip(values)
            .filter(|((_, max), v)| v.as_ref().is_some_and(|v| v.chars().count() > *max))
            .map(|((field, max), _)| format!("profile.{field} is longer than {max} characters"))
            .collect()
    }
}

/// A stored contact, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub fields: ContactDraft,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Snoozed => "snoozed",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Pending, Self::Snoozed, Self::Resolved]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub contact_id: ContactId,
    /// The inbox it arrived in and the team it is routed to: what data scopes match on.
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    pub status: ConversationStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
    /// Private note between agents; never sent to the customer.
    Note,
    System,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
            Self::Note => "note",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Incoming, Self::Outgoing, Self::Note, Self::System]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A stored message, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub body: String,
    pub created_at: i64,
}

/// A name as stored and shown: without control characters, zero-width characters or
/// bidirectional overrides (which could make a name read as something else), trimmed.
pub fn clean_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control() && !super::attachment::is_invisible(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod clean_name_tests {
    use super::clean_name;

    #[test]
    fn names_lose_invisible_and_direction_tricks() {
        assert_eq!(clean_name(" 王\u{200B}小明\u{202E} "), "王小明");
        assert_eq!(clean_name("Ann\u{2067}a\u{2069}\n"), "Anna");
        assert_eq!(clean_name("李雷"), "李雷");
    }
}
