//! Accounts, sign-in, sessions, roles and scopes through the real HTTP stack.

use atrium::auth::{password, totp};
use atrium::clock::{Clock, FakeClock};
use atrium::domain::{ContactDraft, ContactId, ConversationId};
use atrium::store::{audit as audit_log, contacts, identity};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::TestApp;

/// A browser-like client: a cookie jar and the CSRF token of its session.
pub struct Http {
    pub c: Client,
    pub base: String,
    pub csrf: std::cell::RefCell<Option<String>>,
}

impl Http {
    pub fn new(base: &str) -> Http {
        Http {
            c: Client::builder().cookie_store(true).build().unwrap(),
            base: base.to_string(),
            csrf: std::cell::RefCell::new(None),
        }
    }

    pub fn login(&self, username: &str, password: &str, code: Option<&str>) -> Response {
        let mut body = json!({ "username": username, "password": password });
        if let Some(c) = code {
            body["totp"] = json!(c);
        }
        let r = self
            .c
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&body)
            .send()
            .unwrap();
        if r.status() == StatusCode::OK {
            let v: Value = r.json().unwrap();
            *self.csrf.borrow_mut() = v["csrf_token"].as_str().map(str::to_string);
            // Hand the body back through a fresh session request.
            return self.get("/api/v1/auth/session");
        }
        r
    }

    pub fn get(&self, path: &str) -> Response {
        self.c.get(format!("{}{path}", self.base)).send().unwrap()
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.c.request(m, format!("{}{path}", self.base));
        if let Some(t) = self.csrf.borrow().as_ref() {
            rb = rb.header("X-CSRF-Token", t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().unwrap()
    }
}

pub fn code(r: Response) -> (StatusCode, String) {
    let s = r.status();
    let v: Value = r.json().unwrap_or(Value::Null);
    (s, v["code"].as_str().unwrap_or("").to_string())
}

/// Create a user directly in the store (as `atrium admin create` would).
pub fn seed_user(
    app: &TestApp,
    username: &str,
    pw: &str,
    roles: &[&str],
    teams: &[i64],
    inboxes: &[i64],
) -> i64 {
    let hash = password::hash_blocking(pw).unwrap();
    let store = &app.state.store;
    let now = store.now_ms();
    let (name, roles, teams, inboxes) = (
        username.to_string(),
        roles.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        teams.to_vec(),
        inboxes.to_vec(),
    );
    store
        .write_blocking(move |c, _| {
            let mut ids = Vec::new();
            for r in &roles {
                ids.push(identity::role_by_name(c, r)?.unwrap().id);
            }
            let id = identity::create_user(
                c,
                &identity::NewUser {
                    username: &name,
                    display_name: "",
                    password_hash: &hash,
                    must_change_password: false,
                    role_ids: &ids,
                },
                now,
            )?;
            identity::set_user_teams(c, id, &teams)?;
            identity::set_user_inboxes(c, id, &inboxes)?;
            Ok(id)
        })
        .unwrap()
}

/// Turn off the second-factor requirement of every built-in role (tests that are not about 2FA).
pub fn no_required_totp(app: &TestApp) {
    let now = app.state.store.now_ms();
    app.state
        .store
        .write_blocking(move |c, _| {
            for r in identity::list_roles(c)? {
                identity::update_role(c, r.id, None, Some(false), now)?;
            }
            Ok(())
        })
        .unwrap();
}

/// Teams A and B, an inbox each, and one conversation (with a contact) in each.
pub struct World {
    pub team_a: i64,
    pub team_b: i64,
    pub inbox_a: i64,
    pub inbox_b: i64,
    pub conv_a: i64,
    pub conv_b: i64,
    pub contact_a: i64,
    pub contact_b: i64,
}

pub fn world(app: &TestApp) -> World {
    let store = app.state.store.clone();
    let now = store.now_ms();
    let ids: Vec<i64> = (0..4).map(|_| store.next_id()).collect();
    store
        .write_blocking(move |c, ring| {
            let ta = identity::create_team(c, "Team A", now)?;
            let tb = identity::create_team(c, "Team B", now)?;
            let ia = identity::create_inbox(c, "Web A", "web", Some(ta), now)?;
            let ib = identity::create_inbox(c, "Web B", "web", Some(tb), now)?;
            let mut convs = Vec::new();
            for (k, (team, inbox)) in [(ta, ia), (tb, ib)].into_iter().enumerate() {
                let (contact, conv) = (ContactId(ids[2 * k]), ConversationId(ids[2 * k + 1]));
                let draft = ContactDraft {
                    name: Some(format!("张{k}三")),
                    phone: Some(format!("1380013800{k}")),
                    ..ContactDraft::default()
                };
                contacts::insert_contact(c, ring, contact, &draft, now)?;
                contacts::insert_conversation(c, conv, contact, now)?;
                contacts::place_conversation(c, conv, Some(inbox), Some(team))?;
                convs.push((conv.0, contact.0));
            }
            Ok(World {
                team_a: ta,
                team_b: tb,
                inbox_a: ia,
                inbox_b: ib,
                conv_a: convs[0].0,
                contact_a: convs[0].1,
                conv_b: convs[1].0,
                contact_b: convs[1].1,
            })
        })
        .unwrap()
}

/// Audit records matching an event (and target), oldest first.
pub fn audit_records(app: &TestApp, event: &str) -> Vec<atrium::audit::Record> {
    let f = audit_log::Filter {
        event: Some(event.to_string()),
        limit: 10_000,
        ..Default::default()
    };
    let mut v = app
        .state
        .store
        .read_blocking(move |c, _| audit_log::list(c, &f))
        .unwrap();
    v.reverse();
    v
}

const PW: &str = "Corr3ct-Horse-42";

#[test]
fn six_wrong_passwords_lock_the_account_and_every_attempt_is_audited() {
    let app = TestApp::new();
    no_required_totp(&app);
    seed_user(&app, "li.na", PW, &["agent"], &[], &[]);
    let h = Http::new(&app.base);
    for i in 1..=5 {
        assert_eq!(
            code(h.login("li.na", "wrong-password", None)),
            (StatusCode::UNAUTHORIZED, "invalid_credentials".into()),
            "attempt {i}"
        );
    }
    assert_eq!(
        code(h.login("li.na", "wrong-password", None)),
        (StatusCode::LOCKED, "account_locked".into())
    );
    // Locked: even the right password is refused now.
    assert_eq!(code(h.login("li.na", PW, None)).1, "account_locked");

    let logins: Vec<_> = audit_records(&app, "auth.login")
        .into_iter()
        .filter(|r| r.actor == "li.na")
        .collect();
    assert_eq!(logins.len(), 7, "one record per attempt");
    assert!(logins[..5].iter().all(|r| r.outcome == "failure"));
    assert!(
        logins[5..]
            .iter()
            .all(|r| r.outcome == "denied" && r.details.contains("locked"))
    );
    let locks = audit_records(&app, "auth.lockout");
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].target, "user:li.na");
    assert_eq!(
        locks[0].seq,
        logins[4].seq + 1,
        "the lock is recorded with the 5th failure"
    );

    // An unknown name behaves the same way, so lockout reveals nothing.
    for _ in 0..5 {
        assert_eq!(
            code(h.login("nobody.here", "x-Wrong-pass1", None)).1,
            "invalid_credentials"
        );
    }
    assert_eq!(
        code(h.login("nobody.here", "x-Wrong-pass1", None)).1,
        "account_locked"
    );
}

