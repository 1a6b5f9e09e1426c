//! Wires every service from a [`Config`]: `create_app` is what `atrium serve` and the tests call.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::web;
use anyhow::Context;

use crate::auth::limiter::AddressLimiter;
use crate::auth::password::Hasher;
use crate::channels::Channels;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::crypto::{FileKeyProvider, KeyProvider};
use crate::engine::Engine;
use crate::engine::dispatch::DispatchConfig;
use crate::http::{self, ExtraRoutes, tls::ReloadableCert};
use crate::metrics::{self, Metrics};
use crate::outbox::OutboxConfig;
use crate::store::{self, OpenOptions, Store};

/// Shared by every request handler.
pub struct AppState {
    pub config: Config,
    pub store: Arc<Store>,
    pub metrics: Metrics,
    pub clock: SharedClock,
    /// argon2id hashing, a bounded number at a time.
    pub hasher: Hasher,
    /// Failed sign-ins per source address.
    pub limiter: AddressLimiter,
    /// Widget visitors' messages per visitor (`widget.visitor_messages_per_minute`).
    pub widget_visitor_limiter: AddressLimiter,
    /// Widget calls per source address (`widget.address_calls_per_minute`).
    pub widget_address_limiter: AddressLimiter,
    /// The conversation engine (ingest, replies, routing, realtime bus).
    pub engine: Arc<Engine>,
    pub channels: Arc<Channels>,
    pub dispatch_config: DispatchConfig,
    pub outbox_config: OutboxConfig,
}

/// Choices tests make differently from production.
pub struct AppOptions {
    pub clock: SharedClock,
    /// `None`: the file named by `keys.master_key_file`.
    pub keys: Option<Box<dyn KeyProvider>>,
    pub extra_routes: Option<ExtraRoutes>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            keys: None,
            extra_routes: None,
        }
    }
}

/// The key provider `config` names.
pub fn key_provider(config: &Config) -> FileKeyProvider {
    FileKeyProvider::new(config.master_key_path(), config.db_path())
}

/// An opened, migrated, bound but not yet serving Atrium.
pub struct App {
    state: web::Data<AppState>,
    listener: TcpListener,
    cert: Option<Arc<ReloadableCert>>,
    extra_routes: Option<ExtraRoutes>,
    _lock: File,
}

/// Open the store (blocking: call before the runtime starts or on a blocking thread), check TLS
/// files and bind the port. Every failure names what to fix.
pub fn create_app(config: Config, opts: AppOptions) -> anyhow::Result<App> {
    let lock =
        store::lock_data_dir(&config.data_dir).context("while locking the data directory")?;
    let cert = match &config.tls {
        Some(t) => Some(ReloadableCert::new(t).context("while loading the TLS certificate")?),
        None => None,
    };
    let listener = http::bind(config.http.listen)?;
    let metrics = metrics::build().context("while registering metrics")?;
    let file_keys;
    let keys: &dyn KeyProvider = match &opts.keys {
        Some(k) => k.as_ref(),
        None => {
            file_keys = key_provider(&config);
            &file_keys
        }
    };
    let store = Store::open(OpenOptions {
        config: &config,
        keys,
        clock: opts.clock.clone(),
        metrics: metrics.writer.clone(),
    })
    .context("while opening the database")?;
    tracing::info!(
        db = %store.db_path().display(),
        schema_from = store.migrated_from(),
        schema = store::migrations::LATEST,
        "database ready"
    );
    match http::admin::offer_setup(&store) {
        Ok(Some(token)) => {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let base = config
                .http
                .public_url
                .clone()
                .unwrap_or_else(|| format!("{scheme}://{}", config.http.listen));
            tracing::warn!(
                "no administrator account exists. Within 1 hour, open {}/setup#token={token} to \
                 create the first system administrator (or run `atrium admin create --username \
                 NAME --role sysadmin`). The link works once",
                base.trim_end_matches('/')
            );
        }
        Ok(None) => {}
        Err(e) => return Err(e).context("while checking for an administrator account"),
    }
    let hasher = Hasher::new(config.auth.hash_concurrency).context("while preparing hashing")?;
    let limiter = AddressLimiter::new(
        config.auth.address_max_failures,
        config.auth.address_window_ms(),
    );
    let store = Arc::new(store);
    let dispatch_config = DispatchConfig {
        offline_grace_ms: i64::try_from(config.routing.offline_grace.as_millis()).unwrap_or(60_000),
        tick: config.routing.tick,
    };
    let engine = Arc::new(Engine::new(
        store.clone(),
        opts.clock.clone(),
        dispatch_config.offline_grace_ms,
    ));
    let policy = crate::channels::net::OutboundPolicy::parse(&config.outbound.allow.join(","))
        .map_err(|e| anyhow::anyhow!("outbound.allow: {e}"))?;
    let channels = Arc::new(Channels::new(policy).context("while preparing outbound HTTP")?);
    let outbox_config = OutboxConfig {
        concurrency: config.outbox.concurrency,
        backoff_base: config.outbox.retry_first,
        backoff_max: config.outbox.retry_max,
        max_age: config.outbox.give_up_after,
    };
    let widget_visitor_limiter =
        AddressLimiter::new(config.widget.visitor_messages_per_minute, 60_000);
    let widget_address_limiter =
        AddressLimiter::new(config.widget.address_calls_per_minute, 60_000);
    let state = web::Data::new(AppState {
        dispatch_config,
        outbox_config,
        config,
        store,
        metrics,
        clock: opts.clock,
        hasher,
        limiter,
        widget_visitor_limiter,
        widget_address_limiter,
        engine,
        channels,
    });
    Ok(App {
        state,
        listener,
        cert,
        extra_routes: opts.extra_routes,
        _lock: lock,
    })
}

