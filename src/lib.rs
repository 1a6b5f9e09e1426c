//! Atrium: an on-premise omnichannel customer-service appliance in one binary.
//!
//! Read in this order: [`config`] → [`app`] (wiring) → [`http`] → [`store`] (writer, migrations,
//! repositories) → [`crypto`] (keys, field encryption, masking) → [`domain`].

pub mod app;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod engine;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod outbox;
pub mod store;

pub use app::{AppOptions, AppState, create_app};
