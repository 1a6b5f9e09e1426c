//! Domain types and rules: no SQL, no HTTP, no I/O.

pub mod access;
pub mod attachment;
pub mod contact;
pub mod ids;
pub mod message;

pub use contact::{Contact, ContactDraft, Conversation, ConversationStatus, Direction, Message};
pub use ids::{ContactId, ConversationId, MessageId};
pub use message::{
    Delivery, IdentityClaim, IdentityKind, InboundMessage, MessageContext, MessageKind, Priority,
};
