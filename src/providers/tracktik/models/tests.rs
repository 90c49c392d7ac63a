//! Fixture tests for the wire DTOs. Payloads are written from the OpenAPI `*Item` schemas
//! (field names and types) with made-up values.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::providers::tracktik::TrackTikError;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn collection(resource: &str, data: Value) -> Value {
    let n = data.as_array().map_or(0, Vec::len);
    json!({
        "meta": {"request": [resource], "security": {"granted": true}, "debug": null,
                 "resource": resource, "count": n, "itemCount": n, "limit": 100, "offset": 0},
        "data": data
    })
}

fn one<T: Record>(data: Value) -> Result<T, TrackTikError> {
    parse_single(T::RESOURCE, json!({"meta": {}, "data": data}))
}

#[test]
fn an_invoice_without_lines_parses_with_relations_as_ids_and_money_as_numbers() {
    let body = collection(
        "invoices",
        json!([{
            "id": 9001, "client": 500, "status": "APPROVED", "documentNumber": "INV-000123",
            "invoiceDate": "2024-06-30", "dueDate": "2024-07-30",
            "servicePeriodStartDate": "2024-06-01", "servicePeriodEndDate": "2024-06-30",
            "taxClass": 3, "contract": 70, "subTotal": 1234.50, "taxTotal": 160.49,
            "total": 1394.99, "distributed": false, "aging": "0", "approvedBy": 1001,
            "approvedOn": "2024-07-01T02:15:00+00:00", "invoiceBatchId": null
        }]),
    );
    let page: Page<Invoice> = parse_page("invoices", body).unwrap();
    assert_eq!(page.meta.count, Some(1));
    let invoice = &page.records[0];
    assert_eq!(invoice.id, 9001);
    assert_eq!(invoice.status, InvoiceStatus::Approved);
    assert_eq!(invoice.client, Some(Relation::Id(500)));
    assert_eq!(invoice.client.as_ref().unwrap().id(), 500);
    assert_eq!(invoice.tax_class.as_ref().unwrap().id(), 3);
    assert_eq!(invoice.contract.as_ref().unwrap().id(), 70);
    assert_eq!(invoice.invoice_date, Some(date(2024, 6, 30)));
    assert_eq!(invoice.sub_total, Some(dec("1234.50")));
    assert_eq!(invoice.tax_total, Some(dec("160.49")));
    assert_eq!(invoice.total, Some(dec("1394.99")));
    assert_eq!(invoice.total.unwrap().to_string(), "1394.99");
    assert_eq!(
        invoice.approved_on.unwrap(),
        Utc.with_ymd_and_hms(2024, 7, 1, 2, 15, 0).unwrap()
    );
    assert_eq!(invoice.invoice_batch_id, None);
    assert_eq!(invoice.lines, None);
}

