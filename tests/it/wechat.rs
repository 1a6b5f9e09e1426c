//! WeChat channels: the published crypto vectors (must-show 1), XML safety (must-show 6), and
//! the Official Account end to end against the fake WeChat server (must-shows 2–4).

use std::path::PathBuf;

use atrium::channels::wechat::crypto::{CryptError, MsgCrypt, signature};
use atrium::channels::wechat::push::{self, Push};
use atrium::channels::wechat::xml::{self, XmlError};
use serde_json::Value;

fn fixture(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wechat")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} missing"))
}

fn random16(v: &Value) -> [u8; 16] {
    s(v, "random16").as_bytes().try_into().unwrap()
}

/// Every Official Account vector: signature, decryption (with the receiver id), and the
/// deterministic encryptions.
#[test]
fn official_account_crypto_vectors_pass() {
    let doc = json("mp/crypto_vectors.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    let mut checked = 0;
    for v in vectors {
        let id = s(v, "id");
        let c = MsgCrypt::new(s(v, "token"), s(v, "encoding_aes_key"), s(v, "appid")).unwrap();
        if let Some(body) = v
            .get("post_body_compatible_mode")
            .or_else(|| v.get("post_body"))
            .and_then(Value::as_str)
        {
            let f = xml::parse(body).unwrap();
            let enc = f.str("Encrypt");
            let (ts, nonce) = (s(v, "timestamp"), s(v, "nonce"));
            assert_eq!(
                c.msg_signature(ts, nonce, enc),
                s(v, "msg_signature"),
                "{id}: signature"
            );
            let plain = c.open(ts, nonce, enc, s(v, "msg_signature")).unwrap();
            assert_eq!(plain, s(v, "decrypted_msg"), "{id}: decrypt");
            // A wrong signature is refused; a wrong AppID is refused.
            assert_eq!(
                c.open(ts, "0", enc, s(v, "msg_signature")),
                Err(CryptError::Signature)
            );
            let other = MsgCrypt::new(s(v, "token"), s(v, "encoding_aes_key"), "wx0000").unwrap();
            assert_eq!(other.decrypt(enc), Err(CryptError::ReceiverId), "{id}");
            // The decrypted XML parses into a message.
            let f = xml::parse(&plain).unwrap();
            assert!(matches!(
                push::decode(&f, &plain).unwrap(),
                Push::Message(_)
            ));
            checked += 1;
        }
        if let Some(cases) = v.get("cases").and_then(Value::as_array) {
            for case in cases {
                let enc = c.encrypt_with(&random16(v), s(case, "plaintext"));
                assert_eq!(enc, s(case, "expected_encrypt_base64"), "{id}: encrypt");
                assert_eq!(c.decrypt(&enc).unwrap(), s(case, "plaintext"));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4);
    // The console's URL check, from WeChat's documentation.
    assert_eq!(
        signature(&["AAAAA", "1714036504", "1514711492"]),
        "f464b24fc39322e44b38aa78f5edd27bd1441696"
    );
    // The synthetic safe-mode request.
    let meta = json("mp/safe_mode_post.meta.json");
    let c = MsgCrypt::new(
        s(&meta, "token"),
        s(&meta, "encoding_aes_key"),
        s(&meta, "appid"),
    )
    .unwrap();
    let (ts, nonce) = (s(&meta, "timestamp"), s(&meta, "nonce"));
    assert!(c.verify_plain(ts, nonce, s(&meta, "url_signature")));
    let plain = c
        .open(ts, nonce, s(&meta, "encrypt"), s(&meta, "msg_signature"))
        .unwrap();
    assert_eq!(plain, fixture("mp/in_text.xml"));
    assert_eq!(
        c.encrypt_with(&random16(&meta), &plain),
        s(&meta, "encrypt")
    );
}

/// Every WeCom vector: URL verification (encrypted echostr), decryption, the negative case,
/// and the deterministic encrypted reply.
#[test]
fn wecom_crypto_vectors_pass() {
    let doc = json("wecom/crypto_vectors.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let id = s(v, "id");
        let c = MsgCrypt::new(s(v, "token"), s(v, "encoding_aes_key"), s(v, "receiveid")).unwrap();
        let (ts, nonce) = (s(v, "timestamp"), s(v, "nonce"));
        if let Some(echo) = v.get("echostr").and_then(Value::as_str) {
            let plain = c.open(ts, nonce, echo, s(v, "msg_signature")).unwrap();
            assert_eq!(plain, s(v, "expected_response_body"), "{id}");
            if v.get("negative_case").is_some() {
                assert_eq!(
                    c.open(ts, "437374424", echo, s(v, "msg_signature")),
                    Err(CryptError::Signature),
                    "{id}: negative case"
                );
            }
        }
        if let Some(body) = v.get("post_body").and_then(Value::as_str) {
            let f = xml::parse(body).unwrap();
            let plain = c
                .open(ts, nonce, f.str("Encrypt"), s(v, "msg_signature"))
                .unwrap();
            assert_eq!(plain, s(v, "decrypted_msg"), "{id}");
        }
        if let Some(expected) = v.get("expected_reply_xml").and_then(Value::as_str) {
            let enc = c.encrypt_with(&random16(v), s(v, "plaintext"));
            assert_eq!(c.envelope(&enc, ts, nonce), expected, "{id}");
        }
    }
    // The synthetic kf callback decrypts with the CorpID as receiver id.
    let kf = json("wecom_kf/callback_encrypted.json");
    let c = MsgCrypt::new(
        "QDG6eK",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "wx5823bf96d3bd56c7",
    )
    .unwrap();
    let q = &kf["query"];
    let f = xml::parse(s(&kf, "body")).unwrap();
    let plain = c
        .open(
            s(q, "timestamp"),
            s(q, "nonce"),
            f.str("Encrypt"),
            s(q, "msg_signature"),
        )
        .unwrap();
    assert_eq!(plain, s(&kf, "decrypted"));
}

/// Every sample push decodes: messages of every type and every event.
#[test]
fn sample_pushes_decode() {
    let cases = [
        ("in_text.xml", "text"),
        ("in_image.xml", "image"),
        ("in_voice.xml", "audio"),
        ("in_video.xml", "video"),
        ("in_location.xml", "location"),
        ("in_link.xml", "link"),
        ("in_text_msgmenu_click.xml", "text"),
    ];
    for (file, kind) in cases {
        let doc = fixture(&format!("mp/{file}"));
        let f = xml::parse(&doc).unwrap();
        match push::decode(&f, &doc).unwrap() {
            Push::Message(m) => {
                assert_eq!(m.kind.as_str(), kind, "{file}");
                assert!(!m.msg_id.is_empty() && !m.openid.is_empty(), "{file}");
            }
            Push::Event(_) => panic!("{file} is a message"),
        }
    }
    for file in [
        "ev_click.xml",
        "ev_kf_create_session.xml",
        "ev_kf_switch_session.xml",
        "ev_location.xml",
        "ev_scan.xml",
        "ev_subscribe_qrscene.xml",
        "ev_unsubscribe.xml",
        "ev_view.xml",
    ] {
        let doc = fixture(&format!("mp/{file}"));
        let f = xml::parse(&doc).unwrap();
        let Push::Event(e) = push::decode(&f, &doc).unwrap() else {
            panic!("{file} is an event")
        };
        assert!(!e.event.is_empty(), "{file}");
    }
    // Voice carries WeChat's recognition as the body.
    let doc = fixture("mp/in_voice.xml");
    let Push::Message(m) = push::decode(&xml::parse(&doc).unwrap(), &doc).unwrap() else {
        panic!()
    };
    assert_eq!(m.body, xml::parse(&doc).unwrap().str("Recognition"));
    // A type nobody knows is kept as unsupported with the raw payload.
    let doc =
        "<xml><FromUserName>o1</FromUserName><MsgType>hologram</MsgType><MsgId>9</MsgId></xml>";
    let Push::Message(m) = push::decode(&xml::parse(doc).unwrap(), doc).unwrap() else {
        panic!()
    };
    assert_eq!(m.kind.as_str(), "unsupported");
    assert_eq!(m.content.unwrap()["raw"], doc);
}

/// XXE and billion laughs are refused before anything is expanded (must-show 6).
#[test]
fn xxe_and_billion_laughs_are_rejected_without_expansion() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>"#;
    assert_eq!(xml::parse(xxe), Err(XmlError::Doctype));
    let mut lol = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#);
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        lol.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    lol.push_str("]><xml><Content>&lol9;</Content></xml>");
    let started = std::time::Instant::now();
    assert_eq!(xml::parse(&lol), Err(XmlError::Doctype));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // An entity used without a declaration is not expanded either.
    assert_eq!(
        xml::parse("<xml><Content>&lol9;</Content></xml>"),
        Err(XmlError::Entity("lol9".into()))
    );
    // An external entity smuggled into the ciphertext's plaintext is refused the same way.
    let c = MsgCrypt::new(
        "t0ken",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wx1",
    )
    .unwrap();
    let plain = c.decrypt(&c.encrypt(xxe)).unwrap();
    assert_eq!(xml::parse(&plain), Err(XmlError::Doctype));
}

// ------------------------------------------------------------------ end to end with the fake

use std::time::Duration;

use atrium::channels::wechat::fake::{self, FakeConfig};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::json;

use crate::desk::{Desk, PW, agent, delivery_becomes, eventually, team};
use crate::identity::{no_required_totp, seed_user};
use crate::support::TestApp;

/// An Official Account inbox set up as an administrator would — the callback token and key
/// Atrium generated pasted into the (fake) WeChat console, the AppID and AppSecret from it
/// saved in Atrium — with one online agent in its team.
struct Wx {
    app: TestApp,
    fake: fake::Running,
    inbox: i64,
    admin: Desk,
    agent: Desk,
}

impl Wx {
    fn new(clock: Option<std::sync::Arc<atrium::clock::FakeClock>>) -> Wx {
        Wx::with("wechat_mp", clock)
    }

    fn with(channel: &str, clock: Option<std::sync::Arc<atrium::clock::FakeClock>>) -> Wx {
        let app = TestApp::with_env(&[], clock);
        no_required_totp(&app);
        let t = team(&app, "Hospital");
        agent(&app, "wx.agent", &[t], 5);
        seed_user(&app, "sys.admin", PW, &["sysadmin"], &[], &[]);
        let admin = Desk::login(&app.base, "sys.admin");
        let created = admin.ok(
            "POST",
            "/api/v1/inboxes",
            Some(json!({"name": "服务号", "channel": channel, "team_id": t})),
        );
        let inbox = created["id"].as_i64().unwrap();
        let w = admin.get(&format!("/api/v1/inboxes/{inbox}/wechat"));
        let token = w["token"].as_str().unwrap().to_string();
        let key = w["encoding_aes_key"].as_str().unwrap().to_string();
        assert_eq!(token.len(), 32);
        assert_eq!(key.len(), 43);
        assert_eq!(w["callback_path"], format!("/hooks/wechat/{inbox}"));
        assert_eq!(w["has_app_secret"], false);
        let cfg = FakeConfig {
            token,
            encoding_aes_key: key,
            callback_url: Some(app.url(&format!("/hooks/wechat/{inbox}"))),
            ..FakeConfig::default()
        };
        let (app_id, secret) = (cfg.app_id.clone(), cfg.app_secret.clone());
        let fake = fake::start("127.0.0.1:0", cfg).unwrap();
        // A wrong secret: the connection test says so.
        admin.ok(
            "PUT",
            &format!("/api/v1/inboxes/{inbox}/wechat"),
            Some(json!({"app_id": app_id, "app_secret": "wrong", "api_base": fake.url()})),
        );
        let t = admin.ok(
            "POST",
            &format!("/api/v1/inboxes/{inbox}/wechat/test"),
            None,
        );
        assert_eq!(
            (t["ok"].as_bool(), t["code"].as_i64()),
            (Some(false), Some(40125)),
            "{t}"
        );
        let saved = admin.ok(
            "PUT",
            &format!("/api/v1/inboxes/{inbox}/wechat"),
            Some(json!({"app_id": app_id, "app_secret": secret, "api_base": fake.url()})),
        );
        assert_eq!(saved["has_app_secret"], true);
        assert!(
            !saved.to_string().contains(&secret),
            "the secret is never shown"
        );
        let t = admin.ok(
            "POST",
            &format!("/api/v1/inboxes/{inbox}/wechat/test"),
            None,
        );
        assert_eq!(t["ok"], true, "{t}");
        let agent = Desk::login(&app.base, "wx.agent");
        agent.set_status("online");
        Wx {
            app,
            fake,
            inbox,
            admin,
            agent,
        }
    }

    /// WeChat pushes a customer's text (safe mode unless `mode` says otherwise).
    fn push(&self, body: Value) -> Value {
        let r = Client::new()
            .post(format!("{}/fake/push", self.fake.url()))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().unwrap()
    }

    /// The agent's conversation with this customer, once routing gave it to them.
    fn conversation_of(&self, text: &str) -> i64 {
        eventually(Duration::from_secs(10), "conversation assigned", || {
            let list = self.agent.get("/api/v1/conversations?view=mine");
            list["items"]
                .as_array()
                .or(list.as_array())?
                .iter()
                .find(|c| c.to_string().contains(text))
                .and_then(|c| c["id"].as_i64())
        })
    }

    fn messages(&self, conv: i64) -> Vec<Value> {
        self.agent
            .get(&format!("/api/v1/conversations/{conv}/messages"))
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Must-show 2: an encrypted push reaches the agent; the reply reaches the fake as a correct
/// `custom/send`; a retried push is stored once. Must-show 4: a token that expires mid-send is
/// refreshed once and the send retried once.
#[test]
fn an_encrypted_push_reaches_the_agent_and_the_reply_reaches_wechat() {
    let wx = Wx::new(None);
    let mut sock = wx.agent.socket(None);
    let openid = "oPatient_0001";
    // WeChat delivers the same push twice (its answer was lost): stored once.
    let r = wx.push(json!({"openid": openid, "text": "你好，我想查询一下挂号记录", "repeat": 2}));
    assert_eq!(
        (r["status"].as_u64(), r["body"].as_str()),
        (Some(200), Some("success")),
        "{r}"
    );
    assert_eq!(r["attempts"], 2);
    let seen = sock.until(Duration::from_secs(10), |f| {
        f["type"] == "message.created" && f.to_string().contains("挂号记录")
    });
    assert!(!seen.is_empty());
    let conv = wx.conversation_of("挂号记录");
    let msgs = wx.messages(conv);
    let incoming: Vec<_> = msgs
        .iter()
        .filter(|m| m["direction"] == "incoming")
        .collect();
    assert_eq!(
        incoming.len(),
        1,
        "the retried push is stored once: {msgs:?}"
    );
    assert_eq!(incoming[0]["body"], "你好，我想查询一下挂号记录");

    // The agent types: the customer's WeChat shows it (once per 15 seconds).
    for _ in 0..3 {
        sock.send(json!({"type": "typing", "conversation_id": conv, "typing": true}));
    }
    let t = eventually(Duration::from_secs(10), "typing relayed", || {
        wx.fake.fake.typing_calls().first().cloned()
    });
    assert_eq!(t, json!({"touser": openid, "command": "Typing"}));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(wx.fake.fake.typing_calls().len(), 1);

    // The agent answers; the fake receives a correct customer-service message.
    let sent = wx.agent.reply(conv, "您好，请提供就诊卡号");
    delivery_becomes(
        &wx.agent,
        conv,
        &sent["id"],
        "sent",
        Duration::from_secs(15),
    );
    let sends = wx.fake.fake.sends();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(
        sends[0],
        json!({"touser": openid, "msgtype": "text", "text": {"content": "您好，请提供就诊卡号"}})
    );
    assert_eq!(wx.fake.fake.token_calls(), 1);

    // The token expires while the agent types: one refresh, one retry, delivered once.
    wx.fake.fake.expire_token();
    let attempts = wx.fake.fake.send_attempts();
    let sent = wx.agent.reply(conv, "卡号收到，正在查询");
    delivery_becomes(
        &wx.agent,
        conv,
        &sent["id"],
        "sent",
        Duration::from_secs(15),
    );
    assert_eq!(wx.fake.fake.token_calls(), 2, "one refresh");
    assert_eq!(
        wx.fake.fake.send_attempts(),
        attempts + 2,
        "the refused call and one retry"
    );
    let sends = wx.fake.fake.sends();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1]["text"]["content"], "卡号收到，正在查询");

    // A picture with a caption: uploaded with media/upload, sent as an image, then the text.
    let upload = |name: &str, bytes: Vec<u8>| {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let (s, f) = wx
            .agent
            .upload(&format!("/api/v1/attachments?conversation_id={conv}"), form);
        assert_eq!(s, StatusCode::CREATED, "{f}");
        f["id"].clone()
    };
    let png = upload("挂号单.png", crate::desk::tiny_png());
    let sent = wx.agent.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "这是您的挂号单", "attachment_ids": [png]})),
    );
    delivery_becomes(
        &wx.agent,
        conv,
        &sent["id"],
        "sent",
        Duration::from_secs(15),
    );
    let sends = wx.fake.fake.sends();
    assert_eq!(sends.len(), 4, "{sends:?}");
    assert_eq!(sends[2]["msgtype"], "image");
    let media = sends[2]["image"]["media_id"].as_str().unwrap();
    assert!(media.starts_with("MEDIA_UP_"), "uploaded first: {media}");
    assert_eq!(sends[3]["text"]["content"], "这是您的挂号单");
    // A PDF cannot go through WeChat: refused with the reason, nothing sent.
    let pdf = upload("报告.pdf", b"%PDF-1.7\n1 0 obj\n".to_vec());
    let sent = wx.agent.ok(
        "POST",
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(json!({"body": "报告", "attachment_ids": [pdf]})),
    );
    let m = delivery_becomes(
        &wx.agent,
        conv,
        &sent["id"],
        "failed",
        Duration::from_secs(15),
    );
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .contains("only pictures"),
        "{m}"
    );
    assert_eq!(wx.fake.fake.sends().len(), 4);
    drop(wx.admin);
}

