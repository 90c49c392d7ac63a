//! Incremental reads: what changed since a watermark, and documents asked about by id.
//!
//! The nightly sync must not read an integration's whole history. It asks for the documents
//! updated since its last completed read (`updatedOn:gte`, TrackTik's update stamp, which an
//! approval moves), then reads in full only the documents it still owes, by id. A document a
//! list does not return is asked about on its own before anything is concluded.

use chrono::{DateTime, Utc};

use super::super::Window;
use super::super::models::{BillableItem, CreditMemo, Invoice, Payrun, PayrunItem};
use super::super::query::timestamp;
use super::super::{AccessToken, Op, Portal, Query, TrackTikClient, TrackTikError};
use super::PAYRUN_INCLUDES;

impl TrackTikClient {
    /// Approved invoices updated at or after `since` (headers: no lines), with `approvedOn` and
    /// `updatedOn`. Read by keyset, sorted by id.
    pub async fn approved_invoices_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let query = Query::new()
            .eq("status", "APPROVED")
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// Approved pay runs (`approvedOn` set) updated at or after `since`, with their period
    /// dates and totals.
    pub async fn approved_payruns_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<Payrun>, TrackTikError> {
        let query = Query::new()
            .is_not_null("approvedOn")
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(PAYRUN_INCLUDES)
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// Invoices updated at or after `since`, whatever their status (the changes check).
    pub async fn invoices_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let query = Query::new()
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// Pay runs updated at or after `since`, approved or not (the changes check).
    pub async fn payruns_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<Payrun>, TrackTikError> {
        let query = Query::new()
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(PAYRUN_INCLUDES)
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// The given pay runs, whatever their state (`id:in`, batched), with totals and
    /// `approvedOn`. A pay run TrackTik no longer has is not returned.
    pub async fn payruns_by_id(
        &self,
        portal: &Portal,
        token: &AccessToken,
        ids: &[i64],
    ) -> Result<Vec<Payrun>, TrackTikError> {
        let base = Query::new()
            .include(PAYRUN_INCLUDES)
            .include(["approvedOn", "updatedOn"]);
        self.batched(portal, token, &base, "id", ids).await
    }

    /// One invoice asked about on its own (`GET /invoices/{id}`): `None` when TrackTik answers
    /// that it does not exist.
    pub async fn invoice_if_exists(
        &self,
        portal: &Portal,
        token: &AccessToken,
        id: i64,
    ) -> Result<Option<Invoice>, TrackTikError> {
        let query = Query::new().include(["lines", "approvedOn", "updatedOn"]);
        match self.get::<Invoice>(portal, token, id, &query).await {
            Ok(i) => Ok(Some(i)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One pay run asked about on its own: `None` when TrackTik answers that it does not exist.
    pub async fn payrun_if_exists(
        &self,
        portal: &Portal,
        token: &AccessToken,
        id: i64,
    ) -> Result<Option<Payrun>, TrackTikError> {
        let query = Query::new()
            .include(PAYRUN_INCLUDES)
            .include(["approvedOn", "updatedOn"]);
        match self.get::<Payrun>(portal, token, id, &query).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every payable of the given pay runs (`payrun:in`, batched), with employee and pay code.
    pub async fn payrun_items_for(
        &self,
        portal: &Portal,
        token: &AccessToken,
        payrun_ids: &[i64],
    ) -> Result<Vec<PayrunItem>, TrackTikError> {
        let base = Query::new().include(["employee", "customPayCode"]);
        self.batched(portal, token, &base, "payrun", payrun_ids)
            .await
    }
}

impl TrackTikClient {
    /// The given invoices, headers only (no lines), whatever their status (`id:in`, batched).
    /// An invoice TrackTik no longer has is not returned.
    pub async fn invoices_by_id(
        &self,
        portal: &Portal,
        token: &AccessToken,
        ids: &[i64],
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let base = Query::new().include(["approvedOn", "updatedOn"]);
        self.batched(portal, token, &base, "id", ids).await
    }
}

impl TrackTikClient {
    /// Approved credit memos updated at or after `since` (headers: no lines).
    pub async fn approved_credit_memos_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<CreditMemo>, TrackTikError> {
        let query = Query::new()
            .eq("status", "APPROVED")
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// Approved credit memos whose `approvedOn` lies in `window`.
    pub async fn approved_credit_memos_between(
        &self,
        portal: &Portal,
        token: &AccessToken,
        window: Window,
    ) -> Result<Vec<CreditMemo>, TrackTikError> {
        let query = Query::new()
            .eq("status", "APPROVED")
            .include(["approvedOn"]);
        self.list_window(portal, token, "credit-memos", &query, "approvedOn", window)
            .await
    }

    /// The given credit memos with their lines, whatever their status (`id:in`, batched).
    pub async fn credit_memos_with_lines(
        &self,
        portal: &Portal,
        token: &AccessToken,
        ids: &[i64],
    ) -> Result<Vec<CreditMemo>, TrackTikError> {
        let base = Query::new().include(["lines", "approvedOn", "updatedOn"]);
        self.batched(portal, token, &base, "id", ids).await
    }

    /// One credit memo asked about on its own: `None` when TrackTik says it does not exist.
    pub async fn credit_memo_if_exists(
        &self,
        portal: &Portal,
        token: &AccessToken,
        id: i64,
    ) -> Result<Option<CreditMemo>, TrackTikError> {
        let query = Query::new().include(["lines", "approvedOn", "updatedOn"]);
        match self.get::<CreditMemo>(portal, token, id, &query).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Billable items of the given documents' lines (`invoiceLine:in`, batched), with their
    /// bill items: for credit memos, whose lines carry their own.
    pub async fn billable_items_for_lines(
        &self,
        portal: &Portal,
        token: &AccessToken,
        line_ids: &[i64],
    ) -> Result<Vec<BillableItem>, TrackTikError> {
        let base = Query::new().include(["billItem"]);
        self.batched(portal, token, &base, "invoiceLine", line_ids)
            .await
    }
}

impl TrackTikClient {
    /// Credit memos updated at or after `since`, whatever their status (the changes check).
    pub async fn credit_memos_updated_since(
        &self,
        portal: &Portal,
        token: &AccessToken,
        since: DateTime<Utc>,
    ) -> Result<Vec<CreditMemo>, TrackTikError> {
        let query = Query::new()
            .filter("updatedOn", Op::Gte, timestamp(since))
            .include(["approvedOn", "updatedOn"]);
        self.list(portal, token, &query).await
    }

    /// The given credit memos, headers only, whatever their status (`id:in`, batched).
    pub async fn credit_memos_by_id(
        &self,
        portal: &Portal,
        token: &AccessToken,
        ids: &[i64],
    ) -> Result<Vec<CreditMemo>, TrackTikError> {
        let base = Query::new().include(["approvedOn", "updatedOn"]);
        self.batched(portal, token, &base, "id", ids).await
    }
}
