//! The command line: `atrium serve | check-config | admin | audit | backup | restore | keys init`.
//! Every subcommand takes the same `--config` and `--data-dir` options.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::{CliOverrides, Config};
use crate::crypto::KeyProvider;
use crate::{app, logging, metrics, store};

mod admin;
pub mod audit;

#[derive(Debug, Parser)]
#[command(
    name = "atrium",
    version,
    about = "Atrium: on-premise omnichannel customer service"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// TOML configuration file (default: none, built-in defaults).
    #[arg(long, global = true, env = "ATRIUM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (overrides `http.listen`), e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Print the resolved configuration (secrets redacted); exit non-zero listing every problem.
    CheckConfig,
    /// Write a consistent copy of the database to FILE (works while the server runs).
    Backup {
        /// Where to write the backup (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace the database with a backup after checking its integrity and master key.
    /// The server must be stopped.
    Restore {
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Master key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Account administration on the server (works while it runs).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Verify and export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a fake WeChat / WeCom server for demos and acceptance tests without a real account
    /// (signs and encrypts pushes like WeChat, serves tokens, records sends; see
    /// docs/wechat-guide.md). Point an inbox's API base URL at it.
    FakeWechat(FakeWechatArgs),
}

#[derive(Debug, Args)]
pub struct FakeWechatArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100", value_name = "ADDR")]
    pub listen: String,
    /// The AppID (or CorpID) Atrium is configured with.
    #[arg(long, default_value = "wxfake0000000001")]
    pub app_id: String,
    /// The AppSecret (or app Secret) Atrium is configured with.
    #[arg(long, default_value = "fakesecret0123456789abcdef012345")]
    pub app_secret: String,
    /// The inbox's callback Token (shown on its WeChat tab).
    #[arg(long)]
    pub token: String,
    /// The inbox's EncodingAESKey (shown on its WeChat tab).
    #[arg(long)]
    pub encoding_aes_key: String,
    /// The inbox's full callback URL, e.g. http://127.0.0.1:8080/hooks/wechat/3.
    #[arg(long)]
    pub callback: Option<String>,
    /// The 微信客服 account id (for a wecom_kf inbox).
    #[arg(long, default_value = "wkfake0000000001")]
    pub open_kfid: String,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user. The password is read from stdin when piped; otherwise one is generated,
    /// printed once, and must be changed at first sign-in.
    Create {
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Role name (repeatable): agent, supervisor, sysadmin, secadmin, auditor or a custom role.
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
    },
    /// Give a user a generated password (printed once), to be changed at next sign-in; ends
    /// their sessions and lifts a lockout.
    ResetPassword {
        #[arg(long, value_name = "NAME")]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and MACs; exit 0 when intact, 1 naming the first broken record.
    Verify {
        /// Start: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// End (inclusive): YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Write records in a time range to an encrypted, self-verifying archive. The passphrase
    /// comes from ATRIUM_EXPORT_PASSPHRASE or stdin.
    Export {
        #[arg(long, value_name = "DATE")]
        from: String,
        #[arg(long, value_name = "DATE")]
        to: String,
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Check an export offline (no database needed). Passphrase as for export.
    VerifyExport {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create the master key file if it does not exist (never for an existing database).
    Init {
        /// Make this system user the key file's owner (used by the packaged systemd unit).
        #[arg(long, value_name = "USER")]
        owner: Option<String>,
    },
}

/// Exit code for configuration problems.
const EXIT_CONFIG: u8 = 2;

fn load_config(common: &Common, listen: Option<String>) -> Result<Config, ExitCode> {
    let cli = CliOverrides {
        data_dir: common.data_dir.clone(),
        listen,
    };
    match Config::load(common.config.as_deref(), &cli) {
        Ok((config, loaded)) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            Ok(config)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}

fn fake_wechat(a: &FakeWechatArgs) -> ExitCode {
    use crate::channels::wechat::{crypto, fake};
    if crypto::decode_key(&a.encoding_aes_key).is_err() {
        eprintln!(
            "error: --encoding-aes-key must be the 43 characters shown on the inbox's WeChat tab"
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let cfg = fake::FakeConfig {
        app_id: a.app_id.clone(),
        app_secret: a.app_secret.clone(),
        token: a.token.clone(),
        encoding_aes_key: a.encoding_aes_key.clone(),
        callback_url: a.callback.clone(),
        open_kfid: a.open_kfid.clone(),
        ..fake::FakeConfig::default()
    };
    match fake::start(&a.listen, cfg) {
        Ok(running) => {
            let url = running.url();
            println!("fake WeChat listening on {url}");
            println!(
                "  set the inbox's API base URL to {url}; AppID {}, AppSecret {}",
                a.app_id, a.app_secret
            );
            println!(
                "  a customer writes:  curl -X POST {url}/fake/push -H 'content-type: application/json' -d '{{\"openid\":\"o-demo\",\"text\":\"你好\"}}'"
            );
            println!(
                "  微信客服:            curl -X POST {url}/fake/kf/say -H 'content-type: application/json' -d '{{\"external_userid\":\"wm-demo\",\"texts\":[\"你好\"]}}'"
            );
            println!("  what was sent:      curl {url}/fake/sends   (and {url}/fake/kf)");
            running.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", a.listen);
            ExitCode::FAILURE
        }
    }
}

/// Run the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    if let Command::FakeWechat(a) = &cli.command {
        return fake_wechat(a);
    }
    if let Command::CheckConfig = cli.command {
        return match load_config(&cli.common, None) {
            Ok(c) => {
                print!("{}", c.to_redacted_toml());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        };
    }
    let config = match load_config(&cli.common, listen) {
        Ok(c) => c,
        Err(code) => return code,
    };
    logging::init(&config.log);
    let result = match cli.command {
        Command::Audit(AuditCommand::Verify { from, to }) => {
            return finish(audit::verify(&config, from.as_deref(), to.as_deref()));
        }
        Command::Audit(AuditCommand::VerifyExport { file }) => {
            return finish(audit::verify_export(&file));
        }
        Command::Audit(AuditCommand::Export { from, to, out }) => {
            audit::export(&config, &from, &to, &out)
        }
        Command::Admin(AdminCommand::Create {
            username,
            roles,
            display_name,
        }) => admin::create(&config, &username, &roles, display_name.as_deref()),
        Command::Admin(AdminCommand::ResetPassword { username }) => {
            admin::reset_password(&config, &username)
        }
        Command::Serve { .. } => serve(config),
        Command::Backup { out } => backup(&config, &out),
        Command::Restore { from } => restore(&config, &from),
        Command::Keys(KeysCommand::Init { owner }) => keys_init(&config, owner.as_deref()),
        // Both answered before the configuration is loaded.
        Command::CheckConfig | Command::FakeWechat(_) => Ok(()),
    };
    finish(result.map(|()| ExitCode::SUCCESS))
}

fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Open the database beside a possibly running server (no data-directory lock: SQLite's own
/// locking serialises writers).
pub(crate) fn open_store(config: &Config) -> anyhow::Result<store::Store> {
    let m = metrics::build().context("while registering metrics")?;
    let keys = app::key_provider(config);
    store::Store::open(store::OpenOptions {
        config,
        keys: &keys,
        clock: std::sync::Arc::new(SystemClock),
        metrics: m.writer,
    })
    .context("while opening the database")
}

fn serve(config: Config) -> anyhow::Result<()> {
    let app = app::create_app(config, app::AppOptions::default())?;
    actix_web::rt::System::new().block_on(app.run(|_| {}))
}

fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    let info = store::backup::backup_file(&config.db_path(), out)
        .with_context(|| format!("while backing up {}", config.db_path().display()))?;
    let files = store::backup::backup_files(&config.data_dir, out)
        .context("while backing up the attachment files")?;
    let files_dir = store::backup::files_beside(out);
    let e = crate::audit::Entry::new(&crate::audit::Actor::cli(), "backup.create", "database")
        .details(serde_json::json!({
            "file": info.path.display().to_string(), "bytes": info.bytes,
            "attachment_files": files,
        }));
    let s = open_store(config)?;
    let now = s.now_ms();
    let logged = s.write_blocking(move |c, ring| store::audit::append(c, ring, now, &e));
    s.close();
    logged.context("the backup was written, but recording it in the audit log failed")?;
    println!(
        "backup written to {} ({} bytes, schema version {}). Keep the master key ({}) in a \
         separate safe place: the backup cannot be read without it.",
        info.path.display(),
        info.bytes,
        info.schema_version,
        config.master_key_path().display()
    );
    if files > 0 {
        println!(
            "{files} attachment files copied to {} (keep that folder with the backup file).",
            files_dir.display()
        );
    }
    Ok(())
}

fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let _lock = store::lock_data_dir(&config.data_dir)?;
    let kek = app::key_provider(config)
        .load(false)
        .context("the restore needs the master key that belongs to the backup")?;
    let info = store::backup::verify(from, &kek)
        .with_context(|| format!("while checking the backup {}", from.display()))?;
    let now = SystemClock.now_ms();
    let kept = store::backup::restore(&config.data_dir, from, &kek, now)?;
    drop(kek);
    let files = store::backup::restore_files(&config.data_dir, from, now)
        .context("the database was restored, but restoring the attachment files failed")?;
    let e = crate::audit::Entry::new(&crate::audit::Actor::cli(), "backup.restore", "database")
        .details(serde_json::json!({
            "from": from.display().to_string(),
            "previous_kept_as": kept.as_ref().map(|k| k.display().to_string()),
            "attachment_files": files.as_ref().map(|(n, _)| *n),
        }));
    let s = open_store(config)?;
    let now = s.now_ms();
    let logged = s.write_blocking(move |c, ring| store::audit::append(c, ring, now, &e));
    s.close();
    logged.context("the database was restored, but recording it in the audit log failed")?;
    println!(
        "restored {} (schema version {}) into {}.",
        info.path.display(),
        info.schema_version,
        config.db_path().display()
    );
    if let Some(old) = kept {
        println!("the previous database was kept as {}", old.display());
    }
    match files {
        Some((n, old)) => {
            println!("{n} attachment files restored.");
            if let Some(old) = old {
                println!(
                    "the previous attachment files were kept in {}",
                    old.display()
                );
            }
        }
        None => println!(
            "no attachment folder {} beside the backup: the current attachment files stay.",
            store::backup::files_beside(from).display()
        ),
    }
    Ok(())
}

fn keys_init(config: &Config, owner: Option<&str>) -> anyhow::Result<()> {
    let path = config.master_key_path();
    let provider = app::key_provider(config);
    let db = config.db_path();
    let has_db = std::fs::metadata(&db).is_ok_and(|m| m.len() > 0);
    let existed = std::fs::symlink_metadata(&path).is_ok();
    // The provider's own rules: read and check an existing key, create one only when no
    // database exists, refuse a missing key for an existing database.
    provider.load(!has_db)?;
    if existed {
        println!("master key {} exists", path.display());
    } else {
        println!(
            "master key created at {} (mode 0600); back it up now",
            path.display()
        );
    }
    if let Some(user) = owner {
        let Some(u) = nix::unistd::User::from_name(user).context("while looking up the user")?
        else {
            bail!("no system user named {user:?}");
        };
        std::os::unix::fs::chown(&path, Some(u.uid.as_raw()), Some(u.gid.as_raw()))
            .with_context(|| format!("while giving {} to {user}", path.display()))?;
    }
    Ok(())
}