impl App {
    pub fn state(&self) -> &web::Data<AppState> {
        &self.state
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serve until SIGTERM/SIGINT (or the handle stops it), then drain requests, flush the
    /// writer and close the database. Must run inside an actix/tokio runtime.
    pub async fn run(
        self,
        on_start: impl FnOnce(actix_web::dev::ServerHandle),
    ) -> anyhow::Result<()> {
        if !http::assets::has_index() {
            tracing::warn!("the web front-end is not embedded in this build");
        }
        let App {
            state,
            listener,
            cert,
            extra_routes,
            _lock,
        } = self;
        let addr = listener.local_addr().ok();
        let server = http::start(state.clone(), listener, cert.clone(), extra_routes)?;
        on_start(server.handle());
        let scheme = if cert.is_some() { "https" } else { "http" };
        if let Some(a) = addr {
            tracing::info!(address = %a, "listening on {scheme}://{a}");
        }
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        let reload = cert.map(|c| actix_web::rt::spawn(reload_on_sighup(c)));
        let workers = [
            actix_web::rt::spawn(state.engine.clone().run_dispatcher(state.dispatch_config)),
            actix_web::rt::spawn(state.engine.clone().run_presence()),
            actix_web::rt::spawn(crate::outbox::run(
                state.engine.clone(),
                state.channels.clone(),
                state.outbox_config,
            )),
            actix_web::rt::spawn(crate::outbox::webhooks::run(
                state.engine.clone(),
                state.channels.clone(),
                state.outbox_config,
            )),
            actix_web::rt::spawn(crate::channels::wechat::kf::run(
                state.engine.clone(),
                state.channels.clone(),
            )),
            actix_web::rt::spawn(sweep_unused_uploads(state.clone().into_inner())),
            actix_web::rt::spawn(prune_delivered_events(state.clone().into_inner())),
        ];

        let result = server.await;

        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        if let Some(r) = reload {
            r.abort();
        }
        // Stop routing and delivery before the writer closes; pending outbox rows stay in the
        // database and are sent after the next start.
        for w in workers {
            w.abort();
        }
        let store = state.store.clone();
        store::run_blocking(move || store.close()).await?;
        tracing::info!("stopped: requests drained, writer flushed, database closed");
        result.context("while serving HTTP")
    }
}

async fn reload_on_sighup(cert: Arc<ReloadableCert>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; TLS certificate reload disabled");
        return;
    };
    while hup.recv().await.is_some() {
        let c = cert.clone();
        match store::run_blocking(move || c.reload()).await {
            Ok(Ok(())) => tracing::info!("TLS certificate reloaded"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "TLS reload failed; keeping the previous certificate")
            }
            Err(e) => tracing::error!(error = %e, "TLS reload task failed"),
        }
    }
}

/// Every hour, delete webhook events delivered more than a week ago, channel events older than a
/// week and widget visitors' pages older than 30 days.
async fn prune_delivered_events(state: Arc<AppState>) {
    use crate::store::webhooks;
    let keep = i64::try_from(crate::outbox::webhooks::KEEP_SENT.as_millis()).unwrap_or(i64::MAX);
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = state.clock.now_ms().saturating_sub(keep);
        // Channel events are kept a week for de-duplication (retries come within minutes).
        let week = state.clock.now_ms().saturating_sub(7 * 86_400_000);
        if let Err(e) = state
            .store
            .write(move |c, _| crate::store::inboxes::prune_events(c, week))
            .await
        {
            tracing::warn!(error = %e, "could not prune channel events");
        }
        // Widget visitors' pages are kept 30 days.
        let month = state
            .clock
            .now_ms()
            .saturating_sub(crate::store::visits::KEEP_MS);
        if let Err(e) = state
            .store
            .write(move |c, _| crate::store::visits::prune(c, month))
            .await
        {
            tracing::warn!(error = %e, "could not prune widget visitors' pages");
        }
        const BATCH: u32 = 2000;
        loop {
            match state
                .store
                .write(move |c, _| webhooks::prune_sent(c, before, BATCH))
                .await
            {
                Ok(n) if n < BATCH as usize => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not prune delivered webhook events");
                    break;
                }
            }
        }
    }
}

/// Every hour, delete channel uploads that no message used within a day (and their files).
async fn sweep_unused_uploads(state: Arc<AppState>) {
    use crate::store::attachments;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = state.clock.now_ms() - attachments::UNUSED_UPLOAD_TTL_MS;
        // Small batches, so the writer is never held long.
        const BATCH: u32 = 500;
        loop {
            match state
                .store
                .write(move |c, _| attachments::delete_unused_uploads(c, before, BATCH))
                .await
            {
                Ok(ids) => {
                    let n = ids.len();
                    if n > 0 {
                        tracing::info!(count = n, "deleted channel uploads no message used");
                        let dir = state.config.data_dir.clone();
                        let _ = store::run_blocking(move || attachments::remove_files(&dir, &ids))
                            .await;
                    }
                    if n < BATCH as usize {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not sweep unused uploads; retrying later");
                    break;
                }
            }
        }
    }
}
