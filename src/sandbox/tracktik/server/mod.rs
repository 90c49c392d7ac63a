//! Shared state, the router, the request log, fault injection, the clock and persistence.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::oauth::AuthState;
use super::seed::{SeedConfig, generate};
use super::store::Portal;
use super::{Options, api, control, oauth};

/// One injected fault: the next `count` matching calls answer `status` (after `delayMs`),
/// once `after` matching calls went through untouched. A `status` of 200 answers normally,
/// only late: a slow TrackTik.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub status: u16,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub path_contains: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub after: u32,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub time: String,
    pub duration_ms: u64,
}

pub const LOG_CAPACITY: usize = 10_000;

/// What the state file holds.
#[derive(Deserialize)]
struct Saved {
    portal: Portal,
    auth: AuthState,
    seed: SeedConfig,
    clock_offset_ms: i64,
}

#[derive(Serialize)]
struct SavedRef<'a> {
    portal: &'a Portal,
    auth: &'a serde_json::Value,
    seed: &'a SeedConfig,
    clock_offset_ms: i64,
}

pub struct Shared {
    pub base_url: String,
    pub token_ttl: Duration,
    portal: RwLock<Portal>,
    /// The portal's indexes, forgotten whenever it is written.
    pub indexes: crate::sandbox::tracktik::query::Indexes,
    auth: Mutex<AuthState>,
    seed: Mutex<SeedConfig>,
    pub faults: Mutex<Vec<Fault>>,
    pub log: Mutex<VecDeque<LoggedRequest>>,
    pub total_requests: Mutex<u64>,
    clock_offset_ms: Mutex<i64>,
    dirty: AtomicBool,
    state_file: Option<PathBuf>,
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Write access to the portal (see [`Shared::portal_mut`]).
pub struct PortalWrite<'a> {
    guard: RwLockWriteGuard<'a, Portal>,
    indexes: &'a crate::sandbox::tracktik::query::Indexes,
}

impl std::ops::Deref for PortalWrite<'_> {
    type Target = Portal;
    fn deref(&self) -> &Portal {
        &self.guard
    }
}

impl std::ops::DerefMut for PortalWrite<'_> {
    fn deref_mut(&mut self) -> &mut Portal {
        &mut self.guard
    }
}

impl Drop for PortalWrite<'_> {
    fn drop(&mut self) {
        self.indexes.invalidate();
    }
}

impl Shared {
    pub fn new(options: &Options, base_url: String) -> anyhow::Result<Self> {
        let mut auth = AuthState::new(options.clients.clone());
        let mut portal = None;
        let mut seed = options.seed.clone();
        let mut offset = 0;
        if let Some(path) = options.state_file.as_ref().filter(|p| p.exists()) {
            let saved: Saved = serde_json::from_slice(&std::fs::read(path)?)?;
            portal = Some(saved.portal);
            auth.restore(saved.auth);
            seed = saved.seed;
            offset = saved.clock_offset_ms;
        }
        let portal = portal.unwrap_or_else(|| generate(&seed));
        Ok(Shared {
            base_url,
            token_ttl: options.access_token_ttl,
            portal: RwLock::new(portal),
            indexes: Default::default(),
            auth: Mutex::new(auth),
            seed: Mutex::new(seed),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(VecDeque::new()),
            total_requests: Mutex::new(0),
            clock_offset_ms: Mutex::new(offset),
            dirty: AtomicBool::new(options.state_file.is_some()),
            state_file: options.state_file.clone(),
            shutdown: tokio::sync::watch::channel(false).0,
        })
    }

