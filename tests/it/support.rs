//! Test harness: an in-process app (`TestApp`) and the real binary as a child (`Server`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atrium::app::AppOptions;
use atrium::config::{CliOverrides, Config};
use atrium::http::ExtraRoutes;

pub const BIN: &str = env!("CARGO_BIN_EXE_atrium");

/// A config for `dir` on a free loopback port, with extra env-style overrides.
/// Tests' webhook receivers and fake platforms listen on loopback, which outbound requests may
/// only reach when allowed; a test that wants the default sets `ATRIUM_OUTBOUND__ALLOW` itself.
pub const ALLOW_LOOPBACK: (&str, &str) = ("ATRIUM_OUTBOUND__ALLOW", "127.0.0.0/8");

pub fn config(dir: &Path, env: &[(&str, &str)]) -> Config {
    let env: Vec<(String, String)> = std::iter::once(&ALLOW_LOOPBACK)
        .filter(|(k, _)| !env.iter().any(|(e, _)| e == k))
        .chain(env)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cli = CliOverrides {
        data_dir: Some(dir.join("data")),
        listen: Some("127.0.0.1:0".into()),
    };
    Config::load_from(None, &env, &cli).unwrap().0
}

/// The app running in this process, on its own actix system thread.
pub struct TestApp {
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The running app's shared state (store, config, clock) for seeding and checking.
    pub state: actix_web::web::Data<atrium::AppState>,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_routes(None)
    }

    pub fn with_routes(extra: Option<ExtraRoutes>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start(dir, extra)
    }

    /// Start (again) on an existing directory.
    pub fn start(dir: tempfile::TempDir, extra: Option<ExtraRoutes>) -> Self {
        Self::start_with(dir, extra, &[], None)
    }

    /// Start with configuration overrides (env-style) and optionally a fake clock.
    pub fn with_env(env: &[(&str, &str)], clock: Option<Arc<atrium::clock::FakeClock>>) -> Self {
        Self::start_with(tempfile::tempdir().unwrap(), None, env, clock)
    }

    pub fn start_with(
        dir: tempfile::TempDir,
        extra: Option<ExtraRoutes>,
        env: &[(&str, &str)],
        clock: Option<Arc<atrium::clock::FakeClock>>,
    ) -> Self {
        // ATRIUM_TEST_LOG=debug shows the server's log (5xx causes) in a failing test's output.
        if let Ok(level) = std::env::var("ATRIUM_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(level)
                .with_test_writer()
                .try_init();
        }
        let cfg = config(dir.path(), env);
        let mut opts = AppOptions {
            extra_routes: extra,
            ..Default::default()
        };
        if let Some(c) = clock {
            opts.clock = c;
        }
        let app = atrium::create_app(cfg, opts).unwrap();
        let state = app.state().clone();
        let addr = app.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(app.run(move |h| {
                let _ = tx.send(h);
            }))
        });
        let handle = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        TestApp {
            base: format!("http://{addr}"),
            dir,
            state,
            handle: Some(handle),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Graceful stop: drain, flush the writer, close the database. Returns the directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.shutdown();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    fn shutdown(&mut self) {
        if let Some(h) = self.handle.take() {
            futures_lite_block_on(h.stop(true));
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Block on a future without a runtime (the server handle only needs a waker).
pub fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The real `atrium` executable as a child process.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<std::sync::Mutex<String>>,
    /// Serving HTTPS (readiness is then checked with curl, which can trust a test CA).
    pub https: bool,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Start `atrium serve` with `args` (data dir, config…) and wait until `/readyz` answers.
    pub fn spawn(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .args(args)
            .current_dir(cwd)
            .env("ATRIUM_LOG__FORMAT", "text")
            .env(ALLOW_LOOPBACK.0, ALLOW_LOOPBACK.1);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start atrium");
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on http").nth(1) {
                        let https = rest.starts_with('s');
                        let addr = rest.trim_start_matches('s').trim_start_matches("://");
                        let addr = addr.split_whitespace().next().unwrap_or_default();
                        let _ = tx.send(addr.parse::<SocketAddr>().ok().map(|a| (a, https)));
                    }
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                }
            }));
        }
        let (addr, https) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(a)) => a,
            _ => {
                let _ = child.kill();
                panic!("atrium did not start:\n{}", log.lock().unwrap());
            }
        };
        let s = Server {
            child,
            addr,
            log,
            https,
            readers,
        };
        s.wait_ready();
        s
    }

    /// `atrium serve` on a free loopback port with its data in `dir/d`.
    pub fn spawn_in(dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn_on(dir, &dir.join("d"), env)
    }

    /// `atrium serve` in `cwd` on a free loopback port with its data in `data` (e.g. the
    /// directory a stopped [`TestApp`] left).
    pub fn spawn_on(cwd: &Path, data: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(
            cwd,
            &[
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data.to_str().unwrap(),
            ],
            env,
        )
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    fn ready_once(&self, c: &reqwest::blocking::Client) -> bool {
        if self.https {
            Command::new("curl")
                .args(["-skf", "--max-time", "5", &self.url("/readyz")])
                .output()
                .is_ok_and(|o| o.status.success())
        } else {
            c.get(self.url("/readyz"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        }
    }

    pub fn wait_ready(&self) {
        let c = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.ready_once(&c) {
                return;
            }
            std::thread::yield_now();
        }
        panic!("not ready:\n{}", self.log.lock().unwrap());
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        // The readers end at EOF, after the last line the process wrote.
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }
}

impl Server {
    /// SIGKILL (a crash: nothing is flushed or drained) and wait; returns the log.
    pub fn kill9(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the binary to completion: (exit code, stdout, stderr).
pub fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    run_env(cwd, args, &[])
}

pub fn run_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Probe routes mounted only by tests: they drive the real store through the real HTTP stack
/// and views until the engine's own endpoints exist.
pub mod probe {
    use actix_web::{HttpResponse, web};
    use atrium::app::AppState;
    use atrium::domain::{ContactDraft, ContactId, ConversationId, Direction, MessageId};
    use atrium::http::error::ApiError;
    use atrium::http::views::{ContactView, MessageView, Reveal};
    use atrium::store::contacts;
    use serde::Deserialize;

    pub fn routes(cfg: &mut web::ServiceConfig) {
        cfg.route("/test/contacts", web::post().to(create_contact))
            .route("/test/contacts/{id}", web::get().to(get_contact))
            .route(
                "/test/conversations/{id}/messages",
                web::post().to(add_message),
            )
            .route(
                "/test/conversations/{id}/messages",
                web::get().to(list_messages),
            );
    }

    async fn create_contact(
        state: web::Data<AppState>,
        draft: web::Json<ContactDraft>,
    ) -> Result<HttpResponse, ApiError> {
        let store = state.store.clone();
        let (contact, conv, now) = (
            ContactId(store.next_id()),
            ConversationId(store.next_id()),
            store.now_ms(),
        );
        let draft = draft.into_inner();
        store
            .write(move |c, ring| {
                contacts::insert_contact(c, ring, contact, &draft, now)?;
                contacts::insert_conversation(c, conv, contact, now)
            })
            .await?;
        Ok(HttpResponse::Ok()
            .json(serde_json::json!({"contact_id": contact.0, "conversation_id": conv.0})))
    }

    #[derive(Deserialize)]
    struct RevealQuery {
        reveal: Option<bool>,
    }

    async fn get_contact(
        state: web::Data<AppState>,
        id: web::Path<i64>,
        q: web::Query<RevealQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let id = ContactId(id.into_inner());
        let found = state
            .store
            .read(move |c, ring| contacts::get_contact(c, ring, id))
            .await?;
        let reveal = if q.reveal == Some(true) {
            Reveal::Full
        } else {
            Reveal::Masked
        };
        match found {
            Some(c) => Ok(HttpResponse::Ok().json(ContactView::new(&c, reveal))),
            None => Err(ApiError::new(atrium::http::error::ErrorCode::NotFound)),
        }
    }

    #[derive(Deserialize)]
    struct NewMessage {
        body: String,
    }

    async fn add_message(
        state: web::Data<AppState>,
        conv: web::Path<i64>,
        m: web::Json<NewMessage>,
    ) -> Result<HttpResponse, ApiError> {
        let store = state.store.clone();
        let (id, now, conv) = (
            MessageId(store.next_id()),
            store.now_ms(),
            ConversationId(*conv),
        );
        let body = m.into_inner().body;
        store
            .write(move |c, ring| {
                contacts::insert_message(c, ring, id, conv, Direction::Incoming, &body, now)
            })
            .await?;
        Ok(HttpResponse::Ok().json(serde_json::json!({"id": id.0})))
    }

    async fn list_messages(
        state: web::Data<AppState>,
        conv: web::Path<i64>,
    ) -> Result<HttpResponse, ApiError> {
        let conv = ConversationId(*conv);
        let msgs = state
            .store
            .read(move |c, ring| contacts::list_messages(c, ring, conv, 10_000))
            .await?;
        Ok(HttpResponse::Ok().json(msgs.iter().map(MessageView::from).collect::<Vec<_>>()))
    }
}

/// GET `url` and parse the JSON body (any status).
pub fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    client().get(url).send().unwrap().json().unwrap()
}

/// POST `body` as JSON to `url`, expect 200, and parse the JSON answer.
pub fn post_json<T: serde::de::DeserializeOwned>(
    url: impl AsRef<str>,
    body: &serde_json::Value,
) -> T {
    let url = url.as_ref();
    let r = client().post(url).json(body).send().unwrap();
    assert_eq!(r.status(), 200, "POST {url}");
    r.json().unwrap()
}
