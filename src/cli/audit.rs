//! `atrium audit verify | export | verify-export`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::open_store;
use crate::audit::{Actor, Entry, export};
use crate::config::Config;
use crate::store::audit as audit_log;

/// Parse `2026-11-21`, `2026-11-21T08:00:00Z`, `2026-11-21 08:00:00` (UTC) or ms since the
/// epoch. A bare date means its first millisecond, or its last when `end_of_day`.
pub fn parse_time(s: &str, end_of_day: bool) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let full = if s.len() == 10 {
        if end_of_day {
            format!("{s}T23:59:59.999Z")
        } else {
            format!("{s}T00:00:00Z")
        }
    } else {
        s.to_string()
    };
    let t = humantime::parse_rfc3339_weak(&full).with_context(|| {
        format!("{s:?} is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ)")
    })?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .context("time before 1970")?
        .as_millis();
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn fmt_ms(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

/// `ATRIUM_EXPORT_PASSPHRASE`, else the first line of stdin (prompting on a terminal).
fn passphrase(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var("ATRIUM_EXPORT_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let read = |prompt: &str| -> anyhow::Result<Zeroizing<String>> {
        if tty {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
        }
        let mut line = Zeroizing::new(String::new());
        stdin.lock().read_line(&mut line)?;
        Ok(Zeroizing::new(
            line.trim_end_matches(['\r', '\n']).to_string(),
        ))
    };
    let p = read("export passphrase: ")?;
    if confirm && tty {
        let again = read("again: ")?;
        if *again != *p {
            bail!("the passphrases differ");
        }
    }
    if p.is_empty() {
        bail!("no passphrase: set ATRIUM_EXPORT_PASSPHRASE or pass it on stdin");
    }
    Ok(p)
}

/// `atrium audit verify [--from --to]`: exit 0 when intact, 1 naming the first broken record.
pub fn verify(config: &Config, from: Option<&str>, to: Option<&str>) -> anyhow::Result<ExitCode> {
    let from = from.map(|f| parse_time(f, false)).transpose()?;
    let to = to.map(|t| parse_time(t, true)).transpose()?;
    let store = open_store(config)?;
    let v = store.read_blocking(|c, ring| audit_log::verify(c, ring, from, to));
    let now = store.now_ms();
    let v = v?;
    let e = Entry::new(&Actor::cli(), "audit.verify", "audit_log")
        .outcome(if v.broken.is_none() {
            crate::audit::Outcome::Success
        } else {
            crate::audit::Outcome::Failure
        })
        .details(serde_json::json!({
            "from": from, "to": to, "checked": v.checked,
            "first_broken": v.broken.map(|(s, _)| s), "via": "cli"
        }));
    // Recording the check must not hide its result: a failed append is reported, not fatal.
    if let Err(err) = store.write_blocking(move |c, ring| audit_log::append(c, ring, now, &e)) {
        eprintln!("warning: could not record this verification in the audit log: {err}");
    }
    store.close();
    match v.broken {
        None => {
            println!(
                "audit log intact: {} records checked (seq {}..{}), head hash {}",
                v.checked,
                v.first_seq.map_or("-".into(), |s| s.to_string()),
                v.last_seq.map_or("-".into(), |s| s.to_string()),
                v.head_hash.map_or("-".into(), hex::encode)
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((seq, why)) => {
            println!(
                "audit log BROKEN at record seq {seq}: {} ({} records before it verified)",
                why.describe(),
                v.checked
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `atrium audit export --from --to --out FILE`.
pub fn export(config: &Config, from: &str, to: &str, out: &Path) -> anyhow::Result<()> {
    let (from, to) = (parse_time(from, false)?, parse_time(to, true)?);
    if from > to {
        bail!("--from is after --to");
    }
    if out.exists() {
        bail!("{} exists; choose a new file", out.display());
    }
    let pass = passphrase(true)?;
    let store = open_store(config)?;
    let now = store.now_ms();
    let actor = Actor::cli();
    let e = Entry::new(&actor, "audit.export", "audit_log").details(serde_json::json!({
        "from": from, "to": to, "file": out.display().to_string(), "via": "cli"
    }));
    let range = store
        .write_blocking(move |c, ring| audit_log::append(c, ring, now, &e))
        .and_then(|_| store.read_blocking(|c, _| audit_log::range(c, from, to)));
    let fingerprint = store.key_fingerprint_hex();
    store.close();
    let (anchor, records) = range?;
    let manifest =
        crate::audit::export_manifest(now, (from, to), anchor, &records, fingerprint, actor.name);
    let bytes = export::seal(&manifest, &records, &pass, export::KdfParams::default())?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("while creating {}", out.display()))?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    println!(
        "exported {} records ({} .. {}) to {}; head hash {}",
        records.len(),
        fmt_ms(from),
        fmt_ms(to),
        out.display(),
        manifest.head_hash.as_deref().unwrap_or("-")
    );
    Ok(())
}

/// `atrium audit verify-export FILE`: offline, needs only the file and its passphrase.
pub fn verify_export(file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("while reading {}", file.display()))?;
    let pass = passphrase(false)?;
    match export::verify(&bytes, &pass) {
        Ok(r) => {
            let m = &r.manifest;
            println!(
                "export intact: {} records (seq {}..{}), {} .. {}, exported {} by {} from the \
                 server with key fingerprint {}; head hash {}",
                r.checked,
                m.first_seq.map_or("-".into(), |s| s.to_string()),
                m.last_seq.map_or("-".into(), |s| s.to_string()),
                fmt_ms(m.from),
                fmt_ms(m.to),
                fmt_ms(m.exported_at),
                m.exported_by,
                m.server_key_fingerprint,
                m.head_hash.as_deref().unwrap_or("-")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("export verification FAILED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
