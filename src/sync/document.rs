//! Posting one ledger row exactly once, and resolving rows a crash left in `posting`.

use std::collections::HashMap;

use chrono::Utc;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{ClosedBooks, Settings};
use crate::providers::quickbooks::{QboError, RequestId};

use super::SyncError;
use super::build::{self, Built};
use super::explain;
use super::ledger::{self, Failure, LedgerEntry, LedgerState, Source};
use super::post::{self, QboSession, qbo_call};
use super::source::{self, Batch};

#[allow(clippy::too_many_arguments)]
pub(crate) async fn build_one(
    session: &mut QboSession<'_>,
    settings: &Settings,
    company: &CompanyProfile,
    batch: &Batch,
    invoices: &HashMap<i64, &source::InvoiceDoc>,
    payruns: &HashMap<i64, &source::PayrunDoc>,
    kind: Source,
    source_id: i64,
    create_customers: bool,
) -> Result<Result<Built, Failure>, SyncError> {
    let reference = &batch.reference;
    Ok(match kind {
        Source::Invoice => {
            let Some(doc) = invoices.get(&source_id) else {
                return Ok(Err(gone(kind)));
            };
            let Some(client) = doc.invoice.client.as_ref().map(|c| c.id()) else {
                return Ok(Err(Failure {
                    message: "The TrackTik invoice names no client.".into(),
                    code: "tracktik_data".into(),
                    fix: "Correct the invoice in TrackTik.".into(),
                    fix_at: Some("tracktik".into()),
                    retryable: false,
                }));
            };
            let currency = reference.client_currency(client);
            match post::customer_for(
                session,
                settings,
                company,
                client,
                &reference.client_name(client),
                currency.as_deref(),
                create_customers,
            )
            .await?
            {
                Ok(customer) => build::invoice(
                    doc,
                    settings,
                    company,
                    reference,
                    &customer,
                    currency.as_deref(),
                ),
                Err(f) => Err(f),
            }
        }
        Source::Payrun => {
            let Some(doc) = payruns.get(&source_id) else {
                return Ok(Err(gone(kind)));
            };
            let currency = doc
                .payrun
                .region
                .as_ref()
                .and_then(|r| reference.currency_of_region.get(&r.id()).cloned());
            build::payrun(doc, settings, company, reference, currency.as_deref())
        }
    })
}

pub(crate) fn gone(kind: Source) -> Failure {
    Failure {
        message: format!(
            "The TrackTik {} is no longer approved (or was deleted), so it was not posted.",
            kind.label()
        ),
        code: "gone".into(),
        fix: "Nothing to do; it is posted if it is approved again.".into(),
        fix_at: None,
        retryable: false,
    }
}

fn request_id(row: &LedgerEntry, extra: &[&str]) -> RequestId {
    let mut parts = vec![
        row.integration_id.to_string(),
        row.source.key().to_owned(),
        row.source_id.to_string(),
        row.revision.clone(),
        row.generation.to_string(),
    ];
    parts.extend(extra.iter().map(|s| (*s).to_owned()));
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    RequestId::derive(&parts)
}

