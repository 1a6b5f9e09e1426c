//! `atrium backup` while the server writes, and `atrium restore` with its checks.

use serde_json::{Value, json};

use crate::support::{TestApp, client, get_json, post_json, probe, run};

fn post_message(app: &TestApp, conv: i64, body: &str) {
    let r = client()
        .post(app.url(&format!("/test/conversations/{conv}/messages")))
        .json(&json!({ "body": body }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn bodies(app: &TestApp, conv: i64) -> Vec<String> {
    let v: Vec<Value> = get_json(&app.url(&format!("/test/conversations/{conv}/messages")));
    v.iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn backup_while_serving_then_restore_brings_that_state_back() {
    let app = TestApp::with_routes(Some(probe::routes));
    let created: Value = post_json(
        app.url("/test/contacts"),
        &json!({"name": "赵六", "phone": "13700001234"}),
    );
    let conv = created["conversation_id"].as_i64().unwrap();
    for i in 0..20 {
        post_message(&app, conv, &format!("before backup {i}"));
    }
    let data = app.data_dir();
    let out = app.dir.path().join("nightly.db");
    let d = data.to_str().unwrap();

    // Writers keep going while the backup runs.
    let writer = {
        let url = app.url(&format!("/test/conversations/{conv}/messages"));
        std::thread::spawn(move || {
            let c = client();
            for i in 0..200 {
                c.post(&url)
                    .json(&json!({"body": format!("during {i}")}))
                    .send()
                    .unwrap();
            }
        })
    };
    let (code, stdout, err) = run(
        app.dir.path(),
        &["backup", "--data-dir", d, "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("backup written"), "{stdout}");
    writer.join().unwrap();
    let (code, _, err) = run(
        app.dir.path(),
        &["backup", "--data-dir", d, "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 1, "refuses to overwrite");
    assert!(err.contains("already exists"), "{err}");

    // The backup is a consistent snapshot: integrity ok, and a prefix of the messages.
    {
        let b = rusqlite::Connection::open(&out).unwrap();
        let ok: String = b
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    // Restoring while the server runs is refused.
    let (code, _, err) = run(
        app.dir.path(),
        &["restore", "--data-dir", d, "--from", out.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(err.contains("another Atrium process"), "{err}");

    post_message(&app, conv, "after backup");
    let tmp = app.stop();
    let (code, stdout, err) = run(
        tmp.path(),
        &["restore", "--data-dir", d, "--from", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("previous database was kept"), "{stdout}");
    let kept = std::fs::read_dir(tmp.path().join("data/backups"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);
    // Checking files leaves nothing behind: no -wal/-shm beside the backup or the staged copy.
    for leftover in [
        "nightly.db-wal",
        "nightly.db-shm",
        "data/atrium.db.restoring",
        "data/atrium.db.restoring-wal",
    ] {
        assert!(
            !tmp.path().join(leftover).exists(),
            "{leftover} left behind"
        );
    }

    let app = TestApp::start(tmp, Some(probe::routes));
    let restored = bodies(&app, conv);
    assert!(restored.len() >= 20);
    assert_eq!(
        restored[..20],
        (0..20)
            .map(|i| format!("before backup {i}"))
            .collect::<Vec<_>>()
    );
    assert!(!restored.contains(&"after backup".to_string()));
}

/// `atrium restore --data-dir DATA --from FROM` in `cwd`: (exit code, stderr).
fn restore(cwd: &std::path::Path, data: &std::path::Path, from: &std::path::Path) -> (i32, String) {
    let (code, _, err) = run(
        cwd,
        &[
            "restore",
            "--data-dir",
            data.to_str().unwrap(),
            "--from",
            from.to_str().unwrap(),
        ],
    );
    (code, err)
}

#[test]
fn restore_refuses_a_backup_of_another_key_or_a_damaged_file() {
    let a = TestApp::new();
    let a_backup = a.dir.path().join("a.db");
    let d = a.data_dir();
    let (code, _, err) = run(
        a.dir.path(),
        &[
            "backup",
            "--data-dir",
            d.to_str().unwrap(),
            "--out",
            a_backup.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let b = TestApp::new();
    let b_data = b.data_dir();
    let b_dir = b.stop();
    let before = std::fs::read(b_data.join("atrium.db")).unwrap();

    let (code, err) = restore(b_dir.path(), &b_data, &a_backup);
    assert_eq!(code, 1);
    assert!(err.contains("does not match"), "{err}");
    assert_eq!(
        std::fs::read(b_data.join("atrium.db")).unwrap(),
        before,
        "nothing replaced"
    );

    let damaged = b_dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&a_backup).unwrap();
    bytes.truncate(bytes.len() / 2);
    bytes[..16].copy_from_slice(b"not sqlite here!");
    std::fs::write(&damaged, bytes).unwrap();
    let (code, err) = restore(b_dir.path(), &b_data, &damaged);
    assert_eq!(code, 1);
    assert!(err.contains("damaged.db"), "{err}");
    assert!(!err.contains("panicked"));
    assert_eq!(
        std::fs::read(b_data.join("atrium.db")).unwrap(),
        before,
        "nothing replaced"
    );
}
