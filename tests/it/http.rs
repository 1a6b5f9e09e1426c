//! The HTTP skeleton: health, readiness, metrics, headers, errors, limits, assets, shutdown.

use serde_json::Value;

use crate::support::{Server, TestApp, client};

fn assert_security_headers(r: &reqwest::blocking::Response) {
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h["x-request-id"].to_str().unwrap().len() >= 16);
}

#[test]
fn health_readiness_and_openapi() {
    let app = TestApp::new();
    let c = client();
    let r = c.get(app.url("/healthz")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers(&r);
    let r = c.get(app.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["status"], "ready");
    assert_eq!(v["schema_version"], atrium::store::migrations::LATEST);
    let doc: Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["info"]["title"], "Atrium API");
    for p in ["/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"][p].is_object(), "{p} missing from OpenAPI");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[test]
fn errors_have_code_message_and_request_id_for_every_kind() {
    let app = TestApp::with_routes(Some(crate::support::probe::routes));
    let c = client();
    let cases: Vec<(reqwest::blocking::RequestBuilder, u16, &str)> = vec![
        (c.get(app.url("/api/v1/nothing")), 404, "not_found"),
        (c.get(app.url("/missing.js")), 404, "not_found"),
        (
            c.post(app.url("/test/contacts"))
                .header("content-type", "application/json")
                .body("{nope"),
            400,
            "invalid_json",
        ),
        (
            c.post(app.url("/test/contacts"))
                .header("content-type", "application/json")
                .body(format!("{{\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024))),
            413,
            "payload_too_large",
        ),
        (
            c.post(app.url("/test/contacts"))
                .header("content-type", "text/plain")
                .body("hi"),
            400,
            "invalid_json",
        ),
    ];
    for (req, status, code) in cases {
        let r = req.send().unwrap();
        assert_eq!(r.status().as_u16(), status, "{code}");
        assert_security_headers(&r);
        let header_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["request_id"], header_id);
    }
}

#[test]
fn metrics_are_prometheus_text_and_loopback_only_without_token() {
    let app = TestApp::new();
    let c = client();
    c.get(app.url("/healthz")).send().unwrap();
    c.get(app.url("/readyz")).send().unwrap();
    let r = c.get(app.url("/metrics")).send().unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    for m in [
        "atrium_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "atrium_http_request_duration_seconds_bucket",
        "atrium_store_writer_batch_size_bucket",
        "atrium_store_writer_queue_depth",
        "atrium_store_writer_commit_seconds",
    ] {
        assert!(text.contains(m), "{m} missing:\n{text}");
    }
    // Relayed by a proxy: not local any more.
    let r = c
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[test]
fn metrics_token_lets_relayed_clients_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let token = "scrape-token-0123456789";
    let s = Server::spawn_in(dir.path(), &[("ATRIUM_METRICS__TOKEN", token)]);
    let c = client();
    let relayed = |auth: Option<&str>| {
        let mut r = c
            .get(s.url("/metrics"))
            .header("x-forwarded-for", "10.0.0.9");
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        r.send().unwrap().status().as_u16()
    };
    assert_eq!(relayed(None), 403);
    assert_eq!(relayed(Some("wrong-token-000000000")), 403);
    assert_eq!(relayed(Some(token)), 200);
    assert!(!s.log.lock().unwrap().contains(token), "token logged");
}

#[test]
fn front_end_is_embedded_with_caching_and_spa_fallback() {
    let app = TestApp::new();
    let c = client();
    let r = c.get(app.url("/")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.headers().contains_key("etag"));
    assert_security_headers(&r);
    let html = r.text().unwrap();
    assert!(html.contains("<div id=\"app\">"), "{html}");
    assert!(!html.contains("<script>"), "no inline scripts");
    // Deep links get the app too.
    let r = c.get(app.url("/login")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("<div id=\"app\">"));
    // Hashed assets are immutable and compressed on request.
    let asset = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("a hashed script in index.html")
        .to_string();
    let r = c
        .get(app.url(&asset))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // ETag revalidation.
    let etag = c.get(app.url("/")).send().unwrap().headers()["etag"].clone();
    let r = c
        .get(app.url("/"))
        .header("if-none-match", etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    // The API reference page.
    let r = c.get(app.url("/api-docs.html")).send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn sigterm_drains_flushes_and_closes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let s = Server::spawn_in(dir.path(), &[]);
    assert_eq!(client().get(s.url("/readyz")).send().unwrap().status(), 200);
    let (status, log) = s.terminate();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("database closed"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour escapes in a log that is not a terminal"
    );
    // The WAL was checkpointed and truncated on close.
    let wal = std::fs::metadata(data.join("atrium.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0);
}
