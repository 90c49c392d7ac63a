//! Building a ledger row's QuickBooks transaction: its customer found or created, its Classes
//! and Locations resolved, translated by the pure functions of [`super::translate`]. Sending it
//! is [`super::send`]'s job.

use std::collections::HashMap;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::Settings;

use super::SyncError;
use super::build::{self, Built, Unbuilt};
use super::dimensions::{self, Needed};
use super::ledger::{self, Failure, LedgerEntry, LedgerState, Source};
use super::post::QboSession;
use super::send::Ready;
use super::source::{self, Batch, Reference};

/// Most Class/Location look-ups one document may need (one per region or site it touches).
const MAX_DIMENSIONS_PER_DOCUMENT: usize = 200;

/// What a run posts from: the settings, the company, and what TrackTik said.
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'a> {
    pub settings: &'a Settings,
    pub company: &'a CompanyProfile,
    pub reference: &'a Reference,
    pub invoices: &'a HashMap<i64, &'a source::InvoiceDoc>,
    pub payruns: &'a HashMap<i64, &'a source::PayrunDoc>,
    pub credit_memos: &'a HashMap<i64, &'a source::InvoiceDoc>,
}

/// A batch's documents by TrackTik id, for [`Inputs`].
#[derive(Default)]
pub(crate) struct ById<'a> {
    invoices: HashMap<i64, &'a source::InvoiceDoc>,
    payruns: HashMap<i64, &'a source::PayrunDoc>,
    credit_memos: HashMap<i64, &'a source::InvoiceDoc>,
}

impl<'a> ById<'a> {
    /// Indexes the documents of `batch`.
    pub fn of(batch: &'a Batch) -> Self {
        Self {
            invoices: batch.invoices.iter().map(|d| (d.invoice.id, d)).collect(),
            payruns: batch.payruns.iter().map(|d| (d.payrun.id, d)).collect(),
            credit_memos: batch
                .credit_memos
                .iter()
                .map(|d| (d.invoice.id, d))
                .collect(),
        }
    }

    /// The TrackTik client an invoice or credit memo bills (none for pay runs).
    pub fn client_of(&self, kind: Source, source_id: i64) -> Option<i64> {
        let doc = match kind {
            Source::Invoice => self.invoices.get(&source_id)?,
            Source::CreditMemo => self.credit_memos.get(&source_id)?,
            Source::Payrun => return None,
        };
        doc.invoice.client.as_ref().map(|c| c.id())
    }

    /// What to post from, with these documents.
    pub fn inputs(
        &'a self,
        settings: &'a Settings,
        company: &'a CompanyProfile,
        reference: &'a Reference,
    ) -> Inputs<'a> {
        Inputs {
            settings,
            company,
            reference,
            invoices: &self.invoices,
            payruns: &self.payruns,
            credit_memos: &self.credit_memos,
        }
    }
}

impl Inputs<'_> {
    fn present(&self, kind: Source, source_id: i64) -> bool {
        match kind {
            Source::Invoice => self.invoices.contains_key(&source_id),
            Source::Payrun => self.payruns.contains_key(&source_id),
            Source::CreditMemo => self.credit_memos.contains_key(&source_id),
        }
    }
}

fn not_read(kind: Source) -> Failure {
    Failure {
        message: format!("The TrackTik {} was not read by this run.", kind.label()),
        code: "not_read".into(),
        fix: "Nothing to do; the next run reads it.".into(),
        fix_at: None,
        retryable: true,
    }
}

