//! Must show 3: kill -9 the server during a write burst, 20+ times. Every write acknowledged
//! before a kill is present afterwards, and `PRAGMA integrity_check` is ok.
//!
//! The server is this test binary re-run as a child in `crash_child` mode: it calls the same
//! `create_app` as `atrium serve`, with probe routes that write through the real writer.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestApp, client, config, probe};

const CHILD_ENV: &str = "ATRIUM_TEST_CRASH_CHILD_DIR";

/// Child mode: serve until killed. Does nothing in a normal test run.
#[test]
#[ignore = "run by acknowledged_writes_survive_sigkill_during_a_burst as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let cfg = config(std::path::Path::new(&dir), &[]);
    let app = atrium::create_app(
        cfg,
        atrium::AppOptions {
            extra_routes: Some(probe::routes),
            ..Default::default()
        },
    )
    .unwrap();
    println!("CHILD_LISTENING {}", app.local_addr().unwrap());
    actix_web::rt::System::new()
        .block_on(app.run(|_| {}))
        .unwrap();
}

struct Child {
    proc: std::process::Child,
    base: String,
}

fn spawn_child(dir: &std::path::Path) -> Child {
    let mut proc = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(proc.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            // libtest prints "test durability::crash_child ... " on the same line.
            if let Some(addr) = line.split("CHILD_LISTENING ").nth(1) {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("child started");
    Child {
        proc,
        base: format!("http://{addr}"),
    }
}

fn kill9(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.proc.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    child.proc.wait().unwrap();
}

#[test]
fn acknowledged_writes_survive_sigkill_during_a_burst() {
    const ROUNDS: usize = 22;
    const WRITERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/atrium.db");
    let acked: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let mut conv = None;

    for round in 0..ROUNDS {
        let mut child = spawn_child(dir.path());
        let c = client();
        let conv_id = *conv.get_or_insert_with(|| {
            let v: Value = c
                .post(format!("{}/test/contacts", child.base))
                .json(&json!({"name": "durability"}))
                .send()
                .unwrap()
                .json()
                .unwrap();
            v["conversation_id"].as_i64().unwrap()
        });
        let before = acked.lock().unwrap().len();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let url = format!("{}/test/conversations/{conv_id}/messages", child.base);
                let acked = acked.clone();
                std::thread::spawn(move || {
                    let c = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .build()
                        .unwrap();
                    for i in 0.. {
                        let body = format!("round {round} writer {w} message {i}");
                        match c.post(&url).json(&json!({ "body": body })).send() {
                            Ok(r) if r.status() == 200 => {
                                let id = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
                                acked.lock().unwrap().insert(id, body);
                            }
                            // The server died mid-request: this write was never acknowledged.
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        // Kill at a different point of the burst each round.
        let target = before + 20 + round * 7;
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() < target {
            assert!(Instant::now() < deadline, "writes stalled in round {round}");
            std::thread::yield_now();
        }
        kill9(&mut child);
        for w in writers {
            w.join().unwrap();
        }

        // Open as a fresh process would after the crash (WAL recovery), and check.
        let db = rusqlite::Connection::open(&db_path).unwrap();
        let ok: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "round {round}");
        let mut stmt = db.prepare("SELECT id FROM messages").unwrap();
        let stored: std::collections::HashSet<i64> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let acked_now = acked.lock().unwrap();
        let lost: Vec<_> = acked_now.keys().filter(|id| !stored.contains(id)).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged writes lost",
            lost.len()
        );
    }

    // Finally, through the app: every acknowledged body decrypts to what was sent.
    let app = TestApp::start(dir, Some(probe::routes));
    let msgs: Vec<Value> = client()
        .get(app.url(&format!("/test/conversations/{}/messages", conv.unwrap())))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let by_id: HashMap<i64, String> = msgs
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let acked = acked.lock().unwrap();
    assert!(acked.len() >= ROUNDS * 20);
    for (id, body) in acked.iter() {
        assert_eq!(by_id.get(id), Some(body), "message {id}");
    }
}
