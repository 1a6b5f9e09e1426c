//! Walks every route of the OpenAPI document: without a session, and as each built-in role,
//! against the written permission matrix below; then ids from another team's scope.

use std::collections::BTreeSet;

use atrium::domain::access::{BUILTIN_ROLES, Permission};
use reqwest::StatusCode;
use serde_json::Value;

use crate::identity::{Http, no_required_totp, seed_user, world};
use crate::support::TestApp;

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// No session needed (sign-in, setup, health, metrics, the OpenAPI document).
    Public,
    /// Any signed-in user.
    Session,
    /// Signed in and holding one of these permissions.
    Any(&'static [&'static str]),
    /// A channel hook: authenticated by the inbox's own token, never by a session (401 without
    /// it, whoever calls).
    Channel,
}

use Access::{Any, Channel, Public, Session};

const READ: Access = Any(&["conversations:read"]);
const REPLY: Access = Any(&["conversations:reply"]);

/// The permission matrix: every route of the API, who may call it, and a request body.
/// `{user}` is another user (an agent of team B), `{role}` a custom role nobody holds, `{team}`
/// team B, `{conv}`/`{contact}`/`{inbox}` a conversation/contact/inbox of team A, `{other}` a
/// contact of team B, `{id}`/`{mid}` ids that do not exist.
const MATRIX: &[(&str, &str, Access, Option<&str>)] = &[
    ("get", "/healthz", Public, None),
    ("get", "/readyz", Public, None),
    ("get", "/metrics", Public, None),
    (
        "post",
        "/api/v1/auth/login",
        Public,
        Some(r#"{"username":"x.y","password":"z"}"#),
    ),
    ("get", "/api/v1/setup/{token}", Public, None),
    (
        "post",
        "/api/v1/setup",
        Public,
        Some(r#"{"token":"t","username":"a.b","password":"p"}"#),
    ),
    ("get", "/api/v1/auth/session", Session, None),
    ("post", "/api/v1/auth/logout", Session, None),
    ("get", "/api/v1/me", Session, None),
    (
        "post",
        "/api/v1/me/password",
        Session,
        Some(r#"{"current_password":"wrong","new_password":"x"}"#),
    ),
    (
        "post",
        "/api/v1/me/totp/setup",
        Session,
        Some(r#"{"password":"wrong"}"#),
    ),
    (
        "post",
        "/api/v1/me/totp/confirm",
        Session,
        Some(r#"{"code":"000000"}"#),
    ),
    (
        "post",
        "/api/v1/me/totp/disable",
        Session,
        Some(r#"{"password":"wrong","code":"1"}"#),
    ),
    (
        "post",
        "/api/v1/me/totp/recovery-codes",
        Session,
        Some(r#"{"password":"wrong","code":"1"}"#),
    ),
    ("get", "/api/v1/me/sessions", Session, None),
    ("delete", "/api/v1/me/sessions/{id}", Session, None),
    ("get", "/api/v1/users", Any(&["users:read"]), None),
    (
        "post",
        "/api/v1/users",
        Any(&["users:write"]),
        Some(r#"{"username":"made.by.matrix"}"#),
    ),
    ("get", "/api/v1/users/{user}", Any(&["users:read"]), None),
    (
        "patch",
        "/api/v1/users/{user}",
        Any(&["users:write", "roles:assign_admin"]),
        Some(r#"{"roles":["agent"]}"#),
    ),
    (
        "post",
        "/api/v1/users/{user}/reset-password",
        Any(&["users:write"]),
        None,
    ),
    (
        "post",
        "/api/v1/users/{user}/unlock",
        Any(&["users:write"]),
        None,
    ),
    (
        "post",
        "/api/v1/users/{user}/logout",
        Any(&["users:write"]),
        None,
    ),
    (
        "post",
        "/api/v1/users/{user}/reset-totp",
        Any(&["users:write"]),
        None,
    ),
    ("get", "/api/v1/permissions", Any(&["roles:read"]), None),
    ("get", "/api/v1/roles", Any(&["roles:read"]), None),
    (
        "post",
        "/api/v1/roles",
        Any(&["roles:write"]),
        Some(r#"{"name":"matrix role","permissions":["reports:read"]}"#),
    ),
    (
        "patch",
        "/api/v1/roles/{role}",
        Any(&["roles:write"]),
        Some(r#"{"description":"d"}"#),
    ),
    (
        "delete",
        "/api/v1/roles/{role}",
        Any(&["roles:write"]),
        None,
    ),
    ("get", "/api/v1/teams", Any(&["teams:read"]), None),
    (
        "post",
        "/api/v1/teams",
        Any(&["teams:write"]),
        Some(r#"{"name":"Matrix team"}"#),
    ),
    (
        "patch",
        "/api/v1/teams/{team}",
        Any(&["teams:write"]),
        Some(r#"{"name":"Team B"}"#),
    ),
    (
        "get",
        "/api/v1/inboxes",
        Any(&["channels:read", "conversations:read"]),
        None,
    ),
    ("get", "/api/v1/labels", READ, None),
    (
        "post",
        "/api/v1/inboxes",
        Any(&["channels:write"]),
        Some(r#"{"name":"Matrix","channel":"api"}"#),
    ),
    ("get", "/api/v1/settings", Any(&["settings:read"]), None),
    (
        "patch",
        "/api/v1/settings",
        Any(&["settings:write"]),
        Some(r#"{"org_name":"Atrium Bank"}"#),
    ),
    ("get", "/api/v1/audit", Any(&["audit:read"]), None),
    ("get", "/api/v1/audit/events", Any(&["audit:read"]), None),
    (
        "post",
        "/api/v1/audit/verify",
        Any(&["audit:read"]),
        Some("{}"),
    ),
    (
        "post",
        "/api/v1/audit/export",
        Any(&["audit:export"]),
        Some(r#"{"from":0,"to":99999999999999,"passphrase":"correct horse battery"}"#),
    ),
    (
        "get",
        "/api/v1/conversations",
        Any(&["conversations:read"]),
        None,
    ),
    (
        "get",
        "/api/v1/conversations/{conv}",
        Any(&["conversations:read"]),
        None,
    ),
    (
        "get",
        "/api/v1/conversations/{conv}/messages",
        Any(&["conversations:read"]),
        None,
    ),
    (
        "get",
        "/api/v1/conversations/{conv}/visitor",
        Any(&["conversations:read"]),
        None,
    ),
    (
        "get",
        "/api/v1/contacts/{contact}",
        Any(&["contacts:read"]),
        None,
    ),
    (
        "post",
        "/api/v1/contacts/{contact}/reveal",
        Any(&["pii:reveal"]),
        Some("{}"),
    ),
    // The conversation engine.
    ("post", "/api/v1/conversations/{conv}/claim", REPLY, None),
    (
        "post",
        "/api/v1/conversations/{conv}/messages",
        REPLY,
        Some(r#"{"body":"您好"}"#),
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/messages/{mid}/resend",
        REPLY,
        None,
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/messages/{mid}/recall",
        REPLY,
        None,
    ),
    // No destination: 422 for those allowed (the claim above made the agent the assignee).
    (
        "post",
        "/api/v1/conversations/{conv}/transfer",
        REPLY,
        Some(r#"{"note":""}"#),
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/assign",
        Any(&["conversations:assign"]),
        Some(r#"{"assignee_id":null}"#),
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/status",
        REPLY,
        Some(r#"{"status":"pending"}"#),
    ),
    (
        "put",
        "/api/v1/conversations/{conv}/labels",
        REPLY,
        Some(r#"{"labels":["vip"]}"#),
    ),
    (
        "put",
        "/api/v1/conversations/{conv}/priority",
        REPLY,
        Some(r#"{"priority":"high"}"#),
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/read",
        READ,
        Some(r#"{"message_id":1}"#),
    ),
    (
        "put",
        "/api/v1/conversations/{conv}/pin",
        READ,
        Some(r#"{"pinned":true}"#),
    ),
    (
        "post",
        "/api/v1/conversations/{conv}/render",
        REPLY,
        Some(r#"{"text":"{{contact.name}}"}"#),
    ),
    (
        "get",
        "/api/v1/canned-replies",
        Any(&["conversations:read", "settings:write"]),
        None,
    ),
    (
        "post",
        "/api/v1/canned-replies",
        REPLY,
        Some(r#"{"shortcut":"hi","title":"t","body":"您好"}"#),
    ),
    (
        "put",
        "/api/v1/canned-replies/{id}",
        Any(&[
            "conversations:reply",
            "conversations:assign",
            "settings:write",
        ]),
        Some(r#"{"shortcut":"hi","title":"t","body":"您好"}"#),
    ),
    (
        "delete",
        "/api/v1/canned-replies/{id}",
        Any(&[
            "conversations:reply",
            "conversations:assign",
            "settings:write",
        ]),
        None,
    ),
    ("get", "/api/v1/contacts", Any(&["contacts:read"]), None),
    ("get", "/api/v1/contacts/{contact}/timeline", READ, None),
    (
        "put",
        "/api/v1/contacts/{contact}",
        Any(&["contacts:write"]),
        Some(r#"{"vip":true}"#),
    ),
    // The other contact is out of scope: 404 for those allowed.
    (
        "post",
        "/api/v1/contacts/{contact}/merge",
        Any(&["contacts:write"]),
        Some(r#"{"other_id":{other}}"#),
    ),
    (
        "post",
        "/api/v1/contacts/{contact}/split",
        Any(&["contacts:write"]),
        Some(r#"{"identity_id":999999999}"#),
    ),
    (
        "post",
        "/api/v1/attachments?conversation_id={conv}",
        REPLY,
        None,
    ),
    ("get", "/api/v1/attachments/{id}", READ, None),
    (
        "get",
        "/api/v1/agents",
        Any(&["conversations:read", "users:read"]),
        None,
    ),
    ("get", "/api/v1/me/agent", REPLY, None),
    (
        "put",
        "/api/v1/me/agent",
        REPLY,
        Some(r#"{"status":"away"}"#),
    ),
    (
        "put",
        "/api/v1/agents/{user}",
        Any(&["users:write"]),
        Some(r#"{"capacity":3,"skills":["loans"]}"#),
    ),
    (
        "get",
        "/api/v1/supervisor/overview",
        Any(&["conversations:assign"]),
        None,
    ),
    (
        "get",
        "/api/v1/inboxes/{inbox}",
        Any(&["channels:read"]),
        None,
    ),
    (
        "put",
        "/api/v1/inboxes/{inbox}",
        Any(&["channels:write"]),
        Some(r#"{"name":"Web A","team_id":null,"settings":{}}"#),
    ),
    (
        "post",
        "/api/v1/inboxes/{inbox}/token",
        Any(&["channels:write"]),
        None,
    ),
    ("get", "/api/v1/teams/{team}", Any(&["teams:read"]), None),
    (
        "put",
        "/api/v1/teams/{team}/settings",
        Any(&["teams:write"]),
        Some(r#"{"settings":{}}"#),
    ),
    (
        "post",
        "/hooks/api/{inbox_id}/messages",
        Channel,
        Some(r#"{"contact":{"id":"c1"},"body":"hi"}"#),
    ),
    (
        "get",
        "/hooks/api/{inbox_id}/conversations/{conversation_id}",
        Channel,
        None,
    ),
    (
        "put",
        "/hooks/api/{inbox_id}/contacts/{external_id}",
        Channel,
        Some(r#"{"name":"x"}"#),
    ),
    ("post", "/hooks/api/{inbox_id}/attachments", Channel, None),
    (
        "get",
        "/api/v1/deliveries/failed",
        Any(&["channels:read"]),
        None,
    ),
    (
        "post",
        "/api/v1/deliveries/{id}/resend",
        Any(&["channels:write"]),
        None,
    ),
    (
        "get",
        "/hooks/api/{inbox_id}/attachments/{attachment_id}",
        Channel,
        None,
    ),
    (
        "post",
        "/hooks/api/{inbox_id}/conversations/{conversation_id}/csat",
        Channel,
        Some(r#"{"rating":5}"#),
    ),
    ("get", "/api/v1/webhooks", Any(&["channels:read"]), None),
    (
        "post",
        "/api/v1/webhooks",
        Any(&["channels:write"]),
        Some(WEBHOOK),
    ),
    (
        "put",
        "/api/v1/webhooks/{id}",
        Any(&["channels:write"]),
        Some(WEBHOOK),
    ),
    (
        "delete",
        "/api/v1/webhooks/{id}",
        Any(&["channels:write"]),
        None,
    ),
    (
        "post",
        "/api/v1/webhooks/{id}/secret",
        Any(&["channels:write"]),
        None,
    ),
    (
        "get",
        "/api/v1/webhooks/{id}/events",
        Any(&["channels:read"]),
        None,
    ),
    (
        "post",
        "/api/v1/webhooks/{id}/events/{event_id}/resend",
        Any(&["channels:write"]),
        None,
    ),
    ("get", "/hooks/web/{inbox_id}/config", Public, None),
    ("post", "/hooks/web/{inbox_id}/session", Public, Some("{}")),
    ("get", "/hooks/web/{inbox_id}/messages", Channel, None),
    (
        "post",
        "/hooks/web/{inbox_id}/messages",
        Channel,
        Some(r#"{"client_id":"c","body":"hi"}"#),
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/typing",
        Channel,
        Some(r#"{"typing":true}"#),
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/csat",
        Channel,
        Some(r#"{"conversation_id":1,"rating":5}"#),
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/receipts",
        Channel,
        Some(r#"{"up_to":1,"state":"read"}"#),
    ),
    ("post", "/hooks/web/{inbox_id}/files", Channel, None),
    (
        "get",
        "/hooks/web/{inbox_id}/files/{attachment_id}",
        Channel,
        None,
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/visits",
        Channel,
        Some(r#"{"url":"https://example.com/"}"#),
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/profile",
        Channel,
        Some(r#"{"name":"王"}"#),
    ),
    (
        "post",
        "/hooks/web/{inbox_id}/leave-message",
        Channel,
        Some(r#"{"client_id":"c","phone":"13800138000","body":"hi"}"#),
    ),
    // The token comes in the socket's first frame: anyone may try to open it.
    ("get", "/hooks/web/{inbox_id}/ws", Public, None),
    (
        "post",
        "/api/v1/inboxes/{inbox}/identity-secret",
        Any(&["channels:write"]),
        None,
    ),
    (
        "get",
        "/api/v1/inboxes/{inbox}/wechat",
        Any(&["channels:write"]),
        None,
    ),
    (
        "put",
        "/api/v1/inboxes/{inbox}/wechat",
        Any(&["channels:write"]),
        Some(r#"{"app_id":"wx1"}"#),
    ),
    (
        "post",
        "/api/v1/inboxes/{inbox}/wechat/test",
        Any(&["channels:write"]),
        None,
    ),
    ("get", "/hooks/wechat/{inbox_id}", Channel, None),
    ("post", "/hooks/wechat/{inbox_id}", Channel, Some("{}")),
    ("get", "/hooks/wecom/{inbox_id}", Channel, None),
    ("post", "/hooks/wecom/{inbox_id}", Channel, Some("{}")),
    ("get", "/api/v1/ws", READ, None),
];

const WEBHOOK: &str = r#"{"name":"m","url":"http://127.0.0.1:9/x","events":["message.created"]}"#;

/// Routes outside `/api/v1` that the OpenAPI document lists but are not API calls.
const NOT_IN_DOC: &[&str] = &["/api/openapi.json"];

fn fill(path: &str, ids: &[(&str, String)]) -> String {
    let mut p = path.to_string();
    for (k, v) in ids {
        p = p.replace(k, v);
    }
    p
}

/// Give the conversation back to the queue, open, so each role's walk starts alike.
fn reset_conversation(app: &TestApp, id: i64) {
    let now = app.state.store.now_ms();
    app.state
        .store
        .write_blocking(move |c, _| {
            let id = atrium::domain::ConversationId(id);
            atrium::store::conversations::set_assignee(c, id, None, false, now)?;
            atrium::store::conversations::set_status(
                c,
                id,
                atrium::domain::ConversationStatus::Open,
                None,
                now,
            )
        })
        .unwrap();
}

fn call(h: &Http, method: &str, path: &str, body: Option<&str>) -> (StatusCode, String) {
    if path == "/api/v1/ws" {
        // A same-origin socket request (without the upgrade headers: 400 once allowed).
        let r =
            h.c.get(format!("{}{path}", h.base))
                .header("Origin", &h.base)
                .send()
                .unwrap();
        let s = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        return (s, v["code"].as_str().unwrap_or("").to_string());
    }
    let body: Option<Value> = body.map(|b| serde_json::from_str(b).unwrap());
    let r = h.send(&method.to_uppercase(), path, body.as_ref());
    let s = r.status();
    let v: Value = r.json().unwrap_or(Value::Null);
    (s, v["code"].as_str().unwrap_or("").to_string())
}

#[test]
fn every_route_answers_per_the_permission_matrix_and_scope() {
    let app = TestApp::new();
    no_required_totp(&app);
    let w = world(&app);

    // The matrix covers exactly the routes of the OpenAPI document.
    let doc: Value = reqwest::blocking::get(app.url("/api/openapi.json"))
        .unwrap()
        .json()
        .unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let normalise = |p: &str| {
        p.replace("{user}", "{id}")
            .replace("{role}", "{id}")
            .replace("{team}", "{id}")
            .replace("{conv}", "{id}")
            .replace("{contact}", "{id}")
            .replace("{inbox}", "{id}")
            .replace("?conversation_id={id}", "")
    };
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), normalise(p)))
        .collect();
    let documented: BTreeSet<(String, String)> = documented
        .into_iter()
        .filter(|(_, p)| !NOT_IN_DOC.contains(&p.as_str()))
        .collect();
    assert_eq!(
        documented, listed,
        "OpenAPI routes and the permission matrix differ"
    );

    let target = seed_user(
        &app,
        "matrix.target",
        "Target-Pass-99",
        &["agent"],
        &[w.team_b],
        &[],
    );
    let mut users = Vec::new();
    for r in BUILTIN_ROLES {
        let name = format!("matrix.{}", r.name);
        seed_user(&app, &name, "Matrix-Pass-88", &[r.name], &[w.team_a], &[]);
        users.push((r, name));
    }
    let custom_role = |app: &TestApp| {
        let now = app.state.store.now_ms();
        app.state
            .store
            .write_blocking(move |c, _| {
                let n = format!("spare {now}");
                atrium::store::identity::create_role(c, &n, "", &Default::default(), false, now)
            })
            .unwrap()
    };

    // Without a session: only public routes answer.
    let anon = Http::new(&app.base);
    let role_id = custom_role(&app);
    let ids = |role: i64| {
        vec![
            ("{user}", target.to_string()),
            ("{role}", role.to_string()),
            ("{team}", w.team_b.to_string()),
            ("{conv}", w.conv_a.to_string()),
            ("{contact}", w.contact_a.to_string()),
            ("{other}", w.contact_b.to_string()),
            ("{inbox}", w.inbox_a.to_string()),
            ("{inbox_id}", w.inbox_a.to_string()),
            ("{conversation_id}", w.conv_a.to_string()),
            ("{external_id}", "u-1".to_string()),
            ("{attachment_id}", "999999999".to_string()),
            ("{mid}", "999999999".to_string()),
            ("{event_id}", "999999999".to_string()),
            ("{token}", "no-such-token".to_string()),
            ("{id}", "999999999".to_string()),
        ]
    };
    for (m, p, access, body) in MATRIX {
        let (s, code) = call(
            &anon,
            m,
            &fill(p, &ids(role_id)),
            body.map(|b| fill(b, &ids(role_id))).as_deref(),
        );
        match access {
            Public => assert!(
                code != "unauthorized" && code != "session_expired" && s.as_u16() < 500,
                "{m} {p}: {s} {code}"
            ),
            Channel => assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {p}"),
            _ => assert_eq!(
                (s, code.as_str()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{m} {p}"
            ),
        }
    }

    // As each built-in role.
    for (role, name) in &users {
        let h = Http::new(&app.base);
        assert_eq!(
            h.login(name, "Matrix-Pass-88", None).status(),
            StatusCode::OK
        );
        let held: BTreeSet<&str> = role.permissions.iter().map(|p| p.as_str()).collect();
        let role_id = custom_role(&app);
        reset_conversation(&app, w.conv_a);
        // Logout last: it ends the session the walk uses.
        let order = MATRIX
            .iter()
            .filter(|r| r.1 != "/api/v1/auth/logout")
            .chain(MATRIX.iter().filter(|r| r.1 == "/api/v1/auth/logout"));
        for (m, p, access, body) in order {
            let body = body.map(|b| fill(b, &ids(role_id)));
            let (s, code) = call(&h, m, &fill(p, &ids(role_id)), body.as_deref());
            let ctx = format!("{} {m} {p}: {s} {code}", role.name);
            assert!(s.as_u16() < 500, "{ctx}");
            assert!(
                matches!(access, Channel)
                    || !matches!(
                        code.as_str(),
                        "unauthorized" | "session_expired" | "csrf_failed"
                    ),
                "{ctx}"
            );
            match access {
                Public | Session => assert_ne!(code, "forbidden", "{ctx}"),
                Channel => assert_eq!(s, StatusCode::UNAUTHORIZED, "{ctx}"),
                Any(perms) => {
                    if perms.iter().any(|p| held.contains(p)) {
                        assert_ne!(s, StatusCode::FORBIDDEN, "{ctx}");
                    } else {
                        assert_eq!(
                            (s, code.as_str()),
                            (StatusCode::FORBIDDEN, "forbidden"),
                            "{ctx}"
                        );
                    }
                }
            }
        }
    }

    // Scope: team A's agent and supervisor get 404 for team B's objects, 200 for their own.
    for name in ["matrix.agent", "matrix.supervisor"] {
        let h = Http::new(&app.base);
        h.login(name, "Matrix-Pass-88", None);
        for p in [
            format!("/api/v1/conversations/{}", w.conv_b),
            format!("/api/v1/conversations/{}/messages", w.conv_b),
            format!("/api/v1/contacts/{}", w.contact_b),
        ] {
            assert_eq!(
                call(&h, "get", &p, None).0,
                StatusCode::NOT_FOUND,
                "{name} {p}"
            );
        }
        assert_eq!(
            call(
                &h,
                "get",
                &format!("/api/v1/conversations/{}", w.conv_a),
                None
            )
            .0,
            StatusCode::OK
        );
    }
    let lead = Http::new(&app.base);
    lead.login("matrix.supervisor", "Matrix-Pass-88", None);
    let (s, _) = call(
        &lead,
        "post",
        &format!("/api/v1/contacts/{}/reveal", w.contact_b),
        Some("{}"),
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
    let _ = Permission::ALL;
}
