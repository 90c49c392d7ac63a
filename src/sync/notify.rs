//! The failure notice: one e-mail when documents fail for a reason a person must fix, or are
//! posted with a total QuickBooks computed differently from TrackTik's (outside the US, where
//! QuickBooks computes the tax). A document is announced once, and again only if it fails for a
//! new reason; retries and replays that fail the same way announce nothing. Every new failure
//! and difference is counted.

use crate::integrations::Integration;
use crate::state::AppState;

/// Most documents named in one notice (every one is counted).
const LISTED: usize = 50;

/// Sends the notice for the integration's documents failed for a reason not announced yet,
/// and remembers that they were announced.
pub(crate) async fn failures(state: &AppState, integration: &Integration) -> anyhow::Result<()> {
    let db = &state.db;
    let tenant_id = integration.tenant_id;
    let integration_id = integration.integration_id;
    // `notified_failure` holds the reason last announced; the key of a failure is its code and
    // its message.
    let new: Vec<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "select ledger_entry_id, doc_number, last_error, error_code from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = 'failed' and not retryable
           and notified_failure is distinct from
               coalesce(error_code, '') || ': ' || coalesce(last_error, '')
         order by approved_at, ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await?;
    // Posted documents whose QuickBooks total differs from TrackTik's, not announced yet.
    let differing: Vec<(i64, String, String)> = sqlx::query_as(
        "select ledger_entry_id, doc_number, discrepancy from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = 'posted'
           and discrepancy is not null
           and notified_failure is distinct from 'discrepancy: ' || discrepancy
         order by approved_at, ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await?;
    if new.is_empty() && differing.is_empty() {
        return Ok(());
    }
    let total = new.len();
    let mut lines: Vec<String> = new
        .iter()
        .take(LISTED)
        .map(|(_, doc, why, _)| format!("- {doc}: {}", why.as_deref().unwrap_or("refused")))
        .collect();
    if total > LISTED {
        lines.push(format!(
            "- and {} more, listed on the integration's page",
            total - LISTED
        ));
    }
    let mut differences: Vec<String> = differing
        .iter()
        .take(LISTED)
        .map(|(_, doc, d)| format!("- {doc}: {d}"))
        .collect();
    if differing.len() > LISTED {
        differences.push(format!(
            "- and {} more, in the integration's reconciliation",
            differing.len() - LISTED
        ));
    }
    let link = format!(
        "{}/integrations/{}",
        state.config.public_url.trim_end_matches('/'),
        integration_id
    );
    let ids: Vec<i64> = new.iter().map(|n| n.0).collect();
    let differing_ids: Vec<i64> = differing.iter().map(|d| d.0).collect();
    // One key per set of newly failed documents and reasons, so the same news is sent once.
    let mut key = <sha2::Sha256 as sha2::Digest>::new();
    for (id, _, why, code) in &new {
        sha2::Digest::update(
            &mut key,
            format!(
                "{id}|{}|{}\u{1f}",
                code.as_deref().unwrap_or(""),
                why.as_deref().unwrap_or("")
            )
            .as_bytes(),
        );
    }
    let key: String = sha2::Digest::finalize(key)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let notice = crate::notices::Notice {
        kind: "sync_failures",
        dedupe_key: format!("sync_failures:{integration_id}:{key}"),
        subject: if total > 0 {
            format!(
                "{total} document(s) could not be posted to QuickBooks for {}",
                integration.company_name
            )
        } else {
            format!(
                "{} document(s) were posted to QuickBooks for {} with a different total",
                differing.len(),
                integration.company_name
            )
        },
        body: {
            let mut body = String::new();
            if total > 0 {
                body.push_str(&format!(
                    "{total} document(s) could not be posted; everything else was posted.\n\n{}\n\n\
                     Fix the reason shown, then use Retry failed: {link}\n",
                    lines.join("\n")
                ));
            }
            if !differing.is_empty() {
                body.push_str(&format!(
                    "\n{} document(s) were posted, and QuickBooks holds a total that differs from \
                     TrackTik's (QuickBooks computed the tax; nothing was adjusted):\n\n{}\n\n\
                     See the reconciliation: {link}\n",
                    differing.len(),
                    differences.join("\n")
                ));
            }
            body
        },
    };
    crate::notices::send(db, &state.mailer, tenant_id, Some(integration_id), notice).await?;
    sqlx::query(
        "update ledger_entry set notified_failure = 'discrepancy: ' || discrepancy
         where tenant_id = $1 and ledger_entry_id = any($2)",
    )
    .bind(tenant_id)
    .bind(&differing_ids)
    .execute(db)
    .await?;
    sqlx::query(
        "update ledger_entry
         set notified_failure = coalesce(error_code, '') || ': ' || coalesce(last_error, '')
         where tenant_id = $1 and ledger_entry_id = any($2)",
    )
    .bind(tenant_id)
    .bind(&ids)
    .execute(db)
    .await?;
    Ok(())
}
