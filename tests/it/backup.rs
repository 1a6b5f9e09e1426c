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

/// Attachments are files beside the database: a backup copies them, a restore brings them
/// back (the replaced folder kept), and the restored conversation serves the same bytes.
#[test]
fn backup_and_restore_carry_the_attachment_files() {
    use crate::desk::{Desk, agent, api_inbox, customer_says, team};
    let app = TestApp::new();
    crate::identity::no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), serde_json::json!({}));
    agent(&app, "agent.bk", &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m", "请看截图");
    let conv = v["conversation_id"].as_i64().unwrap();
    let d = Desk::login(&app.base, "agent.bk");
    let png: Vec<u8> = [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77,
            0x53, 0xde,
        ],
    ]
    .concat();
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(png.clone()).file_name("截图.png"),
    );
    let (s, att) = d.upload(&format!("/api/v1/attachments?conversation_id={conv}"), form);
    assert_eq!(s, reqwest::StatusCode::CREATED, "{att}");
    d.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(serde_json::json!({"body": "", "attachment_ids": [att["id"]]})),
    );
    let data = app.data_dir();
    let out = app.dir.path().join("bk.db");
    // Online, while the server runs.
    let (code, stdout, err) = run(
        app.dir.path(),
        &[
            "backup",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("1 attachment files copied"), "{stdout}");
    let tmp = app.stop();
    let data = tmp.path().join("data");
    // The live files are lost; the restore brings them back.
    std::fs::remove_dir_all(data.join("files")).unwrap();
    std::fs::create_dir(data.join("files")).unwrap();
    let out = tmp.path().join("bk.db");
    let (code, err) = restore(tmp.path(), &data, &out);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_dir(data.join("backups"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".files")),
        "the replaced folder is kept"
    );
    let app = TestApp::start(tmp, None);
    let d = Desk::login(&app.base, "agent.bk");
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/attachments/{}", app.base, att["id"]))
        .header("Cookie", d.cookie_header())
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.bytes().unwrap().to_vec(), png);
}
