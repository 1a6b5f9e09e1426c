//! The audit log table: append inside the caller's transaction, read with filters, verify.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::Result;
use crate::audit::{self, Break, Entry, GENESIS, Record};
use crate::crypto::Keyring;

/// Append `entry` in the current transaction, chained to the last record. If this fails the
/// caller's job fails and its action is rolled back with it (fail-closed).
///
/// The chain head is read inside the write transaction, so appends from the server and from
/// `atrium` subcommands running beside it stay consecutive.
pub fn append(conn: &Connection, ring: &Keyring, now_ms: i64, entry: &Entry) -> Result<i64> {
    // Cached statements: audited actions run on the writer thread, where re-parsing SQL for
    // every record measurably cut throughput (benches/load.rs `audit`).
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_vec()),
    };
    let mut rec = Record {
        seq,
        at: now_ms,
        actor_id: entry.actor.id,
        actor: entry.actor.name.clone(),
        ip: entry.actor.ip.clone(),
        event: entry.event.to_string(),
        target: entry.target.clone(),
        outcome: entry.outcome.as_str().to_string(),
        details: entry.details.to_string(),
        prev_hash,
        hash: Vec::new(),
        mac: Vec::new(),
    };
    rec.hash = audit::chain_hash(&rec.prev_hash, &rec).to_vec();
    rec.mac = ring.audit_mac(&rec.hash).to_vec();
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor_id, actor, ip, event, target, outcome, details,
                                prev_hash, hash, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        rec.seq,
        rec.at,
        rec.actor_id,
        rec.actor,
        rec.ip,
        rec.event,
        rec.target,
        rec.outcome,
        rec.details,
        rec.prev_hash,
        rec.hash,
        rec.mac
    ])?;
    Ok(seq)
}

const COLUMNS: &str =
    "seq, at, actor_id, actor, ip, event, target, outcome, details, prev_hash, hash, mac";

fn record(r: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor_id: r.get(2)?,
        actor: r.get(3)?,
        ip: r.get(4)?,
        event: r.get(5)?,
        target: r.get(6)?,
        outcome: r.get(7)?,
        details: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
        mac: r.get(11)?,
    })
}

/// Filters of the auditor's view. Times in ms, inclusive; `before` pages by seq.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub actor: Option<String>,
    pub event: Option<String>,
    pub outcome: Option<String>,
    /// Substring of target or details.
    pub text: Option<String>,
    pub before: Option<i64>,
    pub limit: u32,
}

/// Records matching `f`, newest first.
pub fn list(conn: &Connection, f: &Filter) -> Result<Vec<Record>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log
         WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at <= ?2)
           AND (?3 IS NULL OR actor = ?3 COLLATE NOCASE) AND (?4 IS NULL OR event = ?4)
           AND (?5 IS NULL OR outcome = ?5)
           AND (?6 IS NULL OR instr(target, ?6) > 0 OR instr(details, ?6) > 0
                OR instr(actor, ?6) > 0 OR instr(ip, ?6) > 0)
           AND (?7 IS NULL OR seq < ?7)
         ORDER BY seq DESC LIMIT ?8"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            f.from, f.to, f.actor, f.event, f.outcome, f.text, f.before, f.limit
        ],
        record,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records with `from <= at <= to` in chain order, plus the record just before the range (the
/// anchor an export starts from), if any.
pub fn range(conn: &Connection, from: i64, to: i64) -> Result<(Option<Record>, Vec<Record>)> {
    let Some((first, last)) = seq_bounds(conn, from, to)? else {
        return Ok((None, Vec::new()));
    };
    let anchor = record_before(conn, first)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let rows = stmt
        .query_map(params![first, last], record)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((anchor, rows))
}

/// The first and last seq of the records with `from <= at <= to`, if any.
fn seq_bounds(conn: &Connection, from: i64, to: i64) -> Result<Option<(i64, i64)>> {
    let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT min(seq), max(seq) FROM audit_log WHERE at >= ?1 AND at <= ?2",
        params![from, to],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(first.zip(last))
}

/// The record just before `seq` (the anchor of a range starting there).
fn record_before(conn: &Connection, seq: i64) -> Result<Option<Record>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1"),
            [seq],
            record,
        )
        .optional()?)
}

/// One record by its seq.
pub fn get(conn: &Connection, seq: i64) -> Result<Option<Record>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM audit_log WHERE seq = ?1"),
            [seq],
            record,
        )
        .optional()?)
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The last record's hash: note it to compare with a later export or verification.
    pub head_hash: Option<Vec<u8>>,
    pub broken: Option<(i64, Break)>,
}

