//! Must show 2: PII and message bodies never reach the database files in plaintext, and read
//! back correctly (masked by default) through the HTTP layer.

use serde_json::{Value, json};

use crate::support::{TestApp, client, get_json, post_json, probe};

const MARKER: &str = "QZXMARKER7731";

fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    ["atrium.db", "atrium.db-wal", "atrium.db-shm"]
        .iter()
        .filter(|f| {
            std::fs::read(dir.join(f))
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
        .map(|f| f.to_string())
        .collect()
}

#[test]
fn marker_in_pii_and_bodies_is_in_no_database_file_and_reads_back() {
    let app = TestApp::with_routes(Some(probe::routes));
    let c = client();
    let phone = "13812345678";
    let created: Value = post_json(
        app.url("/test/contacts"),
        &json!({
            "name": format!("张{MARKER}"),
            "phone": phone,
            "email": format!("{MARKER}@example.com"),
            "id_number": "110105199003071234",
            "address": format!("广东省深圳市南山区{MARKER}路1号"),
        }),
    );
    let contact = created["contact_id"].as_i64().unwrap();
    let conv = created["conversation_id"].as_i64().unwrap();
    for i in 0..50 {
        let r = c
            .post(app.url(&format!("/test/conversations/{conv}/messages")))
            .json(&json!({"body": format!("您好 {MARKER} 第{i}条 卡号 6222021234567890123")}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // While serving: the data sits in the WAL.
    let dir = app.data_dir();
    assert!(std::fs::metadata(dir.join("atrium.db-wal")).unwrap().len() > 0);
    for needle in [
        MARKER.as_bytes(),
        phone.as_bytes(),
        "110105199003071234".as_bytes(),
        "6222021234567890123".as_bytes(),
    ] {
        assert_eq!(
            files_containing(&dir, needle),
            Vec::<String>::new(),
            "plaintext found"
        );
    }

    // Through the API layer: masked by default, full on reveal.
    let masked: Value = get_json(&app.url(&format!("/test/contacts/{contact}")));
    assert_eq!(masked["masked"], true);
    assert_eq!(masked["phone"], "138****5678");
    assert_eq!(masked["id_number"], "110105********1234");
    assert_eq!(masked["address"], "广东省深圳市****");
    assert!(!masked.to_string().contains(MARKER), "{masked}");
    let full: Value = get_json(&app.url(&format!("/test/contacts/{contact}?reveal=true")));
    assert_eq!(full["name"], format!("张{MARKER}"));
    assert_eq!(full["email"], format!("{MARKER}@example.com"));
    assert_eq!(full["phone"], phone);
    let msgs: Vec<Value> = get_json(&app.url(&format!("/test/conversations/{conv}/messages")));
    assert_eq!(msgs.len(), 50);
    assert_eq!(
        msgs[7]["body"],
        format!("您好 {MARKER} 第7条 卡号 6222021234567890123")
    );

    // After a clean stop the WAL is checkpointed into atrium.db: still no plaintext anywhere.
    let tmp = app.stop();
    let dir = tmp.path().join("data");
    for needle in [MARKER.as_bytes(), phone.as_bytes()] {
        assert_eq!(
            files_containing(&dir, needle),
            Vec::<String>::new(),
            "plaintext found"
        );
    }
    // And everything is still readable after a restart with the same key.
    let app = TestApp::start(tmp, Some(probe::routes));
    let full: Value = get_json(&app.url(&format!("/test/contacts/{contact}?reveal=true")));
    assert_eq!(full["name"], format!("张{MARKER}"));
}

/// Must show 6, at the storage level: a ciphertext copied into another row fails to decrypt and
/// the API answers `data_integrity` without leaking anything.
#[test]
fn ciphertext_copied_between_rows_is_rejected_through_the_api() {
    let app = TestApp::with_routes(Some(probe::routes));
    let mk = |name: &str| -> i64 {
        let v: Value = post_json(
            app.url("/test/contacts"),
            &json!({"name": name, "phone": "13900001111"}),
        );
        v["contact_id"].as_i64().unwrap()
    };
    let a = mk("李雷");
    let b = mk("韩梅梅");
    let tmp = app.stop();
    {
        let db = rusqlite::Connection::open(tmp.path().join("data/atrium.db")).unwrap();
        db.execute(
            "UPDATE contacts SET name = (SELECT name FROM contacts WHERE id = ?1) WHERE id = ?2",
            [a, b],
        )
        .unwrap();
    }
    let app = TestApp::start(tmp, Some(probe::routes));
    let r = client()
        .get(app.url(&format!("/test/contacts/{b}?reveal=true")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().unwrap();
    assert_eq!(body["code"], "data_integrity");
    assert!(!body.to_string().contains("李雷"));
    assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    // The untouched row still reads.
    let r = client()
        .get(app.url(&format!("/test/contacts/{a}?reveal=true")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}
