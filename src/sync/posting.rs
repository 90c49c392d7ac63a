//! The posting half of a run: owed ledger rows built into QuickBooks transactions and sent in
//! groups of up to 30 (a lone document on its own), each outcome committed as it happens, the
//! run's counts kept on its row as it goes.

use std::collections::{HashMap, HashSet};

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::ClosedBooks;
use crate::providers::quickbooks::MAX_BATCH_ITEMS;

use super::SyncError;
use super::document::{Inputs, prepare};
use super::ledger::{LedgerEntry, LedgerState};
use super::post::QboSession;
use super::runs::{self, Counts};
use super::send::{self, Answer, Ready};

/// How many times one run tries a document: a document sent back to `pending` during the run
/// (books closed on its date, absent after a lost answer) gets one more try.
const TRIES: u8 = 2;

/// One run's sending, and what became of each document it handled.
pub(crate) struct Poster<'s, 'l> {
    /// The QuickBooks company.
    pub session: QboSession<'s>,
    closed_books: ClosedBooks,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    run_id: i64,
    lock: &'l mut sqlx::PgConnection,
    /// Each ledger row handled, and its state after its last try.
    pub outcome: HashMap<i64, LedgerState>,
    tries: HashMap<i64, u8>,
    not_read: HashSet<i64>,
    silent: u32,
    total: usize,
    /// The counts last written on the run's row.
    written: Option<Counts>,
}

impl<'s, 'l> Poster<'s, 'l> {
    /// A poster for the run `run_id`, holding its lock's connection.
    pub fn new(
        session: QboSession<'s>,
        closed_books: ClosedBooks,
        run_id: i64,
        lock: &'l mut sqlx::PgConnection,
    ) -> Self {
        Self {
            tenant_id: session.tenant_id,
            integration_id: session.integration_id,
            session,
            closed_books,
            run_id,
            lock,
            outcome: HashMap::new(),
            tries: HashMap::new(),
            not_read: HashSet::new(),
            silent: 0,
            total: 0,
            written: None,
        }
    }

