//! `ledgerbridge demo`: Ledgerbridge with both sandboxes on one machine, every URL printed.
//!
//! The sandboxes keep their state in files under the demo folder (`LEDGERBRIDGE_DEMO_DIR`,
//! default `.ledgerbridge-demo`), beside the token key, so a restarted demo finds its
//! connections and posted documents again.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, DemoHints};
use crate::crypto::TokenCipher;
use crate::sandbox::{quickbooks, tracktik};
use crate::server;
use crate::staff::{self, StaffRole};

/// The demo staff account's email.
pub const DEMO_STAFF_EMAIL: &str = "demo-support@ledgerbridge.test";

/// Where and how the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Ledgerbridge's address.
    pub listen: SocketAddr,
    /// The TrackTik sandbox's address.
    pub tracktik: SocketAddr,
    /// The QuickBooks sandbox's address.
    pub quickbooks: SocketAddr,
    /// Where state files and the token key live.
    pub dir: PathBuf,
}

/// Starts both sandboxes and Ledgerbridge (web + worker), creates the demo staff account and
/// prints how to use everything.
pub async fn run(mut config: Config, options: DemoOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.dir)
        .with_context(|| format!("could not create the demo folder {}", options.dir.display()))?;
    let tt = tracktik::start(tracktik::Options {
        listen: options.tracktik,
        state_file: Some(options.dir.join("tracktik.json")),
        ..Default::default()
    })
    .await
    .with_context(|| {
        format!(
            "could not start the TrackTik sandbox on {}",
            options.tracktik
        )
    })?;
    let qbo = quickbooks::start(quickbooks::Options {
        listen: options.quickbooks,
        state_file: Some(options.dir.join("quickbooks.json")),
        ..Default::default()
    })
    .await
    .with_context(|| {
        format!(
            "could not start the QuickBooks sandbox on {}",
            options.quickbooks
        )
    })?;

    config.listen = options.listen;
    // The demo is this machine only: its metrics are shown beside its pages.
    config.metrics_on_web = true;
    if std::env::var("LEDGERBRIDGE_PUBLIC_URL").is_err() {
        config.public_url = format!("http://{}", options.listen);
    }
    config.tracktik_http_portals.push(tt.base_url().to_owned());
    config.quickbooks_base_url = Some(qbo.base_url().to_owned());
    if config.token_keys.is_none() {
        config.token_keys = Some(demo_key(&options.dir)?);
    }
    config.demo = Some(DemoHints {
        portal_url: tt.base_url().to_owned(),
        username: tracktik::DEMO_USERNAME.to_owned(),
        password: tracktik::DEMO_PASSWORD.to_owned(),
    });

    let listener = server::bind(options.listen).await?;
    let mut state = server::build_state(config).await?;
    // Without an SMTP server, the demo keeps its e-mail for the outbox page.
    state.mailer = state.mailer.clone().with_outbox();
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
    println!("  Home page            {base}/");
    println!(
        "    TrackTik portal    {}   (sign in as {} / {})",
        tt.base_url(),
        tracktik::DEMO_USERNAME,
        tracktik::DEMO_PASSWORD
    );
    println!("  Support console      {base}/support");
    println!("    staff email        {DEMO_STAFF_EMAIL}");
    println!("    staff password     {password}");
    println!(
        "  TrackTik sandbox     {}/rest/v1   control API {}/__sandbox",
        tt.base_url(),
        tt.base_url()
    );
    println!(
        "  QuickBooks sandbox   {}/__sandbox/companies   (what was posted)",
        qbo.base_url()
    );
    if state.mailer.outbox().is_some() {
        println!("  E-mail outbox        {base}/demo/outbox   (no SMTP server: e-mail stays here)");
    } else {
        println!("  E-mail               sent through LEDGERBRIDGE_SMTP_URL");
    }
    println!("  Health               {base}/healthz   {base}/readyz");
    println!("  Metrics              {base}/metrics");
    println!("  Demo state           {}", options.dir.display());
    println!();
    println!("  Press Ctrl-C to stop.");
    println!();
    let result = server::run_all(state, listener).await;
    tt.shutdown();
    qbo.shutdown();
    result
}

/// The demo's token key, made once and kept in the demo folder.
fn demo_key(dir: &std::path::Path) -> anyhow::Result<SecretString> {
    let path = dir.join("token-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = SecretString::from(existing.trim().to_owned());
        TokenCipher::from_spec(&key).with_context(|| {
            format!(
                "{} is not a valid key; delete it to start afresh",
                path.display()
            )
        })?;
        return Ok(key);
    }
    let key = TokenCipher::generate_spec("demo");
    std::fs::write(&path, key.expose_secret())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(key)
}
