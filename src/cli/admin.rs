//! `atrium admin …`: account administration on the server itself (works while it runs).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::open_store;
use crate::audit::{Actor, Entry};
use crate::auth::{self, password};
use crate::config::Config;
use crate::domain::access::check_separation;
use crate::store::audit as audit_log;
use crate::store::identity::{self, NewUser};

/// Read one line from stdin (a piped password), or `None` when stdin is a terminal.
fn piped_secret() -> anyhow::Result<Option<Zeroizing<String>>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .context("while reading the password from stdin")?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok((!trimmed.is_empty()).then_some(trimmed))
}

/// `atrium admin create --username NAME --role ROLE…`.
pub fn create(
    config: &Config,
    username: &str,
    roles: &[String],
    display: Option<&str>,
) -> anyhow::Result<()> {
    let username = username.trim();
    if !auth::valid_username(username) {
        bail!("{username:?} is not a valid user name (2–64 letters, digits or . _ - @)");
    }
    let (pw, generated) = match piped_secret()? {
        Some(pw) => {
            let broken = password::check(config.auth.password_policy, username, &pw);
            if !broken.is_empty() {
                let rules: Vec<&str> = broken.iter().map(|r| r.as_str()).collect();
                bail!(
                    "the password does not meet the {:?} policy: {}",
                    config.auth.password_policy,
                    rules.join(", ")
                );
            }
            (pw, false)
        }
        None => (Zeroizing::new(password::generate_password()), true),
    };
    let hash = password::hash_blocking(&pw)?;
    let store = open_store(config)?;
    let all = store.read_blocking(|c, _| identity::list_roles(c))?;
    let mut chosen = Vec::new();
    for r in roles {
        match all.iter().find(|x| x.name.eq_ignore_ascii_case(r)) {
            Some(x) => chosen.push(x.clone()),
            None => {
                let names: Vec<&str> = all.iter().map(|x| x.name.as_str()).collect();
                bail!("no role named {r:?}; roles: {}", names.join(", "));
            }
        }
    }
    let perms: Vec<_> = chosen
        .iter()
        .flat_map(|r| r.permissions.iter().copied())
        .collect();
    if let Err(e) = check_separation(&perms) {
        bail!("{e}: give these roles to different users");
    }
    let now = store.now_ms();
    let name = username.to_string();
    let display = display.unwrap_or("").to_string();
    let role_ids: Vec<i64> = chosen.iter().map(|r| r.id).collect();
    let role_names: Vec<String> = chosen.iter().map(|r| r.name.clone()).collect();
    let id = store.write_blocking(move |c, ring| {
        if identity::user_id_by_name(c, &name)?.is_some() {
            return Ok(None);
        }
        let id = identity::create_user(
            c,
            &NewUser {
                username: &name,
                display_name: &display,
                password_hash: &hash,
                must_change_password: generated,
                role_ids: &role_ids,
            },
            now,
        )?;
        let e = Entry::new(&Actor::cli(), "user.create", format!("user:{id}"))
            .details(serde_json::json!({ "username": name, "roles": role_names, "via": "cli" }));
        audit_log::append(c, ring, now, &e)?;
        Ok(Some(id))
    });
    store.close();
    let Some(id) = id? else {
        bail!("a user named {username:?} exists");
    };
    println!(
        "created user {username} (id {id}) with roles: {}",
        roles.join(", ")
    );
    if generated {
        println!(
            "initial password (shown once; must be changed at first sign-in): {}",
            *pw
        );
    }
    Ok(())
}

/// `atrium admin reset-password --username NAME`: a generated password, changed at next sign-in.
pub fn reset_password(config: &Config, username: &str) -> anyhow::Result<()> {
    let pw = Zeroizing::new(password::generate_password());
    let hash = password::hash_blocking(&pw)?;
    let store = open_store(config)?;
    let name = username.trim().to_string();
    let now = store.now_ms();
    let done = store.write_blocking(move |c, ring| {
        let Some(id) = identity::user_id_by_name(c, &name)? else {
            return Ok(false);
        };
        identity::set_password(c, id, &hash, true, now)?;
        identity::revoke_user_sessions(c, id, None, "password_reset", now)?;
        identity::throttle_clear(c, &name)?;
        let e = Entry::new(&Actor::cli(), "password.reset", format!("user:{id}"))
            .details(serde_json::json!({ "via": "cli" }));
        audit_log::append(c, ring, now, &e)?;
        Ok(true)
    });
    store.close();
    if !done? {
        bail!("no user named {username:?}");
    }
    println!(
        "new password for {username} (shown once; must be changed at next sign-in): {}",
        *pw
    );
    Ok(())
}
