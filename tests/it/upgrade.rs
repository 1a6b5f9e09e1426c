//! Databases made by released versions (tests/fixtures/db/v<N>/) open and read correctly with
//! this binary. Each release adds its fixture with `make_fixture` (run it by hand, ignored).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{TestApp, client, get_json, post_json, probe};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/db")
}

/// `cargo test --test it upgrade::make_fixture -- --ignored` writes tests/fixtures/db/v<LATEST>.
#[test]
#[ignore = "writes a new fixture; run by hand when a schema version is released"]
fn make_fixture() {
    let app = TestApp::with_routes(Some(probe::routes));
    let c = client();
    let created: Value = post_json(
        app.url("/test/contacts"),
        &json!({
            "name": "欧阳娜娜", "phone": "+86 139 1234 8888", "email": "nana@example.cn",
            "id_number": "44030519851201002X", "address": "广东省深圳市福田区深南大道1号"
        }),
    );
    let conv = created["conversation_id"].as_i64().unwrap();
    for body in ["你好，请问营业时间？", "工作日 9:00–17:00。"] {
        c.post(app.url(&format!("/test/conversations/{conv}/messages")))
            .json(&json!({ "body": body }))
            .send()
            .unwrap();
    }
    let data = app.data_dir();
    let tmp = app.stop();
    let out = fixtures().join(format!("v{}", atrium::store::migrations::LATEST));
    std::fs::create_dir_all(&out).unwrap();
    for f in ["atrium.db", "master.key"] {
        std::fs::copy(data.join(f), out.join(f)).unwrap();
    }
    std::fs::write(
        out.join("expected.json"),
        serde_json::to_string_pretty(&created).unwrap(),
    )
    .unwrap();
    drop(tmp);
}

#[test]
fn every_released_database_opens_and_reads() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let src = entry.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        for f in ["atrium.db", "master.key"] {
            std::fs::copy(src.join(f), data.join(f)).unwrap();
        }
        std::fs::set_permissions(
            data.join("master.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("expected.json")).unwrap())
                .unwrap();
        let app = TestApp::start(dir, Some(probe::routes));
        let contact: Value = get_json(&app.url(&format!(
            "/test/contacts/{}?reveal=true",
            expected["contact_id"]
        )));
        assert_eq!(contact["name"], "欧阳娜娜", "{}", src.display());
        assert_eq!(contact["id_number"], "44030519851201002X");
        let msgs: Vec<Value> = get_json(&app.url(&format!(
            "/test/conversations/{}/messages",
            expected["conversation_id"]
        )));
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0]["body"], "你好，请问营业时间？");
        let ready: Value = get_json(&app.url("/readyz"));
        assert_eq!(ready["schema_version"], atrium::store::migrations::LATEST);
        // An older schema was backed up before migrating, and the audit chain is intact.
        let version: i64 = src.file_name().unwrap().to_str().unwrap()[1..]
            .parse()
            .unwrap();
        let backups: Vec<String> = std::fs::read_dir(app.data_dir().join("backups"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let expect_backup = version < atrium::store::migrations::LATEST;
        assert_eq!(
            backups
                .iter()
                .any(|b| b.starts_with(&format!("pre-migrate-v{version}-"))),
            expect_backup,
            "{backups:?}"
        );
        let v = app
            .state
            .store
            .read_blocking(|c, ring| atrium::store::audit::verify(c, ring, None, None))
            .unwrap();
        assert_eq!(v.broken, None);
        seen += 1;
    }
    assert!(seen >= 1, "no fixtures under tests/fixtures/db");
}
