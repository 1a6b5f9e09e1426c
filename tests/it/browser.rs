//! Must show 1: on a fresh machine, `atrium serve` with no config serves on 127.0.0.1:8080, and
//! the sign-in page renders in headless Chromium in zh-CN and English (screenshots in
//! `target/browser/`). The browser part is `tests/browser/*.test.mjs` (playwright-core driving
//! Debian's Chromium); `scripts/test.sh` installs both.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{BIN, Server, client};

/// True when Chromium and the driver are installed; otherwise says why the browser part is
/// skipped (never on CI, where the test command installs them).
/// Chromium tests run one at a time: several browsers and servers at once on a 2-core machine
/// slow each other down enough to turn every timing assumption into a flake.
static BROWSERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    BROWSERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn browser_or_skip(root: &Path) -> bool {
    match browser_ready(root) {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the browser test: {why}"
            );
            eprintln!("skipping the Chromium part: {why}");
            false
        }
    }
}

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

    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
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
    assert_screenshots(root, &["signin-zh.png", "signin-en.png"]);
}

/// Run one node test file against `url` with extra env; returns how many tests passed.
/// Each of `names` was saved under `target/browser` by the run.
fn assert_screenshots(root: &Path, names: &[&str]) {
    for shot in names {
        assert!(
            root.join("target/browser").join(shot).is_file(),
            "{shot} missing"
        );
    }
}

fn run_node(root: &Path, file: &str, env: &[(&str, String)], server: &Server) -> u32 {
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
    if !out.status.success() {
        // The server's side of the story, for a failure seen only in CI.
        let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(200).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "browser tests failed:\n{text}\n--- server log (last lines) ---\n{}",
            tail.join("\n")
        );
    }
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
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
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
        &s,
    );
    assert!(passed >= 1, "the identity browser test did not run");
    // What the browser did is in the audit log.
    let (code, out, _) = crate::support::run(
        dir.path(),
        &["audit", "verify", "--data-dir", data.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
}

/// Must show 1 of the conversation engine: in Chromium, two agents, three customers through
/// the open API channel; routing within capacity, a canned reply that reaches the customer
/// system, a transfer that keeps the history, the queued customer routed to the freed agent,
/// resolve. Screenshots in `target/browser/workspace-*.png`.
#[test]
fn two_agents_route_reply_with_a_canned_reply_transfer_and_resolve_in_chromium() {
    use crate::desk::{Webhook, agent, api_inbox, team};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let mut hook = Webhook::down();
    hook.up();
    let app = crate::support::TestApp::new();
    crate::identity::no_required_totp(&app);
    let t = team(&app, "信用卡中心");
    let inbox = api_inbox(
        &app,
        "手机银行 App",
        Some(t),
        serde_json::json!({"routing": {"mode": "round_robin"}, "webhook": {"url": hook.url()}}),
    );
    let a = agent(&app, "li.lei", &[t], 1);
    let b = agent(&app, "han.meimei", &[t], 1);
    let now = app.state.store.now_ms();
    let canned_id = app.state.store.next_id();
    app.state
        .store
        .write_blocking(move |c, _| {
            for (id, name) in [(a, "李雷"), (b, "韩梅梅")] {
                atrium::store::identity::update_user(c, id, Some(name), None, now)?;
            }
            atrium::store::canned::insert(
                c,
                &atrium::store::canned::Canned {
                    id: canned_id,
                    owner_id: None,
                    shortcut: "hello".into(),
                    title: "问候".into(),
                    body: "{{contact.name}}您好，我是{{agent.name}}，很高兴为您服务。".into(),
                    updated_at: now,
                },
                now,
            )
        })
        .unwrap();
    let dir = app.stop();
    let s = Server::spawn_on(
        dir.path(),
        &dir.path().join("data"),
        &[("ATRIUM_ROUTING__TICK", "200ms")],
    );
    let passed = run_node(
        root,
        "tests/browser/workspace.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_AGENT_A", "li.lei".into()),
            ("ATRIUM_AGENT_A_ID", a.to_string()),
            ("ATRIUM_AGENT_B", "han.meimei".into()),
            ("ATRIUM_AGENT_B_ID", b.to_string()),
            ("ATRIUM_AGENT_PASSWORD", crate::desk::PW.into()),
            ("ATRIUM_INBOX_ID", inbox.id.to_string()),
            ("ATRIUM_INBOX_TOKEN", inbox.token.clone()),
        ],
        &s,
    );
    assert!(passed >= 1, "the workspace browser test did not run");
    // The customer system received the canned reply once, for the first customer.
    let replies: Vec<_> = hook
        .deliveries()
        .into_iter()
        .filter(|d| {
            d.body["data"]["message"]["body"]
                .as_str()
                .is_some_and(|b| b.contains("很高兴为您服务"))
        })
        .collect();
    assert_eq!(replies.len(), 1, "{:?}", hook.deliveries());
    assert_eq!(
        replies[0].body["data"]["message"]["body"],
        "张*您好，我是李雷，很高兴为您服务。"
    );
    assert_screenshots(
        root,
        &[
            "workspace-queue-zh.png",
            "workspace-agent-a-reply-zh.png",
            "workspace-agent-b-transferred-zh.png",
            "workspace-resolved-zh.png",
        ],
    );
}

