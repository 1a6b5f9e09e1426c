//! Configuration: defaults < TOML file < `ATRIUM_SECTION__KEY` env vars < CLI flags.
//!
//! Loading builds one TOML table from those layers, checks every key against [`keys::KEYS`]
//! (unknown keys and wrong types are all collected, not just the first), deserialises it into
//! [`RawConfig`] and resolves that into a validated [`Config`]. [`Config::load`] returns every
//! problem at once, each naming its key and env var, so an operator fixes a file in one pass.

pub mod keys;
mod raw;
mod secret;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use raw::RawConfig;
pub use secret::Secret;

use keys::{KEYS, Kind};

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, or `config` for whole-file problems.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match keys::find(&self.key) {
            Some(k) => write!(f, "{} (env {}): {}", self.key, k.env_var(), self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Every problem found while loading, plus the warnings that did not stop it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct Error {
    pub problems: Vec<Problem>,
}

/// Values given on the command line; they override everything else.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

/// SQLite durability mode for commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync on every commit: an acknowledged write survives power loss.
    Full,
    /// WAL `NORMAL`: survives a process crash, may lose the last commits on power loss.
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    pub behind_tls_proxy: bool,
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    /// 0 means one worker per core.
    pub workers: usize,
    #[serde(with = "humantime_serde_compat")]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreConfig {
    pub synchronous: Synchronous,
    pub max_batch: usize,
    pub read_pool_size: u32,
    #[serde(with = "humantime_serde_compat")]
    pub busy_timeout: Duration,
    pub backup_before_migrate: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeysConfig {
    pub master_key_file: PathBuf,
}

/// Password rules: `mlps3` (等保三级 practice) or `nist` (SP 800-63B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordPolicy {
    /// ≥ 8 characters, 3 of 4 character classes, expires after 90 days, no reuse of the last 5.
    Mlps3,
    /// ≥ 12 characters, not in the bundled list of common passwords, no forced rotation.
    Nist,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthConfig {
    pub password_policy: PasswordPolicy,
    #[serde(with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
    #[serde(with = "humantime_serde_compat")]
    pub session_lifetime: Duration,
    pub max_failures: u32,
    #[serde(with = "humantime_serde_compat")]
    pub lockout: Duration,
    pub address_max_failures: u32,
    #[serde(with = "humantime_serde_compat")]
    pub address_window: Duration,
    /// Password hashes computed at once; 0 means one per core.
    pub hash_concurrency: usize,
}

impl AuthConfig {
    pub fn idle_timeout_ms(&self) -> i64 {
        millis(self.idle_timeout)
    }

    pub fn session_lifetime_ms(&self) -> i64 {
        millis(self.session_lifetime)
    }

    pub fn lockout_ms(&self) -> i64 {
        millis(self.lockout)
    }

    pub fn address_window_ms(&self) -> i64 {
        millis(self.address_window)
    }
}

/// A duration in whole milliseconds, saturating (clock values are `i64` ms).
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentsConfig {
    /// Largest file accepted, in bytes. Upload requests may carry this plus 64 KiB of
    /// multipart framing, whatever `http.max_body_bytes` says.
    pub max_bytes: u64,
}

impl AttachmentsConfig {
    /// Room for multipart boundaries, part headers and small fields beside the file.
    pub const FRAMING_BYTES: u64 = 64 * 1024;

    /// The largest upload request body: `max_bytes` plus [`Self::FRAMING_BYTES`].
    pub fn request_limit(&self) -> u64 {
        self.max_bytes.saturating_add(Self::FRAMING_BYTES)
    }
}

/// Delivery of agents' replies through the channels (the persistent outbox).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxSection {
    /// Sends in flight at once.
    pub concurrency: usize,
    /// Delay before the first retry; doubles per attempt (±20 % jitter).
    pub retry_first: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// A reply still undelivered after this long is marked failed (the agent can resend it).
    pub give_up_after: Duration,
}

/// Outbound HTTP (webhooks, platform APIs): address ranges allowed besides the public internet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutboundSection {
    /// CIDR ranges (normalised) a sysadmin allowed: loopback, link-local and private addresses
    /// are refused unless listed here.
    pub allow: Vec<String>,
}

/// Limits of the website widget's visitor API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WidgetSection {
    /// Messages one visitor may send per minute.
    pub visitor_messages_per_minute: u32,
    /// Widget calls (sessions, messages, waiting requests) per source address per minute.
    pub address_calls_per_minute: u32,
}

impl Default for WidgetSection {
    fn default() -> Self {
        WidgetSection {
            visitor_messages_per_minute: 30,
            address_calls_per_minute: 600,
        }
    }
}

/// The dispatcher that assigns conversations to agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingSection {
    /// How long an agent whose last workspace socket closed still counts as present (a page
    /// reload must not send their conversations back to the queue).
    pub offline_grace: Duration,
    /// How often timers run (SLA alerts, overflow, snoozes, re-routing).
    pub tick: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsConfig {
    /// Bearer token that lets non-loopback clients scrape `/metrics`. None: loopback only.
    pub token: Option<Secret<String>>,
}

/// The validated configuration every part of Atrium receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub tls: Option<TlsConfig>,
    pub store: StoreConfig,
    pub keys: KeysConfig,
    pub auth: AuthConfig,
    pub attachments: AttachmentsConfig,
    pub outbox: OutboxSection,
    pub outbound: OutboundSection,
    pub widget: WidgetSection,
    pub routing: RoutingSection,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
}

/// What loading produced besides the config: warnings to log once logging is up.
#[derive(Debug, Default)]
pub struct Loaded {
    pub warnings: Vec<String>,
    pub file: Option<PathBuf>,
}

