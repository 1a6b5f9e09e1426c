//! The conversation engine end to end over real HTTP: ingest (dedupe, validation, unknown and
//! disabled inboxes, deleted contacts), routing within capacity, transfer with history, and the
//! bad input the issue lists (scope, foreign origins, script in text fields).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::desk::{Desk, agent, api_inbox, customer_says, eventually, post_inbound, team};
use crate::identity::no_required_totp;
use crate::support::{TestApp, futures_lite_block_on};

const WAIT: Duration = Duration::from_secs(15);

fn message_count(app: &TestApp) -> i64 {
    app.state
        .store
        .read_blocking(|c, _| atrium::store::contacts::count_messages(c))
        .unwrap()
}

#[test]
fn ingest_stores_once_acknowledges_with_ids_and_refuses_bad_input_with_stable_codes() {
    let app = TestApp::new();
    let t = team(&app, "客服一组");
    let inbox = api_inbox(&app, "手机银行", Some(t), json!({}));
    let base = &app.base;

    // First delivery: 201 with the ids; a retry of the same message id: 200, same ids.
    let (s, first) = customer_says(base, &inbox, "cust-1", "m-1", "您好，我的卡被锁了");
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["duplicate"], false);
    let (s, again) = customer_says(base, &inbox, "cust-1", "m-1", "您好，我的卡被锁了");
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    for k in ["message_id", "conversation_id", "contact_id"] {
        assert_eq!(again[k], first[k], "{k}");
    }
    // The Idempotency-Key header works like message_id.
    let payload = json!({"contact": {"id": "cust-1"}, "body": "补充一句"});
    let send_keyed = || {
        reqwest::blocking::Client::new()
            .post(format!("{base}/hooks/api/{}/messages", inbox.id))
            .bearer_auth(&inbox.token)
            .header("Idempotency-Key", "key-42")
            .json(&payload)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(send_keyed(), StatusCode::CREATED);
    assert_eq!(send_keyed(), StatusCode::OK);
    // The same customer continues the same conversation.
    let (_, next) = customer_says(base, &inbox, "cust-1", "m-2", "还在吗？");
    assert_eq!(next["conversation_id"], first["conversation_id"]);
    assert_eq!(message_count(&app), 3);

    // Bad input: each answered with its code, nothing stored.
    let other = api_inbox(&app, "CRM", Some(t), json!({}));
    let cases: Vec<(Value, &str, StatusCode, &str)> = vec![
        (
            json!({"contact": {"id": "c"}, "body": ""}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": ""}, "body": "x"}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c"}, "body": "x", "kind": "hologram"}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c"}, "body": "x".repeat(20_001)}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c".repeat(300)}, "body": "x"}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c", "phone": "1".repeat(33)}, "body": "x"}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c", "name": "名".repeat(101)}, "body": "x"}),
            "token",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"contact": {"id": "c"}, "body": "x", "extra": 1}),
            "token",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"contact": {"id": "c"}, "body": "x"}),
            "other",
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            json!({"contact": {"id": "c"}, "body": "x"}),
            "none",
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    for (body, token, status, code) in cases {
        let mut rb = reqwest::blocking::Client::new()
            .post(format!("{base}/hooks/api/{}/messages", inbox.id))
            .json(&body);
        match token {
            "token" => rb = rb.bearer_auth(&inbox.token),
            "other" => rb = rb.bearer_auth(&other.token),
            _ => {}
        }
        let r = rb.send().unwrap();
        assert_eq!(r.status(), status, "{body}");
        let v: Value = r.json().unwrap();
        assert_eq!(v["code"], code, "{v}");
        assert!(v["request_id"].is_string());
    }
    let r = reqwest::blocking::Client::new()
        .post(format!("{base}/hooks/api/{}/messages", inbox.id))
        .bearer_auth(&inbox.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message_count(&app), 3);

    // The engine itself: an unknown inbox and a disabled inbox are refused by name.
    let msg = |inbox_id| atrium::domain::InboundMessage {
        inbox_id,
        external_id: Some("e-1".into()),
        identities: vec![atrium::domain::IdentityClaim {
            kind: atrium::domain::IdentityKind::External,
            value: "c".into(),
            verified: true,
        }],
        profile: Default::default(),
        kind: atrium::domain::MessageKind::Text,
        body: "x".into(),
        content: None,
        context: Default::default(),
        attachments: Vec::new(),
    };
    let e = futures_lite_block_on(app.state.engine.ingest(msg(987_654))).unwrap_err();
    assert!(
        matches!(e, atrium::engine::Error::UnknownInbox(987_654)),
        "{e}"
    );
    let now = app.state.store.now_ms();
    let id = other.id;
    app.state
        .store
        .write_blocking(move |c, _| {
            atrium::store::inboxes::update(c, id, "CRM", None, "{}", true, now)
        })
        .unwrap();
    app.state.engine.inbox_changed(other.id);
    let (s, v) = post_inbound(base, &other, &json!({"contact": {"id": "c"}, "body": "x"}));
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("inbox_disabled"))
    );
    assert_eq!(message_count(&app), 3);
}

