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