/// Must-show 3: a reply after the 48-hour window is marked failed with the reason the agent
/// sees — whether WeChat refuses it (45015) or Atrium knows before sending.
#[test]
fn a_reply_after_the_48_hour_window_fails_with_the_reason() {
    let clock =
        atrium::clock::FakeClock::new(atrium::clock::Clock::now_ms(&atrium::clock::SystemClock));
    let wx = Wx::new(Some(clock.clone()));
    wx.push(json!({"openid": "oLate", "text": "还在吗"}));
    let conv = wx.conversation_of("还在吗");
    // WeChat's clock has moved on 49 hours: it refuses with 45015.
    wx.fake.fake.advance(49 * 3600 * 1000);
    let sent = wx.agent.reply(conv, "抱歉久等了");
    let m = delivery_becomes(
        &wx.agent,
        conv,
        &sent["id"],
        "failed",
        Duration::from_secs(15),
    );
    let reason = m["failure_reason"].as_str().unwrap();
    assert!(reason.starts_with("wechat 45015"), "{reason}");
    assert!(reason.contains("48-hour"), "{reason}");
    assert!(wx.fake.fake.sends().is_empty());
    // Atrium's own clock has moved on too: it refuses before calling WeChat.
    clock.advance_ms(49 * 3600 * 1000);
    let agent = Desk::login(&wx.app.base, "wx.agent");
    let attempts = wx.fake.fake.send_attempts();
    let sent = agent.reply(conv, "再试一次");
    let m = delivery_becomes(&agent, conv, &sent["id"], "failed", Duration::from_secs(15));
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("wechat 45015")
    );
    assert_eq!(
        wx.fake.fake.send_attempts(),
        attempts,
        "WeChat was not called"
    );
    // The conversation tells the agent the window is closed.
    let c = agent.get(&format!("/api/v1/conversations/{conv}"));
    assert_eq!(c["reply_window"]["open"], false, "{c}");
}

