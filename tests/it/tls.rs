//! HTTPS with rustls, and certificate reload on SIGHUP without a restart.

use std::path::Path;
use std::process::Command;

use crate::support::Server;

fn make_cert(dir: &Path, cn: &str) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-days",
            "2",
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The subject CN the server presents, read with curl (verifying against `ca`).
fn served_cn(url: &str, ca: &Path) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-v", "--max-time", "10", "--cacert"])
        .arg(ca)
        .arg(url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err.lines()
        .find_map(|l| l.split("subject: CN=").nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no subject in {err}"))
}

#[test]
fn https_serves_and_reloads_the_certificate_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    make_cert(&tls, "atrium-one");
    let first_ca = dir.path().join("first.pem");
    std::fs::copy(tls.join("cert.pem"), &first_ca).unwrap();
    let s = Server::spawn_in(
        dir.path(),
        &[
            ("ATRIUM_TLS__CERT", tls.join("cert.pem").to_str().unwrap()),
            ("ATRIUM_TLS__KEY", tls.join("key.pem").to_str().unwrap()),
        ],
    );
    let url = format!("https://127.0.0.1:{}/healthz", s.addr.port());
    assert_eq!(served_cn(&url, &first_ca), "atrium-one");

    make_cert(&tls, "atrium-two");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(s.child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !s.log.lock().unwrap().contains("TLS certificate reloaded") {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload:\n{}",
            s.log.lock().unwrap()
        );
        std::thread::yield_now();
    }
    assert_eq!(served_cn(&url, &tls.join("cert.pem")), "atrium-two");
    let (status, _) = s.terminate();
    assert!(status.success());
}

#[test]
fn tls_on_all_interfaces_is_accepted_by_the_config_check() {
    let dir = tempfile::tempdir().unwrap();
    make_cert(dir.path(), "atrium");
    let (code, out, err) = crate::support::run_env(
        dir.path(),
        &["check-config", "--listen", "0.0.0.0:8443"],
        &[
            (
                "ATRIUM_TLS__CERT",
                dir.path().join("cert.pem").to_str().unwrap(),
            ),
            (
                "ATRIUM_TLS__KEY",
                dir.path().join("key.pem").to_str().unwrap(),
            ),
        ],
    );
    // check-config has no --listen flag: it must say so rather than ignore it.
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("--listen"), "{err}");
    let (code, out, err) = crate::support::run_env(
        dir.path(),
        &["check-config"],
        &[
            ("ATRIUM_HTTP__LISTEN", "0.0.0.0:8443"),
            (
                "ATRIUM_TLS__CERT",
                dir.path().join("cert.pem").to_str().unwrap(),
            ),
            (
                "ATRIUM_TLS__KEY",
                dir.path().join("key.pem").to_str().unwrap(),
            ),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0.0.0.0:8443"));
}
