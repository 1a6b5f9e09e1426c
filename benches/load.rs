//! `cargo bench --bench load [-- --quick] [-- --scenario NAME] [-- --check]`
//!
//! Load benchmark: every performance target measured in one command, each throughput next to a
//! baseline measured in the same run on the same machine (the machine is shared and noisy, so
//! ratios mean more than absolute numbers). Prints a table and writes
//! `target/bench/load.json` (metric, value, unit, target, baseline, ratio, pass).
//!
//! Scenarios (see docs/performance.md): `writer` (encrypted rows/s through the group-commit
//! writer at batch 1/16/64 vs raw SQLite inserts of the same rows), `http` (minimal actix-web
//! handler vs Atrium's `/healthz` through its full middleware, same client), `footprint` (cold
//! start to /readyz, idle RSS, binary size), `signin` (20 concurrent password sign-ins against
//! a real server vs its `/healthz` under the same clients), `audit` (the writer workload with a
//! chained audit record per job vs without, interleaved). Pending until their capability
//! exists: durable ingest, end-to-end latency, connections, WeChat, knowledge base.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "load/accounts.rs"]
mod accounts;
#[path = "load/support.rs"]
mod load_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use load_support::{Row, Runner, http_load, http_load_with, rss_kib, wait_ready};

const SCENARIOS: [&str; 5] = ["writer", "http", "footprint", "signin", "audit"];
const PENDING: [&str; 5] = [
    "ingest (needs the open API channel)",
    "e2e-latency (needs agent WebSockets)",
    "connections (needs WebSockets)",
    "wechat (needs the WeChat channel)",
    "kb-search (needs the knowledge base)",
];

struct Options {
    quick: bool,
    check: bool,
    scenario: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        quick: false,
        check: false,
        scenario: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--check" => o.check = true,
            "--scenario" => o.scenario = args.next(),
            // cargo passes --bench to harness=false targets.
            _ => {}
        }
    }
    if let Some(s) = &o.scenario {
        assert!(
            SCENARIOS.contains(&s.as_str()),
            "unknown scenario {s}; known: {SCENARIOS:?}"
        );
    }
    o
}

