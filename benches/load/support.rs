//! Measurement helpers for the load benchmark: result rows, the HTTP load generator, the
//! writer (with or without an audit record per job) and raw-SQLite workloads, child-process
//! control and /proc readings.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atrium::audit::{Actor, Entry};
use atrium::config::{CliOverrides, Config};
use atrium::domain::{ContactDraft, ContactId, ConversationId, Direction, MessageId};
use atrium::store::{self, OpenOptions, Store, contacts, migrations};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A message body of realistic size (a typical customer message: 49 characters, 119 bytes).
pub const BODY: &str =
    "您好，我想查询一下上周五在网点办理的信用卡分期业务进度，订单号 20261120-0042，谢谢！";

#[derive(Debug, Serialize)]
pub struct Row {
    pub metric: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Option<String>,
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(metric: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Row {
            metric: metric.into(),
            value,
            unit,
            target: None,
            baseline: None,
            ratio: None,
            pass: None,
        }
    }

    pub fn target_min(mut self, t: Option<f64>) -> Self {
        if let Some(t) = t {
            self.target = Some(format!(">= {t}"));
            self.pass = Some(self.value >= t);
        }
        self
    }

    pub fn target_max(mut self, t: Option<f64>) -> Self {
        if let Some(t) = t {
            self.target = Some(format!("<= {t}"));
            self.pass = Some(self.value <= t);
        }
        self
    }

    pub fn baseline(mut self, b: f64) -> Self {
        self.baseline = Some(b);
        self.ratio = Some(if b > 0.0 { self.value / b } else { 0.0 });
        self
    }
}

#[derive(Default)]
pub struct Runner {
    pub rows: Vec<Row>,
}

impl Runner {
    pub fn push(&mut self, row: Row) {
        println!(
            "  {:<44} {:>12.1} {:<12} target {:<12} baseline {:>12} ratio {:>6} {}",
            row.metric,
            row.value,
            row.unit,
            row.target.as_deref().unwrap_or("-"),
            row.baseline.map_or("-".into(), |b| format!("{b:.1}")),
            row.ratio.map_or("-".into(), |r| format!("{r:.2}")),
            match row.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "",
            }
        );
        self.rows.push(row);
    }

    pub fn print_and_save(&self) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&dir).unwrap();
        let json = serde_json::to_string_pretty(&self.rows).unwrap();
        std::fs::write(dir.join("load.json"), json).unwrap();
        let missed: Vec<_> = self.rows.iter().filter(|r| r.pass == Some(false)).collect();
        println!(
            "{} metrics, {} with targets, {} missed; written to target/bench/load.json",
            self.rows.len(),
            self.rows.iter().filter(|r| r.pass.is_some()).count(),
            missed.len()
        );
    }
}

/// The store of `dir`'s data directory, opened as the server would (bench configuration with
/// `max_batch`, the configured master key, the system clock), and the metrics its writer feeds.
pub fn open_store(dir: &Path, max_batch: usize) -> (Store, atrium::metrics::Metrics) {
    let cfg = bench_config(dir, max_batch);
    let metrics = atrium::metrics::build().unwrap();
    let keys = atrium::app::key_provider(&cfg);
    let store = Store::open(OpenOptions {
        config: &cfg,
        keys: &keys,
        clock: Arc::new(atrium::clock::SystemClock),
        metrics: metrics.writer.clone(),
    })
    .unwrap();
    (store, metrics)
}

pub fn bench_config(dir: &Path, max_batch: usize) -> Config {
    let env = vec![("ATRIUM_STORE__MAX_BATCH".to_string(), max_batch.to_string())];
    let cli = CliOverrides {
        data_dir: Some(dir.join("data")),
        listen: Some("127.0.0.1:0".into()),
    };
    Config::load_from(None, &env, &cli).unwrap().0
}

