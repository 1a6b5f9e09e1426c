//! The audit log as an auditor checks it: `atrium audit verify`, `export`, `verify-export`, on
//! the real binary and a real database file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use atrium::audit::{Record, chain_hash};
use rusqlite::Connection;

use crate::support::{BIN, run_env};

const PASS: &str = "an auditor's long passphrase";

fn atrium(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let data = dir.join("data");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    run_env(dir, &all, &[("ATRIUM_EXPORT_PASSPHRASE", PASS)])
}

/// A database with a handful of audit records made through the CLI.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, role) in ["agent", "supervisor", "auditor", "agent"]
        .iter()
        .enumerate()
    {
        let name = format!("user{i}");
        let (code, out, err) = atrium(
            dir.path(),
            &["admin", "create", "--username", &name, "--role", role],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("initial password"), "{out}");
    }
    dir
}

fn db(dir: &Path) -> Connection {
    Connection::open(dir.join("data/atrium.db")).unwrap()
}

fn record(c: &Connection, seq: i64) -> Record {
    atrium::store::audit::get(c, seq).unwrap().unwrap()
}

#[test]
fn changing_one_record_in_the_file_makes_verify_fail_naming_it() {
    let dir = seeded();
    let (code, out, err) = atrium(dir.path(), &["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");

    let c = db(dir.path());
    // The triggers refuse changes through SQL.
    assert!(
        c.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 3", [])
            .is_err()
    );
    assert!(
        c.execute("DELETE FROM audit_log WHERE seq = 3", [])
            .is_err()
    );
    c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    c.execute(
        "UPDATE audit_log SET details = replace(details, 'supervisor', 'sysadmin') WHERE seq = 3",
        [],
    )
    .unwrap();
    assert_eq!(c.changes(), 1);
    let (code, out, _) = atrium(dir.path(), &["audit", "verify"]);
    assert_ne!(code, 0);
    assert!(out.contains("seq 3") && out.contains("changed"), "{out}");

    // Recomputing the hash (no key needed) does not help: the MAC needs the master key.
    let r = record(&c, 3);
    let forged = chain_hash(&r.prev_hash, &r).to_vec();
    c.execute("UPDATE audit_log SET hash = ?1 WHERE seq = 3", [forged])
        .unwrap();
    let (code, out, _) = atrium(dir.path(), &["audit", "verify"]);
    assert_ne!(code, 0);
    assert!(out.contains("seq 3") && out.contains("MAC"), "{out}");

    // A removed record shows as a gap at the next one.
    let dir2 = seeded();
    let c2 = db(dir2.path());
    c2.execute_batch("DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    c2.execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    let (code, out, _) = atrium(dir2.path(), &["audit", "verify"]);
    assert_ne!(code, 0);
    assert!(out.contains("seq 3"), "{out}");
}

#[test]
fn an_export_verifies_offline_and_one_flipped_byte_fails_it() {
    let dir = seeded();
    let file = dir.path().join("audit.aae");
    let (code, out, err) = atrium(
        dir.path(),
        &[
            "audit",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2100-12-31",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("exported"), "{out}");

    // Offline: no data directory, no master key; only the file and its passphrase.
    let elsewhere = tempfile::tempdir().unwrap();
    let verify = |path: &Path, pass: &str| {
        run_env(
            elsewhere.path(),
            &["audit", "verify-export", path.to_str().unwrap()],
            &[("ATRIUM_EXPORT_PASSPHRASE", pass)],
        )
    };
    let (code, out, err) = verify(&file, PASS);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("export intact"), "{out}");
    let (code, out, _) = verify(&file, "not the passphrase!");
    assert_ne!(code, 0, "{out}");

    let bytes = std::fs::read(&file).unwrap();
    for pos in [0, 25, 60, bytes.len() / 2, bytes.len() - 1] {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let bad = dir.path().join(format!("flipped-{pos}.aae"));
        std::fs::write(&bad, &b).unwrap();
        let (code, out, _) = verify(&bad, PASS);
        assert_ne!(code, 0, "flipping byte {pos} went unnoticed: {out}");
        assert!(out.contains("FAILED"), "{out}");
    }

    // The passphrase can come on stdin too.
    let mut child = Command::new(BIN)
        .args(["audit", "verify-export", file.to_str().unwrap()])
        .env_remove("ATRIUM_EXPORT_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASS}").unwrap();
    assert!(child.wait().unwrap().success());

    // The export itself is in the log.
    let c = db(dir.path());
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM audit_log WHERE event = 'audit.export'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn admin_create_takes_a_piped_password_and_works_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let server = crate::support::Server::spawn_in(dir.path(), &[]);
    assert!(
        server.log.lock().unwrap().contains("/setup#token="),
        "setup link logged"
    );
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--username",
            "first.admin",
            "--role",
            "sysadmin",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "Str0ng-Admin-Pass").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("initial password"));
    let r = reqwest::blocking::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "first.admin", "password": "Str0ng-Admin-Pass"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in against the running server");
    // A weak piped password is refused with the rule broken.
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--username",
            "weak.one",
            "--role",
            "agent",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "password").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too_few_classes"));
    let (code, out, _) = crate::support::run(
        dir.path(),
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    drop(server);
}