#[test]
fn an_invoice_with_included_lines_and_nested_objects_parses() {
    let invoice: Invoice = one(json!({
        "id": 9001, "status": "APPROVED",
        "client": {"id": 500, "company": "Globex Corp", "type": "CLIENT", "region": 2},
        "approvedBy": {"id": 1001, "firstName": "Dana", "lastName": "Reed"},
        "subTotal": "1234.50", "taxTotal": "160.49", "total": "1394.99",
        "lines": [
            {"id": 80001, "quantity": 40, "unitPrice": 25.50, "lineSubTotal": 1020.00,
             "taxable": true, "taxClass": 3, "serviceLocation": 501,
             "serviceDateTime": "2024-06-30T00:00:00-04:00", "timeZone": "America/Toronto",
             "relationGuid": null, "invoice": 9001},
            {"id": 80002, "quantity": "1", "unitPrice": "214.50", "lineSubTotal": "214.50",
             "taxable": "1", "taxTotal": 27.89,
             "serviceLocation": {"id": 501, "company": "Globex HQ Lobby",
                                 "type": "SERVICE_LOCATION", "parentClient": 500},
             "billableItems": [{"id": 70001, "type": "REVENUE", "price": 214.50,
                                "billItem": {"id": 11, "name": "Guarding", "customId": "4000"}}],
             "invoice": {"id": 9001, "status": "APPROVED"}}
        ]
    }))
    .unwrap();
    let client = invoice.client.as_ref().unwrap().object().unwrap();
    assert_eq!(client.company.as_deref(), Some("Globex Corp"));
    assert_eq!(client.kind, Some(ClientType::Client));
    assert_eq!(invoice.approved_by.as_ref().unwrap().id(), 1001);
    let lines = invoice.lines.as_ref().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].quantity, Some(dec("40")));
    assert_eq!(lines[0].unit_price, Some(dec("25.5")));
    assert_eq!(lines[0].service_location, Some(Relation::Id(501)));
    let served = lines[0].service_date_time.unwrap();
    assert_eq!(served.to_rfc3339(), "2024-06-30T00:00:00-04:00");
    assert_eq!(lines[0].invoice.as_ref().unwrap().id(), 9001);
    assert_eq!(lines[1].taxable, Some(true));
    assert_eq!(lines[1].tax_total, Some(dec("27.89")));
    let site = lines[1].service_location.as_ref().unwrap();
    assert_eq!(site.id(), 501);
    assert_eq!(
        site.object().unwrap().kind,
        Some(ClientType::ServiceLocation)
    );
    assert_eq!(
        site.object().unwrap().parent_client.as_ref().unwrap().id(),
        500
    );
    let billable = &lines[1].billable_items.as_ref().unwrap()[0];
    assert_eq!(billable.kind, Some(BillableItemType::Revenue));
    assert_eq!(
        billable
            .bill_item
            .as_ref()
            .unwrap()
            .object()
            .unwrap()
            .custom_id
            .as_deref(),
        Some("4000")
    );
    assert_eq!(lines[1].invoice.as_ref().unwrap().id(), 9001);
}

#[test]
fn dates_accept_plain_dates_and_midnight_timestamps() {
    let invoice: Invoice = one(json!({
        "id": 1, "status": "DRAFT",
        "invoiceDate": "2023-02-20T00:00:00+00:00",
        "dueDate": "2023-03-22",
        "servicePeriodStartDate": "2023-02-01 00:00:00",
        "servicePeriodEndDate": "",
        "date": null
    }))
    .unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Draft);
    assert_eq!(invoice.invoice_date, Some(date(2023, 2, 20)));
    assert_eq!(invoice.effective_invoice_date(), Some(date(2023, 2, 20)));
    assert_eq!(invoice.due_date, Some(date(2023, 3, 22)));
    assert_eq!(invoice.service_period_start_date, Some(date(2023, 2, 1)));
    assert_eq!(invoice.service_period_end_date, None);
}

#[test]
fn a_date_written_as_a_local_timestamp_keeps_its_written_day() {
    assert_eq!(
        de::parse_date("2024-06-30T23:30:00-04:00"),
        Some(date(2024, 6, 30))
    );
    assert_eq!(de::parse_date("2024-06-30"), Some(date(2024, 6, 30)));
    assert_eq!(de::parse_date("30/06/2024"), None);
}

#[test]
fn timestamps_accept_iso_8601_offsets_zulu_compact_offsets_and_epoch_seconds() {
    let expected = Utc.with_ymd_and_hms(2025, 8, 13, 11, 56, 11).unwrap();
    for text in [
        "2025-08-13T11:56:11+00:00",
        "2025-08-13T11:56:11Z",
        "2025-08-13T07:56:11-04:00",
        "2025-08-13T11:56:11+0000",
        "2025-08-13 11:56:11",
        "1755086171",
    ] {
        assert_eq!(de::parse_timestamp(text).unwrap(), expected, "{text}");
    }
    let payrun: Payrun = one(json!({"id": 3, "approvedOn": 1755086171})).unwrap();
    assert_eq!(payrun.approved_on.unwrap(), expected);
}

