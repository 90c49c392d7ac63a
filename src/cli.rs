//! The command line: one binary, one subcommand per way of running.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::staff::StaffRole;
use crate::{db, demo, server, staff, telemetry};

/// Ledgerbridge: approved TrackTik invoices and locked pay runs into QuickBooks Online, exactly once.
///
/// Settings come from environment variables (and a `.env` file); see the README for the list.
#[derive(Debug, Parser)]
#[command(name = "ledgerbridge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server and the job worker in one process (small installs, development).
    Serve,
    /// Run only the web server (scale it separately from workers).
    Web,
    /// Run only the job worker; start as many as you like on any machines sharing the database.
    Worker,
    /// Try Ledgerbridge on this machine: serve on 127.0.0.1:8080 with the TrackTik sandbox
    /// (8081) and the QuickBooks sandbox (8082), a seeded portal and a demo staff account.
    Demo {
        /// Address to serve Ledgerbridge on.
        #[arg(
            long,
            env = "LEDGERBRIDGE_DEMO_LISTEN",
            default_value = "127.0.0.1:8080"
        )]
        listen: SocketAddr,
        /// Address of the TrackTik sandbox.
        #[arg(
            long,
            env = "LEDGERBRIDGE_DEMO_TRACKTIK",
            default_value = "127.0.0.1:8081"
        )]
        tracktik: SocketAddr,
        /// Address of the QuickBooks sandbox.
        #[arg(
            long,
            env = "LEDGERBRIDGE_DEMO_QUICKBOOKS",
            default_value = "127.0.0.1:8082"
        )]
        quickbooks: SocketAddr,
        /// Folder for the sandboxes' state and the demo's token key.
        #[arg(
            long,
            env = "LEDGERBRIDGE_DEMO_DIR",
            default_value = ".ledgerbridge-demo"
        )]
        dir: std::path::PathBuf,
    },
    /// Run one sandbox alone (for trying the API, or pointing a development setup at it).
    Sandbox {
        #[command(subcommand)]
        which: SandboxCommand,
    },
    /// Write a new token-encryption key to LEDGERBRIDGE_TOKEN_KEYS_FILE unless one is there
    /// (run once before the first `web` and `worker`; docker compose does).
    InitKeys,
    /// Print a new token-encryption key entry for LEDGERBRIDGE_TOKEN_KEYS.
    GenerateKey {
        /// The key's id, e.g. the month it was made.
        #[arg(long, default_value_t = chrono::Utc::now().format("k%Y%m").to_string())]
        id: String,
    },
    /// Re-encrypt every stored token under the first key of LEDGERBRIDGE_TOKEN_KEYS.
    ///
    /// To rotate: put the new key first in LEDGERBRIDGE_TOKEN_KEYS (keep the old one after
    /// it), restart, run this, then remove the old key.
    RotateKeys,
    /// Create the database if needed and apply every pending migration, then exit.
    Migrate {
        /// Instead, revert Ledgerbridge's most recent migration (its `.down.sql`).
        #[arg(long)]
        revert_last: bool,
    },
    /// Sync one integration now: post everything approved up to the end of DAY (default: today
    /// in the integration's time zone) that is not posted yet.
    SyncNow {
        /// The integration id.
        integration: crate::ids::IntegrationId,
        /// The trading day (YYYY-MM-DD).
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
    },
    /// Retry failed documents on purpose (one with --entry, else all), with a new request id.
    SyncRetry {
        /// The integration id.
        integration: crate::ids::IntegrationId,
        /// One ledger entry id.
        #[arg(long)]
        entry: Option<i64>,
    },
    /// Back-sync: post documents approved from FROM to the end of TO, even before the start date.
    SyncBack {
        /// The integration id.
        integration: crate::ids::IntegrationId,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: chrono::NaiveDate,
    },
    /// Preview: print what a sync of DAY would post; writes nothing.
    SyncPreview {
        /// The integration id.
        integration: crate::ids::IntegrationId,
        /// The trading day (YYYY-MM-DD).
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
    },
    /// Manage support staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SandboxCommand {
    /// The QuickBooks Online sandbox (OAuth, Accounting API, control API under /__sandbox).
    Quickbooks {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8082)]
        port: u16,
        /// Keep state in this file across restarts.
        #[arg(long)]
        state_file: Option<std::path::PathBuf>,
    },
    /// The TrackTik sandbox (OAuth, /rest/v1, control API under /__sandbox), seeded.
    Tracktik {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8081)]
        port: u16,
        /// Keep state in this file across restarts.
        #[arg(long)]
        state_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a staff account, or reset the password and role of an existing one.
    ///
    /// The password is asked for on the terminal, or read from LEDGERBRIDGE_STAFF_PASSWORD
    /// when set (for scripts). It must be at least 12 characters.
    Add {
        /// The staff member's work email; they sign in with it.
        email: String,
        /// What they may do.
        #[arg(long, value_enum)]
        role: StaffRole,
    },
}

