//! Accounts, roles, teams, inboxes, sessions, sign-in throttling and setup tokens.
//!
//! Rows here take SQLite-assigned ids (max + 1 under the write lock), because `atrium admin
//! create` adds users from a second process while the server runs. TOTP secrets are field
//! ciphertexts bound to their row; session and setup tokens and recovery codes are stored only
//! as digests.

mod org;
mod roles;
mod sessions;
mod totp;
mod users;

pub use org::*;
pub use roles::*;
pub use sessions::*;
pub use totp::*;
pub use users::*;