/// Raw SQLite: the same schema and pragmas (WAL, synchronous=FULL), plaintext rows, `batch`
/// inserts per transaction, one thread. Rows per second.
pub fn raw_sqlite_rows_per_sec(batch: usize, secs: f64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut c = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    migrations::migrate(&mut c).unwrap();
    c.execute(
        "INSERT INTO contacts (id, created_at, updated_at) VALUES (1, 0, 0)",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO conversations (id, contact_id, status, created_at, updated_at) VALUES (1, 1, 'open', 0, 0)",
        [],
    )
    .unwrap();
    let start = Instant::now();
    let mut id: i64 = 10;
    let mut rows = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let tx = c.transaction().unwrap();
        for _ in 0..batch {
            id += 1;
            tx.prepare_cached(
                "INSERT INTO messages (id, conversation_id, direction, body, created_at) VALUES (?1, 1, 'incoming', ?2, 0)",
            )
            .unwrap()
            .execute(rusqlite::params![id, BODY.as_bytes()])
            .unwrap();
            tx.prepare_cached("UPDATE conversations SET updated_at = ?2 WHERE id = ?1")
                .unwrap()
                .execute(rusqlite::params![1, id])
                .unwrap();
        }
        tx.commit().unwrap();
        rows += batch as u64;
    }
    rows as f64 / start.elapsed().as_secs_f64()
}

/// Atrium's store: `2 × batch` concurrent writers, one encrypted message row per write job,
/// group commit capped at `batch` jobs. Returns (rows/s, mean jobs per commit).
pub fn writer_rows_per_sec(batch: usize, secs: f64) -> (f64, f64) {
    writer_workload(batch, secs, false)
}