/// Parses the command line and runs the chosen command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env().context("invalid configuration")?;
    telemetry::init(config.log_json);
    match cli.command {
        Command::Sandbox { which } => sandbox(which).await,
        Command::InitKeys => init_keys(&config),
        Command::GenerateKey { id } => {
            let spec = crate::crypto::TokenCipher::generate_spec(&id);
            println!("{}", secrecy::ExposeSecret::expose_secret(&spec));
            Ok(())
        }
        Command::RotateKeys => {
            let state = server::build_state(config).await?;
            let n = crate::connections::rotate_keys(&state).await?;
            println!(
                "Re-encrypted the tokens of {n} connection(s) under key {}.",
                state.cipher.current_key_id()
            );
            Ok(())
        }
        Command::Serve => {
            let listener = server::bind(config.listen).await?;
            server::run_all(server::build_state(config).await?, listener).await
        }
        Command::Web => {
            let listener = server::bind(config.listen).await?;
            let state = server::build_state(config).await?;
            server::run_web_process(state, listener).await
        }
        Command::Worker => server::run_worker(server::build_state(config).await?).await,
        Command::Demo {
            listen,
            tracktik,
            quickbooks,
            dir,
        } => {
            demo::run(
                config,
                demo::DemoOptions {
                    listen,
                    tracktik,
                    quickbooks,
                    dir,
                },
            )
            .await
        }
        Command::Migrate { revert_last } => migrate(&config, revert_last).await,
        Command::SyncNow { .. }
        | Command::SyncRetry { .. }
        | Command::SyncBack { .. }
        | Command::SyncPreview { .. } => sync_command(config, cli.command).await,
        Command::Staff {
            command: StaffCommand::Add { email, role },
        } => {
            let password = match std::env::var("LEDGERBRIDGE_STAFF_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => ask_password()?,
            };
            let state = server::build_state(config).await?;
            let user = staff::add(&state.db, &email, role, &password).await?;
            println!(
                "Staff account {} saved with role {}.",
                user.email,
                user.role.label()
            );
            Ok(())
        }
    }
}

fn init_keys(config: &Config) -> anyhow::Result<()> {
    let path = config.token_keys_file.as_deref().context(
        "LEDGERBRIDGE_TOKEN_KEYS_FILE is not set: name the file the key should be written to",
    )?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let id = chrono::Utc::now().format("k%Y%m").to_string();
    let written = crate::crypto::init_key_file(path, &id)
        .with_context(|| format!("could not write {}", path.display()))?;
    if written {
        println!("Wrote a new token key ({id}) to {}.", path.display());
    } else {
        crate::crypto::read_key_file(path)
            .map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
        println!("{} already holds a token key; kept it.", path.display());
    }
    Ok(())
}

