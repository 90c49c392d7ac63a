//! A throw-away PostgreSQL database per test, and queries that look into it.

use super::*;

/// The server holding every test database: `DATABASE_URL`'s server, or the local default.
fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| ledgerbridge::config::DEFAULT_DATABASE_URL.to_owned())
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// The server holding it.
    server: String,
}

impl TestDb {
    /// Creates an empty database with a unique name (the app migrates it itself).
    pub async fn new() -> Self {
        Self::new_on(&server_url()).await
    }

    /// [`TestDb::new`] on another server (e.g. a throw-away cluster a test restarts).
    pub async fn new_on(server: &str) -> Self {
        let base = PgConnectOptions::from_str(server).expect("DATABASE_URL is a PostgreSQL URL");
        let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = base.clone().database("postgres").connect().await.expect(
            "PostgreSQL must be running on 127.0.0.1:5432 (or at DATABASE_URL) for the tests",
        );
        sqlx::query(&format!("create database \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let url = base.database(&name).to_url_lossy().to_string();
        Self {
            name,
            url,
            server: server.to_owned(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = self.server.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let admin = PgConnectOptions::from_str(&server)
                    .unwrap()
                    .database("postgres");
                if let Ok(mut conn) = admin.connect().await {
                    let _ =
                        sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

/// Every (schema.table) whose rows, as text, contain one of `needles` in the clear or as hex.
pub async fn scan_database_for(db: &PgPool, needles: &[String]) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|(_, t)| t == "connection"),
        "the scan sees our tables"
    );
    let hex: Vec<String> = needles
        .iter()
        .map(|n| n.bytes().map(|b| format!("{b:02x}")).collect())
        .collect();
    let mut hits = Vec::new();
    for (schema, table) in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("select t::text from \"{schema}\".\"{table}\" t"))
                .fetch_all(db)
                .await
                .unwrap();
        for row in rows {
            if needles
                .iter()
                .chain(hex.iter())
                .any(|n| row.contains(n.as_str()))
            {
                hits.push(format!("{schema}.{table}"));
                break;
            }
        }
    }
    hits
}

/// The tenant and integration of a connected QuickBooks company.
pub async fn integration_of(db: &PgPool, realm_id: &str) -> (uuid::Uuid, uuid::Uuid) {
    sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
        .bind(realm_id)
        .fetch_one(db)
        .await
        .unwrap()
}