#[test]
fn a_message_for_a_deleted_contact_starts_a_new_contact_and_nothing_is_lost() {
    let app = TestApp::new();
    let inbox = api_inbox(&app, "App", None, json!({}));
    let (_, first) = customer_says(&app.base, &inbox, "cust-9", "a", "第一条");
    let old = first["contact_id"].as_i64().unwrap();
    let now = app.state.store.now_ms();
    app.state
        .store
        .write_blocking(move |c, _| {
            c.execute(
                "UPDATE contacts SET deleted_at = ?2 WHERE id = ?1",
                rusqlite::params![old, now],
            )?;
            Ok(())
        })
        .unwrap();
    let (s, second) = customer_says(&app.base, &inbox, "cust-9", "b", "第二条");
    assert_eq!(s, StatusCode::CREATED, "{second}");
    assert_ne!(second["contact_id"].as_i64().unwrap(), old);
    assert_ne!(second["conversation_id"], first["conversation_id"]);
    assert_eq!(message_count(&app), 2);
}

/// Conversations by id, as `desk` lists them in `view`.
fn listed(desk: &Desk, view: &str) -> Vec<Value> {
    desk.get(&format!(
        "/api/v1/conversations?view={view}&status=any&limit=200"
    ))
    .as_array()
    .unwrap()
    .clone()
}

fn assignee(desk: &Desk, conv: i64) -> Option<i64> {
    desk.get(&format!("/api/v1/conversations/{conv}"))["assignee"]["id"].as_i64()
}

