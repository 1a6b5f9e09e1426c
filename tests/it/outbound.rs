//! Outbound HTTP safety (issue "Website chat widget, open API channel, and signed webhooks",
//! must show 5): webhook URLs that reach loopback — directly, by a name, or by a redirect — are
//! refused unless a sysadmin allowed the range; the refusal is a clear error when the URL is
//! saved and a failed reply with its reason when it is only found out at send time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::desk::{Desk, PW, Webhook, api_inbox, claimed_conversation, team};
use crate::identity::{no_required_totp, seed_user};
use crate::support::TestApp;

/// The default policy: nothing internal is allowed.
const NO_ALLOW: (&str, &str) = ("ATRIUM_OUTBOUND__ALLOW", "");

fn save_webhook(d: &Desk, inbox: i64, team: i64, url: &str) -> (StatusCode, Value) {
    d.call(
        "PUT",
        &format!("/api/v1/inboxes/{inbox}"),
        Some(json!({"name": "App", "team_id": team, "disabled": false,
                    "settings": {"webhook": {"url": url}}})),
    )
}

/// The reply's delivery state once it is no longer queued.
fn settled(d: &Desk, conv: i64, id: &Value) -> Value {
    crate::desk::eventually(Duration::from_secs(15), "the reply settles", || {
        let msgs = d.get(&format!("/api/v1/conversations/{conv}/messages"));
        let m = msgs
            .as_array()
            .and_then(|a| a.iter().find(|m| m["id"] == *id).cloned())?;
        (m["delivery"] != "queued").then_some(m)
    })
}

#[test]
fn webhook_urls_reaching_loopback_are_refused_when_saved_unless_allowed() {
    let hook = Webhook::down();
    let port = hook.port;
    let app = TestApp::with_env(&[NO_ALLOW], None);
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    seed_user(&app, "sys.admin", PW, &["sysadmin"], &[], &[]);
    let d = Desk::login(&app.base, "sys.admin");
    for (url, class) in [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        (format!("http://localhost:{port}/hook"), "loopback"),
        (format!("http://[::1]:{port}/hook"), "loopback"),
        (format!("http://2130706433:{port}/hook"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "link-local",
        ),
        ("http://10.1.2.3/hook".into(), "a private address"),
    ] {
        let (s, v) = save_webhook(&d, inbox.id, t, &url);
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
            "{url}: {v}"
        );
        let detail = v["details"].to_string();
        assert!(
            detail.contains("webhook.url") && detail.contains(class),
            "{url}: {v}"
        );
    }
    // A public address is fine (nothing is sent when saving).
    let (s, v) = save_webhook(&d, inbox.id, t, "https://203.0.113.7/atrium");
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");

    // With the range allowed by the sysadmin, the same loopback URL is accepted.
    let dir = app.stop();
    let app = TestApp::start_with(
        dir,
        None,
        &[("ATRIUM_OUTBOUND__ALLOW", "127.0.0.1/32")],
        None,
    );
    let d = Desk::login(&app.base, "sys.admin");
    let (s, v) = save_webhook(&d, inbox.id, t, &format!("http://127.0.0.1:{port}/hook"));
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // Only that range: another loopback address stays refused.
    let (s, _) = save_webhook(&d, inbox.id, t, &format!("http://127.0.0.2:{port}/hook"));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn a_webhook_found_to_reach_loopback_at_send_time_fails_the_reply_with_the_reason() {
    // The URL was stored while loopback was allowed; the sysadmin has since removed the range.
    let mut hook = Webhook::down();
    hook.up();
    let app = TestApp::with_env(&[NO_ALLOW], None);
    let (desk, conv) = claimed_conversation(&app, &hook.url(), "agent.o");
    let reply = desk.reply(conv, "您好，请讲");
    let m = settled(&desk, conv, &reply["id"]);
    assert_eq!(m["delivery"], "failed", "{m}");
    let reason = m["failure_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("webhook address refused: 127.0.0.1 is loopback"),
        "{reason}"
    );
    assert!(hook.deliveries().is_empty(), "nothing reached the receiver");
}

#[test]
fn a_webhook_redirecting_to_loopback_is_not_followed() {
    // The receiver the sysadmin allowed (127.0.0.1) answers with a redirect to another
    // loopback address; the redirect target counts every request it gets.
    let hits = Arc::new(AtomicUsize::new(0));
    let target = tiny_http::Server::http("127.0.0.2:0").unwrap();
    let target_port = target.server_addr().to_ip().unwrap().port();
    let h = hits.clone();
    std::thread::spawn(move || {
        for req in target.incoming_requests() {
            h.fetch_add(1, Ordering::SeqCst);
            let _ = req.respond(tiny_http::Response::from_string("ok"));
        }
    });
    let redirector = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let redirector_port = redirector.server_addr().to_ip().unwrap().port();
    let location = format!("http://127.0.0.2:{target_port}/stolen");
    std::thread::spawn(move || {
        for req in redirector.incoming_requests() {
            let header = tiny_http::Header::from_bytes("Location", location.as_bytes()).unwrap();
            let _ = req.respond(
                tiny_http::Response::from_string("")
                    .with_status_code(307)
                    .with_header(header),
            );
        }
    });
    let app = TestApp::with_env(&[("ATRIUM_OUTBOUND__ALLOW", "127.0.0.1/32")], None);
    let url = format!("http://127.0.0.1:{redirector_port}/hook");
    let (desk, conv) = claimed_conversation(&app, &url, "agent.r");
    let reply = desk.reply(conv, "您好");
    let m = settled(&desk, conv, &reply["id"]);
    assert_eq!(m["delivery"], "failed", "{m}");
    assert_eq!(
        m["failure_reason"],
        "webhook answered HTTP 307 (redirects are not followed; configure the final URL)"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}
