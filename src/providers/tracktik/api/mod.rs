//! Typed reads the sync needs: approved invoices and pay runs in a time window, their lines,
//! taxes, billable items and payables, and the reference data lists.
//!
//! "Approved between" follows the fact sheet: invoices are `status=APPROVED` with
//! `approvedOn:between` (approval day ≠ invoice day, so the window is on `approvedOn`); pay
//! runs have no approved status, so `approvedOn:isnotnull` plus `approvedOn:between`.
//! Lists of ids are sent as `:in` filters in batches of at most [`MAX_BATCH_IDS`].

use super::models::{
    BackOfficeSettings, BillItem, BillableItem, Client, Employee, Invoice, InvoiceLineTax,
    PayrollCode, Payrun, PayrunItem, Record, Region, TaxClass, TaxClassItem,
};
use super::{AccessToken, MAX_IN_VALUES, Portal, Query, TrackTikClient, TrackTikError, Window};

mod changes;

/// The most ids sent in one `:in` filter (TrackTik's limit).
pub const MAX_BATCH_IDS: usize = MAX_IN_VALUES;

/// The reference-data collections [`TrackTikClient::reference_data`] reads, in order.
pub const REFERENCE_DATA: [&str; 8] = [
    "regions",
    "back-office-settings",
    "clients",
    "bill-items",
    "tax-classes",
    "tax-class-items",
    "payroll-codes",
    "employees",
];

/// On-demand pay-run fields worth having on every read.
pub(super) const PAYRUN_INCLUDES: [&str; 9] = [
    "occurrenceStartDate",
    "occurrenceEndDate",
    "countEmployees",
    "totalHours",
    "totalCost",
    "totalOvertimeHours",
    "totalOvertimeCost",
    "totalHolidayHours",
    "totalHolidayCost",
];

/// Everything from [`TrackTikClient::reference_data`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReferenceData {
    /// Regions, with time zones.
    pub regions: Vec<Region>,
    /// Back-office settings per region (currency, default tax class).
    pub back_office_settings: Vec<BackOfficeSettings>,
    /// Clients and sites.
    pub clients: Vec<Client>,
    /// Bill items (products/services).
    pub bill_items: Vec<BillItem>,
    /// Tax classes, with their items.
    pub tax_classes: Vec<TaxClass>,
    /// Tax class items (component rates).
    pub tax_class_items: Vec<TaxClassItem>,
    /// Pay codes.
    pub payroll_codes: Vec<PayrollCode>,
    /// Employees.
    pub employees: Vec<Employee>,
}

impl TrackTikClient {
    /// Approved invoices whose `approvedOn` lies in `window`, with `approvedOn` included.
    /// Narrows the window on 504. Lines are not included: use
    /// [`TrackTikClient::invoice_with_lines`] or [`TrackTikClient::approved_invoices_with_lines_between`].
    pub async fn approved_invoices_between(
        &self,
        portal: &Portal,
        token: &AccessToken,
        window: Window,
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let query = Query::new()
            .eq("status", "APPROVED")
            .include(["approvedOn"]);
        self.list_window(
            portal,
            token,
            Invoice::RESOURCE,
            &query,
            "approvedOn",
            window,
        )
        .await
    }

    /// Like [`TrackTikClient::approved_invoices_between`], with `include=lines` on the
    /// collection (not every portal allows that; fall back to
    /// [`TrackTikClient::invoice_with_lines`] per invoice).
    pub async fn approved_invoices_with_lines_between(
        &self,
        portal: &Portal,
        token: &AccessToken,
        window: Window,
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let query = Query::new()
            .eq("status", "APPROVED")
            .include(["approvedOn", "lines"]);
        self.list_window(
            portal,
            token,
            Invoice::RESOURCE,
            &query,
            "approvedOn",
            window,
        )
        .await
    }

    /// One invoice with its lines (`GET /invoices/{id}?include=lines,approvedOn`).
    pub async fn invoice_with_lines(
        &self,
        portal: &Portal,
        token: &AccessToken,
        invoice_id: i64,
    ) -> Result<Invoice, TrackTikError> {
        self.get(
            portal,
            token,
            invoice_id,
            &Query::new().include(["lines", "approvedOn"]),
        )
        .await
    }

    /// The given invoices with their lines (`id:in=…&include=lines,approvedOn`, batched): the
    /// lines of invoices found by [`TrackTikClient::approved_invoices_between`].
    pub async fn invoices_with_lines(
        &self,
        portal: &Portal,
        token: &AccessToken,
        invoice_ids: &[i64],
    ) -> Result<Vec<Invoice>, TrackTikError> {
        let base = Query::new().include(["lines", "approvedOn"]);
        self.batched(portal, token, &base, "id", invoice_ids).await
    }

