use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn embedded_defaults_serve_on_loopback_8080() {
    let (c, _) = Config::load_from(None, &[], &CliOverrides::default()).unwrap();
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.data_dir, PathBuf::from("./atrium-data"));
    assert_eq!(
        c.keys.master_key_file,
        PathBuf::from("./atrium-data/master.key")
    );
    assert_eq!(c.store.synchronous, Synchronous::Full);
    assert!(c.tls.is_none());
}

/// The documented example must list every key, in the table's order, at its default value.
#[test]
fn example_config_matches_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/atrium.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let mut seen = Vec::new();
    for (name, v) in &table {
        match v {
            toml::Value::Table(inner) => seen.extend(inner.keys().map(|k| format!("{name}.{k}"))),
            _ => seen.push(name.clone()),
        }
    }
    let mut expected: Vec<String> = keys::KEYS.iter().map(|k| k.path.to_string()).collect();
    // toml::Table is ordered by key name, so compare as sets plus per-key defaults.
    seen.sort();
    expected.sort();
    assert_eq!(
        seen, expected,
        "config/atrium.toml and config::keys::KEYS list different keys"
    );
    assert_eq!(
        defaults_table(),
        table,
        "a value in config/atrium.toml differs from its default"
    );
    // Every key is documented by a comment line right above it (or above its group).
    for k in keys::KEYS {
        assert!(
            text.contains(&format!("\n{} = ", k.name())),
            "{} is missing from config/atrium.toml",
            k.path
        );
    }
    let (from_file, _) = Config::load_from(Some(&path), &[], &CliOverrides::default()).unwrap();
    let (defaults, _) = Config::load_from(None, &[], &CliOverrides::default()).unwrap();
    assert_eq!(from_file, defaults);
}

#[test]
fn env_overrides_file_and_cli_overrides_env() {
    let f = write("[http]\nlisten = \"127.0.0.1:9000\"\n[store]\nmax_batch = 64\n");
    let e = env(&[
        ("ATRIUM_HTTP__LISTEN", "127.0.0.1:9100"),
        ("ATRIUM_STORE__SYNCHRONOUS", "normal"),
    ]);
    let (c, _) = Config::load_from(Some(f.path()), &e, &CliOverrides::default()).unwrap();
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(c.store.max_batch, 64);
    assert_eq!(c.store.synchronous, Synchronous::Normal);
    let cli = CliOverrides {
        listen: Some("127.0.0.1:9200".into()),
        data_dir: Some("/tmp/x".into()),
    };
    let (c, _) = Config::load_from(Some(f.path()), &e, &cli).unwrap();
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:9200");
    assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
}

#[test]
fn unknown_env_var_is_warned_about_not_fatal() {
    let e = env(&[
        ("ATRIUM_HTTP__LISTNE", "x"),
        ("ATRIUM_CONFIG", "/etc/atrium/atrium.toml"),
    ]);
    let (_, loaded) = Config::load_from(None, &e, &CliOverrides::default()).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("ATRIUM_HTTP__LISTNE"));
}

/// A config with three mistakes reports all three, each naming its key and env var.
#[test]
fn three_mistakes_are_all_reported() {
    let f = write(
        "data_dir = \"/tmp/a\"\n[http]\nlisten = \"not an address\"\nlistne = 1\n[store]\nsynchronous = \"sometimes\"\n",
    );
    let err = Config::load_from(Some(f.path()), &[], &CliOverrides::default()).unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
    let text = err.to_string();
    assert!(text.contains("http.listne: unknown key"), "{text}");
    for (key, var) in [
        ("http.listen", "ATRIUM_HTTP__LISTEN"),
        ("store.synchronous", "ATRIUM_STORE__SYNCHRONOUS"),
    ] {
        assert!(
            text.contains(key) && text.contains(var),
            "{key} missing in {text}"
        );
    }
}

#[test]
fn wrong_types_are_reported_per_key() {
    let f = write("[http]\nbehind_tls_proxy = \"yes\"\nworkers = -1\n[log]\nlevel = 3\n");
    let err = Config::load_from(Some(f.path()), &[], &CliOverrides::default()).unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
    let e = env(&[("ATRIUM_STORE__MAX_BATCH", "many")]);
    let err = Config::load_from(None, &e, &CliOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("ATRIUM_STORE__MAX_BATCH"), "{err}");
}

/// Must show 4: plain HTTP on a non-loopback address fails naming the keys that fix it.
#[test]
fn binding_all_interfaces_without_tls_names_tls_cert_and_proxy_flag() {
    let cli = CliOverrides {
        listen: Some("0.0.0.0:8080".into()),
        ..Default::default()
    };
    let err = Config::load_from(None, &[], &cli).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("tls.cert"), "{text}");
    assert!(text.contains("http.behind_tls_proxy"), "{text}");
    let e = env(&[("ATRIUM_HTTP__BEHIND_TLS_PROXY", "true")]);
    assert!(Config::load_from(None, &e, &cli).is_ok());
}

#[test]
fn secrets_are_redacted_in_debug_and_check_config_output() {
    let e = env(&[("ATRIUM_METRICS__TOKEN", "s3cret-scrape-token-42")]);
    let (c, _) = Config::load_from(None, &e, &CliOverrides::default()).unwrap();
    assert!(!format!("{c:?}").contains("s3cret"));
    let printed = c.to_redacted_toml();
    assert!(!printed.contains("s3cret"), "{printed}");
    assert!(printed.contains("***"), "{printed}");
    assert_eq!(
        c.metrics.token.as_ref().unwrap().expose(),
        "s3cret-scrape-token-42"
    );
}

#[test]
fn unreadable_and_invalid_files_are_clear_errors() {
    let err = Config::load_from(
        Some(Path::new("/nonexistent/atrium.toml")),
        &[],
        &CliOverrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read /nonexistent/atrium.toml")
    );
    let f = write("[http\nlisten=");
    let err = Config::load_from(Some(f.path()), &[], &CliOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("not valid TOML"));
}

#[test]
fn outbound_allow_is_parsed_normalised_and_checked() {
    let (c, _) = Config::load_from(None, &[], &CliOverrides::default()).unwrap();
    assert!(
        c.outbound.allow.is_empty(),
        "nothing internal is allowed by default"
    );
    let e = env(&[("ATRIUM_OUTBOUND__ALLOW", "10.20.1.1/16, 192.168.5.10")]);
    let (c, _) = Config::load_from(None, &e, &CliOverrides::default()).unwrap();
    assert_eq!(c.outbound.allow, ["10.20.0.0/16", "192.168.5.10/32"]);
    let f = write("[outbound]\nallow = \"10.0.0.0/8, intranet\"\n");
    let err = Config::load_from(Some(f.path()), &[], &CliOverrides::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("outbound.allow") && text.contains("\"intranet\""),
        "{text}"
    );
}