/// Modes, events and bad input through the real callback.
#[test]
fn modes_events_and_bad_pushes() {
    let wx = Wx::new(None);
    let url = wx.app.url(&format!("/hooks/wechat/{}", wx.inbox));
    // Compatible mode works too (the mode is chosen per request). Plaintext mode, whose body
    // no signature covers, is refused until an administrator turns it on for the inbox.
    let r = wx.push(json!({"openid": "oModes", "text": "兼容模式", "mode": "compat"}));
    assert_eq!(r["body"], "success", "{r}");
    let r = wx.push(json!({"openid": "oModes", "text": "明文模式", "mode": "plain"}));
    assert_eq!(r["status"], 401, "{r}");
    let fake_cfg = FakeConfig::default();
    let saved = wx.admin.ok(
        "PUT",
        &format!("/api/v1/inboxes/{}/wechat", wx.inbox),
        Some(
            json!({"app_id": fake_cfg.app_id, "api_base": wx.fake.url(), "accept_plaintext": true}),
        ),
    );
    assert_eq!(saved["accept_plaintext"], true);
    // Changing where the secret goes needs the secret typed again.
    let (s, v) = wx.admin.call(
        "PUT",
        &format!("/api/v1/inboxes/{}/wechat", wx.inbox),
        Some(json!({"app_id": fake_cfg.app_id, "api_base": "https://evil.example"})),
    );
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let r = wx.push(json!({"openid": "oModes", "text": "明文模式", "mode": "plain"}));
    assert_eq!(r["body"], "success", "{r}");
    let conv = wx.conversation_of("明文模式");
    let bodies: Vec<_> = wx
        .messages(conv)
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert!(bodies.contains(&json!("明文模式")) && bodies.contains(&json!("兼容模式")));

    // A menu click with a configured answer gets it as an encrypted passive reply; subscribe
    // marks the contact.
    let mut settings = wx.admin.get(&format!("/api/v1/inboxes/{}", wx.inbox));
    settings["settings"]["wechat"] = json!({
        "subscribe_greeting": "欢迎关注",
        "click_replies": [{"key": "MENU_HOURS", "reply": "门诊时间：8:00-17:00"}],
    });
    wx.admin.ok(
        "PUT",
        &format!("/api/v1/inboxes/{}", wx.inbox),
        Some(json!({"name": settings["name"], "team_id": settings["team_id"], "settings": settings["settings"]})),
    );
    let now = chrono_now();
    let click = format!(
        "<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><FromUserName><![CDATA[oClick]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_HOURS]]></EventKey></xml>"
    );
    let r = wx.push(json!({"openid": "oClick", "xml": click}));
    let reply = r["body"].as_str().unwrap();
    let f = xml::parse(reply).unwrap();
    let w = wx
        .admin
        .get(&format!("/api/v1/inboxes/{}/wechat", wx.inbox));
    let crypt = MsgCrypt::new(
        w["token"].as_str().unwrap(),
        w["encoding_aes_key"].as_str().unwrap(),
        &FakeConfig::default().app_id,
    )
    .unwrap();
    let inner = crypt
        .open(
            f.str("TimeStamp"),
            f.str("Nonce"),
            f.str("Encrypt"),
            f.str("MsgSignature"),
        )
        .unwrap();
    let inner = xml::parse(&inner).unwrap();
    assert_eq!(inner.str("Content"), "门诊时间：8:00-17:00");
    assert_eq!(inner.str("ToUserName"), "oClick");
    let sub = format!(
        "<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><FromUserName><![CDATA[oFollower]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_clinic7]]></EventKey></xml>"
    );
    let identifies = || {
        wx.app
            .state
            .store
            .read_blocking(|c, _| {
                Ok(c.query_row(
                    "SELECT count(*) FROM audit_log WHERE event = 'contact.identify'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .unwrap()
    };
    let before = identifies();
    // WeChat delivers the follow twice: the contact is updated once; both answers greet.
    let r = wx.push(json!({"openid": "oFollower", "xml": sub, "mode": "plain", "repeat": 2}));
    assert!(r["body"].as_str().unwrap().contains("欢迎关注"), "{r}");
    assert_eq!(r["attempts"], 2);
    assert_eq!(
        identifies(),
        before + 1,
        "a retried event has no second effect"
    );
    // A message type nobody knows is stored as unsupported with its raw payload.
    let odd = format!(
        "<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><FromUserName><![CDATA[oOdd]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[hologram]]></MsgType><MsgId>777001</MsgId></xml>"
    );
    assert_eq!(
        wx.push(json!({"openid": "oOdd", "xml": odd}))["body"],
        "success"
    );
    let conv = eventually(Duration::from_secs(10), "unsupported stored", || {
        let list = wx.agent.get("/api/v1/conversations?view=mine");
        let items = list["items"].as_array().or(list.as_array())?.clone();
        items.iter().find_map(|c| {
            let id = c["id"].as_i64()?;
            wx.messages(id)
                .iter()
                .any(|m| m["kind"] == "unsupported")
                .then_some(id)
        })
    });
    let m = wx
        .messages(conv)
        .into_iter()
        .find(|m| m["kind"] == "unsupported")
        .unwrap();
    assert_eq!(m["content"]["type"], "hologram");

    // A customer's picture is fetched from WeChat (media/get) and stored with the message.
    wx.fake.fake.add_media(
        "MEDIA_PNG_1",
        crate::desk::tiny_png(),
        "image/png",
        "photo.png",
    );
    let img = format!(
        "<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><FromUserName><![CDATA[oPhoto]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[MEDIA_PNG_1]]></MediaId><MsgId>777002</MsgId></xml>"
    );
    assert_eq!(
        wx.push(json!({"openid": "oPhoto", "xml": img, "repeat": 2}))["body"],
        "success"
    );
    let photo = eventually(Duration::from_secs(10), "the picture stored", || {
        let list = wx.agent.get("/api/v1/conversations?view=mine");
        let items = list["items"].as_array().or(list.as_array())?.clone();
        items.iter().find_map(|c| {
            wx.messages(c["id"].as_i64()?)
                .into_iter()
                .find(|m| m["kind"] == "image")
        })
    });
    let atts = photo["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 1, "{photo}");
    assert_eq!(atts[0]["content_type"], "image/png");
    // WeChat no longer has the file: the message is kept, with WeChat's picture address.
    let gone = format!(
        "<xml><ToUserName><![CDATA[gh_fake00000001]]></ToUserName><FromUserName><![CDATA[oPhoto]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/gone]]></PicUrl><MediaId><![CDATA[EXPIRED]]></MediaId><MsgId>777003</MsgId></xml>"
    );
    assert_eq!(
        wx.push(json!({"openid": "oPhoto", "xml": gone}))["body"],
        "success"
    );
    let conv = photo["conversation_id"].as_i64().unwrap();
    let kept = wx
        .messages(conv)
        .into_iter()
        .find(|m| m["body"] == "http://mmbiz.qpic.cn/gone");
    assert!(kept.is_some_and(|m| m["kind"] == "image"));

    // Bad input: wrong signature, stale timestamp, XXE, a huge body, an unknown inbox.
    let http = Client::new();
    let post = |q: &str, body: String| {
        let r = http.post(format!("{url}?{q}")).body(body).send().unwrap();
        let s = r.status();
        (s, r.json::<Value>().unwrap_or(Value::Null))
    };
    let token = wx
        .admin
        .get(&format!("/api/v1/inboxes/{}/wechat", wx.inbox))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let ts = now.to_string();
    let good = signature(&[&token, &ts, "n1"]);
    for _ in 0..5 {
        let (s, v) = post(
            &format!("signature=bad&timestamp={ts}&nonce=n1"),
            "<xml/>".into(),
        );
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("signature_invalid"))
        );
    }
    let old = (now - 3600).to_string();
    let stale = signature(&[&token, &old, "n1"]);
    let (s, v) = post(
        &format!("signature={stale}&timestamp={old}&nonce=n1"),
        "<xml/>".into(),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("timestamp_stale"))
    );
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>"#;
    let (s, v) = post(
        &format!("signature={good}&timestamp={ts}&nonce=n1"),
        xxe.into(),
    );
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("push_invalid")),
        "{v}"
    );
    let (s, _) = post(
        &format!("signature={good}&timestamp={ts}&nonce=n1"),
        format!("<xml><Content>{}</Content></xml>", "x".repeat(300_000)),
    );
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, _) = post(
        &format!("signature={good}&timestamp={ts}&nonce=n1&encrypt_type=aes&msg_signature=00"),
        "<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>".into(),
    );
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a ciphertext without its signature"
    );
    let r = http
        .post(wx.app.url(&format!(
            "/hooks/wechat/9999?signature={good}&timestamp={ts}&nonce=n1"
        )))
        .body("<xml/>")
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "an unknown inbox is not revealed"
    );
    // The console's URL check answers echostr only with the right signature.
    let r = http
        .get(format!(
            "{url}?signature={good}&timestamp={ts}&nonce=n1&echostr=4375120948345356249"
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().unwrap(), "4375120948345356249");
    // Repeated signature failures were audited once.
    let audited = wx
        .app
        .state
        .store
        .read_blocking(|c, _| {
            Ok(c.query_row(
                "SELECT count(*) FROM audit_log WHERE event = 'wechat.signature_failures' AND outcome = 'denied' AND ip = '127.0.0.1'",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    assert_eq!(audited, 1);
}

fn chrono_now() -> i64 {
    atrium::clock::Clock::now_ms(&atrium::clock::SystemClock) / 1000
}

// ------------------------------------------------------------------ WeCom 微信客服

fn kf_post(fake: &fake::Running, path: &str, body: Value) -> Value {
    let r = Client::new()
        .post(format!("{}{path}", fake.url()))
        .json(&body)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().unwrap_or(Value::Null)
}

fn incoming_bodies(data: &std::path::Path, inbox: i64) -> usize {
    let c = rusqlite::Connection::open(data.join("atrium.db")).unwrap();
    c.query_row(
        "SELECT count(*) FROM messages WHERE inbox_id = ?1 AND direction = 'incoming'",
        [inbox],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| usize::try_from(n).unwrap())
    .unwrap_or(0)
}

/// Must-show 5: the server is killed between two `sync_msg` batches; after the restart
/// every message is there once, in order — and replies, greetings and late failures work.
#[test]
fn wecom_kf_pull_survives_a_crash_between_batches() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "门诊");
    agent(&app, "kf.agent", &[t], 20);
    seed_user(&app, "sys.admin", PW, &["sysadmin"], &[], &[]);
    let admin = Desk::login(&app.base, "sys.admin");
    let inbox = admin.ok(
        "POST",
        "/api/v1/inboxes",
        Some(json!({"name": "微信客服", "channel": "wecom_kf", "team_id": t})),
    )["id"]
        .as_i64()
        .unwrap();
    let w = admin.get(&format!("/api/v1/inboxes/{inbox}/wechat"));
    assert_eq!(w["callback_path"], format!("/hooks/wecom/{inbox}"));
    let cfg = FakeConfig {
        app_id: "wwfakecorp000001".into(),
        token: w["token"].as_str().unwrap().into(),
        encoding_aes_key: w["encoding_aes_key"].as_str().unwrap().into(),
        ..FakeConfig::default()
    };
    let fake = fake::start("127.0.0.1:0", cfg.clone()).unwrap();
    let bad = admin.call(
        "PUT",
        &format!("/api/v1/inboxes/{inbox}/wechat"),
        Some(json!({"app_id": cfg.app_id, "app_secret": cfg.app_secret, "api_base": fake.url()})),
    );
    assert_eq!(
        bad.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "open_kfid is required"
    );
    admin.ok(
        "PUT",
        &format!("/api/v1/inboxes/{inbox}/wechat"),
        Some(json!({"app_id": cfg.app_id, "app_secret": cfg.app_secret,
            "api_base": fake.url(), "open_kfid": cfg.open_kfid})),
    );
    let test = admin.ok(
        "POST",
        &format!("/api/v1/inboxes/{inbox}/wechat/test"),
        None,
    );
    assert_eq!(test["ok"], true, "{test}");
    let mut settings = admin.get(&format!("/api/v1/inboxes/{inbox}"));
    settings["settings"]["wechat"]["subscribe_greeting"] = json!("您好，这里是门诊客服");
    admin.ok(
        "PUT",
        &format!("/api/v1/inboxes/{inbox}"),
        Some(json!({"name": settings["name"], "team_id": t, "settings": settings["settings"]})),
    );
    let dir = app.stop();
    let data = dir.path().join("data");
    let env = [crate::support::ALLOW_LOOPBACK];
    let server = crate::support::Server::spawn_on(dir.path(), &data, &env);
    fake.fake
        .set_callback(&server.url(&format!("/hooks/wecom/{inbox}")));

    // Batches of 3; the pull of the second batch waits — and the server dies meanwhile.
    fake.fake.kf_hold(Some(3), Some(3));
    let texts: Vec<String> = (1..=9)
        .map(|i| format!("第{i}条：我想改约复诊时间"))
        .collect();
    let r = kf_post(
        &fake,
        "/fake/kf/say",
        json!({"external_userid": "wmPatient01", "texts": texts}),
    );
    assert_eq!(r["callback_status"], 200);
    eventually(Duration::from_secs(20), "the second pull waiting", || {
        (fake.fake.kf_held() >= 1).then_some(())
    });
    assert_eq!(
        incoming_bodies(&data, inbox),
        3,
        "the first batch is stored"
    );
    server.kill9();
    fake.fake.kf_hold(None, None);

    // Restarted, it pulls from the saved cursor: the other six, once each.
    let server = crate::support::Server::spawn_on(dir.path(), &data, &env);
    fake.fake
        .set_callback(&server.url(&format!("/hooks/wecom/{inbox}")));
    eventually(Duration::from_secs(20), "all nine stored", || {
        (incoming_bodies(&data, inbox) == 9).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(incoming_bodies(&data, inbox), 9, "nothing duplicated");
    let agent = Desk::login(&server.url(""), "kf.agent");
    agent.set_status("online");
    let conv = eventually(Duration::from_secs(10), "the conversation", || {
        let list = agent.get("/api/v1/conversations?view=mine");
        list["items"].as_array().or(list.as_array())?.first()?["id"].as_i64()
    });
    let msgs = agent.get(&format!("/api/v1/conversations/{conv}/messages"));
    let bodies: Vec<String> = msgs
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "incoming")
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies, texts, "every message once, in order");

    // A picture (not fetched from WeCom yet) is kept, and the pull goes on past it.
    kf_post(
        &fake,
        "/fake/kf/say",
        json!({"external_userid": "wmPatient01", "texts": ["图片收到了吗"], "images": ["MEDIA_KF_1"]}),
    );
    eventually(
        Duration::from_secs(20),
        "the picture and the text after it",
        || (incoming_bodies(&data, inbox) == 11).then_some(()),
    );

    // A reply goes out with the outbox row as msgid.
    let sent = agent.reply(conv, "可以，请问改到哪天？");
    delivery_becomes(&agent, conv, &sent["id"], "sent", Duration::from_secs(15));
    let sends = fake.fake.kf_sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["touser"], "wmPatient01");
    assert_eq!(sends[0]["open_kfid"], cfg.open_kfid);
    assert_eq!(sends[0]["text"]["content"], "可以，请问改到哪天？");
    assert!(sends[0]["msgid"].as_str().unwrap().starts_with("a-"));

    // A customer opening the chat gets the greeting with the event's welcome code.
    kf_post(
        &fake,
        "/fake/kf/enter",
        json!({"external_userid": "wmPatient02"}),
    );
    let g = eventually(Duration::from_secs(10), "the greeting", || {
        fake.fake.kf_greetings().first().cloned()
    });
    assert_eq!(g["text"]["content"], "您好，这里是门诊客服");
    assert!(g["code"].as_str().unwrap().starts_with("WELCOME_"));

    // Replies over WeCom's quota are accepted, then reported failed by msg_send_fail.
    let mut last = Value::Null;
    for i in 0..5 {
        last = agent.reply(conv, &format!("补充说明 {i}"));
    }
    let m = delivery_becomes(&agent, conv, &last["id"], "failed", Duration::from_secs(20));
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("wecom fail_type 6"),
        "{m}"
    );
    assert_eq!(
        fake.fake.kf_sends().len(),
        5,
        "five replies per customer message"
    );
    // The customer writes again; the agent sends the failed reply again: a new msgid, delivered.
    kf_post(
        &fake,
        "/fake/kf/say",
        json!({"external_userid": "wmPatient01", "texts": ["还在吗"]}),
    );
    eventually(Duration::from_secs(20), "the new message", || {
        (incoming_bodies(&data, inbox) == 12).then_some(())
    });
    agent.ok(
        "POST",
        &format!(
            "/api/v1/conversations/{conv}/messages/{}/resend",
            last["id"]
        ),
        None,
    );
    delivery_becomes(&agent, conv, &last["id"], "sent", Duration::from_secs(20));
    let resent = fake.fake.kf_sends().last().cloned().unwrap();
    assert_eq!(resent["text"]["content"], "补充说明 4");
    assert!(
        resent["msgid"].as_str().unwrap().ends_with("-r1"),
        "{resent}"
    );
    server.kill9();
}

