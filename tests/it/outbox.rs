//! Must show 2: agents' replies go through the persistent outbox. The customer system's webhook
//! is down while agents reply, the server crashes (SIGKILL) and restarts, and when the webhook
//! comes back every reply arrives exactly once, in order per conversation, signed. A reply that
//! cannot be delivered is marked failed with its reason and can be sent again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::desk::{
    Desk, Webhook, agent, api_inbox, claimed_conversation, customer_says, delivery_becomes,
    eventually, message_in, team, verify_signature,
};
use crate::identity::no_required_totp;
use crate::support::{Server, TestApp};

const REPLIES_PER_CONVERSATION: usize = 4;

#[test]
fn replies_survive_a_dead_endpoint_and_a_crash_and_arrive_exactly_once_in_order() {
    // Seed with the in-process app, then run the real binary on the same data directory.
    let mut hook = Webhook::down();
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "理财");
    let inbox = api_inbox(
        &app,
        "理财 App",
        Some(t),
        json!({"webhook": {"url": hook.url()}, "sla": {"first_response_secs": 0, "next_response_secs": 0}}),
    );
    agent(&app, "agent.o", &[t], 10);
    let dir = app.stop();
    let data = dir.path().join("data");
    let env = [
        ("ATRIUM_OUTBOX__RETRY_FIRST", "100ms"),
        ("ATRIUM_OUTBOX__RETRY_MAX", "400ms"),
    ];
    let server = Server::spawn_on(dir.path(), &data, &env);
    let base = format!("http://{}", server.addr);

    // Three customers write; the agent takes each conversation and replies while the
    // customer system is down.
    let desk = Desk::login(&base, "agent.o");
    let mut sent: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut convs = Vec::new();
    for c in 0..3 {
        let (s, v) = customer_says(
            &base,
            &inbox,
            &format!("cust-{c}"),
            &format!("in-{c}"),
            "请问收益怎么算？",
        );
        assert_eq!(s, StatusCode::CREATED);
        let conv = v["conversation_id"].as_i64().unwrap();
        desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
        convs.push(conv);
    }
    for r in 0..REPLIES_PER_CONVERSATION {
        for conv in &convs {
            let m = desk.reply(*conv, &format!("会话 {conv} 的第 {r} 条回复"));
            assert_eq!(m["delivery"], "queued");
            sent.entry(*conv)
                .or_default()
                .push(m["id"].as_i64().unwrap());
        }
    }
    eventually(Duration::from_secs(20), "a failed delivery attempt", || {
        server
            .log
            .lock()
            .unwrap()
            .contains("reply not delivered")
            .then_some(())
    });
    let log = server.kill9();
    assert!(hook.deliveries().is_empty(), "{log}");

    // Restart after the crash; the customer system comes back.
    let server = Server::spawn_on(dir.path(), &data, &env);
    let base = format!("http://{}", server.addr);
    hook.up();
    let total = convs.len() * REPLIES_PER_CONVERSATION;
    let got = eventually(Duration::from_secs(30), "every reply delivered", || {
        let d = hook.deliveries();
        (d.len() >= total).then_some(d)
    });
    // Give a duplicate the chance to show up before counting.
    std::thread::sleep(Duration::from_millis(800));
    let got_after = hook.deliveries();
    assert_eq!(got_after.len(), got.len(), "late duplicate deliveries");
    assert_eq!(got.len(), total, "exactly once");
    let ids: BTreeSet<&str> = got.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(ids.len(), total, "event ids are unique");

    // In order per conversation, signed, with what the customer system needs.
    let mut per_conv: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for d in &got {
        verify_signature(&inbox.webhook_secret, d);
        assert_eq!(d.body["id"], d.event_id);
        assert_eq!(d.body["event"], "message.created");
        let data = &d.body["data"];
        assert!(
            data["contact"]["external_id"]
                .as_str()
                .unwrap()
                .starts_with("cust-")
        );
        per_conv
            .entry(data["conversation_id"].as_i64().unwrap())
            .or_default()
            .push(data["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(
        per_conv, sent,
        "each conversation's replies, in the order written"
    );

    // The workspace shows them delivered.
    let desk = Desk::login(&base, "agent.o");
    for conv in &convs {
        let msgs = desk.get(&format!("/api/v1/conversations/{conv}/messages"));
        for m in msgs
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outgoing")
        {
            assert_eq!(m["delivery"], "sent", "{m}");
        }
    }
    drop(server);
}

#[test]
fn a_refused_reply_is_marked_failed_with_its_reason_and_a_resend_delivers_it_once() {
    let mut hook = Webhook::down();
    hook.up();
    hook.status.store(400, Ordering::SeqCst);
    let app = TestApp::with_env(
        &[
            ("ATRIUM_OUTBOX__RETRY_FIRST", "50ms"),
            ("ATRIUM_OUTBOX__RETRY_MAX", "200ms"),
        ],
        None,
    );
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(
        &app,
        "App",
        Some(t),
        json!({"webhook": {"url": hook.url()}}),
    );
    agent(&app, "agent.r", &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m", "在吗");
    let conv = v["conversation_id"].as_i64().unwrap();
    let desk = Desk::login(&app.base, "agent.r");
    let mut sock = desk.socket(None);
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let reply = desk.reply(conv, "您好");
    let id = reply["id"].clone();

    // A 400 cannot be helped by retrying: failed at once, with the reason, on the socket too.
    let frames = sock.until(Duration::from_secs(10), |f| {
        f["type"] == "message.updated" && f["data"]["id"] == id && f["data"]["delivery"] == "failed"
    });
    let failed = &frames.last().unwrap()["data"];
    assert_eq!(failed["failure_reason"], "webhook answered HTTP 400");
    assert_eq!(message_in(&desk, conv, &id)["delivery"], "failed");
    assert_eq!(hook.deliveries().len(), 1);
    let first_key = hook.deliveries()[0].event_id.clone();

    // Only a failed message can be resent.
    let (s, v) = desk.call(
        "POST",
        &format!(
            "/api/v1/conversations/{conv}/messages/{}/resend",
            v["message_id"]
        ),
        None,
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // The customer system is fixed; the agent resends: one more delivery, same event id.
    hook.status.store(200, Ordering::SeqCst);
    let again = desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages/{id}/resend"),
        None,
    );
    assert_eq!(again["delivery"], "queued");
    delivery_becomes(&desk, conv, &id, "sent", Duration::from_secs(10));
    let d = hook.deliveries();
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[1].event_id, first_key,
        "the idempotency key survives a resend"
    );
    let (s, _) = desk.call(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages/{id}/resend"),
        None,
    );
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a delivered reply is not sent twice"
    );
}