#[test]
fn lockout_expires_and_the_address_limit_applies_across_names() {
    let clock = FakeClock::new(atrium::clock::SystemClock.now_ms());
    let app = TestApp::with_env(
        &[
            ("ATRIUM_AUTH__ADDRESS_MAX_FAILURES", "8"),
            ("ATRIUM_AUTH__LOCKOUT", "1m"),
        ],
        Some(clock.clone()),
    );
    no_required_totp(&app);
    seed_user(&app, "wang.fang", PW, &["agent"], &[], &[]);
    let h = Http::new(&app.base);
    for _ in 0..5 {
        h.login("wang.fang", "nope-Nope-1", None);
    }
    assert_eq!(code(h.login("wang.fang", PW, None)).1, "account_locked");
    clock.advance_ms(61_000);
    assert_eq!(h.login("wang.fang", PW, None).status(), StatusCode::OK);
    for i in 0..3 {
        h.login(&format!("someone{i}"), "nope-Nope-1", None);
    }
    assert_eq!(
        code(h.login("another", "nope-Nope-1", None)).1,
        "rate_limited"
    );
    assert!(!audit_records(&app, "auth.rate_limited").is_empty());
}

#[test]
fn totp_sign_in_rejects_replayed_codes_and_accepts_recovery_codes_once() {
    let clock = FakeClock::new(1_800_000_000_000);
    let app = TestApp::with_env(&[], Some(clock.clone()));
    seed_user(&app, "ops.admin", PW, &["sysadmin"], &[], &[]);
    let h = Http::new(&app.base);
    // sysadmin requires 2FA: signed in, but only enrolment is allowed.
    let s: Value = h.login("ops.admin", PW, None).json().unwrap();
    assert_eq!(s["totp_enrolment_required"], true);
    assert_eq!(code(h.get("/api/v1/users")).1, "totp_enrolment_required");
    assert_eq!(
        code(h.send(
            "POST",
            "/api/v1/me/totp/setup",
            Some(&json!({"password": "bad"}))
        ))
        .1,
        "reauth_failed"
    );
    let setup: Value = h
        .send(
            "POST",
            "/api/v1/me/totp/setup",
            Some(&json!({"password": PW})),
        )
        .json()
        .unwrap();
    let secret = base32_decode(setup["secret"].as_str().unwrap());
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Atrium:ops.admin")
    );
    let now = || u64::try_from(clock.now_ms() / 1000).unwrap();
    let c1 = totp::code_at(&secret, now()).unwrap();
    let codes: Value = h
        .send(
            "POST",
            "/api/v1/me/totp/confirm",
            Some(&json!({"code": c1})),
        )
        .json()
        .unwrap();
    let recovery: Vec<String> = serde_json::from_value(codes["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    assert_eq!(h.get("/api/v1/users").status(), StatusCode::OK);
    h.send("POST", "/api/v1/auth/logout", None);

    let h = Http::new(&app.base);
    assert_eq!(code(h.login("ops.admin", PW, None)).1, "totp_required");
    // The code used for enrolment cannot be replayed in the same step.
    assert_eq!(code(h.login("ops.admin", PW, Some(&c1))).1, "totp_invalid");
    clock.advance_ms(30_000);
    let c2 = totp::code_at(&secret, now()).unwrap();
    assert_eq!(h.login("ops.admin", PW, Some(&c2)).status(), StatusCode::OK);
    let h2 = Http::new(&app.base);
    assert_eq!(
        code(h2.login("ops.admin", PW, Some(&c2))).1,
        "totp_invalid",
        "replay"
    );

    let login_recovery = |rc: &str| {
        let r = Http::new(&app.base)
            .c
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"username": "ops.admin", "password": PW, "recovery_code": rc}))
            .send()
            .unwrap();
        r.status()
    };
    assert_eq!(login_recovery(&recovery[0].to_uppercase()), StatusCode::OK);
    assert_eq!(
        login_recovery(&recovery[0]),
        StatusCode::UNAUTHORIZED,
        "used once"
    );
    assert!(
        audit_records(&app, "totp.enrol")
            .iter()
            .any(|r| r.outcome == "success")
    );
}

