//! What the API shows of domain objects. PII goes out masked unless the caller may reveal it:
//! the `Reveal` value is decided by the permission check (and the reveal is audited there).

use serde::Serialize;
use utoipa::ToSchema;

use crate::crypto::mask;
use crate::domain::{Contact, Direction, Message};

/// Whether PII is shown in full. Only a caller holding `pii:reveal` gets `Full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    Masked,
    Full,
}

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: i64,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
    pub address: Option<String>,
    /// True when the PII fields above are masked.
    pub masked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ContactView {
    pub fn new(c: &Contact, reveal: Reveal) -> Self {
        let f = &c.fields;
        let show = |v: &Option<String>, m: fn(&str) -> String| match reveal {
            Reveal::Full => v.clone(),
            Reveal::Masked => v.as_deref().map(m),
        };
        Self {
            id: c.id.0,
            name: show(&f.name, mask::name),
            phone: show(&f.phone, mask::phone),
            email: show(&f.email, mask::email),
            id_number: show(&f.id_number, mask::id_number),
            address: show(&f.address, mask::address),
            masked: reveal == Reveal::Masked,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A message as the API shows it. Bodies are what agents work with, so they are not masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub conversation_id: i64,
    #[schema(value_type = String)]
    pub direction: Direction,
    pub body: String,
    pub created_at: i64,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            direction: m.direction,
            body: m.body.clone(),
            created_at: m.created_at,
        }
    }
}