    pub fn portal(&self) -> RwLockReadGuard<'_, Portal> {
        self.portal.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the portal; marks the state for saving. The portal's indexes are
    /// forgotten when the access ends (still under the write lock, so no reader can file an
    /// index of the old rows as current, and one built meanwhile by the writer is dropped too).
    pub fn portal_mut(&self) -> PortalWrite<'_> {
        self.dirty.store(true, Ordering::Relaxed);
        let guard = self.portal.write().unwrap_or_else(|e| e.into_inner());
        // Also forgotten now, so the writer itself never reads an index of the rows as they were.
        self.indexes.invalidate();
        PortalWrite {
            guard,
            indexes: &self.indexes,
        }
    }

    /// Auth state for a change (marks the state for saving).
    pub fn auth(&self) -> MutexGuard<'_, AuthState> {
        self.dirty.store(true, Ordering::Relaxed);
        lock(&self.auth)
    }

    /// Auth state for a look-up (token checks on every API call do not trigger a save).
    pub fn auth_peek(&self) -> MutexGuard<'_, AuthState> {
        lock(&self.auth)
    }

    pub fn reseed(&self, config: SeedConfig) {
        let portal = generate(&config);
        *self.portal_mut() = portal;
        *lock(&self.seed) = config;
    }

    pub fn seed_config(&self) -> SeedConfig {
        lock(&self.seed).clone()
    }

    /// The sandbox clock: real time shifted by the offset set through the control API.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(*lock(&self.clock_offset_ms))
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        *lock(&self.clock_offset_ms) = (now - Utc::now()).num_milliseconds();
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Takes one fault matching `path`, if any is armed.
    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let i = faults
            .iter()
            .position(|f| f.path_contains.as_deref().is_none_or(|p| path.contains(p)))?;
        if faults[i].after > 0 {
            faults[i].after -= 1;
            return None;
        }
        let fault = faults[i].clone();
        faults[i].count = faults[i].count.saturating_sub(1);
        if faults[i].count == 0 {
            faults.remove(i);
        }
        Some(fault)
    }

    fn record(&self, entry: LoggedRequest) {
        *lock(&self.total_requests) += 1;
        let mut log = lock(&self.log);
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        if !self.dirty.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        // Never hold the auth lock and the portal lock together here: token handlers take
        // them in the other order.
        let auth = serde_json::to_value(&*lock(&self.auth))?;
        let seed = self.seed_config();
        let bytes = {
            let portal = self.portal();
            let saved = SavedRef {
                portal: &portal,
                auth: &auth,
                seed: &seed,
                clock_offset_ms: *lock(&self.clock_offset_ms),
            };
            serde_json::to_vec(&saved)?
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// Fault injection and the request log, for everything under `/rest/`.
async fn observe(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/rest/") {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let query = req.uri().query().map(str::to_owned);
    let time = shared.now();
    let response = match shared.take_fault(&path) {
        Some(fault) if fault.status == 200 => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            next.run(req).await
        }
        Some(fault) => {
            if fault.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            }
            let status =
                StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            api::error_response(
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error"),
            )
        }
        None => next.run(req).await,
    };
    shared.record(LoggedRequest {
        method,
        path,
        query,
        status: response.status().as_u16(),
        time: time.to_rfc3339(),
        duration_ms: started.elapsed().as_millis() as u64,
    });
    response
}

async fn not_found() -> Response {
    api::error_response(404, "Not Found")
}

async fn method_not_allowed() -> Response {
    api::error_response(405, "Method Not Allowed")
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(oauth::router())
        .merge(api::router())
        .merge(control::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            observe,
        ))
        .with_state(shared)
}

pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> anyhow::Result<()> {
    let mut stop = shared.shutdown.subscribe();
    let saver = shared.state_file.is_some().then(|| {
        let shared = Arc::clone(&shared);
        let mut stop = shared.shutdown.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                let s = Arc::clone(&shared);
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.save()).await {
                    tracing::warn!(error = %e, "sandbox: could not save the state file");
                }
            }
        })
    });
    let app = router(Arc::clone(&shared)).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await?;
    if let Some(saver) = saver {
        let _ = saver.await;
    }
    let s = Arc::clone(&shared);
    tokio::task::spawn_blocking(move || s.save()).await??;
    Ok(())
}

/// A JSON response with a status.
pub fn json(status: u16, body: serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(body)).into_response()
}