pub fn base32_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for ch in s.bytes().filter(|b| *b != b'=') {
        let v = A
            .iter()
            .position(|a| *a == ch.to_ascii_uppercase())
            .unwrap() as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            out.push((bits >> (n - 8)) as u8);
            n -= 8;
        }
    }
    out
}

#[test]
fn sessions_expire_when_idle_can_be_listed_revoked_and_forced_out() {
    let clock = FakeClock::new(atrium::clock::SystemClock.now_ms());
    let app = TestApp::with_env(&[("ATRIUM_AUTH__IDLE_TIMEOUT", "10m")], Some(clock.clone()));
    no_required_totp(&app);
    let uid = seed_user(&app, "zhao.lei", PW, &["agent"], &[], &[]);
    seed_user(&app, "sys.one", PW, &["sysadmin"], &[], &[]);
    let a = Http::new(&app.base);
    let b = Http::new(&app.base);
    assert_eq!(a.login("zhao.lei", PW, None).status(), StatusCode::OK);
    assert_eq!(b.login("zhao.lei", PW, None).status(), StatusCode::OK);
    let list: Vec<Value> = a.get("/api/v1/me/sessions").json().unwrap();
    assert_eq!(list.len(), 2);
    let other = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        a.send("DELETE", &format!("/api/v1/me/sessions/{other}"), None)
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(code(b.get("/api/v1/me")).1, "session_expired");

    // Idle timeout.
    clock.advance_ms(9 * 60_000);
    assert_eq!(
        a.get("/api/v1/me").status(),
        StatusCode::OK,
        "activity refreshes"
    );
    std::thread::sleep(std::time::Duration::from_millis(200)); // the refresh is written async
    clock.advance_ms(9 * 60_000);
    assert_eq!(a.get("/api/v1/me").status(), StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_millis(200));
    clock.advance_ms(11 * 60_000);
    assert_eq!(code(a.get("/api/v1/me")).1, "session_expired");

    // Forced logout by an administrator; logged-out cookies stay dead.
    let a = Http::new(&app.base);
    a.login("zhao.lei", PW, None);
    let admin = Http::new(&app.base);
    admin.login("sys.one", PW, None);
    assert_eq!(
        admin
            .send("POST", &format!("/api/v1/users/{uid}/logout"), None)
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(code(a.get("/api/v1/me")).1, "session_expired");
    let cookie_jar_replay = Http::new(&app.base);
    cookie_jar_replay.login("zhao.lei", PW, None);
    let old_cookie = cookie_header(&cookie_jar_replay);
    cookie_jar_replay.send("POST", "/api/v1/auth/logout", None);
    let r = Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("Cookie", old_cookie)
        .send()
        .unwrap();
    assert_eq!(
        code(r).1,
        "session_expired",
        "a replayed cookie after logout"
    );
}

fn cookie_header(h: &Http) -> String {
    // The session answer carries no cookie; read it back from a fresh login response instead.
    let r =
        h.c.post(format!("{}/api/v1/auth/login", h.base))
            .json(&json!({"username": "zhao.lei", "password": PW}))
            .send()
            .unwrap();
    let c = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let v: Value = r.json().unwrap();
    *h.csrf.borrow_mut() = v["csrf_token"].as_str().map(str::to_string);
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';').next().unwrap().to_string()
}

