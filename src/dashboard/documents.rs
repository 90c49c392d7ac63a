//! The documents page's reads: every ledger row of an integration, filtered and paginated, and
//! the failures grouped by reason.

use chrono::NaiveDate;
use sqlx::PgExecutor;

use super::{DOCUMENT_COLUMNS, Document};
use crate::ids::{IntegrationId, TenantId};
use crate::sync::ledger::{LedgerState, Source};

/// Which rows to list. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// One state.
    pub state: Option<LedgerState>,
    /// Invoices or pay runs.
    pub source: Option<Source>,
    /// Trading days from (inclusive).
    pub from: Option<NaiveDate>,
    /// Trading days to (inclusive).
    pub to: Option<NaiveDate>,
    /// Part of the TrackTik or QuickBooks document number.
    pub number: Option<String>,
    /// One error code (a group of failures).
    pub code: Option<String>,
}

/// `text` for a `like` pattern, its wildcards taken literally.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

const WHERE: &str = "tenant_id = $1 and integration_id = $2
    and ($3::ledger_state is null or state = $3)
    and ($4::ledger_source is null or source = $4)
    and ($5::date is null or trading_day >= $5)
    and ($6::date is null or trading_day <= $6)
    and ($7::text is null or doc_number ilike $7 or qbo_doc_number ilike $7)
    and ($8::text is null or error_code = $8)";

/// One page of rows (newest trading day first) and how many rows match in all.
pub async fn page(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    filter: &Filter,
    page: i64,
    per_page: i64,
) -> sqlx::Result<(Vec<Document>, i64)> {
    let number = filter
        .number
        .as_deref()
        .map(|n| format!("%{}%", like_escaped(n)));
    let total: i64 =
        sqlx::query_scalar(&format!("select count(*) from ledger_entry where {WHERE}"))
            .bind(tenant_id)
            .bind(integration_id)
            .bind(filter.state)
            .bind(filter.source)
            .bind(filter.from)
            .bind(filter.to)
            .bind(&number)
            .bind(&filter.code)
            .fetch_one(db)
            .await?;
    let rows = sqlx::query_as(&format!(
        "select {DOCUMENT_COLUMNS} from ledger_entry where {WHERE}
         order by trading_day desc, approved_at desc, ledger_entry_id desc
         limit $9 offset $10"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(filter.state)
    .bind(filter.source)
    .bind(filter.from)
    .bind(filter.to)
    .bind(&number)
    .bind(&filter.code)
    .bind(per_page)
    .bind(page.saturating_sub(1).saturating_mul(per_page))
    .fetch_all(db)
    .await?;
    Ok((rows, total))
}

/// One row of the integration.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ledger_entry_id: i64,
) -> sqlx::Result<Option<Document>> {
    sqlx::query_as(&format!(
        "select {DOCUMENT_COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and ledger_entry_id = $3"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(ledger_entry_id)
    .fetch_optional(db)
    .await
}

/// Failed documents that share a reason.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ErrorGroup {
    /// The error code (QuickBooks' fault code or ours).
    pub code: String,
    /// How many documents.
    pub count: i64,
    /// The newest reason of the group, in plain language.
    pub example: String,
    /// What to do.
    pub fix_hint: Option<String>,
    /// Where.
    pub fix_at: Option<String>,
    /// Invoices or pay runs, when all are of one kind (to pick the settings step).
    pub source: Option<Source>,
    /// Every one may pass by itself (the next run tries again).
    pub retryable: bool,
    /// The first documents' numbers, oldest trading day first (at most `GROUP_NUMBERS`).
    pub numbers: Vec<String>,
}

/// How many of a group's document numbers are named.
pub const GROUP_NUMBERS: usize = 8;

/// A group's documents in words: "INV-1, INV-2 and INV-7", or "INV-1, …, INV-8 and 152 more".
pub fn numbers_in_words(numbers: &[String], count: i64) -> String {
    let more = count - numbers.len() as i64;
    match (numbers, more) {
        ([], _) => String::new(),
        ([one], m) if m <= 0 => one.clone(),
        (all, m) if m <= 0 => {
            let (last, rest) = all.split_last().expect("not empty");
            format!("{} and {last}", rest.join(", "))
        }
        (all, m) => format!("{} and {m} more", all.join(", ")),
    }
}

/// The failed documents grouped by error code, largest group first.
pub async fn error_groups(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<ErrorGroup>> {
    sqlx::query_as(
        "select coalesce(error_code, 'unknown') as code, count(*) as count,
                (array_agg(coalesce(last_error, 'No reason was recorded.')
                           order by updated_at desc, ledger_entry_id desc))[1] as example,
                (array_agg(fix_hint order by updated_at desc, ledger_entry_id desc))[1] as fix_hint,
                (array_agg(fix_at order by updated_at desc, ledger_entry_id desc))[1] as fix_at,
                case when count(distinct source) = 1 then min(source::text)::ledger_source end
                    as source,
                bool_and(retryable) as retryable,
                (array_agg(doc_number order by trading_day, doc_number))[1:$3]
                    as numbers
         from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = 'failed'
         group by coalesce(error_code, 'unknown')
         order by count(*) desc, code",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(GROUP_NUMBERS as i32)
    .fetch_all(db)
    .await
}

/// The reason a code stands for (with where it is fixed), as a heading for its group.
pub fn reason_label(code: &str, fix_at: Option<&str>) -> &'static str {
    match code {
        "mapping" => "A TrackTik client has no QuickBooks customer",
        "translate" if fix_at == Some("quickbooks") => {
            "The QuickBooks company's settings do not fit these documents"
        }
        "translate" if fix_at == Some("tracktik") => "Something is missing in TrackTik",
        "translate" => "A setting is missing for these documents",
        "tracktik_totals" => "TrackTik's figures do not add up",
        "tracktik_data" => "Something is missing in TrackTik",
        "gone" | "not_approved" => "TrackTik says they are not approved",
        "deleted" => "TrackTik says they no longer exist",
        "qbo_unavailable" => "QuickBooks did not answer in time",
        "610" | "2500" => "Something they use is inactive or deleted in QuickBooks",
        "6210" => "The QuickBooks books are closed for their dates",
        "6140" => "QuickBooks already has these document numbers",
        "6190" => "The QuickBooks subscription is not active",
        "6240" => "The customer name is taken in QuickBooks",
        "6000" => "QuickBooks needs a value these documents do not have",
        "nothing_to_post" => "Nothing to post",
        _ => "QuickBooks refused these documents",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_takes_wildcards_literally() {
        assert_eq!(like_escaped("INV_1%"), "INV\\_1\\%");
        assert_eq!(like_escaped("a\\b"), "a\\\\b");
    }
}
