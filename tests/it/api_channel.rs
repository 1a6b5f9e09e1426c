//! The open API channel's read side: a customer system reads one of its inbox's conversations
//! with the inbox token, as the customer sees it — never agents' private notes, never another
//! inbox's conversations.

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::desk::{Desk, agent, api_inbox, customer_says, team};
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
