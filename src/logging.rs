//! Logging: `tracing` to stdout (journald under systemd), as text or JSON.
//!
//! Policy: no message bodies, decrypted fields or secrets at info or above. Fields use fixed
//! snake_case names (`request_id`, `inbox_id`, `conversation_id`, `channel`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Install the global subscriber. A second call (tests) keeps the first one.
pub fn init(log: &LogConfig) {
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: journald and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