/// A mini program pushes JSON: entering the chat records the contact button's `session-from`
/// and gets the greeting; the customer's text reaches the agent.
#[test]
fn a_mini_program_json_push_records_session_from_and_greets() {
    let wx = Wx::with("miniprogram", None);
    let mut settings = wx.admin.get(&format!("/api/v1/inboxes/{}", wx.inbox));
    settings["settings"]["wechat"]["subscribe_greeting"] = json!("您好，这里是商城客服");
    wx.admin.ok(
        "PUT",
        &format!("/api/v1/inboxes/{}", wx.inbox),
        Some(json!({"name": settings["name"], "team_id": settings["team_id"], "settings": settings["settings"]})),
    );
    let now = chrono_now();
    let enter = json!({"ToUserName": "gh_fake00000001", "FromUserName": "oMini01", "CreateTime": now,
        "MsgType": "event", "Event": "user_enter_tempsession",
        "SessionFrom": "mall|小明|https://img.example/a.png|{\"order\":\"A1009\"}"});
    let r = wx.push(json!({"openid": "oMini01", "json": enter}));
    assert_eq!(r["body"], "success", "{r}");
    let greeting = eventually(Duration::from_secs(10), "the greeting", || {
        wx.fake.fake.sends().first().cloned()
    });
    assert_eq!(
        greeting,
        json!({"touser": "oMini01", "msgtype": "text", "text": {"content": "您好，这里是商城客服"}})
    );
    let text = json!({"ToUserName": "gh_fake00000001", "FromUserName": "oMini01", "CreateTime": now,
        "MsgType": "text", "Content": "订单 A1009 什么时候发货？", "MsgId": 6_054_768_590_064_713_999_u64});
    assert_eq!(
        wx.push(json!({"openid": "oMini01", "json": text}))["body"],
        "success"
    );
    let conv = wx.conversation_of("A1009");
    let c = wx.agent.get(&format!("/api/v1/conversations/{conv}"));
    let contact = wx
        .agent
        .get(&format!("/api/v1/contacts/{}", c["contact"]["id"]));
    assert_eq!(
        contact["attributes"]["miniprogram_source"], "mall",
        "{contact}"
    );
    assert_eq!(contact["attributes"]["mp_order"], "A1009", "{contact}");
}