    /// The tax rows of the given invoice lines (`invoiceLine:in=…`, batched), with the tax
    /// class item included.
    pub async fn line_taxes_for_lines(
        &self,
        portal: &Portal,
        token: &AccessToken,
        line_ids: &[i64],
    ) -> Result<Vec<InvoiceLineTax>, TrackTikError> {
        let base = Query::new().include(["taxClassItem"]);
        self.batched(portal, token, &base, "invoiceLine", line_ids)
            .await
    }

    /// The tax rows of every line of the given invoices (`invoiceLine.invoice:in=…`, batched).
    pub async fn line_taxes_for_invoices(
        &self,
        portal: &Portal,
        token: &AccessToken,
        invoice_ids: &[i64],
    ) -> Result<Vec<InvoiceLineTax>, TrackTikError> {
        let base = Query::new().include(["taxClassItem"]);
        self.batched(portal, token, &base, "invoiceLine.invoice", invoice_ids)
            .await
    }

    /// The billable items of the given invoices (`invoice:in=…`, batched), with `billItem`
    /// included: the link from an invoice line to its product/service.
    pub async fn billable_items_for_invoices(
        &self,
        portal: &Portal,
        token: &AccessToken,
        invoice_ids: &[i64],
    ) -> Result<Vec<BillableItem>, TrackTikError> {
        let base = Query::new().include(["billItem"]);
        self.batched(portal, token, &base, "invoice", invoice_ids)
            .await
    }

    /// Approved (hence locked) pay runs whose `approvedOn` lies in `window`, with their
    /// period dates and totals. Narrows the window on 504.
    pub async fn approved_payruns_between(
        &self,
        portal: &Portal,
        token: &AccessToken,
        window: Window,
    ) -> Result<Vec<Payrun>, TrackTikError> {
        let query = Query::new()
            .is_not_null("approvedOn")
            .include(PAYRUN_INCLUDES);
        self.list_window(
            portal,
            token,
            Payrun::RESOURCE,
            &query,
            "approvedOn",
            window,
        )
        .await
    }

    /// Every payable of one pay run (`payrun=ID`), with employee and pay code included.
    pub async fn payrun_items(
        &self,
        portal: &Portal,
        token: &AccessToken,
        payrun_id: i64,
    ) -> Result<Vec<PayrunItem>, TrackTikError> {
        let query = Query::new()
            .eq("payrun", payrun_id)
            .include(["employee", "customPayCode"]);
        self.list(portal, token, &query).await
    }

    /// Regions, with their time zones.
    pub async fn regions(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<Region>, TrackTikError> {
        self.list(portal, token, &Query::new().include(["timeZone"]))
            .await
    }

    /// Back-office settings of every region.
    pub async fn back_office_settings(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<BackOfficeSettings>, TrackTikError> {
        self.list(portal, token, &Query::new()).await
    }

    /// Clients and sites (`type` tells them apart), with name and time zone.
    pub async fn clients(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<Client>, TrackTikError> {
        self.list(portal, token, &Query::new().include(["name", "timeZone"]))
            .await
    }

    /// Bill items.
    pub async fn bill_items(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<BillItem>, TrackTikError> {
        self.list(portal, token, &Query::new()).await
    }

    /// Tax classes with their component items.
    pub async fn tax_classes(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<TaxClass>, TrackTikError> {
        self.list(portal, token, &Query::new().include(["items"]))
            .await
    }

    /// Tax class items.
    pub async fn tax_class_items(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<TaxClassItem>, TrackTikError> {
        self.list(portal, token, &Query::new()).await
    }

    /// Pay codes.
    pub async fn payroll_codes(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<PayrollCode>, TrackTikError> {
        self.list(portal, token, &Query::new()).await
    }

    /// Employees.
    pub async fn employees(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<Vec<Employee>, TrackTikError> {
        self.list(portal, token, &Query::new()).await
    }

    /// All reference data lists, read one after the other.
    pub async fn reference_data(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<ReferenceData, TrackTikError> {
        Ok(ReferenceData {
            regions: self.regions(portal, token).await?,
            back_office_settings: self.back_office_settings(portal, token).await?,
            clients: self.clients(portal, token).await?,
            bill_items: self.bill_items(portal, token).await?,
            tax_classes: self.tax_classes(portal, token).await?,
            tax_class_items: self.tax_class_items(portal, token).await?,
            payroll_codes: self.payroll_codes(portal, token).await?,
            employees: self.employees(portal, token).await?,
        })
    }

    /// Reads `T` for `field:in=ids`, [`MAX_BATCH_IDS`] ids per query, each query paged to
    /// the end; duplicates (across batches) removed, order kept.
    pub(super) async fn batched<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        base: &Query,
        field: &str,
        ids: &[i64],
    ) -> Result<Vec<T>, TrackTikError> {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut seen = std::collections::HashSet::new();
        let mut records = Vec::new();
        for chunk in unique.chunks(MAX_BATCH_IDS) {
            let query = base.clone().is_in(field, chunk.iter().copied());
            let found: Vec<T> = self.list(portal, token, &query).await?;
            records.extend(found.into_iter().filter(|r| seen.insert(r.id())));
        }
        Ok(records)
    }
}
