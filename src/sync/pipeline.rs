//! Reading TrackTik while posting. A run reads the documents it owes in chunks of one `:in`
//! read each, oldest approval first; the first chunk is read with the reference data, and
//! while its documents are recorded and posted the next chunks are read, at most [`AHEAD`]
//! ahead. A large night starts posting after a handful of requests instead of after reading
//! everything, so QuickBooks' rate limit, not TrackTik, sets its pace.
//!
//! Nothing here changes what is posted: each chunk is recorded in the ledger before any of its
//! documents is sent, exactly as a whole read was, and the watermarks move only once every
//! chunk is recorded (see `engine`).

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::CompanyProfile;
use crate::integrations::settings::Settings;
use crate::providers::tracktik::MAX_BATCH_IDS;
use crate::providers::tracktik::{AccessToken, Portal, TrackTikError};
use crate::state::AppState;

use super::SyncError;
use super::customers;
use super::document::ById;
use super::gather::{self, Gathered};
use super::ledger::{self, Source};
use super::posting::Poster;
use super::reader::{self, Ids};
use super::source::{Batch, Reference};

/// Documents per chunk: one `:in` read per source.
pub(crate) const CHUNK: usize = MAX_BATCH_IDS;

/// Chunks read ahead of the one being posted.
const AHEAD: usize = 2;

/// Reads TrackTik for a run, refreshing the token once on a 401.
pub(crate) struct Reader<'a> {
    state: &'a AppState,
    tenant_id: TenantId,
    settings: &'a Settings,
    zone: chrono_tz::Tz,
    portal: Portal,
    token: AccessToken,
    refreshed: bool,
}

impl<'a> Reader<'a> {
    /// A reader with the portal and token the plan was read with.
    pub fn new(
        state: &'a AppState,
        tenant_id: TenantId,
        settings: &'a Settings,
        zone: chrono_tz::Tz,
        (portal, token): (Portal, AccessToken),
    ) -> Self {
        Self {
            state,
            tenant_id,
            settings,
            zone,
            portal,
            token,
            refreshed: false,
        }
    }

    /// Whether to try again after `e` (a first 401: the token is refreshed).
    async fn again(&mut self, e: TrackTikError) -> Result<(), SyncError> {
        if e.is_unauthorized() && !self.refreshed {
            self.refreshed = true;
            let (portal, token, _) = gather::tracktik(self.state, self.tenant_id, true).await?;
            (self.portal, self.token) = (portal, token);
            return Ok(());
        }
        Err(gather::tracktik_error(e))
    }

    /// The reference data and the first chunk, read at once.
    pub async fn first(&mut self, ids: &Ids) -> Result<(Reference, Gathered), SyncError> {
        let tt = &self.state.providers.tracktik;
        loop {
            let read = tokio::try_join!(
                reader::reference(tt, &self.portal, &self.token, self.settings),
                reader::owed(tt, &self.portal, &self.token, ids)
            );
            match read {
                Ok((reference, owed)) => {
                    let chunk = gather::in_scope(self.settings, self.zone, owed, &reference);
                    return Ok((reference, chunk));
                }
                Err(e) => self.again(e).await?,
            }
        }
    }

    async fn chunk(&mut self, ids: &Ids, reference: &Reference) -> Result<Gathered, SyncError> {
        let tt = &self.state.providers.tracktik;
        loop {
            match reader::owed(tt, &self.portal, &self.token, ids).await {
                Ok(owed) => return Ok(gather::in_scope(self.settings, self.zone, owed, reference)),
                Err(e) => self.again(e).await?,
            }
        }
    }

    /// Reads `chunks` in order into `to`; stops early, without error, when the poster is gone.
    async fn read_into(
        mut self,
        chunks: Vec<Ids>,
        reference: &Reference,
        to: mpsc::Sender<Gathered>,
    ) -> Result<(), SyncError> {
        for ids in chunks {
            let chunk = self.chunk(&ids, reference).await?;
            if to.send(chunk).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// What a run posts with besides the documents.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub settings: &'a Settings,
    pub company: &'a CompanyProfile,
    pub reference: &'a Reference,
    /// Documents approved at or after this are not posted by this run.
    pub until: DateTime<Utc>,
}

/// Records and posts `first`, then each further chunk as `reader` reads it. Returns every
/// document read, for the run's later passes. A reading error comes after what was read
/// before it is posted; a posting error stops the reading.
pub(crate) async fn run(
    poster: &mut Poster<'_, '_>,
    cx: Context<'_>,
    reader: Reader<'_>,
    first: Gathered,
    rest: Vec<Ids>,
) -> Result<Batch, SyncError> {
    let (to, mut from) = mpsc::channel(AHEAD);
    let reading = reader.read_into(rest, cx.reference, to);
    let posting = async move {
        let mut all = Batch::default();
        let mut next = Some(first);
        while let Some(chunk) = match next.take() {
            Some(c) => Some(c),
            None => from.recv().await,
        } {
            post_chunk(poster, cx, &chunk).await?;
            all.invoices.extend(chunk.batch.invoices);
            all.payruns.extend(chunk.batch.payruns);
            all.credit_memos.extend(chunk.batch.credit_memos);
        }
        Ok::<_, SyncError>(all)
    };
    let (read, posted) = tokio::join!(reading, posting);
    let all = posted?;
    read?;
    Ok(all)
}

/// Records one chunk, then posts the rows it owes among the documents it holds.
async fn post_chunk(
    poster: &mut Poster<'_, '_>,
    cx: Context<'_>,
    chunk: &Gathered,
) -> Result<(), SyncError> {
    poster.unexpect(chunk.out_of_scope);
    let db = &poster.session.state.db;
    gather::record(db, cx.tenant_id, cx.integration_id, chunk).await?;
    let keys: Vec<(Source, i64)> = chunk.docs.iter().map(|d| (d.source, d.source_id)).collect();
    let rows = ledger::owed_among(db, cx.tenant_id, cx.integration_id, cx.until, &keys).await?;
    let by_id = ById::of(&chunk.batch);
    let clients: Vec<i64> = rows
        .iter()
        .filter_map(|r| by_id.client_of(r.source, r.source_id))
        .collect();
    customers::create_missing(
        &mut poster.session,
        cx.settings,
        cx.company,
        cx.reference,
        clients,
    )
    .await?;
    let inputs = by_id.inputs(cx.settings, cx.company, cx.reference);
    poster.post_rows(inputs, rows).await?;
    Ok(())
}