#[test]
fn routing_assigns_round_robin_within_capacity_queues_the_rest_and_transfer_keeps_history() {
    let app = TestApp::with_env(&[("ATRIUM_ROUTING__TICK", "100ms")], None);
    no_required_totp(&app);
    let t = team(&app, "信用卡");
    let inbox = api_inbox(
        &app,
        "信用卡 App",
        Some(t),
        json!({"routing": {"mode": "round_robin"}, "sla": {"first_response_secs": 0, "next_response_secs": 0}}),
    );
    let a1 = agent(&app, "li.lei", &[t], 1);
    let a2 = agent(&app, "han.meimei", &[t], 1);
    let (d1, d2) = (
        Desk::login(&app.base, "li.lei"),
        Desk::login(&app.base, "han.meimei"),
    );
    let mut s1 = d1.socket(None);
    let _s2 = d2.socket(None);
    d1.set_status("online");
    d2.set_status("online");

    let mut convs = Vec::new();
    for (i, who) in ["张三", "李四", "王五"].iter().enumerate() {
        let (s, v) = customer_says(
            &app.base,
            &inbox,
            &format!("c{i}"),
            &format!("m{i}"),
            &format!("{who}：我要咨询账单"),
        );
        assert_eq!(s, StatusCode::CREATED);
        convs.push(v["conversation_id"].as_i64().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    // Two conversations get one agent each; the third waits first in the queue.
    let assigned = eventually(WAIT, "two assignments", || {
        let got: Vec<(i64, Option<i64>)> = convs.iter().map(|c| (*c, assignee(&d1, *c))).collect();
        (got.iter().filter(|(_, a)| a.is_some()).count() == 2).then_some(got)
    });
    let owners: Vec<i64> = assigned.iter().filter_map(|(_, a)| *a).collect();
    assert!(owners.contains(&a1) && owners.contains(&a2), "{assigned:?}");
    let (waiting, _) = assigned.iter().find(|(_, a)| a.is_none()).copied().unwrap();
    assert_eq!(waiting, convs[2], "served in order of arrival");
    // The queue is the dispatcher's: a conversation that arrived after its last pass gets its
    // place on the next one.
    let w = eventually(WAIT, "a queue place", || {
        let w = d1.get(&format!("/api/v1/conversations/{waiting}"));
        (!w["queue"].is_null()).then_some(w)
    });
    assert_eq!(w["queue"]["position"], 1, "{w}");
    assert!(w["queue"]["estimated_wait_ms"].as_i64().unwrap() > 0);
    // The agent's socket heard of its assignment.
    let mine = assigned.iter().find(|(_, a)| *a == Some(a1)).unwrap().0;
    s1.until(WAIT, |f| {
        f["type"] == "conversation.updated"
            && f["data"]["id"] == mine
            && f["data"]["assignee"]["id"] == a1
    });
    // Capacity holds: nobody got a second conversation.
    for d in [&d1, &d2] {
        assert_eq!(listed(d, "mine").len(), 1);
    }
    // The agent's own load follows on the socket (presence events carry status and load).
    s1.until(WAIT, |f| {
        f["type"] == "presence" && f["data"]["id"] == a1 && f["data"]["load"] == 1
    });
    // Only agents can be given conversations.
    let admin =
        crate::identity::seed_user(&app, "it.admin", crate::desk::PW, &["auditor"], &[], &[]);
    let (s, v) = d1.call(
        "POST",
        &format!("/api/v1/conversations/{mine}/transfer"),
        Some(json!({"assignee_id": admin, "note": ""})),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{v}"
    );

    // An agent replies with a canned reply rendered for the conversation.
    d1.ok(
        "POST",
        "/api/v1/canned-replies",
        Some(json!({"shortcut": "hello", "title": "问候", "body": "{{contact.name}}您好，我是{{agent.name}}"})),
    );
    let canned = d1.get("/api/v1/canned-replies?q=hel");
    assert_eq!(canned[0]["shortcut"], "hello");
    let text = d1.ok(
        "POST",
        &format!("/api/v1/conversations/{mine}/render"),
        Some(json!({"text": canned[0]["body"]})),
    )["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.ends_with("您好，我是li.lei"), "{text}");
    d1.reply(mine, &text);

    // Resolving frees capacity: the waiting conversation goes to that agent.
    d1.ok(
        "POST",
        &format!("/api/v1/conversations/{mine}/status"),
        Some(json!({"status": "resolved"})),
    );
    eventually(WAIT, "the queued conversation assigned", || {
        (assignee(&d1, waiting) == Some(a1)).then_some(())
    });

    // Transfer to the other agent with a note: the conversation moves with its whole history.
    let before: Vec<Value> = d1
        .get(&format!("/api/v1/conversations/{waiting}/messages"))
        .as_array()
        .unwrap()
        .clone();
    d1.ok(
        "POST",
        &format!("/api/v1/conversations/{waiting}/transfer"),
        Some(json!({"assignee_id": a2, "note": "客户要办分期，请跟进"})),
    );
    assert_eq!(assignee(&d2, waiting), Some(a2));
    let after: Vec<Value> = d2
        .get(&format!("/api/v1/conversations/{waiting}/messages"))
        .as_array()
        .unwrap()
        .clone();
    for m in &before {
        assert!(
            after.iter().any(|a| a["id"] == m["id"]),
            "history kept: {m}"
        );
    }
    let note = after.last().unwrap();
    assert_eq!(note["direction"], "system");
    assert_eq!(note["content"]["event"], "transferred");
    assert_eq!(note["content"]["note"], "客户要办分期，请跟进");
    assert_eq!(note["content"]["to"]["id"], a2);
    // The first agent no longer holds it; the second may act on it.
    assert!(listed(&d1, "mine").iter().all(|c| c["id"] != waiting));
    d2.reply(waiting, "您好，我来为您办理分期。");
}

#[test]
fn out_of_scope_actions_foreign_origins_and_script_text_are_refused_or_inert() {
    let app = TestApp::new();
    no_required_totp(&app);
    let (ta, tb) = (team(&app, "A"), team(&app, "B"));
    let inbox_b = api_inbox(&app, "B 渠道", Some(tb), json!({}));
    agent(&app, "agent.a", &[ta], 5);
    agent(&app, "agent.b", &[tb], 5);
    let xss = r#"<script>alert(1)</script><img src=x onerror=alert(2)> <a href="javascript:alert(3)">点我</a>"#;
    let (_, v) = customer_says(&app.base, &inbox_b, "cust-x", "x1", xss);
    let conv = v["conversation_id"].as_i64().unwrap();
    let contact = v["contact_id"].as_i64().unwrap();

    // Out of scope: 404 like a missing id, audited, and nothing written.
    let a = Desk::login(&app.base, "agent.a");
    let before = message_count(&app);
    for (m, p, body) in [
        ("GET", format!("/api/v1/conversations/{conv}"), None),
        (
            "POST",
            format!("/api/v1/conversations/{conv}/messages"),
            Some(json!({"body": "hi"})),
        ),
        ("POST", format!("/api/v1/conversations/{conv}/claim"), None),
        (
            "POST",
            format!("/api/v1/conversations/{conv}/status"),
            Some(json!({"status": "resolved"})),
        ),
        ("GET", format!("/api/v1/contacts/{contact}/timeline"), None),
        (
            "PUT",
            format!("/api/v1/contacts/{contact}"),
            Some(json!({"vip": true})),
        ),
    ] {
        let (s, v) = a.call(m, &p, body);
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{m} {p}"
        );
    }
    assert_eq!(message_count(&app), before);
    let denied = crate::identity::audit_records(&app, "access.denied");
    assert!(
        denied
            .iter()
            .any(|r| r.target == format!("conversation:{conv}"))
    );
    assert!(a.get("/api/v1/contacts").as_array().unwrap().is_empty());

    // The realtime socket from a foreign page: refused, audited.
    match a.socket_from("http://evil.example", None) {
        Err(status) => assert_eq!(status, "403"),
        Ok(_) => panic!("a foreign origin opened the socket"),
    }
    assert!(crate::identity::audit_records(&app, "access.denied").len() > denied.len());

    // Script in a message is stored and served as the plain text it is (the workspace renders
    // text, never HTML).
    let b = Desk::login(&app.base, "agent.b");
    let msgs = b.get(&format!("/api/v1/conversations/{conv}/messages"));
    assert_eq!(msgs[0]["body"], xss);
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/conversations/{conv}/messages", app.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An agent's script-bearing reply is stored verbatim too, and labels refuse control characters.
    let sent = b.reply(conv, "<b>粗体</b><script>x()</script>");
    assert_eq!(sent["body"], "<b>粗体</b><script>x()</script>");
    let (s, v) = b.call(
        "PUT",
        &format!("/api/v1/conversations/{conv}/labels"),
        Some(json!({"labels": ["ok", "bad\u{0}label"]})),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
}

#[test]
fn attachments_over_the_limit_or_with_a_lying_extension_are_refused() {
    let app = TestApp::with_env(&[("ATRIUM_ATTACHMENTS__MAX_BYTES", "2048")], None);
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    agent(&app, "agent.f", &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m", "请看附件");
    let conv = v["conversation_id"].as_i64().unwrap();
    let d = Desk::login(&app.base, "agent.f");
    let upload = |name: &str, bytes: Vec<u8>| {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        d.upload(&format!("/api/v1/attachments?conversation_id={conv}"), form)
    };
    let png = crate::desk::tiny_png();
    let (s, ok) = upload("截图.png", png.clone());
    assert_eq!(s, StatusCode::CREATED, "{ok}");
    // An executable named like a picture.
    let (s, v) = upload(
        "invoice.png",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(),
    );
    assert!(
        matches!(
            v["code"].as_str(),
            Some("attachment_type_mismatch" | "attachment_type_not_allowed")
        ),
        "{s} {v}"
    );
    // A PNG claiming to be a PDF.
    let (s, v) = upload("report.pdf", png);
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("attachment_type_mismatch")
        )
    );
    // Over the configured limit.
    let (s, v) = upload("big.txt", vec![b'a'; 4096]);
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("attachment_too_large"))
    );
    // The accepted one can be sent, and downloaded only in scope.
    let sent = d.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "", "attachment_ids": [ok["id"]]})),
    );
    assert_eq!(sent["attachments"][0]["content_type"], "image/png");
}