#[test]
fn a_reply_that_cannot_be_delivered_in_time_is_given_up_with_the_reason() {
    let hook = Webhook::down();
    let app = TestApp::with_env(
        &[
            ("ATRIUM_OUTBOX__RETRY_FIRST", "50ms"),
            ("ATRIUM_OUTBOX__RETRY_MAX", "100ms"),
            ("ATRIUM_OUTBOX__GIVE_UP_AFTER", "1s"),
        ],
        None,
    );
    let (desk, conv) = claimed_conversation(&app, &hook.url(), "agent.g");
    let id = desk.reply(conv, "您好")["id"].clone();
    let m = delivery_becomes(&desk, conv, &id, "failed", Duration::from_secs(15));
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("webhook unreachable"),
        "{m}"
    );
}

/// Inbound messages through the open API channel are acknowledged only after their commit:
/// kill -9 the real server in the middle of a burst, three times; every message answered
/// 201 or 200 is stored, once.
#[test]
fn every_acknowledged_inbound_message_survives_sigkill_during_a_burst() {
    let app = TestApp::new();
    let inbox = api_inbox(&app, "App", None, json!({}));
    let dir = app.stop();
    let data = dir.path().join("data");
    let acked: std::sync::Arc<std::sync::Mutex<BTreeSet<i64>>> = Default::default();
    for round in 0..3 {
        let server = Server::spawn_on(dir.path(), &data, &[]);
        let base = format!("http://{}", server.addr);
        let before = acked.lock().unwrap().len();
        let senders: Vec<_> = (0..4)
            .map(|w| {
                let (base, inbox, acked) = (base.clone(), inbox.clone(), acked.clone());
                std::thread::spawn(move || {
                    for i in 0.. {
                        let r = reqwest::blocking::Client::new()
                            .post(format!("{base}/hooks/api/{}/messages", inbox.id))
                            .bearer_auth(&inbox.token)
                            .json(&json!({"message_id": format!("r{round}-w{w}-{i}"),
                                          "contact": {"id": format!("c{w}")}, "body": "在吗"}))
                            .send();
                        match r {
                            Ok(r) if r.status().is_success() => {
                                let v: Value = r.json().unwrap();
                                acked
                                    .lock()
                                    .unwrap()
                                    .insert(v["message_id"].as_i64().unwrap());
                            }
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        eventually(Duration::from_secs(30), "a burst under way", || {
            (acked.lock().unwrap().len() >= before + 40 + 13 * round).then_some(())
        });
        server.kill9();
        for s in senders {
            s.join().unwrap();
        }
        let db = rusqlite::Connection::open(data.join("atrium.db")).unwrap();
        let stored: BTreeSet<i64> = db
            .prepare("SELECT id FROM messages")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let acked = acked.lock().unwrap();
        let lost = acked.difference(&stored).count();
        assert_eq!(lost, 0, "round {round}: {lost} acknowledged messages lost");
        let distinct: i64 = db
            .query_row(
                "SELECT count(DISTINCT external_id) - count(*) FROM messages",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(distinct, 0, "a message stored twice");
    }
}

/// The administrators' dead-letter view: a delivery given up on is listed with its reason (no
/// content), only for those who manage channels, and resending it delivers it once with the
/// same event id.
#[test]
fn a_failed_delivery_is_listed_for_administrators_and_resent_once() {
    let mut hook = Webhook::down();
    hook.up();
    hook.status.store(400, Ordering::SeqCst);
    let app = TestApp::new();
    let (desk, conv) = claimed_conversation(&app, &hook.url(), "agent.d");
    let id = desk.reply(conv, "机密内容：账户余额")["id"].clone();
    delivery_becomes(&desk, conv, &id, "failed", Duration::from_secs(10));
    crate::identity::seed_user(&app, "sys.admin", crate::desk::PW, &["sysadmin"], &[], &[]);
    let admin = Desk::login(&app.base, "sys.admin");
    let list = admin.get("/api/v1/deliveries/failed");
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    let row = &rows[0];
    assert_eq!(row["conversation_id"], conv);
    assert_eq!(row["message_id"], id);
    assert_eq!(row["reason"], "webhook answered HTTP 400");
    assert_eq!(row["inbox_name"], "App");
    assert_eq!(row["event_id"], hook.deliveries()[0].event_id);
    assert!(
        !list.to_string().contains("机密内容"),
        "no message content: {list}"
    );
    // Filtered by inbox, and paged.
    let inbox = row["inbox_id"].as_i64().unwrap();
    assert_eq!(
        admin
            .get(&format!("/api/v1/deliveries/failed?inbox_id={inbox}"))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        admin
            .get(&format!(
                "/api/v1/deliveries/failed?inbox_id={}",
                inbox + 1000
            ))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let delivery = row["id"].as_i64().unwrap();
    assert!(
        admin
            .get(&format!("/api/v1/deliveries/failed?before={delivery}"))
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Agents do not see the administrators' view.
    let (s, _) = desk.call("GET", "/api/v1/deliveries/failed", None);
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = desk.call(
        "POST",
        &format!("/api/v1/deliveries/{delivery}/resend"),
        None,
    );
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The receiver is fixed; the administrator resends: delivered once, same event id.
    hook.status.store(200, Ordering::SeqCst);
    let (s, v) = admin.call(
        "POST",
        &format!("/api/v1/deliveries/{delivery}/resend"),
        None,
    );
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    delivery_becomes(&desk, conv, &id, "sent", Duration::from_secs(10));
    let d = hook.deliveries();
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].event_id, d[0].event_id);
    assert!(
        admin
            .get("/api/v1/deliveries/failed")
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (s, v) = admin.call(
        "POST",
        &format!("/api/v1/deliveries/{delivery}/resend"),
        None,
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{v}"
    );
    let (s, _) = admin.call("POST", "/api/v1/deliveries/987654321/resend", None);
    assert_eq!(s, StatusCode::NOT_FOUND);
    let audited = crate::identity::audit_records(&app, "delivery.resend");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].target, format!("delivery:{delivery}"));

    // A failed reply the agent then recalls is not a delivery to retry: it leaves the list.
    hook.status.store(400, Ordering::SeqCst);
    let second = desk.reply(conv, "发错了")["id"].clone();
    delivery_becomes(&desk, conv, &second, "failed", Duration::from_secs(10));
    assert_eq!(
        admin
            .get("/api/v1/deliveries/failed")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages/{second}/recall"),
        None,
    );
    assert!(
        admin
            .get("/api/v1/deliveries/failed")
            .as_array()
            .unwrap()
            .is_empty()
    );
}