#[test]
fn money_is_exact_whether_sent_as_a_number_or_a_string() {
    let items: Vec<BillableItem> = parse_page(
        "billable-items",
        collection(
            "billable-items",
            json!([
                {"id": 1, "quantity": 8, "rate": 25.50, "price": 204.00},
                {"id": 2, "quantity": "0.1", "rate": "0.2", "price": "0.30"},
                {"id": 3, "quantity": 1e2, "rate": 0.07, "price": "1E1"},
                {"id": 4, "quantity": null, "rate": "", "price": 12345678.91}
            ]),
        ),
    )
    .unwrap()
    .records;
    assert_eq!(items[0].price, Some(dec("204")));
    assert_eq!(items[0].rate, Some(dec("25.50")));
    assert_eq!(
        items[1].quantity.unwrap() + items[1].rate.unwrap(),
        dec("0.3")
    );
    assert_eq!(items[1].price, Some(dec("0.30")));
    assert_eq!(items[2].quantity, Some(dec("100")));
    assert_eq!(items[2].rate, Some(dec("0.07")));
    assert_eq!(items[2].price, Some(dec("10")));
    assert_eq!(items[3].quantity, None);
    assert_eq!(items[3].rate, None);
    assert_eq!(items[3].price, Some(dec("12345678.91")));
}

#[test]
fn a_missing_required_field_is_an_error_naming_the_field() {
    let error = one::<Invoice>(json!({"client": 500, "status": "APPROVED"})).unwrap_err();
    assert_eq!(error.field(), Some("id"));
    assert!(
        matches!(&error, TrackTikError::InvalidResponse { resource, .. } if resource == "invoices")
    );

    let body = collection(
        "invoices",
        json!([{"id": 1, "status": "APPROVED"}, {"id": 2}]),
    );
    let error = parse_page::<Invoice>("invoices", body).unwrap_err();
    assert_eq!(error.field(), Some("data[1].status"));
    assert!(error.to_string().contains("status"), "{error}");

    let error = one::<InvoiceLineTax>(json!({"id": 5, "amount": 1.00})).unwrap_err();
    assert_eq!(error.field(), Some("invoiceLine"));
}

#[test]
fn a_malformed_field_is_named_without_echoing_its_value() {
    let body = collection(
        "employees",
        json!([{"id": 2001, "firstName": "Ana"}, {"id": 2002, "createdOn": "Ana Diaz's birthday"}]),
    );
    let error = parse_page::<Employee>("employees", body).unwrap_err();
    assert_eq!(error.field(), Some("data[1].createdOn"));
    assert!(!error.to_string().contains("Ana Diaz"), "{error}");

    let error =
        one::<Invoice>(json!({"id": 1, "status": "APPROVED", "total": "twelve"})).unwrap_err();
    assert_eq!(error.field(), Some("total"));
    let error = one::<Invoice>(json!({"id": 1, "status": "APPROVED", "client": [1]})).unwrap_err();
    assert_eq!(error.field(), Some("client"));
}

#[test]
fn unknown_fields_are_ignored_and_missing_optional_fields_default() {
    let region: Region = one(json!({
        "id": 2, "customId": "ON", "name": "Ontario", "company": "Acme Security",
        "parentRegion": 1, "timeZone": "America/Toronto",
        "brandNewField": {"nested": [1, 2, 3]}, "uri": "/rest/v1/regions/2"
    }))
    .unwrap();
    assert_eq!(region.name.as_deref(), Some("Ontario"));
    assert_eq!(region.parent_region.as_ref().unwrap().id(), 1);
    assert_eq!(region.time_zone.as_deref(), Some("America/Toronto"));

    let bare: Region = one(json!({"id": 3})).unwrap();
    assert_eq!(bare.name, None);
    assert_eq!(bare.parent_region, None);
}

#[test]
fn unknown_enum_values_become_other_instead_of_failing() {
    let invoice: Invoice = one(json!({"id": 1, "status": "VOIDED"})).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Other);
    let payrun: Payrun = one(json!({"id": 1, "status": "ARCHIVED"})).unwrap();
    assert_eq!(payrun.status, Some(PayrunStatus::Other));
}