/// Verify every record with `from <= at <= to` (all when `None`), each against its
/// predecessor, including the MAC under this database's audit key. The predecessor of the range
/// is checked too, so a range cannot start from a forged anchor. Stops at the first break.
pub fn verify(
    conn: &Connection,
    ring: &Keyring,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Verification> {
    let from = from.unwrap_or(i64::MIN);
    let to = to.unwrap_or(i64::MAX);
    let mac = |h: &[u8]| ring.audit_mac(h);
    let mac: &dyn Fn(&[u8]) -> [u8; 32] = &mac;
    let mut v = Verification {
        checked: 0,
        first_seq: None,
        last_seq: None,
        head_hash: None,
        broken: None,
    };
    let Some((first, last)) = seq_bounds(conn, from, to)? else {
        return Ok(v);
    };
    // Start one record early (or at the genesis) so the first record's link is checked as well.
    let anchor = record_before(conn, first)?;
    let mut prev: Option<(i64, Vec<u8>)> = None;
    if let Some(a) = &anchor {
        if let Err(b) = audit::check(None, a, Some(mac)) {
            v.broken = Some((a.seq, b));
            return Ok(v);
        }
        prev = Some((a.seq, a.hash.clone()));
    } else if first != 1 {
        v.broken = Some((first, Break::SequenceGap));
        return Ok(v);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let mut rows = stmt.query(params![first, last])?;
    while let Some(row) = rows.next()? {
        let r = record(row)?;
        let link = prev.as_ref().map(|(s, h)| (*s, h.as_slice()));
        let link = match (&link, r.seq) {
            (None, 1) => Some((0, GENESIS.as_slice())),
            _ => link,
        };
        if let Err(b) = audit::check(link, &r, Some(mac)) {
            v.broken = Some((r.seq, b));
            return Ok(v);
        }
        v.checked += 1;
        v.first_seq.get_or_insert(r.seq);
        v.last_seq = Some(r.seq);
        v.head_hash = Some(r.hash.clone());
        prev = Some((r.seq, r.hash));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, Outcome};
    use crate::crypto::keyring::{Purpose, new_wrapped_key};
    use crate::crypto::keys::MasterKey;

    fn setup() -> (Connection, Keyring) {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut c).unwrap();
        let kek = MasterKey::generate();
        let keys = vec![
            new_wrapped_key(&kek, 1, Purpose::Field),
            new_wrapped_key(&kek, 2, Purpose::BlindIndex),
            new_wrapped_key(&kek, 3, Purpose::File),
        ];
        (c, Keyring::unlock(&kek, &keys).unwrap())
    }

    #[test]
    fn appended_records_chain_and_verify_and_triggers_refuse_changes() {
        let (c, ring) = setup();
        let actor = Actor::system();
        for i in 0..5 {
            let e = Entry::new(&actor, "auth.login", format!("user:{i}")).outcome(Outcome::Failure);
            assert_eq!(append(&c, &ring, 1000 + i, &e).unwrap(), i + 1);
        }
        let v = verify(&c, &ring, None, None).unwrap();
        assert_eq!((v.checked, v.broken), (5, None));
        let v = verify(&c, &ring, Some(1002), Some(1003)).unwrap();
        assert_eq!((v.checked, v.first_seq, v.last_seq), (2, Some(3), Some(4)));

        assert!(
            c.execute("UPDATE audit_log SET target = 'x' WHERE seq = 2", [])
                .is_err()
        );
        assert!(
            c.execute("DELETE FROM audit_log WHERE seq = 2", [])
                .is_err()
        );

        c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        c.execute("UPDATE audit_log SET target = 'user:99' WHERE seq = 3", [])
            .unwrap();
        let v = verify(&c, &ring, None, None).unwrap();
        assert_eq!(v.broken, Some((3, Break::HashMismatch)));
        c.execute("DELETE FROM audit_log WHERE seq = 3", [])
            .unwrap();
        let v = verify(&c, &ring, None, None).unwrap();
        assert_eq!(v.broken, Some((4, Break::SequenceGap)));
    }

    #[test]
    fn filters_select_records_newest_first() {
        let (c, ring) = setup();
        let mut a = Actor::system();
        for (i, ev) in ["auth.login", "user.create", "auth.login"]
            .iter()
            .enumerate()
        {
            a.name = format!("u{i}");
            append(&c, &ring, 10 * i as i64, &Entry::new(&a, ev, "t")).unwrap();
        }
        let f = Filter {
            event: Some("auth.login".into()),
            limit: 10,
            ..Filter::default()
        };
        let got: Vec<i64> = list(&c, &f).unwrap().iter().map(|r| r.seq).collect();
        assert_eq!(got, vec![3, 1]);
        let f = Filter {
            actor: Some("U1".into()),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(list(&c, &f).unwrap().len(), 1);
    }
}
