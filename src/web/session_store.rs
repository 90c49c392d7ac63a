//! The session store: tower-sessions' PostgreSQL store, written only when a session changed.
//!
//! tower-sessions saves a session whenever a handler touched it, and `Session::remove` counts
//! as a touch even when the key was not there (the dashboard takes its one-time flash on every
//! view). A save also moves the expiry 12 hours on. So without this wrapper nearly every page
//! view of a signed-in customer wrote the session row. Here a save is skipped when the data is
//! what this process last read or wrote for that session and the stored expiry is less than
//! [`EXPIRY_REFRESH`] older than the new one: an idle session ends between 11 and 12 hours
//! after its last request instead of exactly 12.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

/// How stale the stored expiry may get before an unchanged session is written anyway.
pub const EXPIRY_REFRESH: Duration = Duration::hours(1);

/// Sessions remembered per process (a few hundred bytes each, so a few MB at most); past this
/// the memory is dropped and the next save of each writes once, as before.
const REMEMBERED: usize = 20_000;

type Data = HashMap<String, serde_json::Value>;
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// [`PostgresStore`], skipping saves that would write what is stored already.
#[derive(Clone, Debug)]
pub struct WriteWhenChanged {
    inner: PostgresStore,
    seen: Arc<Mutex<HashMap<Id, (Data, OffsetDateTime)>>>,
}

impl WriteWhenChanged {
    /// Wraps the PostgreSQL store.
    pub fn new(inner: PostgresStore) -> Self {
        Self {
            inner,
            seen: Arc::default(),
        }
    }

    fn remember(&self, record: &Record) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= REMEMBERED && !seen.contains_key(&record.id) {
            seen.clear();
        }
        seen.insert(record.id, (record.data.clone(), record.expiry_date));
    }

    /// Whether `record` is what is stored, up to an expiry less than [`EXPIRY_REFRESH`] newer.
    pub fn unchanged(&self, record: &Record) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&record.id).is_some_and(|(data, expiry)| {
            *data == record.data && record.expiry_date - *expiry < EXPIRY_REFRESH
        })
    }
}

// The trait is declared with `async_trait`; its methods are written out as boxed futures.
impl SessionStore for WriteWhenChanged {
    fn create<'a, 'b, 'c>(&'a self, record: &'b mut Record) -> Boxed<'c, ()>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            self.inner.create(record).await?;
            self.remember(record);
            Ok(())
        })
    }

    fn save<'a, 'b, 'c>(&'a self, record: &'b Record) -> Boxed<'c, ()>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            if self.unchanged(record) {
                return Ok(());
            }
            self.inner.save(record).await?;
            self.remember(record);
            Ok(())
        })
    }

    fn load<'a, 'b, 'c>(&'a self, id: &'b Id) -> Boxed<'c, Option<Record>>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            let record = self.inner.load(id).await?;
            if let Some(record) = &record {
                self.remember(record);
            }
            Ok(record)
        })
    }

    fn delete<'a, 'b, 'c>(&'a self, id: &'b Id) -> Boxed<'c, ()>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
            self.inner.delete(id).await
        })
    }
}