pub(crate) async fn post_row(
    session: &mut QboSession<'_>,
    settings: &Settings,
    company: &CompanyProfile,
    batch: &Batch,
    invoices: &HashMap<i64, &source::InvoiceDoc>,
    payruns: &HashMap<i64, &source::PayrunDoc>,
    row: &LedgerEntry,
) -> Result<LedgerState, SyncError> {
    let db = session.state.db.clone();
    let tenant_id = row.tenant_id;
    let id = row.ledger_entry_id;
    let present = match row.source {
        Source::Invoice => invoices.contains_key(&row.source_id),
        Source::Payrun => payruns.contains_key(&row.source_id),
    };
    if !present {
        ledger::mark_skipped(&db, tenant_id, id, &gone(row.source).message).await?;
        return Ok(LedgerState::Skipped);
    }
    let mut built = match build_one(
        session,
        settings,
        company,
        batch,
        invoices,
        payruns,
        row.source,
        row.source_id,
        true,
    )
    .await?
    {
        Ok(b) => b,
        Err(f) if f.code == build::NOTHING_TO_POST => {
            ledger::mark_skipped(&db, tenant_id, id, &f.message).await?;
            return Ok(LedgerState::Skipped);
        }
        Err(f) => {
            ledger::mark_failed(&db, tenant_id, id, &f).await?;
            return Ok(LedgerState::Failed);
        }
    };
    let mut rid = request_id(row, &[]);
    if !ledger::start_posting(
        &db,
        tenant_id,
        id,
        rid.as_str(),
        built.entity(),
        built.doc_number(),
    )
    .await?
    {
        return Ok(LedgerState::Skipped);
    }
    let started = Utc::now();
    let mut result = post::create(session, &built, &rid).await?;
    if let Err(e) = &result {
        if e.fault().is_some_and(|f| f.has_code("6210"))
            && settings.schedule.closed_books == ClosedBooks::PostOnFirstOpenDate
        {
            let prefs: Result<_, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .preferences(&co));
            if let Some(closed) = prefs
                .ok()
                .and_then(|p| p.accounting_info_prefs)
                .and_then(|a| a.book_close_date)
            {
                if let Some(open) = closed.succ_opt() {
                    built.set_txn_date(open);
                    rid = request_id(row, &["first-open-date", &open.to_string()]);
                    sqlx::query(
                        "update ledger_entry set request_id = $3, change_note = $4
                         where tenant_id = $1 and ledger_entry_id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .bind(rid.as_str())
                    .bind(format!(
                        "The QuickBooks books were closed through {closed}; posted on {open}, the first open date."
                    ))
                    .execute(&db)
                    .await?;
                    result = post::create(session, &built, &rid).await?;
                }
            }
        }
    }
    let link_of = |qbo_id: &str| {
        session
            .state
            .providers
            .quickbooks
            .endpoints()
            .app_link(built.link_path(), qbo_id)
    };
    match result {
        Ok(created) => {
            let link = link_of(&created.id);
            ledger::mark_posted(
                &db,
                tenant_id,
                id,
                built.entity(),
                &created.id,
                created.doc_number.as_deref(),
                &link,
            )
            .await?;
            if let Some(d) = created
                .total
                .and_then(|total| super::translate::reconcile(built.expected_total, total))
            {
                ledger::note_discrepancy(&db, tenant_id, id, &d.to_string()).await?;
            }
            Ok(LedgerState::Posted)
        }
        Err(e) if post::is_refusal(&e) => Err(session.refused(&e).await),
        Err(e)
            if e.is_retryable()
                || e.outcome_unknown()
                || e.fault().is_some_and(|f| f.has_code("6140")) =>
        {
            // The outcome is unknown (or a document with our number exists): look before
            // anything else is sent.
            match post::find_documents(session, built.entity(), built.doc_number()).await? {
                Ok(found) => {
                    let mine = post::ours(&found, started)
                        .filter(|f| f.lines_total == built.lines_total());
                    if let Some(f) = mine {
                        let link = link_of(&f.id);
                        ledger::mark_posted(
                            &db,
                            tenant_id,
                            id,
                            built.entity(),
                            &f.id,
                            f.doc_number.as_deref(),
                            &link,
                        )
                        .await?;
                        Ok(LedgerState::Posted)
                    } else {
                        ledger::mark_failed(&db, tenant_id, id, &explain::explain(&e, &built))
                            .await?;
                        Ok(LedgerState::Failed)
                    }
                }
                // Could not even look: leave it in `posting`; the next run looks first.
                Err(_) => Ok(LedgerState::Posting),
            }
        }
        Err(e) => {
            ledger::mark_failed(&db, tenant_id, id, &explain::explain(&e, &built)).await?;
            Ok(LedgerState::Failed)
        }
    }
}

/// Rows a crash (or a lost answer) left in `posting`: looked up in QuickBooks by document number
/// and type before anything is re-posted. Found → posted; not found → pending again (the
/// re-post carries the same request id, so QuickBooks replays rather than duplicates).
pub(crate) async fn resolve_posting(session: &mut QboSession<'_>) -> Result<(), SyncError> {
    let db = session.state.db.clone();
    let rows = ledger::in_state(
        &db,
        session.tenant_id,
        session.integration_id,
        LedgerState::Posting,
    )
    .await?;
    for row in rows {
        let (Some(entity), Some(doc_number)) = (&row.qbo_entity, &row.qbo_doc_number) else {
            ledger::back_to_pending(
                &db,
                row.tenant_id,
                row.ledger_entry_id,
                "Resumed after an interruption.",
            )
            .await?;
            continue;
        };
        let started = row.posting_started_at.unwrap_or(row.updated_at);
        match post::find_documents(session, entity, doc_number).await? {
            Ok(found) => match post::ours(&found, started) {
                Some(f) => {
                    let link = session
                        .state
                        .providers
                        .quickbooks
                        .endpoints()
                        .app_link(build::link_path(entity), &f.id);
                    ledger::mark_posted(
                        &db,
                        row.tenant_id,
                        row.ledger_entry_id,
                        entity,
                        &f.id,
                        f.doc_number.as_deref(),
                        &link,
                    )
                    .await?;
                }
                None => {
                    ledger::back_to_pending(
                        &db,
                        row.tenant_id,
                        row.ledger_entry_id,
                        "Interrupted before QuickBooks had it; sent again.",
                    )
                    .await?;
                }
            },
            Err(e) if post::is_refusal(&e) => return Err(session.refused(&e).await),
            Err(e) => {
                return Err(SyncError::Unavailable(format!(
                    "QuickBooks could not be asked about an interrupted document: {e}"
                )));
            }
        }
    }
    Ok(())
}
