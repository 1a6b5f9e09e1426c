//! The table of every configuration key: its dotted path, its type and its default.
//!
//! One table drives env-var mapping (`ATRIUM_SECTION__KEY`), the unknown-key check, type checks that
//! report every mistake at once, and the test that keeps `config/atrium.toml` in step with the defaults.

/// The type a key's value must have, in the file and in its env var.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Bool,
    Int,
    /// A human duration such as `30s`, `15m`, `1h`.
    Duration,
}

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Dotted path: `data_dir`, `http.listen`.
    pub path: &'static str,
    pub kind: Kind,
    /// The default, written as it appears in TOML.
    pub default: &'static str,
    /// Secrets are redacted when the resolved configuration is printed.
    pub secret: bool,
}

const fn key(path: &'static str, kind: Kind, default: &'static str) -> Key {
    Key {
        path,
        kind,
        default,
        secret: false,
    }
}

/// Every key Atrium reads. Keep `config/atrium.toml` in the same order (a test checks it).
pub const KEYS: &[Key] = &[
    key("data_dir", Kind::Str, "\"./atrium-data\""),
    key("http.listen", Kind::Str, "\"127.0.0.1:8080\""),
    key("http.behind_tls_proxy", Kind::Bool, "false"),
    key("http.public_url", Kind::Str, "\"\""),
    key("http.max_body_bytes", Kind::Int, "1048576"),
    key("http.workers", Kind::Int, "0"),
    key("http.shutdown_timeout", Kind::Duration, "\"30s\""),
    key("tls.cert", Kind::Str, "\"\""),
    key("tls.key", Kind::Str, "\"\""),
    key("store.synchronous", Kind::Str, "\"full\""),
    key("store.max_batch", Kind::Int, "512"),
    key("store.read_pool_size", Kind::Int, "4"),
    key("store.busy_timeout", Kind::Duration, "\"5s\""),
    key("store.backup_before_migrate", Kind::Bool, "true"),
    key("keys.master_key_file", Kind::Str, "\"\""),
    key("auth.password_policy", Kind::Str, "\"mlps3\""),
    key("auth.idle_timeout", Kind::Duration, "\"15m\""),
    key("auth.session_lifetime", Kind::Duration, "\"12h\""),
    key("auth.max_failures", Kind::Int, "5"),
    key("auth.lockout", Kind::Duration, "\"30m\""),
    key("auth.address_max_failures", Kind::Int, "20"),
    key("auth.address_window", Kind::Duration, "\"15m\""),
    key("auth.hash_concurrency", Kind::Int, "0"),
    key("attachments.max_bytes", Kind::Int, "20971520"),
    key("outbox.concurrency", Kind::Int, "16"),
    key("outbox.retry_first", Kind::Duration, "\"2s\""),
    key("outbox.retry_max", Kind::Duration, "\"10m\""),
    key("outbox.give_up_after", Kind::Duration, "\"24h\""),
    key("outbound.allow", Kind::Str, "\"\""),
    key("widget.visitor_messages_per_minute", Kind::Int, "30"),
    key("widget.address_calls_per_minute", Kind::Int, "600"),
    key("routing.offline_grace", Kind::Duration, "\"60s\""),
    key("routing.tick", Kind::Duration, "\"1s\""),
    key("log.level", Kind::Str, "\"info\""),
    key("log.format", Kind::Str, "\"text\""),
    Key {
        path: "metrics.token",
        kind: Kind::Str,
        default: "\"\"",
        secret: true,
    },
];

/// Env vars that are not configuration keys but are still ours (no "unknown" warning).
pub const OTHER_ENV: &[&str] = &[
    "ATRIUM_CONFIG",
    "ATRIUM_EXPORT_PASSPHRASE",
    "ATRIUM_KEEP_WEB_BUILD",
];

impl Key {
    /// `http.listen` → `ATRIUM_HTTP__LISTEN`; `data_dir` → `ATRIUM_DATA_DIR`.
    pub fn env_var(&self) -> String {
        format!(
            "ATRIUM_{}",
            self.path.replace('.', "__").to_ascii_uppercase()
        )
    }

    pub fn section(&self) -> Option<&'static str> {
        self.path.split_once('.').map(|(s, _)| s)
    }

    pub fn name(&self) -> &'static str {
        self.path.rsplit_once('.').map_or(self.path, |(_, n)| n)
    }
}

/// Find a key by its dotted path.
pub fn find(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// Find a key by its env var name.
pub fn find_env(var: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.env_var() == var)
}