#[test]
fn a_line_tax_accepts_its_invoice_line_as_an_id_a_list_of_ids_or_an_object() {
    let body = collection(
        "invoice-line-taxes",
        json!([
            {"id": 555, "amount": 132.60,
             "taxClassItem": {"id": 31, "percentage": 13, "code": "HST", "number": "123456789RT0001", "taxClass": 3},
             "invoiceLine": 80001},
            {"id": 556, "amount": "27.89", "taxClassItem": 31, "invoiceLine": [80002]},
            {"id": 557, "amount": 0, "invoiceLine": {"id": 80003, "lineSubTotal": 10}}
        ]),
    );
    let taxes: Vec<InvoiceLineTax> = parse_page("invoice-line-taxes", body).unwrap().records;
    assert_eq!(taxes[0].invoice_line_id(), Some(80001));
    assert_eq!(taxes[0].amount, dec("132.60"));
    let item = taxes[0].tax_class_item.as_ref().unwrap().object().unwrap();
    assert_eq!(item.percentage, Some(dec("13")));
    assert_eq!(item.tax_class.as_ref().unwrap().id(), 3);
    assert_eq!(taxes[1].invoice_line_id(), Some(80002));
    assert_eq!(taxes[1].invoice_line.ids(), vec![80002]);
    assert_eq!(taxes[1].tax_class_item, Some(Relation::Id(31)));
    assert_eq!(taxes[2].invoice_line_id(), Some(80003));
    assert_eq!(taxes[2].amount, Decimal::ZERO);
}

#[test]
fn payruns_and_their_items_parse_with_totals_and_included_relations() {
    let payrun: Payrun = one(json!({
        "id": 301, "payrollSchedule": 4, "occurrenceDate": "2024-06-15",
        "occurrenceStartDate": "2024-06-02", "occurrenceEndDate": "2024-06-15", "region": 2,
        "status": "PROCESSED", "isProcessed": true, "countEmployees": 2, "totalHours": 92,
        "totalCost": 2106.00, "totalOvertimeHours": 4, "totalOvertimeCost": 132.00,
        "totalHolidayHours": 8, "totalHolidayCost": 264.00, "approvedBy": 1001,
        "approvedOn": "2024-06-17T14:02:11+00:00"
    }))
    .unwrap();
    assert_eq!(payrun.status, Some(PayrunStatus::Processed));
    assert_eq!(payrun.occurrence_start_date, Some(date(2024, 6, 2)));
    assert_eq!(payrun.total_cost, Some(dec("2106")));
    assert_eq!(payrun.count_employees, Some(2));
    assert!(payrun.approved_on.is_some());

    let body = collection(
        "payroll-payrun-items",
        json!([{
            "id": 990001, "payrun": 301,
            "employee": {"id": 2001, "customId": "E-2001", "name": "Ana Diaz", "firstName": "Ana",
                         "lastName": "Diaz", "status": "ACTIVE", "region": 2},
            "department": null, "shift": 123456, "account": 501,
            "customPayCode": {"id": 1, "name": "Regular", "code": "REG", "type": "NORMAL",
                              "multiplier": 1, "payable": true},
            "payrollCodeLabel": "REG", "quantity": 40, "rate": 22.00, "total": 880.00,
            "baseRate": 22.00, "originType": "shift", "originTypeItemId": "123456",
            "label": "Guard - Lobby", "notes": null, "locked": "1",
            "shiftFragmentDateStart": "2024-06-03 08:00:00", "shiftFragmentDateEnd": "2024-06-03 16:00:00",
            "expenseDate": null, "employeeType": "EMPLOYEE", "companyCode": "ACME",
            "payRateLevel": "EMPLOYEE_RATE", "qualifier": null, "labeledCode": 0
        }]),
    );
    let items: Vec<PayrunItem> = parse_page("payroll-payrun-items", body).unwrap().records;
    let item = &items[0];
    assert_eq!(item.payrun.id(), 301);
    assert_eq!(
        item.employee
            .as_ref()
            .unwrap()
            .object()
            .unwrap()
            .name
            .as_deref(),
        Some("Ana Diaz")
    );
    let code = item.custom_pay_code.as_ref().unwrap().object().unwrap();
    assert_eq!(
        (code.code.as_deref(), code.kind),
        (Some("REG"), Some(PayCodeType::Normal))
    );
    assert_eq!(item.account.as_ref().unwrap().id(), 501);
    assert_eq!(item.total, Some(dec("880")));
    assert_eq!(item.labeled_code.as_deref(), Some("0"));
    assert_eq!(item.department, None);
}

