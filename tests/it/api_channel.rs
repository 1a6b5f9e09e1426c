//! The open API channel's read side: a customer system reads one of its inbox's conversations
//! with the inbox token, as the customer sees it — never agents' private notes, never another
//! inbox's conversations.

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::desk::{ApiInbox, Desk, agent, api_inbox, customer_says, team};
use crate::identity::no_required_totp;
use crate::support::TestApp;

fn read(
    app: &TestApp,
    inbox: i64,
    token: Option<&str>,
    conv: i64,
    query: &str,
) -> (StatusCode, Value) {
    let mut r =
        Client::new().get(app.url(&format!("/hooks/api/{inbox}/conversations/{conv}{query}")));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().unwrap();
    let s = r.status();
    (s, r.json().unwrap_or(Value::Null))
}

#[test]
fn a_customer_system_reads_its_conversation_without_private_notes_and_nothing_else() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    let other = api_inbox(&app, "Other", Some(t), json!({}));
    agent(&app, "agent.a", &[t], 5);
    let (_, v) = customer_says(&app.base, &inbox, "u-1", "m1", "我的卡被锁了");
    let conv = v["conversation_id"].as_i64().unwrap();
    customer_says(&app.base, &inbox, "u-1", "m2", "<script>alert(1)</script>");
    let (_, v) = customer_says(&app.base, &other, "u-9", "m1", "另一个渠道");
    let other_conv = v["conversation_id"].as_i64().unwrap();
    let desk = Desk::login(&app.base, "agent.a");
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    desk.reply(conv, "您好，请提供卡号后四位");
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "内部备注：疑似盗刷", "private": true})),
    );

    let (s, c) = read(&app, inbox.id, Some(&inbox.token), conv, "");
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["id"], conv);
    assert_eq!(c["status"], "open");
    let msgs = c["messages"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = msgs
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["body"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("incoming", "我的卡被锁了"),
            ("incoming", "<script>alert(1)</script>"),
            ("outgoing", "您好，请提供卡号后四位"),
        ],
        "oldest first, stored as plain text, no private note, no workspace system line"
    );
    assert!(!c.to_string().contains("内部备注"));
    assert_eq!(msgs[2]["sender"], "agent.a");
    assert!(msgs[2]["delivery"].is_string());
    assert_eq!(c["next_before"], Value::Null);

    // Pages of older messages, newest page first, until there is none (notes and system lines
    // are left out, so pages may be short).
    let mut all: Vec<String> = Vec::new();
    let mut query = "?limit=2".to_string();
    for _ in 0..10 {
        let (s, p) = read(&app, inbox.id, Some(&inbox.token), conv, &query);
        assert_eq!(s, StatusCode::OK, "{p}");
        let page: Vec<String> = p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_string())
            .collect();
        all.splice(0..0, page);
        match p["next_before"].as_i64() {
            Some(b) => query = format!("?limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(
        all,
        seen.iter().map(|(_, b)| b.to_string()).collect::<Vec<_>>()
    );

    // Only this inbox's token, only this inbox's conversations.
    for (token, conv_id, want) in [
        (None, conv, StatusCode::UNAUTHORIZED),
        (Some(other.token.as_str()), conv, StatusCode::UNAUTHORIZED),
        (Some("not-a-token"), conv, StatusCode::UNAUTHORIZED),
        (
            Some(inbox.token.as_str()),
            other_conv,
            StatusCode::NOT_FOUND,
        ),
        (
            Some(inbox.token.as_str()),
            987_654_321,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, v) = read(&app, inbox.id, token, conv_id, "");
        assert_eq!(s, want, "{v}");
        assert!(v["code"].is_string(), "{v}");
    }
    let (s, v) = read(&app, inbox.id, Some(&inbox.token), conv, "?limit=x");
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

fn identify(app: &TestApp, inbox: &ApiInbox, external: &str, body: Value) -> (StatusCode, Value) {
    let r = Client::new()
        .put(app.url(&format!("/hooks/api/{}/contacts/{external}", inbox.id)))
        .bearer_auth(&inbox.token)
        .json(&body)
        .send()
        .unwrap();
    let s = r.status();
    (s, r.json().unwrap_or(Value::Null))
}

/// The stored (decrypted) name, phone, VIP flag and attributes of a contact.
fn stored(app: &TestApp, id: i64) -> (Option<String>, Option<String>, bool, Value) {
    app.state
        .store
        .read_blocking(move |c, ring| {
            let id = atrium::domain::ContactId(id);
            let contact = atrium::store::contacts::get_contact(c, ring, id)?.unwrap();
            let (vip, attrs) = atrium::store::contacts::extra(c, ring, id)?.unwrap();
            Ok((contact.fields.name, contact.fields.phone, vip, attrs))
        })
        .unwrap()
}

#[test]
fn a_customer_system_identifies_and_updates_its_customer_and_verified_phones_link_channels() {
    let app = TestApp::new();
    let inbox = api_inbox(&app, "App", None, json!({}));
    let other = api_inbox(&app, "HIS", None, json!({}));

    // Identified before writing: created, then their first message lands on the same contact.
    let (s, v) = identify(
        &app,
        &inbox,
        "u-100",
        json!({"name": "张三", "vip": true, "attributes": {"等级": "白金卡", "branch": "徐汇支行"}}),
    );
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["created"], true);
    let id = v["contact_id"].as_i64().unwrap();
    let (_, m) = customer_says(&app.base, &inbox, "u-100", "m1", "你好");
    assert_eq!(m["contact_id"], id);
    assert_eq!(
        stored(&app, id),
        (
            Some("张三".into()),
            None,
            true,
            json!({"等级": "白金卡", "branch": "徐汇支行"})
        )
    );

    // Updated: the fields given replace, attributes merge, null removes, blanks change nothing.
    let (s, v) = identify(
        &app,
        &inbox,
        "u-100",
        json!({"name": "张三丰", "phone": "13800138000", "phone_verified": true, "email": "  ",
               "attributes": {"等级": "钻石卡", "branch": null}}),
    );
    assert_eq!(
        (s, v["created"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{v}"
    );
    assert_eq!(v["contact_id"], id);
    assert_eq!(
        stored(&app, id),
        (
            Some("张三丰".into()),
            Some("13800138000".into()),
            true,
            json!({"等级": "钻石卡"})
        )
    );

    // The hospital system knows the same person by the same verified phone: one contact.
    // Reached through a verified global id only, the contact is completed, not overwritten.
    let (s, v) = identify(
        &app,
        &other,
        "his-7",
        json!({"phone": "+86 138 0013 8000", "phone_verified": true, "name": "张（医院）",
               "vip": false, "attributes": {"等级": "普通", "科室": "内科"}}),
    );
    assert_eq!(
        (s, v["contact_id"].as_i64()),
        (StatusCode::OK, Some(id)),
        "{v}"
    );
    assert_eq!(
        stored(&app, id),
        (
            Some("张三丰".into()),
            Some("13800138000".into()),
            true,
            json!({"等级": "钻石卡", "科室": "内科"})
        ),
        "another channel's link fills gaps only"
    );
    let (_, m) = customer_says(&app.base, &other, "his-7", "m1", "挂号");
    assert_eq!(m["contact_id"], id);
    // An unverified phone never links.
    let (s, v) = identify(&app, &other, "his-8", json!({"phone": "13800138000"}));
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_ne!(v["contact_id"].as_i64(), Some(id));

    // Every identification is audited, without the personal data itself.
    let records = crate::identity::audit_records(&app, "contact.identify");
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .all(|r| !format!("{r:?}").contains("13800138000"))
    );

    // Bad input: clear errors, nothing written.
    for (body, why) in [
        (json!({"name": "x".repeat(101)}), "long name"),
        (
            json!({"attributes": {"k": {"nested": 1}}}),
            "nested attribute",
        ),
        (json!({"attributes": {"": 1}}), "empty key"),
        (json!({"nmae": "typo"}), "unknown field"),
    ] {
        let (s, v) = identify(&app, &inbox, "u-100", body);
        assert!(
            s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::BAD_REQUEST,
            "{why}: {s} {v}"
        );
        assert!(v["code"].is_string(), "{why}: {v}");
    }
    let too_many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    let (s, _) = identify(&app, &inbox, "u-100", json!({ "attributes": too_many }));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = identify(&app, &inbox, &"x".repeat(300), json!({}));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let foreign = ApiInbox {
        id: inbox.id,
        token: other.token.clone(),
        webhook_secret: String::new(),
    };
    let (s, _) = identify(&app, &foreign, "u-100", json!({"name": "冒名"}));
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&app, id).0.as_deref(), Some("张三丰"));
}

