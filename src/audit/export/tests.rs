//! Round trips, every flipped byte, wrong passphrases and broken chains.
use super::*;

const PASS: &str = "correct horse battery";
const FAST: KdfParams = KdfParams {
    m_kib: 1024,
    t: 1,
    p: 1,
};
/// argon2's minimum, for the test that runs the key derivation once per byte.
const FASTEST: KdfParams = KdfParams {
    m_kib: 8,
    t: 1,
    p: 1,
};

fn rec(seq: i64, prev: &[u8], details: &str) -> Record {
    let mut r = Record {
        seq,
        at: 1_700_000_000_000 + seq,
        actor_id: Some(7),
        actor: "li.na".into(),
        ip: "10.0.0.8".into(),
        event: "auth.login".into(),
        target: "user:7".into(),
        outcome: "success".into(),
        details: details.into(),
        prev_hash: prev.to_vec(),
        hash: vec![],
        mac: vec![0; 32],
    };
    r.hash = chain_hash(prev, &r).to_vec();
    r
}

/// Records 1..=n of one chain.
fn chain(n: i64) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map_or(GENESIS.to_vec(), |r| r.hash.clone());
        out.push(rec(seq, &prev, &format!(r#"{{"n":{seq}}}"#)));
    }
    out
}

fn manifest_for(anchor: Option<&Record>, records: &[Record]) -> Manifest {
    Manifest {
        format: 1,
        exported_at: 1_700_000_100_000,
        from: 1_700_000_000_000,
        to: 1_700_000_100_000,
        count: records.len() as u64,
        first_seq: records.first().map(|r| r.seq),
        last_seq: records.last().map(|r| r.seq),
        anchor: anchor.cloned(),
        head_hash: records.last().map(|r| hex::encode(&r.hash)),
        server_key_fingerprint: "ab".repeat(16),
        exported_by: "cli:root".into(),
    }
}

/// Records 3..=5 of a 5-record chain, anchored on record 2.
fn mid_range() -> (Manifest, Vec<Record>) {
    let all = chain(5);
    let records = all.get(2..).unwrap().to_vec();
    (manifest_for(all.get(1), &records), records)
}

fn reseal(archive: &[u8], edit: impl FnOnce(&mut Manifest, &mut Vec<Record>)) -> Vec<u8> {
    let Opened {
        mut manifest,
        mut records,
    } = open(archive, PASS).unwrap();
    edit(&mut manifest, &mut records);
    seal(&manifest, &records, PASS, FAST).unwrap()
}

#[test]
fn a_sealed_range_round_trips_and_verifies() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    assert!(archive.starts_with(MAGIC));
    let opened = open(&archive, PASS).unwrap();
    assert_eq!(opened.manifest, m);
    assert_eq!(opened.records, records);
    let report = verify(&archive, PASS).unwrap();
    assert_eq!(report.checked, 3);
    assert_eq!(report.manifest, m);

    // From the start of the chain, no anchor.
    let records = chain(3);
    let m = manifest_for(None, &records);
    let report = verify(&seal(&m, &records, PASS, FAST).unwrap(), PASS).unwrap();
    assert_eq!(report.checked, 3);
}

#[test]
fn the_header_is_the_documented_json_line() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    let rest = archive.strip_prefix(MAGIC).unwrap();
    let end = rest.iter().position(|&b| b == b'\n').unwrap();
    let line = std::str::from_utf8(rest.get(..end).unwrap()).unwrap();
    assert!(
        line.starts_with(r#"{"v":1,"kdf":"argon2id","m_kib":1024,"t":1,"p":1,"salt":""#),
        "{line}"
    );
    let h: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(h["cipher"], "aes-256-gcm");
    assert_eq!(h["salt"].as_str().unwrap().len(), 32);
    assert_eq!(h["nonce"].as_str().unwrap().len(), 24);
    // Two seals of the same content differ (fresh salt and nonce).
    assert_ne!(archive, seal(&m, &records, PASS, FAST).unwrap());
}

#[test]
fn an_empty_range_round_trips() {
    let m = manifest_for(None, &[]);
    let archive = seal(&m, &[], PASS, FAST).unwrap();
    let report = verify(&archive, PASS).unwrap();
    assert_eq!(report.checked, 0);
    assert_eq!(report.manifest, m);
}

#[test]
fn flipping_any_byte_fails_verification() {
    let records = chain(1);
    let m = manifest_for(None, &records);
    let archive = seal(&m, &records, PASS, FASTEST).unwrap();
    for i in 0..archive.len() {
        let mut bad = archive.clone();
        *bad.get_mut(i).unwrap() ^= 0x01;
        assert!(verify(&bad, PASS).is_err(), "flipped byte {i} verified");
    }
    // Truncation and trailing bytes fail too.
    assert!(matches!(
        verify(archive.get(..archive.len() - 1).unwrap(), PASS),
        Err(Error::Decrypt)
    ));
    let mut longer = archive.clone();
    longer.push(0);
    assert!(matches!(verify(&longer, PASS), Err(Error::Decrypt)));
}

#[test]
fn a_flipped_ciphertext_byte_says_wrong_passphrase_or_altered() {
    let (m, records) = mid_range();
    let mut archive = seal(&m, &records, PASS, FAST).unwrap();
    let last = archive.len() - 20;
    *archive.get_mut(last).unwrap() ^= 0x80;
    let err = verify(&archive, PASS).unwrap_err();
    assert!(matches!(err, Error::Decrypt));
    assert!(
        err.to_string()
            .contains("wrong passphrase or the file was altered")
    );
}