impl Config {
    /// Load from an optional file, the process environment and CLI overrides.
    pub fn load(file: Option<&Path>, cli: &CliOverrides) -> Result<(Config, Loaded), Error> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env, cli)
    }

    /// Same as [`Config::load`] with an explicit environment (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: &[(String, String)],
        cli: &CliOverrides,
    ) -> Result<(Config, Loaded), Error> {
        let mut problems = Vec::new();
        let mut loaded = Loaded {
            file: file.map(Path::to_path_buf),
            ..Loaded::default()
        };
        let mut table = defaults_table();

        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => match text.parse::<toml::Table>() {
                    Ok(t) => check_and_merge(&mut table, &t, "", &mut problems),
                    Err(e) => problems.push(Problem {
                        key: "config".into(),
                        message: format!("{} is not valid TOML: {e}", path.display()),
                    }),
                },
                Err(e) => problems.push(Problem {
                    key: "config".into(),
                    message: format!("cannot read {}: {e}", path.display()),
                }),
            }
        }

        for (name, value) in env {
            if !name.starts_with("ATRIUM_") || keys::OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            match keys::find_env(name) {
                Some(k) => match parse_env_value(k.kind, value) {
                    Ok(v) => set_path(&mut table, k.path, v),
                    Err(msg) => problems.push(Problem {
                        key: k.path.into(),
                        message: msg,
                    }),
                },
                None => loaded.warnings.push(format!(
                    "unknown environment variable {name} ignored (known: {})",
                    KEYS.iter()
                        .map(|k| k.env_var())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }

        if let Some(d) = &cli.data_dir {
            set_path(
                &mut table,
                "data_dir",
                toml::Value::String(d.display().to_string()),
            );
        }
        if let Some(l) = &cli.listen {
            set_path(&mut table, "http.listen", toml::Value::String(l.clone()));
        }

        // Keys with problems were not merged, so resolving still finds the semantic problems of
        // everything else: the operator sees every mistake in one run.
        let raw: RawConfig = match toml::Value::Table(table).try_into() {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem {
                    key: "config".into(),
                    message: e.to_string(),
                });
                return Err(Error { problems });
            }
        };
        match raw.resolve() {
            Ok(c) if problems.is_empty() => Ok((c, loaded)),
            Ok(_) => Err(Error { problems }),
            Err(more) => {
                problems.extend(more);
                Err(Error { problems })
            }
        }
    }

    /// The resolved configuration as TOML, secrets shown as `***`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// Where the master key lives (default: `<data_dir>/master.key`).
    pub fn master_key_path(&self) -> PathBuf {
        self.keys.master_key_file.clone()
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("atrium.db")
    }
}

/// A table holding every key at its default value.
pub fn defaults_table() -> toml::Table {
    let mut t = toml::Table::new();
    for k in KEYS {
        if let Ok(v) = parse_toml_value(k.default) {
            set_path(&mut t, k.path, v);
        }
    }
    t
}

fn parse_toml_value(s: &str) -> Result<toml::Value, toml::de::Error> {
    let t: toml::Table = format!("v = {s}").parse()?;
    Ok(t.get("v")
        .cloned()
        .unwrap_or(toml::Value::String(String::new())))
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_string(), value);
        }
        Some((section, rest)) => {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// Check every key of a file table against the key list, then merge the good ones.
fn check_and_merge(
    into: &mut toml::Table,
    from: &toml::Table,
    prefix: &str,
    problems: &mut Vec<Problem>,
) {
    for (name, value) in from {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match (keys::find(&path), value) {
            (Some(k), v) => match check_kind(k.kind, v) {
                Ok(()) => set_path(into, &path, v.clone()),
                Err(msg) => problems.push(Problem {
                    key: path,
                    message: msg,
                }),
            },
            (None, toml::Value::Table(inner))
                if prefix.is_empty() && KEYS.iter().any(|k| k.section() == Some(name)) =>
            {
                check_and_merge(into, inner, &path, problems);
            }
            (None, _) => {
                let hint = KEYS
                    .iter()
                    .filter(|k| k.name() == name.as_str() || k.section() == Some(name.as_str()))
                    .map(|k| k.path)
                    .next()
                    .map(|p| format!(" (did you mean {p}?)"))
                    .unwrap_or_default();
                problems.push(Problem {
                    key: path,
                    message: format!("unknown key{hint}"),
                });
            }
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "a string",
        Kind::Bool => "true or false",
        Kind::Int => "a non-negative integer",
        Kind::Duration => "a duration such as \"30s\", \"15m\" or \"1h\"",
    }
}

fn check_kind(kind: Kind, v: &toml::Value) -> Result<(), String> {
    let ok = match (kind, v) {
        (Kind::Str, toml::Value::String(_)) | (Kind::Bool, toml::Value::Boolean(_)) => true,
        (Kind::Int, toml::Value::Integer(i)) => *i >= 0,
        (Kind::Duration, toml::Value::String(s)) => humantime::parse_duration(s).is_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("must be {}, got {v}", kind_name(kind)))
    }
}

fn parse_env_value(kind: Kind, s: &str) -> Result<toml::Value, String> {
    let v = match kind {
        Kind::Str | Kind::Duration => toml::Value::String(s.to_string()),
        Kind::Bool => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(format!("must be {}, got {s:?}", kind_name(kind))),
        },
        Kind::Int => match s.trim().parse::<i64>() {
            Ok(i) => toml::Value::Integer(i),
            Err(_) => return Err(format!("must be {}, got {s:?}", kind_name(kind))),
        },
    };
    check_kind(kind, &v).map(|()| v)
}

/// Serialise a `Duration` as the humantime string the config file uses.
mod humantime_serde_compat {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests;
