//! `RawConfig`: the configuration as written, every field optional and unknown fields refused;
//! [`RawConfig::resolve`] turns it into a validated [`Config`] or the list of every problem.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{
    AttachmentsConfig, AuthConfig, Config, HttpConfig, KeysConfig, LogConfig, LogFormat,
    MetricsConfig, OutboundSection, OutboxSection, PasswordPolicy, Problem, RoutingSection, Secret,
    StoreConfig, Synchronous, TlsConfig, WidgetSection,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: Option<String>,
    pub http: Option<RawHttp>,
    pub tls: Option<RawTls>,
    pub store: Option<RawStore>,
    pub keys: Option<RawKeys>,
    pub auth: Option<RawAuth>,
    pub attachments: Option<RawAttachments>,
    pub outbox: Option<RawOutbox>,
    pub outbound: Option<RawOutbound>,
    pub widget: Option<RawWidget>,
    pub routing: Option<RawRouting>,
    pub log: Option<RawLog>,
    pub metrics: Option<RawMetrics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub behind_tls_proxy: Option<bool>,
    pub public_url: Option<String>,
    pub max_body_bytes: Option<u64>,
    pub workers: Option<u64>,
    pub shutdown_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub synchronous: Option<String>,
    pub max_batch: Option<u64>,
    pub read_pool_size: Option<u64>,
    pub busy_timeout: Option<String>,
    pub backup_before_migrate: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    pub master_key_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub password_policy: Option<String>,
    pub idle_timeout: Option<String>,
    pub session_lifetime: Option<String>,
    pub max_failures: Option<u64>,
    pub lockout: Option<String>,
    pub address_max_failures: Option<u64>,
    pub address_window: Option<String>,
    pub hash_concurrency: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttachments {
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbox {
    pub concurrency: Option<u64>,
    pub retry_first: Option<String>,
    pub retry_max: Option<String>,
    pub give_up_after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbound {
    pub allow: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWidget {
    pub visitor_messages_per_minute: Option<u64>,
    pub address_calls_per_minute: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    pub offline_grace: Option<String>,
    pub tick: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub token: Option<Secret<String>>,
}

fn problem(key: &str, message: impl Into<String>) -> Problem {
    Problem {
        key: key.to_string(),
        message: message.into(),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

fn duration(key: &str, s: Option<String>, default: Duration, p: &mut Vec<Problem>) -> Duration {
    match s {
        None => default,
        Some(s) => humantime::parse_duration(&s).unwrap_or_else(|e| {
            p.push(problem(key, format!("{s:?} is not a duration: {e}")));
            default
        }),
    }
}

impl RawConfig {
    /// Validate and resolve; every problem is reported, not only the first.
    pub fn resolve(self) -> Result<Config, Vec<Problem>> {
        let mut p = Vec::new();
        let data_dir = PathBuf::from(non_empty(self.data_dir).unwrap_or_else(|| {
            p.push(problem("data_dir", "must not be empty"));
            String::new()
        }));

        let http = self.http.unwrap_or_default();
        let listen_text = http.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().unwrap_or_else(|_| {
            p.push(problem(
                "http.listen",
                format!("{listen_text:?} is not an address:port such as 127.0.0.1:8080"),
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let behind_tls_proxy = http.behind_tls_proxy.unwrap_or(false);
        let public_url = non_empty(http.public_url);
        if let Some(u) = &public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            p.push(problem(
                "http.public_url",
                format!("{u:?} must start with https://"),
            ));
        }
        let max_body_bytes = http.max_body_bytes.unwrap_or(1_048_576);
        if !(1024..=1 << 30).contains(&max_body_bytes) {
            p.push(problem(
                "http.max_body_bytes",
                "must be between 1024 and 1073741824",
            ));
        }
        let workers = http.workers.unwrap_or(0);
        if workers > 256 {
            p.push(problem(
                "http.workers",
                "must be at most 256 (0 = one per core)",
            ));
        }
        let shutdown_timeout = duration(
            "http.shutdown_timeout",
            http.shutdown_timeout,
            Duration::from_secs(30),
            &mut p,
        );

        let tls_raw = self.tls.unwrap_or_default();
        let tls = match (non_empty(tls_raw.cert), non_empty(tls_raw.key)) {
            (Some(cert), Some(key)) => {
                for (k, path) in [("tls.cert", &cert), ("tls.key", &key)] {
                    if !std::path::Path::new(path).is_file() {
                        p.push(problem(k, format!("file {path:?} does not exist")));
                    }
                }
                Some(TlsConfig {
                    cert: cert.into(),
                    key: key.into(),
                })
            }
            (None, None) => None,
            (Some(_), None) => {
                p.push(problem(
                    "tls.key",
                    "tls.cert is set, so tls.key must be set too",
                ));
                None
            }
            (None, Some(_)) => {
                p.push(problem(
                    "tls.cert",
                    "tls.key is set, so tls.cert must be set too",
                ));
                None
            }
        };
        if tls.is_none() && !behind_tls_proxy && !listen.ip().is_loopback() {
            p.push(problem(
                "http.listen",
                format!(
                    "{listen} is not a loopback address: plain HTTP is only allowed on loopback. \
                     Set tls.cert and tls.key (ATRIUM_TLS__CERT, ATRIUM_TLS__KEY) to serve HTTPS, \
                     or set http.behind_tls_proxy = true (ATRIUM_HTTP__BEHIND_TLS_PROXY) when a \
                     TLS-terminating reverse proxy is in front"
                ),
            ));
        }

        let store = self.store.unwrap_or_default();
        let synchronous = match store.synchronous.as_deref().unwrap_or("full") {
            "full" => Synchronous::Full,
            "normal" => Synchronous::Normal,
            other => {
                p.push(problem(
                    "store.synchronous",
                    format!("{other:?} is not one of \"full\", \"normal\""),
                ));
                Synchronous::Full
            }
        };
        let max_batch = store.max_batch.unwrap_or(512);
        if !(1..=10_000).contains(&max_batch) {
            p.push(problem("store.max_batch", "must be between 1 and 10000"));
        }
        let read_pool_size = store.read_pool_size.unwrap_or(4);
        if !(1..=64).contains(&read_pool_size) {
            p.push(problem("store.read_pool_size", "must be between 1 and 64"));
        }
        let busy_timeout = duration(
            "store.busy_timeout",
            store.busy_timeout,
            Duration::from_secs(5),
            &mut p,
        );

        let keys = self.keys.unwrap_or_default();
        let master_key_file = non_empty(keys.master_key_file)
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("master.key"));

        let auth = resolve_auth(self.auth.unwrap_or_default(), &mut p);
        let attachments = resolve_attachments(self.attachments.unwrap_or_default(), &mut p);
        let outbox = resolve_outbox(self.outbox.unwrap_or_default(), &mut p);
        let widget = resolve_widget(self.widget.unwrap_or_default(), &mut p);
        let outbound = resolve_outbound(self.outbound.unwrap_or_default(), &mut p);
        let routing = resolve_routing(self.routing.unwrap_or_default(), &mut p);

        let log = self.log.unwrap_or_default();
        let level = log.level.unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            p.push(problem(
                "log.level",
                format!("{level:?} is not a level such as \"info\" or \"atrium=debug,info\""),
            ));
        }
        let format = match log.format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                p.push(problem(
                    "log.format",
                    format!("{other:?} is not one of \"text\", \"json\""),
                ));
                LogFormat::Text
            }
        };

        let token = self
            .metrics
            .unwrap_or_default()
            .token
            .filter(|t| !t.expose().is_empty());
        if let Some(t) = &token
            && t.expose().len() < 16
        {
            p.push(problem("metrics.token", "must be at least 16 characters"));
        }

        if !p.is_empty() {
            return Err(p);
        }
        Ok(Config {
            data_dir,
            http: HttpConfig {
                listen,
                behind_tls_proxy,
                public_url,
                max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(1_048_576),
                workers: usize::try_from(workers).unwrap_or(0),
                shutdown_timeout,
            },
            tls,
            store: StoreConfig {
                synchronous,
                max_batch: usize::try_from(max_batch).unwrap_or(512),
                read_pool_size: u32::try_from(read_pool_size).unwrap_or(4),
                busy_timeout,
                backup_before_migrate: store.backup_before_migrate.unwrap_or(true),
            },
            keys: KeysConfig { master_key_file },
            auth,
            attachments,
            outbox,
            widget,
            outbound,
            routing,
            log: LogConfig { level, format },
            metrics: MetricsConfig { token },
        })
    }
}

fn resolve_auth(a: RawAuth, p: &mut Vec<Problem>) -> AuthConfig {
    let password_policy = match a.password_policy.as_deref().unwrap_or("mlps3") {
        "mlps3" => PasswordPolicy::Mlps3,
        "nist" => PasswordPolicy::Nist,
        other => {
            p.push(problem(
                "auth.password_policy",
                format!("{other:?} is not one of \"mlps3\", \"nist\""),
            ));
            PasswordPolicy::Mlps3
        }
    };
    let idle_timeout = duration(
        "auth.idle_timeout",
        a.idle_timeout,
        Duration::from_secs(15 * 60),
        p,
    );
    if idle_timeout < Duration::from_secs(1) || idle_timeout > Duration::from_secs(24 * 3600) {
        p.push(problem("auth.idle_timeout", "must be between 1s and 24h"));
    }
    let session_lifetime = duration(
        "auth.session_lifetime",
        a.session_lifetime,
        Duration::from_secs(12 * 3600),
        p,
    );
    if session_lifetime < idle_timeout || session_lifetime > Duration::from_secs(30 * 24 * 3600) {
        p.push(problem(
            "auth.session_lifetime",
            "must be at least auth.idle_timeout and at most 30 days",
        ));
    }
    let max_failures = a.max_failures.unwrap_or(5);
    if !(1..=100).contains(&max_failures) {
        p.push(problem("auth.max_failures", "must be between 1 and 100"));
    }
    let lockout = duration("auth.lockout", a.lockout, Duration::from_secs(30 * 60), p);
    if lockout < Duration::from_secs(1) {
        p.push(problem("auth.lockout", "must be at least 1s"));
    }
    let address_max_failures = a.address_max_failures.unwrap_or(20);
    if !(1..=100_000).contains(&address_max_failures) {
        p.push(problem(
            "auth.address_max_failures",
            "must be between 1 and 100000",
        ));
    }
    let address_window = duration(
        "auth.address_window",
        a.address_window,
        Duration::from_secs(15 * 60),
        p,
    );
    let hash_concurrency = a.hash_concurrency.unwrap_or(0);
    if hash_concurrency > 64 {
        p.push(problem(
            "auth.hash_concurrency",
            "must be at most 64 (0 = one per core)",
        ));
    }
    AuthConfig {
        password_policy,
        idle_timeout,
        session_lifetime,
        max_failures: u32::try_from(max_failures).unwrap_or(5),
        lockout,
        address_max_failures: u32::try_from(address_max_failures).unwrap_or(20),
        address_window,
        hash_concurrency: usize::try_from(hash_concurrency).unwrap_or(0),
    }
}

/// Default largest attachment: 20 MiB.
const DEFAULT_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

fn resolve_attachments(a: RawAttachments, p: &mut Vec<Problem>) -> AttachmentsConfig {
    let max_bytes = a.max_bytes.unwrap_or(DEFAULT_ATTACHMENT_BYTES);
    if !(1024..=512 * 1024 * 1024).contains(&max_bytes) {
        p.push(problem(
            "attachments.max_bytes",
            "must be between 1024 (1 KiB) and 536870912 (512 MiB)",
        ));
    }
    AttachmentsConfig { max_bytes }
}

fn resolve_outbox(o: RawOutbox, p: &mut Vec<Problem>) -> OutboxSection {
    let concurrency = o.concurrency.unwrap_or(16);
    if !(1..=1024).contains(&concurrency) {
        p.push(problem("outbox.concurrency", "must be between 1 and 1024"));
    }
    let retry_first = duration(
        "outbox.retry_first",
        o.retry_first,
        Duration::from_secs(2),
        p,
    );
    let retry_max = duration("outbox.retry_max", o.retry_max, Duration::from_secs(600), p);
    let give_up_after = duration(
        "outbox.give_up_after",
        o.give_up_after,
        Duration::from_secs(24 * 3600),
        p,
    );
    if retry_first < Duration::from_millis(10) || retry_first > retry_max {
        p.push(problem(
            "outbox.retry_first",
            "must be at least 10ms and at most outbox.retry_max",
        ));
    }
    if retry_max > Duration::from_secs(24 * 3600) {
        p.push(problem("outbox.retry_max", "must be at most 24h"));
    }
    if give_up_after < Duration::from_secs(1) || give_up_after > Duration::from_secs(30 * 86_400) {
        p.push(problem(
            "outbox.give_up_after",
            "must be between 1s and 30 days",
        ));
    }
    OutboxSection {
        concurrency: usize::try_from(concurrency).unwrap_or(16),
        retry_first,
        retry_max,
        give_up_after,
    }
}

fn resolve_widget(w: RawWidget, p: &mut Vec<Problem>) -> WidgetSection {
    let mut limit = |key: &'static str, v: Option<u64>, default: u32| {
        let v = v.unwrap_or(u64::from(default));
        if !(1..=1_000_000).contains(&v) {
            p.push(problem(key, "must be between 1 and 1000000"));
            return default;
        }
        u32::try_from(v).unwrap_or(default)
    };
    WidgetSection {
        visitor_messages_per_minute: limit(
            "widget.visitor_messages_per_minute",
            w.visitor_messages_per_minute,
            30,
        ),
        address_calls_per_minute: limit(
            "widget.address_calls_per_minute",
            w.address_calls_per_minute,
            600,
        ),
    }
}

fn resolve_outbound(o: RawOutbound, p: &mut Vec<Problem>) -> OutboundSection {
    match crate::channels::net::OutboundPolicy::parse(o.allow.as_deref().unwrap_or("")) {
        Ok(policy) => OutboundSection {
            allow: policy.allowed().iter().map(ToString::to_string).collect(),
        },
        Err(e) => {
            p.push(problem("outbound.allow", e));
            OutboundSection::default()
        }
    }
}

fn resolve_routing(r: RawRouting, p: &mut Vec<Problem>) -> RoutingSection {
    let offline_grace = duration(
        "routing.offline_grace",
        r.offline_grace,
        Duration::from_secs(60),
        p,
    );
    if offline_grace > Duration::from_secs(3600) {
        p.push(problem("routing.offline_grace", "must be at most 1h"));
    }
    let tick = duration("routing.tick", r.tick, Duration::from_secs(1), p);
    if tick < Duration::from_millis(50) || tick > Duration::from_secs(60) {
        p.push(problem("routing.tick", "must be between 50ms and 60s"));
    }
    RoutingSection {
        offline_grace,
        tick,
    }
}