    /// The run's counts so far.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            total: self.total.max(self.outcome.len()) as i32,
            ..Counts::default()
        };
        for state in self.outcome.values() {
            match state {
                LedgerState::Posted => c.posted += 1,
                LedgerState::Failed => c.failed += 1,
                LedgerState::Skipped => c.skipped += 1,
                LedgerState::Pending | LedgerState::Posting => {}
            }
        }
        c
    }

    /// Documents left waiting: QuickBooks' answer unknown, or not read by this run.
    pub fn waiting(&self) -> i32 {
        self.outcome
            .values()
            .filter(|s| matches!(s, LedgerState::Pending | LedgerState::Posting))
            .count() as i32
    }

    /// Raises what the run expects to handle, so the page shows how much is left.
    pub async fn expect(&mut self, total: usize) -> Result<(), SyncError> {
        self.total = self.total.max(total);
        self.progress().await
    }

    /// Lowers what the run expects by `n` documents it read but will not handle (another
    /// company's regions).
    pub fn unexpect(&mut self, n: usize) {
        self.total = self.total.saturating_sub(n);
    }

    /// Writes the counts on the run's row, when they changed since last written.
    async fn progress(&mut self) -> Result<(), SyncError> {
        let counts = self.counts();
        if self.written == Some(counts) {
            return Ok(());
        }
        let db = &self.session.state.db;
        runs::progress(db, self.tenant_id, self.run_id, counts).await?;
        self.written = Some(counts);
        Ok(())
    }

    /// Whether a row may be tried (again) by this run; counts the try.
    fn take(&mut self, row: &LedgerEntry) -> bool {
        let n = self.tries.entry(row.ledger_entry_id).or_insert(0);
        *n += 1;
        *n <= TRIES && !self.not_read.contains(&row.ledger_entry_id)
    }

    /// Builds and sends owed rows, in sends of up to 30. Rows this run already tried twice,
    /// or could not read, are left alone. Returns how many it tried.
    pub async fn post_rows(
        &mut self,
        inputs: Inputs<'_>,
        rows: Vec<LedgerEntry>,
    ) -> Result<usize, SyncError> {
        let rows: Vec<_> = rows.into_iter().filter(|r| self.take(r)).collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let tried = rows.len();
        let fresh = rows
            .iter()
            .filter(|r| !self.outcome.contains_key(&r.ledger_entry_id))
            .count();
        self.total = self.total.max(self.outcome.len() + fresh);
        let mut ready: Vec<Ready> = Vec::with_capacity(MAX_BATCH_ITEMS);
        let mut rows = rows.into_iter().peekable();
        while let Some(row) = rows.next() {
            let id = row.ledger_entry_id;
            match prepare(&mut self.session, inputs, row).await? {
                Ok(doc) => ready.push(doc),
                Err(state) => {
                    if state == LedgerState::Pending {
                        self.not_read.insert(id);
                    }
                    self.outcome.insert(id, state);
                }
            }
            if ready.len() == MAX_BATCH_ITEMS || (rows.peek().is_none() && !ready.is_empty()) {
                self.send(std::mem::take(&mut ready)).await?;
            }
        }
        self.progress().await?;
        Ok(tried)
    }

    async fn send(&mut self, docs: Vec<Ready>) -> Result<(), SyncError> {
        still_locked(self.lock).await?;
        let ids: Vec<i64> = docs.iter().map(|d| d.row.ledger_entry_id).collect();
        if self.post(docs).await? {
            self.silent = 0;
        } else {
            self.silent += 1;
        }
        self.refresh(&ids).await?;
        self.progress().await?;
        if self.silent >= 2 {
            return Err(SyncError::Unavailable(
                "QuickBooks did not answer two sends in a row; the run stopped. Nothing is lost or sent twice: the next run settles those documents first.".into(),
            ));
        }
        Ok(())
    }

    /// Records and sends one group of documents; after a lost answer, resolves it at once
    /// (look-up, then the same send again). Returns false when QuickBooks gave no answer.
    async fn post(&mut self, docs: Vec<Ready>) -> Result<bool, SyncError> {
        let db = self.session.state.db.clone();
        let Some((sent, docs)) =
            send::record(&db, self.tenant_id, self.integration_id, docs).await?
        else {
            return Ok(true);
        };
        let closed_books = self.closed_books;
        let answer = send::transmit(&mut self.session, &sent).await?;
        let unknown = matches!(answer, Answer::Unknown(_));
        if let Answer::Unknown(e) = &answer {
            tracing::warn!(send = sent.send_id, error = %e, "no answer from QuickBooks; looking the send up");
        }
        send::settle(&mut self.session, closed_books, &sent, docs, answer).await?;
        if unknown {
            let resolution = send::resolve(&mut self.session, closed_books, &sent).await?;
            return Ok(resolution == send::Resolution::Done);
        }
        Ok(true)
    }

    /// Reads the states of rows back from the ledger into the outcome.
    async fn refresh(&mut self, ids: &[i64]) -> Result<(), SyncError> {
        let states: Vec<(i64, LedgerState)> = sqlx::query_as(
            "select ledger_entry_id, state from ledger_entry
             where tenant_id = $1 and ledger_entry_id = any($2)",
        )
        .bind(self.tenant_id)
        .bind(ids)
        .fetch_all(&self.session.state.db)
        .await?;
        self.outcome.extend(states);
        Ok(())
    }

    /// A send still unanswered may be in flight a little longer: waits for it (at most the
    /// client's time-out), then settles it.
    pub async fn settle_late(&mut self) -> Result<(), SyncError> {
        if let Some(wait) = send::longest_wait(&self.session).await? {
            tokio::time::sleep(wait).await;
            still_locked(self.lock).await?;
            send::resolve_open(&mut self.session, self.closed_books).await?;
            let ids: Vec<i64> = self.outcome.keys().copied().collect();
            self.refresh(&ids).await?;
        }
        Ok(())
    }
}

/// Stops the run when the connection holding its advisory lock is gone (the database
/// restarted or dropped it): the lock went with it, and another run may now hold it. Whatever
/// this run still writes is fenced (see `ledger::settle_posted`).
async fn still_locked(lock: &mut sqlx::PgConnection) -> Result<(), SyncError> {
    sqlx::query("select 1")
        .execute(lock)
        .await
        .map(|_| ())
        .map_err(|_| {
            SyncError::Unavailable(
                "The database connection holding this run's lock was lost; the run stopped and is tried again.".into(),
            )
        })
}