#[test]
fn csrf_identity_headers_mass_assignment_and_oversized_fields_are_refused() {
    let app = TestApp::new();
    no_required_totp(&app);
    let uid = seed_user(&app, "agent.a", PW, &["agent"], &[], &[]);
    let h = Http::new(&app.base);
    h.login("agent.a", PW, None);
    // Missing CSRF token.
    let r =
        h.c.post(format!("{}/api/v1/me/password", app.base))
            .json(&json!({"current_password": PW, "new_password": "Another-Pass-77"}))
            .send()
            .unwrap();
    assert_eq!(code(r), (StatusCode::FORBIDDEN, "csrf_failed".into()));
    assert_eq!(audit_records(&app, "auth.csrf_failed").len(), 1);

    // Identity headers are never trusted.
    let r = Client::new()
        .get(format!("{}/api/v1/users", app.base))
        .header("X-Forwarded-User", "sys.admin")
        .header("Remote-User", "sys.admin")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(audit_records(&app, "auth.identity_header_ignored").len(), 1);

    // Mass assignment: unknown fields are rejected, not ignored; own roles cannot be set.
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": PW, "new_password": "Another-Pass-77", "roles": ["sysadmin"]})),
    );
    assert_eq!(code(r).1, "invalid_json");
    let r = h.send(
        "PATCH",
        &format!("/api/v1/users/{uid}"),
        Some(&json!({"roles": ["sysadmin"]})),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let me: Value = h.get("/api/v1/me").json().unwrap();
    assert_eq!(me["roles"], json!(["agent"]));
    assert!(!audit_records(&app, "access.denied").is_empty());

    // Oversized fields.
    let long = "x".repeat(5000);
    let r = Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": long, "password": "x"}))
        .send()
        .unwrap();
    assert_eq!(
        code(r),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into())
    );
    // Wrong current password when changing it: 401 and audited.
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": "nope", "new_password": "Another-Pass-77"})),
    );
    assert_eq!(code(r).1, "reauth_failed");
    // Policy violations come back as rule codes.
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": PW, "new_password": "password"})),
    );
    let (s, v): (StatusCode, Value) = (r.status(), r.json().unwrap());
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "password_policy");
    let details: Vec<String> = serde_json::from_value(v["details"].clone()).unwrap();
    assert!(
        details.contains(&"too_few_classes".to_string()),
        "{details:?}"
    );
    assert!(details.contains(&"too_common".to_string()), "{details:?}");
    // Reusing the current password is refused under mlps3.
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": PW, "new_password": PW})),
    );
    let v: Value = r.json().unwrap();
    assert_eq!(v["details"], json!(["reused"]));
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": PW, "new_password": "Another-Pass-77"})),
    );
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        audit_records(&app, "password.change")
            .last()
            .unwrap()
            .outcome,
        "success"
    );
}