/// [`writer_rows_per_sec`], and with `audit` each job also appends one chained audit record
/// (`pii.reveal` by the system) in the same transaction, as an audited action does. After the
/// run: acknowledged = stored for both tables, and the audit chain verifies.
pub fn writer_workload(batch: usize, secs: f64, audit: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let (store, metrics) = open_store(dir.path(), batch);
    let store = Arc::new(store);
    let (contact, conv) = (ContactId(store.next_id()), ConversationId(store.next_id()));
    let now = store.now_ms();
    store
        .write_blocking(move |c, ring| {
            contacts::insert_contact(c, ring, contact, &ContactDraft::default(), now)?;
            contacts::insert_conversation(c, conv, contact, now)
        })
        .unwrap();
    let before_sum = metrics.writer.batch_size.get_sample_sum();
    let before_count = metrics.writer.batch_size.get_sample_count();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    rt.block_on(async {
        let tasks: Vec<_> = (0..(2 * batch).max(1))
            .map(|_| {
                let store = store.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let id = MessageId(store.next_id());
                        let now = store.now_ms();
                        store
                            .write(move |c, ring| {
                                contacts::insert_message(
                                    c,
                                    ring,
                                    id,
                                    conv,
                                    Direction::Incoming,
                                    BODY,
                                    now,
                                )?;
                                if audit {
                                    let entry = Entry::new(
                                        &Actor::system(),
                                        "pii.reveal",
                                        format!("contact:{}", contact.0),
                                    );
                                    store::audit::append(c, ring, now, &entry)?;
                                }
                                Ok(())
                            })
                            .await
                            .unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let jobs = metrics.writer.batch_size.get_sample_sum() - before_sum;
    let commits = (metrics.writer.batch_size.get_sample_count() - before_count) as f64;
    // Correctness: every acknowledged row is in the database.
    let stored = store
        .read_blocking(|c, _| contacts::count_messages(c))
        .unwrap();
    assert_eq!(
        stored as u64,
        done.load(Ordering::Relaxed),
        "acknowledged = stored"
    );
    if audit {
        let (records, check) = store
            .read_blocking(|c, ring| {
                let n: i64 = c.query_row(
                    "SELECT count(*) FROM audit_log WHERE event = 'pii.reveal'",
                    [],
                    |r| r.get(0),
                )?;
                Ok((n, store::audit::verify(c, ring, None, None)?))
            })
            .unwrap();
        assert_eq!(
            records as u64,
            done.load(Ordering::Relaxed),
            "acknowledged = audited"
        );
        assert_eq!(check.broken, None, "the audit chain verifies");
    }
    store.close();
    (
        done.load(Ordering::Relaxed) as f64 / elapsed,
        jobs / commits.max(1.0),
    )
}

/// A minimal actix-web server (2 workers) answering "ok": the HTTP baseline.
pub fn minimal_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(|| {
                actix_web::App::new()
                    .route("/", actix_web::web::get().to(|| async { "ok" }))
                    // A push body read and answered "success", as a WeChat callback is.
                    .route(
                        "/xml",
                        actix_web::web::post().to(|b: actix_web::web::Bytes| async move {
                            if b.is_empty() { "empty" } else { "success" }
                        }),
                    )
                    // The same JSON body an inbound message carries, parsed and answered 201.
                    .route(
                        "/json",
                        actix_web::web::post().to(
                            |v: actix_web::web::Json<serde_json::Value>| async move {
                                actix_web::HttpResponse::Created().json(serde_json::json!({
                                    "message_id": 1, "conversation_id": 2, "contact_id": 3,
                                    "duplicate": v.get("x").is_some(),
                                }))
                            },
                        ),
                    )
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    wait_ready_path(addr, "/", Duration::from_secs(10));
    addr
}

pub struct LoadResult {
    /// Answers per second (all statuses), over the whole run including the last answers.
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers other than the expected status (`200` unless said otherwise).
    pub non_200: u64,
    /// Answers with the expected status, and their rate over the run.
    pub ok: u64,
    pub ok_rps: f64,
}

/// Keep-alive HTTP/1.1 GETs from `conns` connections for `secs` seconds; panics on a non-200.
pub fn http_load(addr: SocketAddr, path: &str, conns: usize, secs: f64) -> LoadResult {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").into_bytes();
    let result = http_load_with(addr, conns, secs, |_| request.clone());
    assert_eq!(result.non_200, 0, "GET {path}: answers other than 200");
    result
}

/// The load generator: `conns` keep-alive HTTP/1.1 connections (one tokio thread), each sending
/// `request(i)` (`i` = its index) again as soon as the previous answer is read, for `secs`
/// seconds. Latency is from writing the request to reading the last byte of the answer.
pub fn http_load_with(
    addr: SocketAddr,
    conns: usize,
    secs: f64,
    request: impl Fn(usize) -> Vec<u8>,
) -> LoadResult {
    let fixed: Vec<Vec<u8>> = (0..conns).map(request).collect();
    let fixed = Arc::new(fixed);
    http_load_seq(
        addr,
        conns,
        secs,
        200,
        Arc::new(move |i, _| fixed[i].clone()),
    )
}

/// A request built per send: `request(connection index, n-th request of that connection)`.
pub type RequestFn = Arc<dyn Fn(usize, u64) -> Vec<u8> + Send + Sync>;

/// [`http_load_with`] with a new request each time (unique ids) and `ok` as the expected
/// status; `non_200` then counts answers other than `ok`.
pub fn http_load_seq(
    addr: SocketAddr,
    conns: usize,
    secs: f64,
    ok: u16,
    request: RequestFn,
) -> LoadResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let per_conn: Vec<(Vec<f64>, u64)> = rt.block_on(async {
        let tasks: Vec<_> = (0..conns)
            .map(|i| {
                let request = request.clone();
                tokio::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut lat = Vec::new();
                    let mut non_ok = 0;
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let req = request(i, n);
                        n += 1;
                        let t = Instant::now();
                        s.write_all(&req).await.unwrap();
                        if read_response(&mut s, &mut buf).await != ok {
                            non_ok += 1;
                        }
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    (lat, non_ok)
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        all
    });
    let elapsed = start.elapsed().as_secs_f64();
    let non_200: u64 = per_conn.iter().map(|(_, n)| n).sum();
    let mut all: Vec<f64> = per_conn.into_iter().flat_map(|(l, _)| l).collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: usize| all.get(all.len() * p / 100).copied().unwrap_or(0.0);
    let ok = all.len() as u64 - non_200;
    LoadResult {
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(50),
        p99_ms: pct(99),
        non_200,
        ok,
        ok_rps: ok as f64 / elapsed,
    }
}

/// Read one HTTP/1.1 response with a `Content-Length` body (or none); returns its status.
async fn read_response(s: &mut tokio::net::TcpStream, buf: &mut [u8]) -> u16 {
    let mut have = 0;
    loop {
        let n = s.read(&mut buf[have..]).await.unwrap();
        assert!(n > 0, "connection closed");
        have += n;
        if let Some(end) = find(&buf[..have], b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            let status: u16 = head
                .strip_prefix("HTTP/1.1 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
                .unwrap_or_else(|| panic!("not an HTTP/1.1 response: {head}"));
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim())
                })
            };
            // Every answer the benchmark reads has a known size; a chunked one would leave
            // bytes on the connection and garble the next answer.
            assert!(
                header("transfer-encoding").is_none(),
                "chunked answer: {head}"
            );
            let len: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
            let mut body_have = have - end - 4;
            while body_have < len {
                let n = s.read(&mut buf[..]).await.unwrap();
                assert!(n > 0);
                body_have += n;
            }
            return status;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A running `atrium serve` child; killed on drop.
pub struct AtriumChild {
    child: Child,
    pub addr: SocketAddr,
}

impl AtriumChild {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM and wait: requests drained, the writer flushed, the database closed.
    pub fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Drop for AtriumChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The data directory of a child started in `dir`.
pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

fn start_child(dir: &Path, addr: SocketAddr, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atrium"));
    cmd.args(["serve", "--listen", &addr.to_string(), "--data-dir"])
        .arg(data_dir(dir))
        .env("ATRIUM_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

pub fn spawn_atrium(dir: &Path) -> AtriumChild {
    spawn_atrium_env(dir, &[])
}

/// [`spawn_atrium`] with extra environment (configuration overrides).
pub fn spawn_atrium_env(dir: &Path, env: &[(&str, &str)]) -> AtriumChild {
    let addr = free_port();
    let child = start_child(dir, addr, env);
    wait_ready(addr, Duration::from_secs(30));
    AtriumChild { child, addr }
}

/// Milliseconds from process start to the first 200 from /readyz.
pub fn time_to_ready(dir: &Path) -> (f64, AtriumChild) {
    let addr = free_port();
    let t = Instant::now();
    let child = start_child(dir, addr, &[]);
    wait_ready(addr, Duration::from_secs(30));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    (ms, AtriumChild { child, addr })
}

pub fn wait_ready(addr: SocketAddr, timeout: Duration) {
    wait_ready_path(addr, "/readyz", timeout);
}

fn wait_ready_path(addr: SocketAddr, path: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n").as_bytes(),
            );
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("{addr}{path} not ready within {timeout:?}");
}

/// Resident set size of a process, KiB.
pub fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Size of the binary after `strip` (the release profile strips already; this makes sure).
pub fn stripped_size_mib(bin: &Path) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("atrium");
    std::fs::copy(bin, &copy).unwrap();
    let _ = Command::new("strip").arg(&copy).status();
    std::fs::metadata(&copy).unwrap().len() as f64 / (1024.0 * 1024.0)
}

/// One value of a Prometheus text exposition (`name` with its labels, exactly), from a server's
/// `/metrics` (loopback needs no token).
pub fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.lines().find_map(|l| {
        let (k, v) = l.rsplit_once(' ')?;
        (k == name).then(|| v.parse().ok())?
    })
}

/// CPU time (user + system, ms) a process has used so far: in total (including threads that
/// have exited) and per live thread, from `/proc/<pid>/stat` and `/proc/<pid>/task/*/stat`.
#[derive(Debug, Default, Clone)]
pub struct CpuSample {
    total_ms: f64,
    /// tid → (group name, ms).
    threads: std::collections::BTreeMap<u32, (String, f64)>,
}

/// utime + stime (ms) from a `stat` line, and the command name.
fn stat_cpu(stat: &str) -> Option<(String, f64)> {
    // "tid (comm) state … utime stime …": comm may hold spaces; fields after ')' are fixed.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let tick = 100.0; // USER_HZ on Linux
    let u = fields.get(11)?.parse::<f64>().ok()?;
    let s = fields.get(12)?.parse::<f64>().ok()?;
    Some((comm, (u + s) * 1000.0 / tick))
}

pub fn cpu_sample(pid: u32) -> CpuSample {
    let mut out = CpuSample::default();
    if let Some((_, ms)) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| stat_cpu(&s))
    {
        out.total_ms = ms;
    }
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Some((comm, ms)) = std::fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|s| stat_cpu(&s))
        else {
            continue;
        };
        let group = if comm.starts_with("actix") {
            "http workers".to_string()
        } else if comm.starts_with("tokio") {
            "blocking pool".to_string()
        } else {
            comm
        };
        out.threads.insert(tid, (group, ms));
    }
    out
}

/// CPU (ms) used between two samples, per thread group. Threads that started in between count
/// from zero; the time of threads that ended in between (the blocking pool lets idle threads
/// go) is in the process total but in no live thread: it is reported as "exited threads".
pub fn cpu_ms_between(
    before: &CpuSample,
    after: &CpuSample,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let mut live = 0.0;
    for (tid, (group, ms)) in &after.threads {
        let start = before.threads.get(tid).map_or(0.0, |(_, m)| *m);
        let used = (ms - start).max(0.0);
        live += used;
        *out.entry(group.clone()).or_insert(0.0) += used;
    }
    let exited = after.total_ms - before.total_ms - live;
    if exited >= 1.0 {
        out.insert("exited threads".to_string(), exited);
    }
    out
}
