//! Must show 1: on a fresh machine, `atrium serve` with no config serves on 127.0.0.1:8080, and
//! the sign-in page renders in headless Chromium in zh-CN and English (screenshots in
//! `target/browser/`). The browser part is `tests/browser/*.test.mjs` (playwright-core driving
//! Debian's Chromium); `scripts/test.sh` installs both.

use std::path::Path;
use std::process::Command;

use crate::support::{BIN, Server, client};

fn browser_ready(root: &Path) -> Result<(), String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("/usr/bin/chromium is missing (apt-get install -y chromium)".into());
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        return Err("tests/browser/node_modules is missing (cd tests/browser && npm ci)".into());
    }
    Ok(())
}

#[test]
fn default_serve_on_8080_and_sign_in_page_renders_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cwd = tempfile::tempdir().unwrap();
    // Exactly the README's run command minus cargo: no config, no flags.
    let s = Server::spawn(cwd.path(), &[], &[]);
    assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(
        client()
            .get("http://127.0.0.1:8080/healthz")
            .send()
            .unwrap()
            .status(),
        200
    );
    assert!(cwd.path().join("atrium-data/atrium.db").is_file());
    assert!(cwd.path().join("atrium-data/master.key").is_file());

    if let Err(why) = browser_ready(root) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the browser test: {why}"
        );
        eprintln!("skipping the Chromium part: {why}");
        return;
    }
    let shots = root.join("target/browser");
    let out = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "tests/browser/frontend.test.mjs",
        ])
        .current_dir(root)
        .env("ATRIUM_URL", "http://127.0.0.1:8080")
        .env("ATRIUM_SCREENSHOT_DIR", &shots)
        .output()
        .expect("node is installed");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser tests failed:\n{text}");
    let passed = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("ℹ pass ")
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
        .unwrap_or(0);
    assert!(passed >= 4, "expected the browser tests to run:\n{text}");
    for shot in ["signin-zh.png", "signin-en.png"] {
        assert!(shots.join(shot).is_file(), "{shot} missing");
    }
}

/// Run one node test file against `url` with extra env; returns how many tests passed.
fn run_node(root: &Path, file: &str, env: &[(&str, String)]) -> u32 {
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-reporter=spec", file])
        .current_dir(root)
        .env("ATRIUM_SCREENSHOT_DIR", root.join("target/browser"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("node is installed");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser tests failed:\n{text}");
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("ℹ pass ")
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
        .unwrap_or(0)
}

/// Must show 6: in Chromium, an administrator signs in, is made to enrol TOTP (QR code and
/// secret), gets recovery codes, signs out, signs in again with password and a fresh code, and
/// is signed out by the idle timeout.
#[test]
fn sign_in_with_totp_enrol_sign_out_and_idle_timeout_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(why) = browser_ready(root) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the browser test: {why}"
        );
        eprintln!("skipping: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let password = "Browser-Admin-2026";
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--username",
            "web.admin",
            "--role",
            "sysadmin",
        ])
        .args(["--display-name", "王管理"])
        .arg("--data-dir")
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    }
    assert!(child.wait().unwrap().success());
    let idle = "4";
    let s = Server::spawn_in(dir.path(), &[("ATRIUM_AUTH__IDLE_TIMEOUT", "4s")]);
    let passed = run_node(
        root,
        "tests/browser/identity.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_ADMIN_USER", "web.admin".into()),
            ("ATRIUM_ADMIN_PASSWORD", password.into()),
            ("ATRIUM_IDLE_SECS", idle.into()),
        ],
    );
    assert!(passed >= 1, "the identity browser test did not run");
    // What the browser did is in the audit log.
    let (code, out, _) = crate::support::run(
        dir.path(),
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
}
