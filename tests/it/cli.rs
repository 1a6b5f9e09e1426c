//! The command line and start-up refusals: each bad input gives one clear error naming what to
//! fix, never a panic, never data written with a wrong key.

use std::os::unix::fs::PermissionsExt;

use crate::support::{TestApp, probe, run, run_env};

fn no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["check-config", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "init", "--help"],
        vec!["fake-wechat", "--help"],
    ] {
        let (code, out, _) = run(dir.path(), &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(
            out.contains("--config") && out.contains("--data-dir"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn check_config_prints_resolved_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_env(
        dir.path(),
        &["check-config"],
        &[
            ("ATRIUM_METRICS__TOKEN", "very-secret-scrape-token"),
            ("ATRIUM_HTTP__LISTNE", "x"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("listen = \"127.0.0.1:8080\""), "{out}");
    assert!(out.contains("token = \"***\""), "{out}");
    assert!(!out.contains("very-secret") && !err.contains("very-secret"));
    assert!(
        err.contains("unknown environment variable ATRIUM_HTTP__LISTNE"),
        "{err}"
    );
}

#[test]
fn config_with_three_mistakes_lists_each_with_key_and_env_var() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atrium.toml");
    std::fs::write(
        &file,
        "[http]\nlisten = \"localhost\"\nworkers = \"two\"\n[store]\nsynchronous = \"often\"\n",
    )
    .unwrap();
    let (code, _, err) = run(
        dir.path(),
        &["check-config", "--config", file.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    for (key, var) in [
        ("http.listen", "ATRIUM_HTTP__LISTEN"),
        ("http.workers", "ATRIUM_HTTP__WORKERS"),
        ("store.synchronous", "ATRIUM_STORE__SYNCHRONOUS"),
    ] {
        assert!(err.contains(key) && err.contains(var), "{key}: {err}");
    }
    no_panic(&err);
    // serve refuses the same file before touching anything.
    let (code, _, err) = run(dir.path(), &["serve", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(!dir.path().join("atrium-data").exists());
}

/// Must show 4.
#[test]
fn binding_all_interfaces_without_tls_fails_naming_tls_cert_and_proxy_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), &["serve", "--listen", "0.0.0.0:8080"]);
    assert_ne!(code, 0);
    assert!(err.contains("tls.cert"), "{err}");
    assert!(err.contains("http.behind_tls_proxy"), "{err}");
    assert!(!dir.path().join("atrium-data").exists(), "nothing created");
    no_panic(&err);
}

#[test]
fn port_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (code, _, err) = run(dir.path(), &["serve", "--listen", &addr]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("http.listen"), "{err}");
    no_panic(&err);
}

#[test]
fn unwritable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let target = file.join("data");
    let (code, _, err) = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("data directory") && err.contains("ATRIUM_DATA_DIR"),
        "{err}"
    );
    no_panic(&err);
}

/// A data dir with a database made by `TestApp`, then stopped cleanly.
fn existing_data_dir() -> tempfile::TempDir {
    let app = TestApp::with_routes(Some(probe::routes));
    crate::support::client()
        .post(app.url("/test/contacts"))
        .json(&serde_json::json!({"name": "王五"}))
        .send()
        .unwrap();
    app.stop()
}

fn serve_args(dir: &std::path::Path) -> Vec<String> {
    vec![
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        dir.join("data").to_str().unwrap().into(),
    ]
}

fn run_serve(dir: &std::path::Path) -> (i32, String) {
    let args = serve_args(dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(dir, &args);
    no_panic(&err);
    (code, err)
}

#[test]
fn corrupt_database_header_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("atrium.db"),
        "this is not an sqlite file at all".repeat(200),
    )
    .unwrap();
    let (code, err) = run_serve(dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("atrium.db") && err.contains("header is corrupt"),
        "{err}"
    );
    assert!(err.contains("atrium restore"), "{err}");
    assert!(
        !data.join("master.key").exists(),
        "no key generated for a foreign file"
    );
}

#[test]
fn database_newer_than_the_binary_is_refused_naming_both_versions() {
    let dir = existing_data_dir();
    {
        let db = rusqlite::Connection::open(dir.path().join("data/atrium.db")).unwrap();
        db.pragma_update(None, "user_version", 99).unwrap();
    }
    let (code, err) = run_serve(dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("schema version 99")
            && err.contains(&format!("supports ({})", atrium::store::migrations::LATEST)),
        "{err}"
    );
}

#[test]
fn missing_key_for_existing_database_is_refused_and_not_recreated() {
    let dir = existing_data_dir();
    let key = dir.path().join("data/master.key");
    std::fs::remove_file(&key).unwrap();
    let (code, err) = run_serve(dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("master.key") && err.contains("is missing"),
        "{err}"
    );
    assert!(!key.exists(), "never a fresh key over old data");
}

#[test]
fn wrong_key_is_refused_and_nothing_is_written() {
    let dir = existing_data_dir();
    let data = dir.path().join("data");
    let key = data.join("master.key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::read(data.join("atrium.db")).unwrap();
    let (code, err) = run_serve(dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("does not match this database"), "{err}");
    assert_eq!(
        std::fs::read(data.join("atrium.db")).unwrap(),
        before,
        "database unchanged"
    );
}

#[test]
fn key_readable_by_others_is_refused() {
    let dir = existing_data_dir();
    let key = dir.path().join("data/master.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = run_serve(dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("mode 0644") && err.contains("chmod 600"),
        "{err}"
    );
}

#[test]
fn keys_init_creates_once_and_never_for_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let d = data.to_str().unwrap();
    let (code, out, err) = run(dir.path(), &["keys", "init", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created"), "{out}");
    let mode = std::fs::metadata(data.join("master.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let (code, out, _) = run(dir.path(), &["keys", "init", "--data-dir", d]);
    assert_eq!(code, 0);
    assert!(out.contains("exists"), "{out}");

    let existing = existing_data_dir();
    let key = existing.path().join("data/master.key");
    std::fs::remove_file(&key).unwrap();
    let d = existing.path().join("data");
    let (code, _, err) = run(
        existing.path(),
        &["keys", "init", "--data-dir", d.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(err.contains("is missing"), "{err}");
    assert!(!key.exists());
}

#[test]
fn fake_wechat_refuses_a_key_that_is_not_an_encoding_aes_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(
        dir.path(),
        &[
            "fake-wechat",
            "--token",
            "t0ken",
            "--encoding-aes-key",
            "short",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--encoding-aes-key"), "{err}");
    no_panic(&err);
}