#[test]
fn reference_records_parse_from_their_schema_shapes() {
    let settings: BackOfficeSettings = one(json!({
        "id": 7, "region": 2, "billingBaseCurrency": "CAD", "billingTaxClass": 3,
        "billingTaxEngine": "DEFAULT", "payrollSchedule": 4, "payrollHourlyRate": "17.20"
    }))
    .unwrap();
    assert_eq!(settings.billing_base_currency.as_deref(), Some("CAD"));
    assert_eq!(settings.billing_tax_class.as_ref().unwrap().id(), 3);
    assert_eq!(settings.payroll_hourly_rate, Some(dec("17.2")));

    let class: TaxClass = one(json!({
        "id": 3, "name": "ON HST", "status": "ACTIVE", "customId": "HST-ON", "region": 2,
        "items": [{"id": 31, "percentage": 13, "code": "HST", "taxClass": 3}]
    }))
    .unwrap();
    assert_eq!(
        class.items.as_ref().unwrap()[0].code.as_deref(),
        Some("HST")
    );

    let site: Client = one(json!({
        "id": 501, "company": "Globex HQ Lobby", "customId": "GLOBEX-HQ",
        "type": "SERVICE_LOCATION", "parentClient": 500, "region": {"id": 2, "name": "Ontario"},
        "status": "ACTIVE", "closedDate": null
    }))
    .unwrap();
    assert_eq!(site.display_name(), Some("Globex HQ Lobby"));
    assert_eq!(
        site.region
            .as_ref()
            .unwrap()
            .object()
            .unwrap()
            .name
            .as_deref(),
        Some("Ontario")
    );

    let bill_item: BillItem = one(json!({"id": 11, "name": "Guarding", "customId": "4000",
                                         "isGlobal": true, "region": null}))
    .unwrap();
    assert_eq!((bill_item.is_global, bill_item.region), (Some(true), None));

    let code: PayrollCode =
        one(json!({"id": 2, "code": "OT", "type": "MULTIPLIER", "multiplier": 1.5})).unwrap();
    assert_eq!(code.multiplier, Some(dec("1.5")));

    let employee: Employee =
        one(json!({"id": "2001", "name": "Ana Diaz", "employmentProfile": 9})).unwrap();
    assert_eq!(employee.id, 2001);
    assert_eq!(employee.employment_profile.as_ref().unwrap().id(), 9);
}

#[test]
fn the_envelope_must_hold_a_data_array_for_a_collection() {
    let error =
        parse_page::<Region>("regions", json!({"meta": {}, "data": {"id": 1}})).unwrap_err();
    assert_eq!(error.field(), Some("data"));
    let error = parse_page::<Region>("regions", json!({"meta": {}})).unwrap_err();
    assert_eq!(error.field(), Some("data"));
    let error = parse_page::<Region>("regions", json!([])).unwrap_err();
    assert!(matches!(error, TrackTikError::InvalidResponse { .. }));
    let error = parse_page::<Region>("regions", json!({"meta": {"count": "many"}, "data": []}))
        .unwrap_err();
    assert!(error.field().unwrap().starts_with("meta."), "{error}");
}

#[test]
fn meta_paging_numbers_are_read_even_as_strings() {
    let page: Page<Region> = parse_page(
        "regions",
        json!({"meta": {"count": "2500", "itemCount": 1, "limit": 1000, "offset": 0},
                                      "data": [{"id": 1}]}),
    )
    .unwrap();
    assert_eq!(page.meta.count, Some(2500));
    assert_eq!(page.meta.limit, Some(1000));
}