#[test]
fn a_wrong_passphrase_fails() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    assert!(matches!(
        verify(&archive, "correct horse battery!"),
        Err(Error::Decrypt)
    ));
    assert!(matches!(open(&archive, ""), Err(Error::Decrypt)));
}

#[test]
fn a_short_passphrase_is_refused_when_sealing() {
    let (m, records) = mid_range();
    assert!(matches!(
        seal(&m, &records, "eleven char", FAST),
        Err(Error::WeakPassphrase)
    ));
    // Characters, not bytes: twelve two-byte characters are enough.
    assert!(seal(&m, &records, "éééééééééééé", FAST).is_ok());
}

#[test]
fn a_changed_record_is_named_with_hash_mismatch() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    let bad = reseal(&archive, |_, records| {
        records.get_mut(1).unwrap().details = r#"{"n":"edited"}"#.into();
    });
    let err = verify(&bad, PASS).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Chain {
                seq: 4,
                reason: Break::HashMismatch
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("seq 4"), "{err}");
    assert!(err.to_string().contains(Break::HashMismatch.describe()));
}

#[test]
fn a_removed_middle_record_fails() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();

    // Manifest left alone: the count gives it away.
    let Opened {
        manifest,
        mut records,
    } = open(&archive, PASS).unwrap();
    records.remove(1);
    assert!(matches!(
        seal(&manifest, &records, PASS, FAST),
        Err(Error::CountMismatch {
            expected: 3,
            actual: 2
        })
    ));

    // Manifest fixed up too: the sequence gap gives it away.
    let bad = reseal(&archive, |m, records| {
        records.remove(1);
        m.count = 2;
    });
    assert!(matches!(
        verify(&bad, PASS),
        Err(Error::Chain {
            seq: 5,
            reason: Break::SequenceGap
        })
    ));

    // Renumbered and re-hashed from the gap on: the chain link gives it away.
    let bad = reseal(&archive, |m, records| {
        records.remove(1);
        let r = records.get_mut(1).unwrap();
        r.seq = 4;
        r.hash = chain_hash(&r.prev_hash, r).to_vec();
        m.count = 2;
        m.last_seq = Some(4);
        m.head_hash = Some(hex::encode(&r.hash));
    });
    assert!(matches!(
        verify(&bad, PASS),
        Err(Error::Chain {
            seq: 4,
            reason: Break::ChainBroken
        })
    ));
}

#[test]
fn an_anchor_mismatch_fails() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();

    // The anchor's content changed: its own hash no longer matches.
    let bad = reseal(&archive, |m, _| {
        m.anchor.as_mut().unwrap().target = "user:8".into();
    });
    assert!(matches!(
        verify(&bad, PASS),
        Err(Error::AnchorMismatch { seq: 2 })
    ));

    // A consistent anchor from another chain: the first record does not link to it.
    let bad = reseal(&archive, |m, _| {
        m.anchor = Some(rec(2, &GENESIS, "{}"));
    });
    assert!(matches!(
        verify(&bad, PASS),
        Err(Error::Chain {
            seq: 3,
            reason: Break::ChainBroken
        })
    ));

    // The anchor dropped: the range no longer starts the chain.
    let bad = reseal(&archive, |m, _| m.anchor = None);
    assert!(matches!(
        verify(&bad, PASS),
        Err(Error::Chain {
            seq: 3,
            reason: Break::SequenceGap
        })
    ));
}

#[test]
fn a_manifest_that_disagrees_with_the_records_fails() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    // Sealing refuses it too, so build the plaintext past `seal`'s check.
    let mut wrong = m.clone();
    wrong.head_hash = Some("00".repeat(32));
    assert!(matches!(
        seal(&wrong, &records, PASS, FAST),
        Err(Error::ManifestMismatch {
            field: "head_hash",
            ..
        })
    ));
    let opened = open(&archive, PASS).unwrap();
    assert!(matches!(
        check_manifest(&wrong, &opened.records),
        Err(Error::ManifestMismatch {
            field: "head_hash",
            ..
        })
    ));
}

#[test]
fn kdf_parameters_outside_the_caps_are_refused_before_deriving() {
    let (m, records) = mid_range();
    let archive = seal(&m, &records, PASS, FAST).unwrap();
    let text = String::from_utf8_lossy(&archive).into_owned();
    for (from, to) in [
        (r#""m_kib":1024"#, r#""m_kib":2000000"#),
        (r#""m_kib":1024"#, r#""m_kib":4"#),
        (r#""t":1"#, r#""t":0"#),
        (r#""p":1"#, r#""p":0"#),
    ] {
        let mut bad = archive.clone();
        let at = text.find(from).unwrap();
        bad.splice(at..at + from.len(), to.bytes());
        assert!(
            matches!(verify(&bad, PASS), Err(Error::KdfParams { .. })),
            "{to}"
        );
    }
    assert!(matches!(
        seal(
            &m,
            &records,
            PASS,
            KdfParams {
                m_kib: 4,
                t: 1,
                p: 1
            }
        ),
        Err(Error::KdfParams { .. })
    ));
    assert_eq!(KdfParams::default(), KdfParams::DEFAULT);
    assert!(KdfParams::DEFAULT.validate().is_ok());
}

#[test]
fn other_files_are_named_as_not_an_export() {
    assert!(matches!(verify(b"", PASS), Err(Error::NotAnExport)));
    assert!(matches!(
        verify(b"SQLite format 3\0", PASS),
        Err(Error::NotAnExport)
    ));
    assert!(matches!(
        verify(b"ATRIUM-AUDIT-EXPORT\n{\"v\":1", PASS),
        Err(Error::BadHeader(_))
    ));
}