/// The dead-letter view in Chromium: a system administrator sees a refused reply with its
/// reason, not its content, and sends it again once the receiver is fixed; the receiver gets it
/// once more with the same event id. Screenshots in `target/browser/deliveries-*.png`.
#[test]
fn a_system_administrator_sees_and_resends_a_failed_delivery_in_chromium() {
    use std::sync::atomic::Ordering;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let mut hook = crate::desk::Webhook::down();
    hook.up();
    hook.status.store(400, Ordering::SeqCst);
    let app = crate::support::TestApp::new();
    let (desk, conv) = crate::desk::claimed_conversation(&app, &hook.url(), "agent.x");
    let id = desk.reply(conv, "机密内容：账户余额")["id"].clone();
    crate::desk::delivery_becomes(&desk, conv, &id, "failed", Duration::from_secs(10));
    crate::identity::seed_user(&app, "sys.admin", crate::desk::PW, &["sysadmin"], &[], &[]);
    let event_id = hook.deliveries()[0].event_id.clone();
    let dir = app.stop();
    // The customer system is fixed before the administrator resends.
    hook.status.store(200, Ordering::SeqCst);
    let s = Server::spawn_on(dir.path(), &dir.path().join("data"), &[]);
    let passed = run_node(
        root,
        "tests/browser/deliveries.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_ADMIN", "sys.admin".into()),
            ("ATRIUM_ADMIN_PASSWORD", crate::desk::PW.into()),
            ("ATRIUM_EVENT_ID", event_id.clone()),
        ],
        &s,
    );
    assert!(passed >= 1, "the deliveries browser test did not run");
    crate::desk::eventually(Duration::from_secs(10), "the resent reply", || {
        (hook.deliveries().len() == 2).then_some(())
    });
    assert_eq!(hook.deliveries()[1].event_id, event_id);
    assert_screenshots(
        root,
        &["deliveries-failed-zh.png", "deliveries-resent-zh.png"],
    );
}

