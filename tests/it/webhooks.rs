//! Event webhooks (issue 5, must show 4): the customer system's webhook is down while customers
//! write and agents work, Atrium is killed and restarted, and when the receiver comes back
//! every event and every reply arrives exactly once by event id, in order per conversation,
//! signed. Also: what a subscription receives (PII masked, notes never sent, inbox filter), a
//! refused event in the administrators' list with a resend, and who may change subscriptions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::desk::{
    ApiInbox, Delivery, Desk, PW, Webhook, agent, api_inbox, customer_says, eventually, team,
    verify_signature,
};
use crate::identity::{no_required_totp, seed_user};
use crate::support::{Server, TestApp};

const ALL_EVENTS: [&str; 6] = [
    "conversation.created",
    "message.created",
    "conversation.assigned",
    "conversation.resolved",
    "contact.updated",
    "csat.submitted",
];

/// Subscribe `url` as a system administrator; returns (id, secret).
fn subscribe(admin: &Desk, url: &str, events: &[&str], inbox: Option<i64>) -> (i64, String) {
    let (s, v) = admin.call(
        "POST",
        "/api/v1/webhooks",
        Some(json!({"name": "CRM", "url": url, "events": events, "inbox_id": inbox})),
    );
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (
        v["id"].as_i64().unwrap(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

fn rate(
    base: &str,
    inbox: &ApiInbox,
    conv: i64,
    rating: i64,
    comment: &str,
) -> (StatusCode, Value) {
    let r = Client::new()
        .post(format!(
            "{base}/hooks/api/{}/conversations/{conv}/csat",
            inbox.id
        ))
        .bearer_auth(&inbox.token)
        .json(&json!({"rating": rating, "comment": comment}))
        .send()
        .unwrap();
    let s = r.status();
    (s, r.json().unwrap_or(Value::Null))
}

fn sysadmin(app: &TestApp) -> Desk {
    seed_user(app, "sys.admin", PW, &["sysadmin"], &[], &[]);
    Desk::login(&app.base, "sys.admin")
}

/// (event, message id if any) per conversation, in arrival order.
fn per_conversation(got: &[Delivery]) -> BTreeMap<i64, Vec<(String, Option<i64>)>> {
    let mut out: BTreeMap<i64, Vec<(String, Option<i64>)>> = BTreeMap::new();
    for d in got {
        let Some(conv) = d.body["data"]["conversation"]["id"].as_i64() else {
            continue;
        };
        out.entry(conv).or_default().push((
            d.body["event"].as_str().unwrap().to_string(),
            d.body["data"]["message"]["id"].as_i64(),
        ));
    }
    out
}

#[test]
fn events_and_replies_survive_a_dead_receiver_and_a_crash_and_arrive_exactly_once_in_order() {
    let mut replies_hook = Webhook::down();
    let mut events_hook = Webhook::down();
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "信用卡");
    let inbox = api_inbox(
        &app,
        "信用卡 App",
        Some(t),
        json!({"webhook": {"url": replies_hook.url()}, "sla": {"first_response_secs": 0, "next_response_secs": 0}}),
    );
    agent(&app, "agent.w", &[t], 10);
    let admin = sysadmin(&app);
    let (_, secret) = subscribe(&admin, &events_hook.url(), &ALL_EVENTS, None);
    let dir = app.stop();
    let data = dir.path().join("data");
    let env = [
        ("ATRIUM_OUTBOX__RETRY_FIRST", "100ms"),
        ("ATRIUM_OUTBOX__RETRY_MAX", "400ms"),
    ];
    let server = Server::spawn_on(dir.path(), &data, &env);
    let base = format!("http://{}", server.addr);

    // Three customers write; the agent takes each, replies twice, resolves; each customer
    // rates; one customer's system updates their profile. The receivers are down throughout.
    let desk = Desk::login(&base, "agent.w");
    let mut expected: BTreeMap<i64, Vec<(String, Option<i64>)>> = BTreeMap::new();
    let mut convs = Vec::new();
    for c in 0..3 {
        let (s, v) = customer_says(
            &base,
            &inbox,
            &format!("cust-{c}"),
            &format!("in-{c}"),
            "账单有问题",
        );
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation_id"].as_i64().unwrap();
        let e = expected.entry(conv).or_default();
        e.push(("conversation.created".into(), None));
        e.push(("message.created".into(), v["message_id"].as_i64()));
        desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
        e.push(("conversation.assigned".into(), None));
        convs.push(conv);
    }
    let mut replies: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in 0..2 {
        for conv in &convs {
            let m = desk.reply(*conv, &format!("第 {r} 条回复"));
            let id = m["id"].as_i64().unwrap();
            replies.entry(*conv).or_default().push(id);
            expected
                .entry(*conv)
                .or_default()
                .push(("message.created".into(), Some(id)));
        }
    }
    // A private note is never sent to integrations.
    let note = desk.ok(
        "POST",
        &format!("/api/v1/conversations/{}/messages", convs[0]),
        Some(json!({"body": "内部备注", "private": true})),
    );
    for conv in &convs {
        desk.ok(
            "POST",
            &format!("/api/v1/conversations/{conv}/status"),
            Some(json!({"status": "resolved"})),
        );
        let (s, v) = rate(&base, &inbox, *conv, 5, "很满意");
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        let e = expected.entry(*conv).or_default();
        e.push(("conversation.resolved".into(), None));
        e.push(("csat.submitted".into(), None));
    }
    let r = Client::new()
        .put(format!("{base}/hooks/api/{}/contacts/cust-0", inbox.id))
        .bearer_auth(&inbox.token)
        .json(&json!({"name": "王小明", "phone": "13812345678"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually(Duration::from_secs(20), "a failed event delivery", || {
        let log = server.log.lock().unwrap();
        (log.contains("webhook event not delivered") && log.contains("reply not delivered"))
            .then_some(())
    });
    let log = server.kill9();
    assert!(events_hook.deliveries().is_empty(), "{log}");

    // Restart after the crash; both receivers come back.
    let server = Server::spawn_on(dir.path(), &data, &env);
    events_hook.up();
    replies_hook.up();
    let total_events: usize = expected.values().map(Vec::len).sum::<usize>() + 1;
    let total_replies: usize = replies.values().map(Vec::len).sum();
    let got = eventually(Duration::from_secs(30), "every event delivered", || {
        let d = events_hook.deliveries();
        let r = replies_hook.deliveries();
        (d.len() >= total_events && r.len() >= total_replies).then_some(d)
    });
    // Give a duplicate the chance to show up before counting.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        events_hook.deliveries().len(),
        total_events,
        "no late duplicates"
    );
    assert_eq!(
        replies_hook.deliveries().len(),
        total_replies,
        "replies exactly once"
    );

    let ids: BTreeSet<&str> = got.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(ids.len(), total_events, "each event id once");
    for d in &got {
        verify_signature(&secret, d);
        assert_eq!(d.body["id"], d.event_id);
        assert!(d.event_id.starts_with("evt_"));
        assert_ne!(
            d.body["data"]["message"]["id"], note["id"],
            "a private note was sent"
        );
    }
    assert_eq!(
        per_conversation(&got),
        expected,
        "in order per conversation"
    );

    // The contact's update, with PII masked (the subscription does not include it).
    let contact = got
        .iter()
        .find(|d| d.body["event"] == "contact.updated")
        .map(|d| d.body["data"]["contact"].clone())
        .unwrap();
    assert_eq!(contact["masked"], true);
    assert_eq!(contact["phone"], "138****5678");
    assert_ne!(contact["name"], "王小明");
    let ext = contact["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "external")
        .unwrap();
    assert_eq!(
        ext["value"], "cust-0",
        "the customer system's own id is not masked"
    );
    // A rating carries what the customer gave.
    let csat = got
        .iter()
        .find(|d| d.body["event"] == "csat.submitted")
        .unwrap();
    assert_eq!(csat.body["data"]["rating"], 5);
    assert_eq!(csat.body["data"]["comment"], "很满意");
    assert_eq!(csat.body["data"]["conversation"]["status"], "resolved");

    // Replies in order per conversation on the API channel's own webhook.
    let mut per_conv: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for d in replies_hook.deliveries() {
        per_conv
            .entry(d.body["data"]["conversation_id"].as_i64().unwrap())
            .or_default()
            .push(d.body["data"]["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(per_conv, replies);
    drop(server);
}

#[test]
fn a_refused_event_is_listed_with_its_reason_and_a_resend_delivers_it_with_the_same_id() {
    let mut hook = Webhook::down();
    hook.up();
    hook.status.store(410, Ordering::SeqCst);
    let app = TestApp::with_env(
        &[
            ("ATRIUM_OUTBOX__RETRY_FIRST", "50ms"),
            ("ATRIUM_OUTBOX__RETRY_MAX", "200ms"),
        ],
        None,
    );
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    let other = api_inbox(&app, "Other", Some(t), json!({}));
    let admin = sysadmin(&app);
    // Only new conversations of one inbox.
    let (id, _) = subscribe(
        &admin,
        &hook.url(),
        &["conversation.created"],
        Some(inbox.id),
    );
    customer_says(&app.base, &other, "x", "o-1", "别的渠道");
    let (_, v) = customer_says(&app.base, &inbox, "c", "m-1", "你好");
    let conv = v["conversation_id"].as_i64().unwrap();

    // 410 is final: failed at once, listed with the reason.
    let failed = eventually(Duration::from_secs(10), "the event failed", || {
        let l = admin.get(&format!("/api/v1/webhooks/{id}/events?state=failed"));
        (l.as_array().unwrap().len() == 1).then_some(l)
    });
    let ev = &failed[0];
    assert_eq!(ev["event"], "conversation.created");
    assert_eq!(ev["subject_id"], conv);
    assert_eq!(ev["reason"], "webhook answered HTTP 410");
    let list = admin.get("/api/v1/webhooks");
    assert_eq!(list[0]["failed"], 1);
    assert_eq!(list[0]["pending"], 0);
    assert_eq!(
        hook.deliveries().len(),
        1,
        "the other inbox's conversation is not sent"
    );
    let first = hook.deliveries()[0].event_id.clone();

    // Resent: the same event id, delivered once; resending it again is refused.
    hook.status.store(200, Ordering::SeqCst);
    let eid = ev["id"].as_i64().unwrap();
    let (s, _) = admin.call(
        "POST",
        &format!("/api/v1/webhooks/{id}/events/{eid}/resend"),
        None,
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    eventually(Duration::from_secs(10), "redelivered", || {
        (hook.deliveries().len() == 2).then_some(())
    });
    assert_eq!(hook.deliveries()[1].event_id, first);
    // Marked sent once the receiver's answer is back (just after the receiver saw it).
    let sent = eventually(Duration::from_secs(10), "marked sent", || {
        let l = admin.get(&format!("/api/v1/webhooks/{id}/events?state=sent"));
        (!l.as_array().unwrap().is_empty()).then_some(l)
    });
    assert_eq!(sent.as_array().unwrap().len(), 1);
    let (s, v) = admin.call(
        "POST",
        &format!("/api/v1/webhooks/{id}/events/{eid}/resend"),
        None,
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (s, _) = admin.call(
        "POST",
        &format!("/api/v1/webhooks/{id}/events/999999/resend"),
        None,
    );
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Every change was audited.
    let f = atrium::store::audit::Filter {
        limit: 500,
        ..Default::default()
    };
    let actions: Vec<String> = app
        .state
        .store
        .read_blocking(move |c, _| atrium::store::audit::list(c, &f))
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    for a in ["webhook.create", "webhook.resend"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

#[test]
fn subscriptions_are_validated_and_only_administrators_change_them() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    agent(&app, "agent.n", &[t], 5);
    let admin = sysadmin(&app);
    let bad = [
        (
            json!({"name": "", "url": "http://127.0.0.1:9/x", "events": ["message.created"]}),
            "name",
        ),
        (
            json!({"name": "a", "url": "ftp://127.0.0.1/x", "events": ["message.created"]}),
            "url",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:9/x", "events": []}),
            "events",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:9/x", "events": ["message.deleted"]}),
            "events",
        ),
        (
            json!({"name": "a", "url": "http://127.0.0.1:9/x", "events": ["message.created"], "inbox_id": 424242}),
            "inbox_id",
        ),
    ];
    for (body, field) in bad {
        let (s, v) = admin.call("POST", "/api/v1/webhooks", Some(body.clone()));
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["details"].to_string().contains(field), "{body}: {v}");
    }
    // Unmasked PII needs pii:reveal, which a system administrator does not hold.
    let (s, v) = admin.call(
        "POST",
        "/api/v1/webhooks",
        Some(json!({"name": "a", "url": "http://127.0.0.1:9/x", "events": ["contact.updated"], "include_pii": true})),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // An agent can neither list nor create.
    let a = Desk::login(&app.base, "agent.n");
    let (s, _) = a.call("GET", "/api/v1/webhooks", None);
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = a.call(
        "POST",
        "/api/v1/webhooks",
        Some(json!({"name": "a", "url": "http://127.0.0.1:9/x", "events": ["message.created"]})),
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Create, rotate the secret (a new one), disable, delete.
    let (id, secret) = subscribe(&admin, "http://127.0.0.1:9/x", &["message.created"], None);
    let v = admin.ok("POST", &format!("/api/v1/webhooks/{id}/secret"), None);
    assert_ne!(v["secret"].as_str().unwrap(), secret);
    let (s, _) = admin.call(
        "PUT",
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({"name": "CRM 2", "url": "http://127.0.0.1:9/y", "events": ["message.created", "csat.submitted"], "enabled": false})),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let l = admin.get("/api/v1/webhooks");
    assert_eq!(l[0]["name"], "CRM 2");
    assert_eq!(l[0]["enabled"], false);
    assert_eq!(l[0]["events"], json!(["csat.submitted", "message.created"]));
    assert!(l[0].get("secret").is_none(), "the secret is never listed");
    let (s, _) = admin.call("DELETE", &format!("/api/v1/webhooks/{id}"), None);
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(admin.get("/api/v1/webhooks"), json!([]));
}

#[test]
fn a_conversation_is_rated_once_and_only_after_it_is_resolved() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    let other = api_inbox(&app, "Other", Some(t), json!({}));
    agent(&app, "agent.c", &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m-1", "你好");
    let conv = v["conversation_id"].as_i64().unwrap();
    let (s, v) = rate(&app.base, &inbox, conv, 4, "");
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let desk = Desk::login(&app.base, "agent.c");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/status"),
        Some(json!({"status": "resolved"})),
    );
    for bad in [0, 6] {
        let (s, v) = rate(&app.base, &inbox, conv, bad, "");
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }
    let (s, _) = rate(&app.base, &other, conv, 4, "");
    assert_eq!(s, StatusCode::NOT_FOUND, "another inbox's conversation");
    let (s, _) = rate(
        &app.base,
        &inbox,
        conv,
        4,
        "<script>alert(1)</script>解答清楚",
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = rate(&app.base, &inbox, conv, 1, "");
    assert_eq!(s, StatusCode::CONFLICT, "rated once");
    // The agent sees the rating in the history.
    let msgs = desk.get(&format!("/api/v1/conversations/{conv}/messages"));
    let line = msgs
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"]["event"] == "csat")
        .unwrap();
    assert_eq!(line["content"]["rating"], 4);
    assert_eq!(
        line["content"]["comment"],
        "<script>alert(1)</script>解答清楚"
    );
    assert_eq!(line["direction"], "system");
}
