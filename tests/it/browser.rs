//! Must show 1: on a fresh machine, `atrium serve` with no config serves on 127.0.0.1:8080, and
//! the sign-in page renders in headless Chromium in zh-CN and English (screenshots in
//! `target/browser/`). The browser part is `tests/browser/*.test.mjs` (playwright-core driving
//! Debian's Chromium); `scripts/test.sh` installs both.

use std::path::Path;
use std::process::Command;

use crate::support::{Server, client};

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
        .args(["--test", "--test-reporter=spec", "tests/browser/"])
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
