//! Starting the pieces: state, web server, worker, and the shutdown signal they share.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::{AppState, Wiring};
use crate::{db, jobs, sync, web};

/// Connects to (and if needed creates and migrates) the database, and builds the state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let pool = db::connect(&config.database_url, config.db_max_connections).await?;
    db::migrate(&pool).await?;
    let wiring = Wiring {
        csp: web::content_security_policy(&config),
        sync_job_type: sync::controls::job_type().to_owned(),
    };
    AppState::new(pool, config, wiring)
}

/// Binds the configured address, with a message that names the variable on failure.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!(
            "could not listen on {addr} (LEDGERBRIDGE_LISTEN): is another program using that port?"
        )
    })
}

/// Serves the web application on `listener` until `shutdown` resolves.
pub async fn run_web(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, public_url = %state.config.public_url, "web server listening");
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the web server stopped with an error")
}

/// Serves the operations endpoints (`/healthz`, `/readyz`, `/metrics`) on
/// `LEDGERBRIDGE_METRICS_LISTEN` in the background, when it is set, until shutdown.
pub async fn start_ops_listener(state: &AppState) -> anyhow::Result<()> {
    let Some(addr) = state.config.metrics_listen else {
        return Ok(());
    };
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("could not listen on {addr} (LEDGERBRIDGE_METRICS_LISTEN): is another program using that port?")
    })?;
    tracing::info!(%addr, "operations endpoints listening");
    let app = web::ops_router(state.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            tracing::error!(error = %e, "the operations listener stopped");
        }
    });
    Ok(())
}

/// A `web` process: the web application on `listener` and the operations listener, until
/// Ctrl-C or SIGTERM.
pub async fn run_web_process(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    start_ops_listener(&state).await?;
    run_web(state, listener, shutdown_signal()).await
}

/// A worker process: the jobs, and the operations listener.
pub async fn run_worker(state: AppState) -> anyhow::Result<()> {
    start_ops_listener(&state).await?;
    jobs::run(state, shutdown_signal()).await
}

/// Web and worker in one process (and the operations listener), until Ctrl-C or SIGTERM.
pub async fn run_all(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    start_ops_listener(&state).await?;
    let web = tokio::spawn(run_web(state.clone(), listener, shutdown_signal()));
    let worker = tokio::spawn(jobs::run(state, shutdown_signal()));
    let (web, worker) = tokio::join!(web, worker);
    web.context("the web server task panicked")??;
    worker.context("the worker task panicked")??;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