#[test]
fn one_person_writing_from_two_channels_with_the_same_verified_phone_is_one_contact() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "零售");
    let app_inbox = api_inbox(&app, "手机银行 App", Some(t), json!({}));
    let mini = api_inbox(&app, "小程序后端", Some(t), json!({}));
    agent(&app, "agent.m", &[t], 5);
    let say = |inbox, id: &str, mid: &str, phone: Option<(&str, bool)>, body: &str| {
        let mut contact = json!({"id": id, "name": "赵六"});
        if let Some((p, verified)) = phone {
            contact["phone"] = json!(p);
            contact["phone_verified"] = json!(verified);
        }
        let (s, v) = post_inbound(
            &app.base,
            inbox,
            &json!({"message_id": mid, "contact": contact, "body": body}),
        );
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    };
    // The app knows the customer's verified phone.
    let a = say(
        &app_inbox,
        "u-100",
        "a1",
        Some(("138 0013 8000", true)),
        "App 里问：信用卡额度",
    );
    // The mini-program first writes without it: a separate contact for now.
    let b = say(&mini, "wx-9", "b1", None, "小程序里问：额度怎么提");
    assert_ne!(a["contact_id"], b["contact_id"]);
    // An unverified phone never links anyone.
    let b2 = say(
        &mini,
        "wx-9",
        "b2",
        Some(("+86 138-0013-8000", false)),
        "手机号是这个",
    );
    assert_eq!(b2["contact_id"], b["contact_id"]);
    // Then it sends the phone it verified (same number, other spelling): one contact.
    let b3 = say(
        &mini,
        "wx-9",
        "b3",
        Some(("+8613800138000", true)),
        "已验证手机号",
    );
    assert_eq!(b3["contact_id"], a["contact_id"]);
    // Later messages from either channel land on that contact.
    let b4 = say(&mini, "wx-9", "b4", None, "谢谢");
    assert_eq!(b4["contact_id"], a["contact_id"]);

    let d = Desk::login(&app.base, "agent.m");
    let id = a["contact_id"].as_i64().unwrap();
    let contact = d.get(&format!("/api/v1/contacts/{id}"));
    let inboxes: Vec<i64> = contact["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["inbox"]["id"].as_i64().unwrap())
        .collect();
    assert!(
        inboxes.contains(&app_inbox.id) && inboxes.contains(&mini.id),
        "{contact}"
    );
    assert_eq!(contact["phone"], "138****8000");
    let timeline: Vec<String> = d
        .get(&format!("/api/v1/contacts/{id}/timeline"))
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "incoming")
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        timeline,
        [
            "App 里问：信用卡额度",
            "小程序里问：额度怎么提",
            "手机号是这个",
            "已验证手机号",
            "谢谢"
        ]
    );
    // The directory lists one contact, found by the phone too.
    let found = d.get("/api/v1/contacts?q=13800138000");
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], id);
    // The automatic merge is in the audit log.
    let merges = crate::identity::audit_records(&app, "contact.merge");
    assert_eq!(merges.len(), 1);
    assert_eq!(merges[0].target, format!("contact:{id}"));
}

