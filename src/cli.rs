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
    /// Try Ledgerbridge on this machine: serve on 127.0.0.1:8080 with a demo staff account.
    Demo {
        /// Address to serve on.
        #[arg(
            long,
            env = "LEDGERBRIDGE_DEMO_LISTEN",
            default_value = "127.0.0.1:8080"
        )]
        listen: SocketAddr,
    },
    /// Create the database if needed and apply every pending migration, then exit.
    Migrate {
        /// Instead, revert Ledgerbridge's most recent migration (its `.down.sql`).
        #[arg(long)]
        revert_last: bool,
    },
    /// Manage support staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
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
        Command::Serve => {
            let listener = server::bind(config.listen).await?;
            server::run_all(server::build_state(config).await?, listener).await
        }
        Command::Web => {
            let listener = server::bind(config.listen).await?;
            let state = server::build_state(config).await?;
            server::run_web(state, listener, server::shutdown_signal()).await
        }
        Command::Worker => {
            let state = server::build_state(config).await?;
            crate::jobs::run(state, server::shutdown_signal()).await
        }
        Command::Demo { listen } => demo::run(config, listen).await,
        Command::Migrate { revert_last } => migrate(&config, revert_last).await,
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
