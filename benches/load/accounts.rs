//! Sign-in workload helpers: bench users made with the real `atrium admin create` command
//! beside the running server, and the login request each load connection sends.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Meets the default `mlps3` policy (length, four classes, not common, not the user name).
pub const PASSWORD: &str = "Bench-Pass-2026!";

/// The user name of bench user `i`.
pub fn username(i: usize) -> String {
    format!("bench{i}")
}

/// Create users `bench0..bench{n-1}` with role `agent` (no second factor required) through the
/// CLI, the password piped on stdin. Works while the server on `data_dir` runs.
pub fn create_users(data_dir: &Path, n: usize) {
    for i in 0..n {
        let mut child = Command::new(env!("CARGO_BIN_EXE_atrium"))
            .args(["admin", "create", "--username", &username(i)])
            .args(["--role", "agent", "--data-dir"])
            .arg(data_dir)
            .env("ATRIUM_LOG__LEVEL", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "atrium admin create {}: {}\n{}",
            username(i),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `POST /api/v1/auth/login` for bench user `i`, keep-alive, correct password.
pub fn login_request(i: usize) -> Vec<u8> {
    let body = serde_json::json!({ "username": username(i), "password": PASSWORD }).to_string();
    format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
