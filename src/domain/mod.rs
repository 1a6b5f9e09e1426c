//! Domain types and rules: no SQL, no HTTP, no I/O.

pub mod access;
pub mod contact;
pub mod ids;

pub use contact::{Contact, ContactDraft, Conversation, ConversationStatus, Direction, Message};
pub use ids::{ContactId, ConversationId, MessageId};