/// Builds the QBO transaction of one document: its customer found or created (when `create`),
/// its Classes and Locations resolved. Previews pass `create = false` and write nothing.
pub(crate) async fn build_one(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    kind: Source,
    source_id: i64,
    create: bool,
) -> Result<Result<Built, Failure>, SyncError> {
    let reference = inputs.reference;
    let (settings, company) = (inputs.settings, inputs.company);
    let customer = match kind {
        Source::Invoice | Source::CreditMemo => {
            let docs = if kind == Source::Invoice {
                inputs.invoices
            } else {
                inputs.credit_memos
            };
            let Some(doc) = docs.get(&source_id) else {
                return Ok(Err(not_read(kind)));
            };
            let Some(client) = doc.invoice.client.as_ref().map(|c| c.id()) else {
                return Ok(Err(Failure {
                    message: format!("The TrackTik {} names no client.", kind.label()),
                    code: "tracktik_data".into(),
                    fix: "Correct the invoice in TrackTik.".into(),
                    fix_at: Some("tracktik".into()),
                    retryable: false,
                }));
            };
            let currency = reference.client_currency(client);
            match super::customers::customer_for(
                session,
                settings,
                company,
                client,
                &reference.client_name(client),
                currency.as_deref(),
                create,
            )
            .await?
            {
                Ok(customer) => Some((*doc, customer, currency)),
                Err(f) => return Ok(Err(f)),
            }
        }
        Source::Payrun => None,
    };
    let mut asked: Vec<Needed> = Vec::new();
    loop {
        let dims = &session.dimensions.refs;
        let built = match &customer {
            Some((doc, customer, currency)) => build::invoice(
                doc,
                settings,
                company,
                reference,
                customer,
                currency.as_deref(),
                dims,
            )
            .map(|b| {
                if kind == Source::CreditMemo {
                    b.into_credit_memo()
                } else {
                    b
                }
            }),
            None => {
                let Some(doc) = inputs.payruns.get(&source_id) else {
                    return Ok(Err(not_read(kind)));
                };
                let currency = doc
                    .payrun
                    .region
                    .as_ref()
                    .and_then(|r| reference.currency_of_region.get(&r.id()).cloned());
                build::payrun(doc, settings, company, reference, currency.as_deref(), dims)
            }
        };
        match built {
            Ok(b) => return Ok(Ok(b)),
            Err(Unbuilt::Failed(f)) => return Ok(Err(f)),
            Err(Unbuilt::Needs(needed)) => {
                // Each resolution adds to the cache, so the same need never comes back; the
                // guard only protects the worker from a translation that keeps asking.
                if asked.contains(&needed) || asked.len() >= MAX_DIMENSIONS_PER_DOCUMENT {
                    return Ok(Err(Failure {
                        message: format!(
                            "The QuickBooks {} for the TrackTik {} could not be settled.",
                            needed.kind, needed.name
                        ),
                        code: "dimension".into(),
                        fix: "Contact support.".into(),
                        fix_at: Some("support".into()),
                        retryable: false,
                    }));
                }
                if let Err(f) = dimensions::resolve(session, settings, &needed, !create).await? {
                    return Ok(Err(f));
                }
                asked.push(needed);
            }
        }
    }
}

/// Builds a row's transaction (customers and Classes/Locations found or created on first
/// use). `Err` carries the state of a row settled here: skipped because it has nothing to post,
/// failed because it cannot be built, or still pending when this run did not read it.
pub(crate) async fn prepare(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    row: LedgerEntry,
) -> Result<Result<Ready, LedgerState>, SyncError> {
    let db = session.state.db.clone();
    let (tenant_id, id) = (row.tenant_id, row.ledger_entry_id);
    if !inputs.present(row.source, row.source_id) {
        // Not read by this run (e.g. its source was not read): it stays owed. Only TrackTik's
        // direct answer makes a document skipped (see `reader::owed`).
        return Ok(Err(LedgerState::Pending));
    }
    match build_one(session, inputs, row.source, row.source_id, true).await? {
        Ok(mut built) => {
            if let Some(date) = row.txn_date_override {
                built.set_txn_date(date);
            }
            Ok(Ok(Ready { row, built }))
        }
        Err(f) if f.code == build::NOTHING_TO_POST => {
            ledger::mark_nothing_to_post(&db, tenant_id, id, &f.message).await?;
            Ok(Err(LedgerState::Skipped))
        }
        Err(f) => {
            ledger::mark_failed_unsent(&db, tenant_id, id, &f).await?;
            Ok(Err(LedgerState::Failed))
        }
    }
}
