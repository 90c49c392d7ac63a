//! The database: connect, create it when missing, and bring its schema up to date.
//!
//! Three sets of tables live in it: ours (`migrations/`, reversible), apalis's job queue and
//! tower-sessions' session store. Ours and apalis's share sqlx's `_sqlx_migrations` table, so
//! each migrator is told to ignore versions it does not know.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgPool};

/// Our own migrations, embedded at build time, told to tolerate apalis's versions.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!();
    migrator.set_ignore_missing(true);
    migrator
}

/// Connects to `url`, creating the database first if it does not exist yet.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    create_database_if_missing(url).await?;
    let mut options = PgConnectOptions::from_str(url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
    if plain_on_this_host(url) {
        options = options.ssl_mode(PgSslMode::Disable);
    }
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("could not connect to the database at {}", redact(url)))
}

/// Whether to talk to the database without TLS: it is on this host (loopback) and the URL
/// does not choose an `sslmode`. sqlx otherwise prefers TLS whenever the server offers it, and
/// encrypting loopback traffic protects nothing while costing both sides CPU on every
/// statement (about a tenth of PostgreSQL's CPU per synced document in the fleet benchmark).
fn plain_on_this_host(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let loopback = matches!(
        parsed.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    loopback
        && !parsed
            .query_pairs()
            .any(|(k, _)| k.eq_ignore_ascii_case("sslmode") || k.eq_ignore_ascii_case("ssl-mode"))
}

/// Applies every pending migration: ours, the job queue's and the session store's.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    migrator()
        .run(pool)
        .await
        .context("applying Ledgerbridge's migrations failed")?;
    let mut jobs = apalis_sql::postgres::PostgresStorage::<()>::migrations();
    jobs.set_ignore_missing(true);
    jobs.run(pool)
        .await
        .context("applying the job queue's migrations failed")?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .context("creating the session store failed")?;
    Ok(())
}

async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let options =
        PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .with_context(|| format!("could not connect to PostgreSQL at {}", redact(url)))?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let create = format!("create database \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&create).execute(&mut admin).await {
            Ok(_) => tracing::info!(database = %name, "created the database"),
            // Another process created it between our check and our create.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e).context(format!("could not create database {name}")),
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_on_this_host_is_reached_without_tls_unless_the_url_says_otherwise() {
        assert!(super::plain_on_this_host(
            "postgres://postgres@127.0.0.1:5432/lb"
        ));
        assert!(super::plain_on_this_host("postgres://app@localhost/lb"));
        assert!(!super::plain_on_this_host(
            "postgres://postgres@127.0.0.1:5432/lb?sslmode=require"
        ));
        assert!(!super::plain_on_this_host(
            "postgres://app:pw@db.internal:5432/lb"
        ));
    }

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db:5432/lb"),
            "postgres://app:***@db:5432/lb"
        );
        assert_eq!(
            super::redact("postgres://postgres@127.0.0.1:5432/lb"),
            "postgres://postgres@127.0.0.1:5432/lb"
        );
    }
}
