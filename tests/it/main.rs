//! Integration tests: one binary, a module per area. They run the real app (in-process through
//! `create_app`, or the real `atrium` executable) on loopback with temporary data directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

mod access;
mod api_channel;
mod audit;
mod backup;
mod browser;
mod cli;
mod desk;
mod durability;
mod encryption;
mod engine;
mod http;
mod identity;
mod outbound;
mod outbox;
mod realtime;
mod tls;
mod upgrade;
mod webhooks;
mod wechat;
pub mod widget;