async fn migrate(config: &Config, revert_last: bool) -> anyhow::Result<()> {
    let pool = db::connect(&config.database_url, 2).await?;
    if revert_last {
        let migrator = db::migrator();
        let applied: Vec<i64> =
            sqlx::query_scalar("select version from _sqlx_migrations order by version desc")
                .fetch_all(&pool)
                .await?;
        let ours: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        let mut ours_applied = applied.iter().filter(|v| ours.contains(v));
        let Some(last) = ours_applied.next() else {
            println!("No Ledgerbridge migration is applied; nothing to revert.");
            return Ok(());
        };
        let target = ours_applied.next().copied().unwrap_or(0);
        migrator
            .undo(&pool, target)
            .await
            .context("reverting the migration failed")?;
        println!("Reverted migration {last}.");
    } else {
        db::migrate(&pool).await?;
        println!(
            "The database at {} is up to date.",
            db::redact(&config.database_url)
        );
    }
    Ok(())
}

async fn sync_command(config: Config, command: Command) -> anyhow::Result<()> {
    use crate::sync::controls;
    let state = server::build_state(config).await?;
    let integration = match &command {
        Command::SyncNow { integration, .. }
        | Command::SyncRetry { integration, .. }
        | Command::SyncBack { integration, .. }
        | Command::SyncPreview { integration, .. } => *integration,
        _ => unreachable!("only sync commands come here"),
    };
    let tenant = controls::tenant_of(&state.db, integration)
        .await?
        .with_context(|| format!("no integration {integration}"))?;
    let report = match command {
        Command::SyncNow { day, .. } => controls::sync_now(&state, tenant, integration, day).await,
        Command::SyncRetry { entry, .. } => {
            controls::retry_failed(&state, tenant, integration, entry).await
        }
        Command::SyncBack { from, to, .. } => {
            controls::back_sync(&state, tenant, integration, from, to).await
        }
        Command::SyncPreview { day, .. } => {
            let items = controls::preview(&state, tenant, integration, day).await?;
            for i in &items {
                println!(
                    "{:<8} {:<24} {:>12}  {}",
                    i.source.label(),
                    i.doc_number,
                    i.amount,
                    i.problem
                        .as_deref()
                        .unwrap_or(i.qbo_entity.as_deref().unwrap_or(""))
                );
            }
            println!("{} document(s) would be posted.", items.len());
            return Ok(());
        }
        _ => unreachable!("only sync commands come here"),
    }?;
    let c = report.counts;
    println!(
        "Run {}: {} to post, {} posted, {} failed, {} skipped, {} waiting.",
        report
            .sync_run_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into()),
        c.total,
        c.posted,
        c.failed,
        c.skipped,
        report.waiting
    );
    Ok(())
}

fn ask_password() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password (at least 12 characters): ")
        .context("could not read the password; set LEDGERBRIDGE_STAFF_PASSWORD to pass it without a terminal")?;
    let second = rpassword::prompt_password("Same password again: ")?;
    anyhow::ensure!(
        first == second,
        "the two passwords differ; nothing was saved"
    );
    Ok(first)
}

async fn sandbox(which: SandboxCommand) -> anyhow::Result<()> {
    use crate::sandbox::{quickbooks, tracktik};
    let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
    match which {
        SandboxCommand::Quickbooks { port, state_file } => {
            let running = quickbooks::start(quickbooks::Options {
                listen: local(port),
                state_file,
                ..Default::default()
            })
            .await?;
            println!(
                "QuickBooks sandbox on {}  (companies: {}/__sandbox/companies)",
                running.base_url(),
                running.base_url()
            );
            server::shutdown_signal().await;
            running.shutdown();
            running.wait().await
        }
        SandboxCommand::Tracktik { port, state_file } => {
            let running = tracktik::start(tracktik::Options {
                listen: local(port),
                state_file,
                ..Default::default()
            })
            .await?;
            println!(
                "TrackTik sandbox on {}  (API: {}/rest/v1, sign in as {} / {})",
                running.base_url(),
                running.base_url(),
                tracktik::DEMO_USERNAME,
                tracktik::DEMO_PASSWORD
            );
            server::shutdown_signal().await;
            running.shutdown();
            running.wait().await
        }
    }
}