/// Event webhooks in Chromium: a system administrator subscribes the customer system (the secret
/// is shown once), the receiver refuses the first events, the page shows them failed with the
/// receiver's answer, and a resend delivers one again with the same event id. Screenshots in
/// `target/browser/webhooks-*.png`.
#[test]
fn a_system_administrator_subscribes_a_webhook_and_resends_a_refused_event_in_chromium() {
    use std::sync::atomic::Ordering;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let mut hook = crate::desk::Webhook::down();
    hook.up();
    hook.status.store(410, Ordering::SeqCst);
    let app = crate::support::TestApp::new();
    crate::identity::no_required_totp(&app);
    let t = crate::desk::team(&app, "T");
    let inbox = crate::desk::api_inbox(&app, "App", Some(t), serde_json::json!({}));
    let web = crate::widget::web_inbox(
        &app,
        Some(t),
        serde_json::json!({"widget": {"allowed_origins": ["https://www.bank.example"], "welcome": "您好！"}}),
    );
    crate::identity::seed_user(&app, "sys.admin", crate::desk::PW, &["sysadmin"], &[], &[]);
    let dir = app.stop();
    let s = Server::spawn_on(dir.path(), &dir.path().join("data"), &[]);
    // The receiver refuses the two events of the first message, then accepts.
    let (received, status) = (hook.received.clone(), hook.status.clone());
    std::thread::spawn(move || {
        for _ in 0..1200 {
            if received.lock().unwrap().len() >= 2 {
                status.store(200, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let passed = run_node(
        root,
        "tests/browser/webhooks.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_ADMIN", "sys.admin".into()),
            ("ATRIUM_ADMIN_PASSWORD", crate::desk::PW.into()),
            ("ATRIUM_HOOK_URL", hook.url()),
            ("ATRIUM_INBOX", inbox.id.to_string()),
            ("ATRIUM_INBOX_TOKEN", inbox.token.clone()),
            ("ATRIUM_WEB_INBOX", web.id.to_string()),
        ],
        &s,
    );
    assert!(passed >= 1, "the webhooks browser test did not run");
    let got = crate::desk::eventually(Duration::from_secs(10), "the resent event", || {
        let d = hook.deliveries();
        (d.len() == 3).then_some(d)
    });
    assert!(
        got[..2].iter().any(|d| d.event_id == got[2].event_id),
        "resent with the same event id"
    );
    assert_screenshots(
        root,
        &[
            "webhooks-create-zh.png",
            "webhooks-secret-zh.png",
            "webhooks-failed-zh.png",
            "inbox-widget-settings-zh.png",
            "inbox-widget-prechat-zh.png",
        ],
    );
}

/// Issue 5, must show 1 and 3: a host page on another origin embeds the widget; a visitor chats
/// with an agent in the workspace, keeps the history over a reload and rates the resolved
/// conversation; an XSS corpus renders as text both ways. Screenshots in
/// `target/browser/widget-*.png`.
#[test]
fn a_visitor_chats_through_the_widget_on_another_site_and_rates_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let host_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = crate::support::TestApp::new();
    crate::identity::no_required_totp(&app);
    let t = crate::desk::team(&app, "个人银行");
    let w = crate::widget::web_inbox(
        &app,
        Some(t),
        serde_json::json!({
            "widget": {"allowed_origins": [format!("http://127.0.0.1:{host_port}")], "title": "网银在线客服",
                       "welcome": "您好，欢迎咨询！"},
            "sla": {"first_response_secs": 0, "next_response_secs": 0}
        }),
    );
    crate::desk::agent(&app, "li.lei", &[t], 5);
    let dir = app.stop();
    let s = Server::spawn_on(
        dir.path(),
        &dir.path().join("data"),
        &[("ATRIUM_LOG__LEVEL", "debug")],
    );
    let passed = run_node(
        root,
        "tests/browser/widget.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_AGENT", "li.lei".into()),
            ("ATRIUM_AGENT_PASSWORD", crate::desk::PW.into()),
            ("ATRIUM_WEB_INBOX", w.id.to_string()),
            ("ATRIUM_HOST_PORT", host_port.to_string()),
        ],
        &s,
    );
    assert!(passed >= 1, "the widget browser test did not run");
    drop(s);
    let app = crate::support::TestApp::start(dir, None);
    let ratings: Vec<(i64, String)> = app
        .state
        .store
        .read_blocking(|c, ring| {
            let mut st = c.prepare("SELECT conversation_id FROM csat_ratings")?;
            let ids: Vec<i64> = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(r) = atrium::store::csat::get(c, ring, id)? {
                    out.push((r.rating, r.comment));
                }
            }
            Ok(out)
        })
        .unwrap();
    assert_eq!(ratings, vec![(5, "解答很及时 <b>谢谢</b>".to_string())]);
    assert_screenshots(
        root,
        &[
            "widget-agent-zh.png",
            "widget-visitor-zh.png",
            "widget-files-zh.png",
            "widget-csat-zh.png",
            "widget-rated-zh.png",
            "widget-mobile-zh.png",
        ],
    );
}

