//! `ledgerbridge demo`: everything a newcomer needs on one machine, with every URL printed.

use std::net::SocketAddr;

use base64::Engine;
use rand::RngCore;

use crate::config::Config;
use crate::server;
use crate::staff::{self, StaffRole};

/// The demo staff account's email.
pub const DEMO_STAFF_EMAIL: &str = "demo-support@ledgerbridge.test";

/// Starts web + worker on `listen`, creates the demo staff account and prints how to use it.
pub async fn run(mut config: Config, listen: SocketAddr) -> anyhow::Result<()> {
    config.listen = listen;
    if std::env::var("LEDGERBRIDGE_PUBLIC_URL").is_err() {
        config.public_url = format!("http://{listen}");
    }
    let listener = server::bind(listen).await?;
    let state = server::build_state(config).await?;

    let password = match std::env::var("LEDGERBRIDGE_DEMO_STAFF_PASSWORD") {
        Ok(p) if p.chars().count() >= 12 => p,
        _ => {
            let mut bytes = [0u8; 12];
            rand::rng().fill_bytes(&mut bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        }
    };
    staff::add(&state.db, DEMO_STAFF_EMAIL, StaffRole::Admin, &password).await?;

    let base = state.config.public_url.clone();
    println!();
    println!("  Ledgerbridge demo is running.");
    println!();
    println!("  Home page          {base}/");
    println!("  Support console    {base}/support");
    println!("    staff email      {DEMO_STAFF_EMAIL}");
    println!("    staff password   {password}");
    println!("  Health             {base}/healthz   {base}/readyz");
    println!("  Metrics            {base}/metrics");
    println!();
    println!("  Press Ctrl-C to stop.");
    println!();
    server::run_all(state, listener).await
}