fn upload(app: &TestApp, inbox: &ApiInbox, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let r = Client::new()
        .post(app.url(&format!("/hooks/api/{}/attachments", inbox.id)))
        .bearer_auth(&inbox.token)
        .multipart(form)
        .send()
        .unwrap();
    let s = r.status();
    (s, r.json().unwrap_or(Value::Null))
}

fn fetch(app: &TestApp, inbox: &ApiInbox, path: &str) -> (StatusCode, Vec<u8>) {
    let r = Client::new()
        .get(app.url(path))
        .bearer_auth(&inbox.token)
        .send()
        .unwrap();
    (r.status(), r.bytes().unwrap().to_vec())
}

#[test]
fn files_go_both_ways_through_the_api_channel_and_stay_in_their_inbox() {
    let mut hook = crate::desk::Webhook::down();
    hook.up();
    let app = TestApp::with_env(&[("ATRIUM_ATTACHMENTS__MAX_BYTES", "4096")], None);
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(
        &app,
        "App",
        Some(t),
        json!({"webhook": {"url": hook.url()}}),
    );
    let other = api_inbox(&app, "Other", Some(t), json!({}));
    agent(&app, "agent.f", &[t], 5);
    let png = crate::desk::tiny_png();

    // The customer's screenshot: uploaded, then sent with a message.
    let (s, up) = upload(&app, &inbox, "截图.png", png.clone());
    assert_eq!(s, StatusCode::CREATED, "{up}");
    assert_eq!(up["content_type"], "image/png");
    let file = up["id"].as_i64().unwrap();
    assert_eq!(
        up["url"],
        format!("/hooks/api/{}/attachments/{file}", inbox.id)
    );
    let send = |msg_id: &str, via: &ApiInbox| {
        crate::desk::post_inbound(
            &app.base,
            via,
            &json!({"message_id": msg_id, "contact": {"id": "u-1"}, "kind": "image",
                    "attachments": [file]}),
        )
    };
    // Another inbox cannot send it; nothing is stored.
    let (s, v) = send("m0", &other);
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let other_id = other.id;
    let stored_in_other: i64 = app
        .state
        .store
        .read_blocking(move |c, _| {
            Ok(c.query_row(
                "SELECT count(*) FROM conversations WHERE inbox_id = ?1",
                [other_id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(
        stored_in_other, 0,
        "the refused message left nothing behind"
    );
    let (s, v) = send("m1", &inbox);
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let conv = v["conversation_id"].as_i64().unwrap();
    // Used once only.
    let (s, v) = send("m2", &inbox);
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // The agent sees and downloads it; the customer system reads it back in the conversation.
    let desk = Desk::login(&app.base, "agent.f");
    let history = desk.get(&format!("/api/v1/conversations/{conv}/messages"));
    let shown = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "incoming")
        .unwrap();
    assert_eq!(shown["attachments"][0]["id"], file, "{history}");
    let (_, c) = read(&app, inbox.id, Some(&inbox.token), conv, "");
    assert_eq!(c["messages"][0]["attachments"][0]["id"], file);
    let (s, bytes) = fetch(
        &app,
        &inbox,
        &format!("/hooks/api/{}/attachments/{file}", inbox.id),
    );
    assert_eq!((s, bytes), (StatusCode::OK, png.clone()));
    // Not through another inbox, with either token.
    let (s, _) = fetch(
        &app,
        &other,
        &format!("/hooks/api/{}/attachments/{file}", other.id),
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = fetch(
        &app,
        &other,
        &format!("/hooks/api/{}/attachments/{file}", inbox.id),
    );
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The agent's file reaches the customer system's webhook with a URL it can download.
    desk.ok("POST", &format!("/api/v1/conversations/{conv}/claim"), None);
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(b"%PDF-1.7\n1 0 obj\n".to_vec())
            .file_name("回单.pdf"),
    );
    let (s, pdf) = desk.upload(&format!("/api/v1/attachments?conversation_id={conv}"), form);
    assert_eq!(s, StatusCode::CREATED, "{pdf}");
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "请查收回单", "attachment_ids": [pdf["id"]]})),
    );
    let delivered = crate::desk::eventually(
        std::time::Duration::from_secs(10),
        "the reply's webhook",
        || {
            hook.deliveries()
                .into_iter()
                .find(|d| d.body["data"]["message"]["body"] == "请查收回单")
        },
    );
    let att = &delivered.body["data"]["message"]["attachments"][0];
    assert_eq!(att["name"], "回单.pdf");
    let (s, bytes) = fetch(&app, &inbox, att["url"].as_str().unwrap());
    assert_eq!(s, StatusCode::OK);
    assert!(bytes.starts_with(b"%PDF-1.7"));

    // A file on an agents' private note, or uploaded by an agent but not sent, is not the
    // customer system's to read.
    let agent_upload = |name: &str| {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(crate::desk::tiny_png())
                .file_name(name.to_string()),
        );
        let (s, f) = desk.upload(&format!("/api/v1/attachments?conversation_id={conv}"), form);
        assert_eq!(s, StatusCode::CREATED, "{f}");
        f["id"].as_i64().unwrap()
    };
    let (note_file, unsent) = (agent_upload("内部.png"), agent_upload("草稿.png"));
    desk.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "内部备注", "private": true, "attachment_ids": [note_file]})),
    );
    for hidden in [note_file, unsent] {
        let (s, _) = fetch(
            &app,
            &inbox,
            &format!("/hooks/api/{}/attachments/{hidden}", inbox.id),
        );
        assert_eq!(s, StatusCode::NOT_FOUND, "{hidden}");
    }

    // Bad uploads: a lying extension, over the limit, and a file nobody uploaded.
    let (s, v) = upload(&app, &inbox, "report.pdf", png);
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("attachment_type_mismatch")
        )
    );
    let (s, v) = upload(&app, &inbox, "big.txt", vec![b'a'; 8192]);
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("attachment_too_large"))
    );
    let (s, _) = crate::desk::post_inbound(
        &app.base,
        &inbox,
        &json!({"message_id": "m3", "contact": {"id": "u-1"}, "attachments": [424_242]}),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = fetch(
        &app,
        &inbox,
        &format!("/hooks/api/{}/attachments/424242", inbox.id),
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
}