/// The chat window's forms in Chromium: the pre-chat form (required name, checked phone) and
/// leaving a message outside business hours; what the visitors typed is on their contacts.
#[test]
fn a_visitor_fills_in_the_prechat_form_and_another_leaves_a_message_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let host_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let origin = format!("http://127.0.0.1:{host_port}");
    let app = crate::support::TestApp::new();
    let prechat = crate::widget::web_inbox(
        &app,
        None,
        serde_json::json!({"widget": {"allowed_origins": [origin],
            "prechat": {"name": "required", "phone": "optional", "email": "off"}}}),
    );
    let closed = crate::widget::web_inbox(
        &app,
        None,
        serde_json::json!({"widget": {"allowed_origins": [origin], "language": "en"},
            "hours": {"utc_offset_minutes": 480, "weekly": [[], [], [], [], [], [], []]}}),
    );
    let invite = crate::widget::web_inbox(
        &app,
        None,
        serde_json::json!({"widget": {"allowed_origins": [origin], "invitations": [
            {"message": "欢迎回来", "delay_secs": 1, "url_contains": "", "returning_only": true},
            {"message": "想了解贷款利率吗？", "delay_secs": 1, "url_contains": "/LOANS", "returning_only": false}]}}),
    );
    let dir = app.stop();
    let s = Server::spawn_on(dir.path(), &dir.path().join("data"), &[]);
    let passed = run_node(
        root,
        "tests/browser/widget-forms.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_PRECHAT_INBOX", prechat.id.to_string()),
            ("ATRIUM_CLOSED_INBOX", closed.id.to_string()),
            ("ATRIUM_INVITE_INBOX", invite.id.to_string()),
            ("ATRIUM_HOST_PORT", host_port.to_string()),
        ],
        &s,
    );
    assert_eq!(passed, 3, "the forms browser tests did not all run");
    drop(s);
    let app = crate::support::TestApp::start(dir, None);
    // Each visitor's contact carries what they typed; their messages are stored.
    let contacts: Vec<(Option<String>, Option<String>, Option<String>)> = app
        .state
        .store
        .read_blocking(|c, ring| {
            let mut st = c.prepare("SELECT id FROM contacts ORDER BY id")?;
            let ids: Vec<i64> = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(k) =
                    atrium::store::contacts::get_contact(c, ring, atrium::domain::ContactId(id))?
                {
                    out.push((k.fields.name, k.fields.phone, k.fields.email));
                }
            }
            Ok(out)
        })
        .unwrap();
    assert_eq!(
        contacts,
        vec![
            (
                Some("张医生的患者".into()),
                Some("13912345678".into()),
                None
            ),
            (Some("Ms Li".into()), None, Some("li@example.com".into())),
            (None, None, None),
        ]
    );
    // The pages the invited visitor's windows loaded on were recorded for the agents.
    let invite_id = invite.id;
    let urls: Vec<String> = app
        .state
        .store
        .read_blocking(move |c, ring| {
            let who: Vec<Vec<u8>> = c
                .prepare("SELECT DISTINCT visitor FROM web_visits WHERE inbox_id = ?1")?
                .query_map([invite_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for w in who {
                out.extend(atrium::store::visits::list(c, ring, invite_id, &w)?);
            }
            out.sort_by_key(|v| v.id);
            Ok(out.into_iter().map(|v| v.url).collect())
        })
        .unwrap();
    let paths: Vec<&str> = urls
        .iter()
        .map(|u| u.split('?').next().unwrap_or(""))
        .map(|u| u.rsplit_once('/').map_or("", |(_, p)| p))
        .collect();
    assert_eq!(paths, ["apply", "loans"], "{urls:?}");
    assert_screenshots(
        root,
        &[
            "widget-prechat-zh.png",
            "widget-leave-message-en.png",
            "widget-leave-message-sent-en.png",
            "widget-invitation-zh.png",
        ],
    );
}

/// Issue 6 in Chromium: an administrator connects an Official Account inbox on its 微信 tab
/// (the connection test names WeChat's code for a wrong secret, then succeeds against the fake
/// WeChat server); a customer's encrypted push reaches the agent, whose answer reaches the fake
/// as a customer-service message. Screenshots in `target/browser/wechat-*.png`.
#[test]
fn an_administrator_connects_an_official_account_and_an_agent_answers_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !browser_or_skip(root) {
        return;
    }
    let _one_at_a_time = serial();
    let app = crate::support::TestApp::new();
    crate::identity::no_required_totp(&app);
    let t = crate::desk::team(&app, "门诊");
    crate::desk::agent(&app, "wx.agent", &[t], 5);
    crate::identity::seed_user(&app, "sys.admin", crate::desk::PW, &["sysadmin"], &[], &[]);
    let admin = crate::desk::Desk::login(&app.base, "sys.admin");
    let inbox = admin.ok(
        "POST",
        "/api/v1/inboxes",
        Some(serde_json::json!({"name": "医院服务号", "channel": "wechat_mp", "team_id": t})),
    )["id"]
        .as_i64()
        .unwrap();
    let w = admin.get(&format!("/api/v1/inboxes/{inbox}/wechat"));
    let dir = app.stop();
    let s = Server::spawn_on(
        dir.path(),
        &dir.path().join("data"),
        &[crate::support::ALLOW_LOOPBACK],
    );
    let cfg = atrium::channels::wechat::fake::FakeConfig {
        token: w["token"].as_str().unwrap().into(),
        encoding_aes_key: w["encoding_aes_key"].as_str().unwrap().into(),
        callback_url: Some(format!("http://{}/hooks/wechat/{inbox}", s.addr)),
        ..Default::default()
    };
    let fake = atrium::channels::wechat::fake::start("127.0.0.1:0", cfg.clone()).unwrap();
    let passed = run_node(
        root,
        "tests/browser/wechat.test.mjs",
        &[
            ("ATRIUM_URL", format!("http://{}", s.addr)),
            ("ATRIUM_ADMIN", "sys.admin".into()),
            ("ATRIUM_AGENT", "wx.agent".into()),
            ("ATRIUM_PASSWORD", crate::desk::PW.into()),
            ("ATRIUM_INBOX", inbox.to_string()),
            ("ATRIUM_TOKEN", cfg.token.clone()),
            ("ATRIUM_FAKE", fake.url()),
            ("ATRIUM_APP_ID", cfg.app_id.clone()),
            ("ATRIUM_APP_SECRET", cfg.app_secret.clone()),
        ],
        &s,
    );
    assert!(passed >= 1, "the WeChat browser test did not run");
    assert_eq!(fake.fake.sends().len(), 1);
    assert_screenshots(
        root,
        &[
            "wechat-settings-test-failed-zh.png",
            "wechat-settings-connected-zh.png",
            "wechat-workspace-reply-zh.png",
        ],
    );
}