#[test]
fn admin_reset_forces_a_password_change_at_next_sign_in() {
    let app = TestApp::new();
    no_required_totp(&app);
    let uid = seed_user(&app, "chen.jing", PW, &["agent"], &[], &[]);
    seed_user(&app, "sys.two", PW, &["sysadmin"], &[], &[]);
    let admin = Http::new(&app.base);
    admin.login("sys.two", PW, None);
    let r: Value = admin
        .send("POST", &format!("/api/v1/users/{uid}/reset-password"), None)
        .json()
        .unwrap();
    let temp = r["password"].as_str().unwrap().to_string();
    let h = Http::new(&app.base);
    assert_eq!(
        code(h.login("chen.jing", PW, None)).1,
        "invalid_credentials"
    );
    let s: Value = h.login("chen.jing", &temp, None).json().unwrap();
    assert_eq!(s["must_change_password"], true);
    assert_eq!(
        code(h.get("/api/v1/conversations")).1,
        "password_change_required"
    );
    let r = h.send(
        "POST",
        "/api/v1/me/password",
        Some(&json!({"current_password": temp, "new_password": "Fresh-Start-2027"})),
    );
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.get("/api/v1/conversations").status(), StatusCode::OK);
}

#[test]
fn separation_of_duties_is_enforced_on_the_server_and_the_auditor_changes_nothing() {
    let app = TestApp::new();
    no_required_totp(&app);
    let w = world(&app);
    seed_user(&app, "sys.admin", PW, &["sysadmin"], &[], &[]);
    seed_user(&app, "sec.admin", PW, &["secadmin"], &[], &[]);
    seed_user(&app, "audit.one", PW, &["auditor"], &[], &[]);
    let target = seed_user(&app, "new.hire", PW, &["agent"], &[w.team_a], &[]);
    let sys = Http::new(&app.base);
    sys.login("sys.admin", PW, None);
    let sec = Http::new(&app.base);
    sec.login("sec.admin", PW, None);
    let aud = Http::new(&app.base);
    aud.login("audit.one", PW, None);

    // Nobody may hold sysadmin and auditor together, whoever asks.
    for (who, h) in [("secadmin", &sec), ("sysadmin", &sys)] {
        let r = h.send(
            "PATCH",
            &format!("/api/v1/users/{target}"),
            Some(&json!({"roles": ["sysadmin", "auditor"]})),
        );
        assert_eq!(
            code(r),
            (StatusCode::CONFLICT, "separation_of_duties".into()),
            "{who}"
        );
    }
    let r = sys.send(
        "POST",
        "/api/v1/users",
        Some(&json!({"username": "two.hats", "roles": ["sysadmin", "auditor"]})),
    );
    assert_eq!(code(r).1, "separation_of_duties");
    // A custom role may not mix classes either.
    let r = sec.send(
        "POST",
        "/api/v1/roles",
        Some(&json!({"name": "super", "permissions": ["users:write", "audit:read"]})),
    );
    assert_eq!(code(r).1, "separation_of_duties");
    // Only the security administrator gives administrator roles.
    let r = sys.send(
        "PATCH",
        &format!("/api/v1/users/{target}"),
        Some(&json!({"roles": ["auditor"]})),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = sec.send(
        "PATCH",
        &format!("/api/v1/users/{target}"),
        Some(&json!({"roles": ["auditor"]})),
    );
    assert_eq!(r.status(), StatusCode::OK);
    // The system administrator cannot take over the auditor's account.
    let r = sys.send(
        "POST",
        &format!("/api/v1/users/{target}/reset-password"),
        None,
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The auditor changes no setting (and the attempt is audited).
    let before: Value = sys.get("/api/v1/settings").json().unwrap();
    let r = aud.send(
        "PATCH",
        "/api/v1/settings",
        Some(&json!({"org_name": "hacked"})),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after: Value = sys.get("/api/v1/settings").json().unwrap();
    assert_eq!(before, after);
    assert!(
        audit_records(&app, "access.denied")
            .iter()
            .any(|r| r.actor == "audit.one" && r.details.contains("settings:write"))
    );
    // The CLI refuses the combination too.
    let (code_, _out, err) = crate::support::run_env(
        app.dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "both",
            "--role",
            "sysadmin",
            "--role",
            "auditor",
            "--data-dir",
            app.data_dir().to_str().unwrap(),
        ],
        &[],
    );
    assert_ne!(code_, 0);
    assert!(err.contains("different"), "{err}");
}

#[test]
fn pii_reveal_needs_the_permission_and_the_scope_and_is_audited() {
    let app = TestApp::new();
    no_required_totp(&app);
    let w = world(&app);
    seed_user(&app, "agent.a", PW, &["agent"], &[w.team_a], &[]);
    seed_user(&app, "lead.a", PW, &["supervisor"], &[w.team_a], &[]);
    let agent = Http::new(&app.base);
    agent.login("agent.a", PW, None);
    let lead = Http::new(&app.base);
    lead.login("lead.a", PW, None);

    let masked: Value = agent
        .get(&format!("/api/v1/contacts/{}", w.contact_a))
        .json()
        .unwrap();
    assert_eq!(masked["masked"], true);
    assert_eq!(masked["phone"], "138****8000");
    let r = agent.send(
        "POST",
        &format!("/api/v1/contacts/{}/reveal", w.contact_a),
        None,
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let full: Value = lead
        .send(
            "POST",
            &format!("/api/v1/contacts/{}/reveal", w.contact_a),
            Some(&json!({"reason": "callback"})),
        )
        .json()
        .unwrap();
    assert_eq!(full["phone"], "13800138000");
    let reveals = audit_records(&app, "pii.reveal");
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].actor, "lead.a");
    assert_eq!(reveals[0].target, format!("contact:{}", w.contact_a));
    // Out of scope: 404, like a missing id, and audited.
    let r = lead.send(
        "POST",
        &format!("/api/v1/contacts/{}/reveal", w.contact_b),
        None,
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        audit_records(&app, "access.denied")
            .iter()
            .any(|r| r.target == format!("contact:{}", w.contact_b))
    );
    let list: Vec<Value> = agent.get("/api/v1/conversations?view=all").json().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], w.conv_a);
    // Inbox membership scopes as well as team membership.
    seed_user(&app, "inbox.agent", PW, &["agent"], &[], &[w.inbox_b]);
    let ib = Http::new(&app.base);
    ib.login("inbox.agent", PW, None);
    let list: Vec<Value> = ib.get("/api/v1/conversations?view=all").json().unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![w.conv_b]);
    assert_eq!(list[0]["inbox"]["id"], w.inbox_b);
    let r = ib.get(&format!("/api/v1/conversations/{}", w.conv_a));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_ne!(w.inbox_a, w.inbox_b);
}

#[test]
fn behind_a_tls_proxy_the_cookie_is_secure_and_the_forwarded_address_is_audited() {
    let app = TestApp::with_env(&[("ATRIUM_HTTP__BEHIND_TLS_PROXY", "true")], None);
    no_required_totp(&app);
    seed_user(&app, "proxy.user", PW, &["agent"], &[], &[]);
    let r = Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("X-Forwarded-For", "203.0.113.9, 10.1.2.3")
        .json(&json!({"username": "proxy.user", "password": PW}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    let login = audit_records(&app, "auth.login").pop().unwrap();
    assert_eq!(login.ip, "10.1.2.3", "the address the proxy appended");

    // Without the proxy setting the header is not believed, and the cookie is not Secure.
    let plain = TestApp::new();
    no_required_totp(&plain);
    seed_user(&plain, "direct.user", PW, &["agent"], &[], &[]);
    let r = Client::new()
        .post(format!("{}/api/v1/auth/login", plain.base))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({"username": "direct.user", "password": PW}))
        .send()
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_eq!(
        audit_records(&plain, "auth.login").pop().unwrap().ip,
        "127.0.0.1"
    );
}
