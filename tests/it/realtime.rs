//! Must show 4: an agent's socket that drops during a burst receives every missed event after
//! reconnecting with its last sequence; a socket of another server epoch is told to resync.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::desk::{Desk, agent, api_inbox, customer_says, team};
use crate::identity::no_required_totp;
use crate::support::TestApp;

const BURST: usize = 300;

/// The ids of incoming messages among `frames`.
fn incoming(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message.created" && f["data"]["direction"] == "incoming")
        .map(|f| f["data"]["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_client_disconnected_during_a_burst_receives_every_missed_event_after_reconnecting() {
    let app = TestApp::new();
    no_required_totp(&app);
    let t = team(&app, "T");
    let inbox = api_inbox(&app, "App", Some(t), json!({}));
    agent(&app, "agent.rt", &[t], 5);
    let desk = Desk::login(&app.base, "agent.rt");
    let mut sock = desk.socket(None);

    // Customers write a burst from another thread while the socket reads part of it and drops.
    let (base, inbox2) = (app.base.clone(), inbox.clone());
    let burst = std::thread::spawn(move || {
        (0..BURST)
            .map(|i| {
                let (s, v) = customer_says(
                    &base,
                    &inbox2,
                    &format!("c{}", i % 7),
                    &format!("m{i}"),
                    &format!("第 {i} 条"),
                );
                assert_eq!(s, StatusCode::CREATED);
                v["message_id"].as_i64().unwrap()
            })
            .collect::<Vec<i64>>()
    });
    let mut first = Vec::new();
    while incoming(&first).len() < 40 {
        if let Some(f) = sock.next(Duration::from_secs(10)) {
            first.push(f);
        } else {
            panic!("no events during the burst");
        }
    }
    let last = first.last().unwrap()["seq"].as_u64().unwrap();
    let epoch = sock.epoch.clone();
    sock.close();
    // Reconnect while the burst goes on.
    std::thread::sleep(Duration::from_millis(50));
    let mut again = desk.socket(Some((last, &epoch)));
    let sent = burst.join().unwrap();
    assert_eq!(sent.len(), BURST);
    let want: BTreeSet<i64> = sent.iter().copied().collect();
    let mut second = Vec::new();
    let mut got: BTreeSet<i64> = incoming(&first).into_iter().collect();
    while !want.is_subset(&got) {
        let f = again
            .next(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("missing {} events", want.difference(&got).count()));
        got.extend(incoming(std::slice::from_ref(&f)));
        second.push(f);
    }
    // Nothing twice, nothing skipped: the sequence goes on exactly where it stopped, and every
    // frame has the next number (this agent may see every event of this test).
    assert_ne!(second[0]["type"], "resync");
    let seqs: Vec<u64> = first
        .iter()
        .chain(&second)
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "gap or repeat in {seqs:?}");
    }
    assert_eq!(second[0]["seq"].as_u64().unwrap(), last + 1);
    let all: Vec<i64> = incoming(&first)
        .into_iter()
        .chain(incoming(&second))
        .collect();
    assert_eq!(all.len(), BURST, "each message exactly once");

    // A socket resuming from another epoch (a restarted server) is told to reload.
    let mut stale = desk.socket(Some((last, "another-epoch")));
    let f = stale.next(Duration::from_secs(5)).unwrap();
    assert_eq!(f["type"], "resync", "{f}");
    // And one resuming from the future likewise.
    let mut future = desk.socket(Some((u64::MAX / 2, &epoch)));
    assert_eq!(
        future.next(Duration::from_secs(5)).unwrap()["type"],
        "resync"
    );
}

#[test]
fn typing_reaches_the_other_agents_who_see_the_conversation_and_no_one_else() {
    let app = TestApp::new();
    no_required_totp(&app);
    let (ta, tb) = (team(&app, "A"), team(&app, "B"));
    let inbox = api_inbox(&app, "App", Some(ta), json!({}));
    agent(&app, "a.one", &[ta], 5);
    agent(&app, "a.two", &[ta], 5);
    agent(&app, "b.one", &[tb], 5);
    let (_, v) = customer_says(&app.base, &inbox, "c", "m", "在吗");
    let conv = v["conversation_id"].as_i64().unwrap();
    let (d1, d2, d3) = (
        Desk::login(&app.base, "a.one"),
        Desk::login(&app.base, "a.two"),
        Desk::login(&app.base, "b.one"),
    );
    let mut s1 = d1.socket(None);
    let mut s2 = d2.socket(None);
    let mut s3 = d3.socket(None);
    s1.send(json!({"type": "typing", "conversation_id": conv, "typing": true}));
    let seen = s2.until(Duration::from_secs(10), |f| f["type"] == "typing");
    let t = seen.last().unwrap();
    assert_eq!(t["data"]["conversation_id"], conv);
    assert_eq!(t["data"]["who"], d1.user_id);
    // Team B's agent hears nothing of it (presence events aside).
    s1.send(json!({"type": "ping"}));
    s1.until(Duration::from_secs(10), |f| f["type"] == "pong");
    while let Some(f) = s3.next(Duration::from_millis(300)) {
        assert_ne!(f["type"], "typing", "{f}");
        assert_ne!(f["type"], "message.created", "{f}");
    }
    // Garbage from the client gets an error frame, not a dropped socket.
    s1.send(json!({"type": "launch_missiles"}));
    let e = s1.until(Duration::from_secs(10), |f| f["type"] == "error");
    assert_eq!(e.last().unwrap()["code"], "bad_request");
    // A flood of typing frames is cut off at the per-second allowance; the socket stays open.
    for _ in 0..60 {
        s1.send(json!({"type": "typing", "conversation_id": conv, "typing": true}));
    }
    let e = s1.until(Duration::from_secs(10), |f| f["type"] == "error");
    assert_eq!(e.last().unwrap()["code"], "rate_limited");
    std::thread::sleep(Duration::from_millis(1100));
    s1.send(json!({"type": "ping"}));
    s1.until(Duration::from_secs(10), |f| f["type"] == "pong");
}