#[test]
fn team_keyword_rules_apply_and_overflow_targets_are_checked() {
    let app = TestApp::with_env(&[("ATRIUM_ROUTING__TICK", "100ms")], None);
    no_required_totp(&app);
    let (loans, cards) = (team(&app, "贷款"), team(&app, "信用卡"));
    let inbox = api_inbox(&app, "App", Some(cards), json!({}));
    let admin =
        crate::identity::seed_user(&app, "sys.admin", crate::desk::PW, &["sysadmin"], &[], &[]);
    let _ = admin;
    let d = Desk::login(&app.base, "sys.admin");
    // A team cannot overflow into itself, nor into a team that does not exist.
    for (target, why) in [(cards, "itself"), (987_654, "missing")] {
        let (s, v) = d.call(
            "PUT",
            &format!("/api/v1/teams/{cards}/settings"),
            Some(json!({"settings": {"routing": {"overflow_team_id": target}}})),
        );
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {v}");
    }
    let (s, _) = d.call(
        "PUT",
        &format!("/api/v1/inboxes/{}", inbox.id),
        Some(json!({"name": "App", "team_id": cards, "disabled": false,
                    "settings": {"routing": {"overflow_team_id": 987_654}}})),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The team's keyword rules set required skills for its inboxes' conversations.
    d.ok(
        "PUT",
        &format!("/api/v1/teams/{cards}/settings"),
        Some(json!({"settings": {"routing": {"skills": [{"keywords": ["分期"], "skill": "installments"}],
                                              "overflow_team_id": loans}}})),
    );
    let (_, v) = customer_says(&app.base, &inbox, "c1", "m1", "我想办理账单分期");
    let conv = v["conversation_id"].as_i64().unwrap();
    let skills: String = app
        .state
        .store
        .read_blocking(move |c, _| {
            Ok(c.query_row(
                "SELECT skills FROM conversations WHERE id = ?1",
                [conv],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(skills, r#"["installments"]"#);
    // 信用卡 now overflows into 贷款, so 贷款 may not overflow back (nor via a third team).
    let (s, v) = d.call(
        "PUT",
        &format!("/api/v1/teams/{loans}/settings"),
        Some(json!({"settings": {"routing": {"overflow_team_id": cards}}})),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("overflows back"), "{v}");
    let third = team(&app, "理财");
    d.ok(
        "PUT",
        &format!("/api/v1/teams/{loans}/settings"),
        Some(json!({"settings": {"routing": {"overflow_team_id": third}}})),
    );
    let (s, _) = d.call(
        "PUT",
        &format!("/api/v1/teams/{third}/settings"),
        Some(json!({"settings": {"routing": {"overflow_team_id": cards}}})),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn skill_rules_match_the_page_language_and_region_the_channel_gives() {
    let app = TestApp::new();
    let inbox = api_inbox(
        &app,
        "官网",
        None,
        json!({"routing": {"skills": [
            {"pages": ["/loans/"], "skill": "loans"},
            {"languages": ["en"], "skill": "english"},
            {"regions": ["HK"], "skill": "hk"}
        ]}}),
    );
    let (s, v) = post_inbound(
        &app.base,
        &inbox,
        &json!({"message_id": "1", "contact": {"id": "c"}, "body": "hello",
                "context": {"page": "https://bank.example/loans/apply", "language": "en-GB", "region": "hk"}}),
    );
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let conv = v["conversation_id"].as_i64().unwrap();
    let skills: String = app
        .state
        .store
        .read_blocking(move |c, _| {
            Ok(c.query_row(
                "SELECT skills FROM conversations WHERE id = ?1",
                [conv],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(skills, r#"["english","hk","loans"]"#);
    let (s, v) = post_inbound(
        &app.base,
        &inbox,
        &json!({"contact": {"id": "d"}, "body": "x", "context": {"language": "e".repeat(40)}}),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
}