fn main() {
    let o = options();
    let mut r = Runner::default();
    let wanted = |s: &str| o.scenario.as_deref().is_none_or(|w| w == s);
    println!(
        "atrium load benchmark ({}), {} cores",
        if o.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    if wanted("writer") {
        writer(&mut r, o.quick);
    }
    if wanted("http") {
        http(&mut r, o.quick);
    }
    if wanted("footprint") {
        footprint(&mut r, o.quick);
    }
    if wanted("signin") {
        signin(&mut r, o.quick);
    }
    if wanted("audit") {
        audit(&mut r, o.quick);
    }
    for p in PENDING {
        println!("pending: {p}");
    }
    r.print_and_save();
    if o.check && r.rows.iter().any(|row| row.pass == Some(false)) {
        eprintln!("some targets were missed");
        std::process::exit(1);
    }
}

/// Encrypted rows/s through the writer vs raw SQLite inserts of the same rows, per batch size.
fn writer(r: &mut Runner, quick: bool) {
    let secs = if quick { 2.0 } else { 6.0 };
    for batch in [1usize, 16, 64] {
        let raw = load_support::raw_sqlite_rows_per_sec(batch, secs);
        let (enc, mean_batch) = load_support::writer_rows_per_sec(batch, secs);
        let target = if batch == 64 { Some(150_000.0) } else { None };
        r.push(
            Row::new(
                format!("writer.encrypted_rows_per_s.batch{batch}"),
                enc,
                "rows/s",
            )
            .target_min(target)
            .baseline(raw),
        );
        r.push(Row::new(
            format!("writer.mean_batch.batch{batch}"),
            mean_batch,
            "jobs/commit",
        ));
        if batch == 64 {
            r.push(
                Row::new("writer.ratio_to_raw.batch64", enc / raw, "ratio").target_min(Some(0.60)),
            );
        }
    }
}

/// The same load generator against a minimal actix-web handler and Atrium's /healthz.
fn http(r: &mut Runner, quick: bool) {
    let secs = if quick { 3.0 } else { 8.0 };
    let conns = 32;
    let base = load_support::minimal_server();
    let baseline = http_load(base, "/", conns, secs);
    let dir = tempfile::tempdir().unwrap();
    let child = load_support::spawn_atrium(dir.path());
    let atrium = http_load(child.addr, "/healthz", conns, secs);
    r.push(Row::new(
        "http.baseline_minimal_handler",
        baseline.rps,
        "req/s",
    ));
    r.push(Row::new("http.atrium_healthz", atrium.rps, "req/s").baseline(baseline.rps));
    r.push(Row::new("http.atrium_healthz_p99", atrium.p99_ms, "ms"));
}

fn footprint(r: &mut Runner, quick: bool) {
    let runs = if quick { 3 } else { 7 };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut rss = 0.0;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let (ms, child) = load_support::time_to_ready(dir.path());
        cold.push(ms);
        drop(child);
        let (ms, child) = load_support::time_to_ready(dir.path());
        warm.push(ms);
        // Idle: ready, a few requests answered, nothing else going on.
        for _ in 0..10 {
            wait_ready(child.addr, Duration::from_secs(5));
        }
        std::thread::sleep(Duration::from_millis(300));
        rss = f64::max(rss, rss_kib(child.pid()) / 1024.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    r.push(
        Row::new("footprint.cold_start_to_readyz", median(&mut cold), "ms").target_max(Some(300.0)),
    );
    r.push(Row::new(
        "footprint.warm_start_to_readyz",
        median(&mut warm),
        "ms",
    ));
    r.push(Row::new("footprint.idle_rss", rss, "MiB").target_max(Some(64.0)));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_atrium"));
    let stripped = load_support::stripped_size_mib(&bin);
    r.push(Row::new("footprint.stripped_binary", stripped, "MiB").target_max(Some(40.0)));
}

/// Password sign-ins from 20 keep-alive clients, a different user each (so the per-user lockout
/// never matters), against a real server; the same clients against its /healthz as baseline.
fn signin(r: &mut Runner, quick: bool) {
    let clients = 20;
    let (secs, single_secs, healthz_secs) = if quick {
        (5.0, 2.0, 3.0)
    } else {
        (20.0, 5.0, 8.0)
    };
    let dir = tempfile::tempdir().unwrap();
    let child = load_support::spawn_atrium(dir.path());
    let t = Instant::now();
    accounts::create_users(&load_support::data_dir(dir.path()), clients);
    println!(
        "  created {clients} users with `atrium admin create` in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // One client alone: the cost of a sign-in without queueing for a hashing slot.
    let single = http_load_with(child.addr, 1, single_secs, accounts::login_request);
    let load = http_load_with(child.addr, clients, secs, accounts::login_request);
    let healthz = http_load(child.addr, "/healthz", clients, healthz_secs);
    r.push(Row::new("signin.single_client_p50", single.p50_ms, "ms"));
    r.push(Row::new("signin.logins_per_s.20_clients", load.rps, "logins/s").baseline(healthz.rps));
    r.push(Row::new("signin.p50.20_clients", load.p50_ms, "ms"));
    r.push(Row::new("signin.p99.20_clients", load.p99_ms, "ms").target_max(Some(150.0)));
    let non_200 = single.non_200 + load.non_200;
    r.push(Row::new("signin.non_200_answers", non_200 as f64, "answers").target_max(Some(0.0)));
    r.push(Row::new(
        "signin.healthz_baseline.20_clients",
        healthz.rps,
        "req/s",
    ));
}

/// The writer workload at batch 64 with and without one chained audit record per job,
/// interleaved (plain, audited, plain, audited, …); the best round of each.
fn audit(r: &mut Runner, quick: bool) {
    let (secs, rounds) = if quick { (2.0, 2) } else { (6.0, 3) };
    let (mut plain, mut audited) = (0.0f64, 0.0f64);
    for round in 1..=rounds {
        let p = load_support::writer_workload(64, secs, false).0;
        let a = load_support::writer_workload(64, secs, true).0;
        println!("  round {round}: plain {p:.0} rows/s, audited {a:.0} rows/s");
        plain = plain.max(p);
        audited = audited.max(a);
    }
    r.push(Row::new("audit.plain_rows_per_s.batch64", plain, "rows/s"));
    r.push(Row::new("audit.audited_rows_per_s.batch64", audited, "rows/s").baseline(plain));
    r.push(
        Row::new("audit.ratio_to_plain.batch64", audited / plain, "ratio").target_min(Some(0.90)),
    );
}
