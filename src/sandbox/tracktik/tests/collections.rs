use std::collections::BTreeSet;
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use super::*;

fn d(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_else(|_| panic!("not a number: {v}"))
}

#[tokio::test]
async fn collections_come_in_the_tracktik_envelope() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let (status, body) = get(sb.base_url(), &t, "invoices?limit=5&offset=2").await;
    assert_eq!(status, StatusCode::OK);
    let meta = &body["meta"];
    assert_eq!(meta["request"], serde_json::json!(["invoices"]));
    assert_eq!(meta["resource"], "invoices");
    assert_eq!(meta["security"]["granted"], true);
    assert!(meta["debug"].is_null());
    assert_eq!(meta["limit"], 5);
    assert_eq!(meta["offset"], 2);
    assert_eq!(meta["itemCount"], 5);
    assert!(meta["count"].as_u64().unwrap() >= 21);
    assert_eq!(body["data"].as_array().unwrap().len(), 5);
    let (_, all) = get(sb.base_url(), &t, "invoices").await;
    assert_eq!(all["meta"]["limit"], 100, "default limit");
}

#[tokio::test]
async fn paging_walks_more_than_a_thousand_rows_without_gaps_or_repeats() {
    let seed = SeedConfig {
        days_of_invoices: 30,
        invoices_per_day: 40,
        ..SeedConfig::small()
    };
    let sb = sandbox_with(seed).await;
    let t = token(sb.base_url()).await;
    let mut seen = Vec::new();
    let mut offset = 0;
    let count = loop {
        let (status, body) = get(
            sb.base_url(),
            &t,
            &format!("invoices?limit=1000&offset={offset}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let page = body["data"].as_array().unwrap();
        seen.extend(ids(page));
        offset += page.len();
        let count = body["meta"]["count"].as_u64().unwrap() as usize;
        if offset >= count || page.is_empty() {
            break count;
        }
    };
    assert_eq!(count, 1200);
    assert_eq!(seen.len(), count);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ids ascending and unique across pages");
}

#[tokio::test]
async fn limits_above_a_thousand_page_and_unknown_fields_are_rejected() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let (status, body) = get(sb.base_url(), &t, "invoices?limit=1001").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], 400);
    let (status, body) = get(sb.base_url(), &t, "invoices?page=2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "page is not a field in invoices");
    let (status, body) = get(sb.base_url(), &t, "employees?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "colour is not a field in employees");
    let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let (status, _) = get(
        sb.base_url(),
        &t,
        &format!("invoices?id:in={}", many.join(",")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "more than 100 :in values");
    let (status, _) = get(sb.base_url(), &t, "invoices/123456789").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(sb.base_url(), &t, "no-such-things").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every filter operator, checked against the same selection done here on the full list.
#[tokio::test]
async fn every_filter_operator_selects_what_it_should() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let all = rows(base, &t, "invoices?limit=1000&include=approvedOn").await;
    assert!(all.len() > 10);
    let pick = |f: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        ids(&all.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>())
    };
    let total = |r: &Value| d(&r["total"]);
    let mid = total(&all[all.len() / 2]);
    let date = |r: &Value| r["invoiceDate"].as_str().unwrap().to_owned();
    let d0 = date(&all[3]);
    let d1 = date(&all[all.len() - 4]);
    let number = all[5]["documentNumber"].as_str().unwrap().to_owned();
    let approved_on = all
        .iter()
        .find_map(|r| r["approvedOn"].as_str())
        .unwrap()
        .to_owned();
    let approved_day = &approved_on[..10];
    let some: Vec<i64> = ids(&all)[..4].to_vec();
    let some_csv = some
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let cases: Vec<(String, Vec<i64>)> = vec![
        (
            "status=APPROVED".into(),
            pick(&|r| r["status"] == "APPROVED"),
        ),
        (
            "status:not=APPROVED".into(),
            pick(&|r| r["status"] != "APPROVED"),
        ),
        (format!("id:in={some_csv}"), some.clone()),
        (format!("idIn={some_csv}"), some.clone()),
        (
            format!("documentNumber={number}"),
            pick(&|r| r["documentNumber"] == number.as_str()),
        ),
        (format!("total:gt={mid}"), pick(&|r| total(r) > mid)),
        (format!("total:gte={mid}"), pick(&|r| total(r) >= mid)),
        (format!("total:lt={mid}"), pick(&|r| total(r) < mid)),
        (format!("total:lte={mid}"), pick(&|r| total(r) <= mid)),
        (
            "approvedOn:isnull".into(),
            pick(&|r| r["approvedOn"].is_null()),
        ),
        (
            "approvedOn:isnotnull".into(),
            pick(&|r| !r["approvedOn"].is_null()),
        ),
        (
            "documentNumber:contains=0001".into(),
            pick(&|r| r["documentNumber"].as_str().unwrap().contains("0001")),
        ),
        (
            "documentNumber:startswith=INV-00001".into(),
            pick(&|r| {
                r["documentNumber"]
                    .as_str()
                    .unwrap()
                    .starts_with("INV-00001")
            }),
        ),
        (
            "documentNumber:endswith=7".into(),
            pick(&|r| r["documentNumber"].as_str().unwrap().ends_with('7')),
        ),
        (format!("invoiceDate:before={d1}"), pick(&|r| date(r) < d1)),
        (format!("invoiceDate:after={d0}"), pick(&|r| date(r) > d0)),
        (
            format!("invoiceDate:between={d0}|{d1}"),
            pick(&|r| date(r) >= d0 && date(r) <= d1),
        ),
        (
            format!("approvedOn:between={approved_day}|{approved_day}"),
            pick(&|r| {
                r["approvedOn"]
                    .as_str()
                    .is_some_and(|a| a.starts_with(approved_day))
            }),
        ),
        (
            format!("approvedOn:between={approved_on}|{approved_on}"),
            pick(&|r| r["approvedOn"].as_str() == Some(approved_on.as_str())),
        ),
    ];
    // A filter that keeps everything or nothing proves little: most cases must split the list.
    let splitting = cases
        .iter()
        .filter(|(_, w)| !w.is_empty() && w.len() < all.len())
        .count();
    assert!(
        splitting + 2 >= cases.len(),
        "only {splitting} of {} cases split",
        cases.len()
    );
    for (filter, want) in cases {
        let encoded = filter.replace('+', "%2B");
        let got = ids(&rows(base, &t, &format!("invoices?limit=1000&{encoded}")).await);
        assert_eq!(got, want, "{filter}");
    }
}

#[tokio::test]
async fn dotted_relation_filters_follow_the_relation() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let sites = rows(base, &t, "clients?region.id=2&type=SERVICE_LOCATION").await;
    assert!(!sites.is_empty());
    assert!(
        sites
            .iter()
            .all(|s| s["region"] == 2 && s["type"] == "SERVICE_LOCATION")
    );
    let invoice = &rows(base, &t, "invoices?limit=1&taxTotal:gt=0").await[0];
    let id = invoice["id"].as_i64().unwrap();
    let (_, one) = get(base, &t, &format!("invoices/{id}?include=lines")).await;
    let line_ids: Vec<i64> = ids(one["data"]["lines"].as_array().unwrap());
    let by_invoice = rows(
        base,
        &t,
        &format!("invoice-line-taxes?invoiceLine.invoice={id}"),
    )
    .await;
    let csv = line_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let by_lines = rows(
        base,
        &t,
        &format!("invoice-line-taxes?invoiceLine:in={csv}"),
    )
    .await;
    assert!(!by_invoice.is_empty());
    assert_eq!(ids(&by_invoice), ids(&by_lines));
    let by_one_line = rows(
        base,
        &t,
        &format!("invoice-line-taxes?invoiceLine={}", line_ids[0]),
    )
    .await;
    assert!(
        by_one_line
            .iter()
            .all(|r| r["invoiceLine"] == serde_json::json!([line_ids[0]]))
    );
}

#[tokio::test]
async fn sort_orders_by_several_fields_and_descending() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let desc = ids(&rows(sb.base_url(), &t, "invoices?sort=-id").await);
    let mut want = desc.clone();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(desc, want);
    let by = rows(sb.base_url(), &t, "invoices?sort=status,-total&limit=1000").await;
    for w in by.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let sa = a["status"].as_str().unwrap();
        let sb_ = b["status"].as_str().unwrap();
        assert!(sa <= sb_);
        if sa == sb_ {
            assert!(d(&a["total"]) >= d(&b["total"]));
        }
    }
    let (status, _) = get(sb.base_url(), &t, "invoices?sort=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn include_expands_relations_and_on_demand_fields_and_fields_selects() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let plain = &rows(base, &t, "invoices?status=APPROVED&limit=1").await[0];
    assert!(plain["client"].is_i64());
    assert!(plain.get("lines").is_none() && plain.get("approvedOn").is_none());
    let id = plain["id"].as_i64().unwrap();
    let (_, body) = get(base, &t, &format!("invoices/{id}?include=lines,lines.billableItems.billItem,lines.taxTotal,client,approvedOn")).await;
    let inv = &body["data"];
    assert_eq!(
        body["meta"]["request"],
        serde_json::json!(["invoices", id.to_string()])
    );
    assert!(inv["client"].is_object() && inv["client"]["type"] == "CLIENT");
    assert!(inv["approvedOn"].is_string());
    let lines = inv["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    for l in lines {
        assert!(l["taxTotal"].is_number());
        let items = l["billableItems"].as_array().unwrap();
        assert!(!items.is_empty());
        assert!(items.iter().all(|b| b["billItem"].is_object()));
        assert!(l["serviceLocation"].is_i64(), "not included → id");
    }
    let sel = &rows(base, &t, "invoices?fields=id,documentNumber:number&limit=1").await[0];
    let keys: BTreeSet<&str> = sel
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["id", "number"]));
    let (status, _) = get(base, &t, "invoices?include=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invoice_totals_lines_billable_items_and_taxes_add_up() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let invoices = rows(
        base,
        &t,
        "invoices?limit=1000&include=lines,lines.billableItems",
    )
    .await;
    let taxes = rows(base, &t, "invoice-line-taxes?limit=1000").await;
    let (_, ex) = get(base, &t, "tax-classes?customId=EXEMPT").await;
    let exempt_class = ex["data"][0]["id"].clone();
    let mut saw_exempt = false;
    for inv in &invoices {
        let mut sub = Decimal::ZERO;
        let mut tax = Decimal::ZERO;
        let mut groups = BTreeSet::new();
        for l in inv["lines"].as_array().unwrap() {
            let key = l["billableItems"][0]["groupKey"].to_string();
            assert!(
                groups.insert(key),
                "lines of one invoice have distinct group keys"
            );
            let items = l["billableItems"].as_array().unwrap();
            let price: Decimal = items.iter().map(|b| d(&b["price"])).sum();
            assert_eq!(price, d(&l["lineSubTotal"]), "Σ price = lineSubTotal");
            let bill_items: BTreeSet<String> =
                items.iter().map(|b| b["billItem"].to_string()).collect();
            assert_eq!(bill_items.len(), 1, "one bill item per line");
            sub += d(&l["lineSubTotal"]);
            let line_taxes: Vec<&Value> = taxes
                .iter()
                .filter(|x| x["invoiceLine"][0] == l["id"])
                .collect();
            if l["taxable"] == false {
                assert!(line_taxes.is_empty(), "exempt lines carry no tax rows");
            }
            tax += line_taxes.iter().map(|x| d(&x["amount"])).sum::<Decimal>();
        }
        assert_eq!(sub, d(&inv["subTotal"]));
        assert_eq!(tax, d(&inv["taxTotal"]));
        assert_eq!(sub + tax, d(&inv["total"]));
        if inv["taxClass"] == exempt_class {
            saw_exempt = true;
            assert_eq!(d(&inv["taxTotal"]), Decimal::ZERO);
        }
    }
    assert!(saw_exempt, "the tax-exempt client was invoiced");
}

#[tokio::test]
async fn approving_a_pay_run_sets_approval_and_locks_its_items() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let open = rows(base, &t, "payroll-payruns?approvedOn:isnull").await;
    assert!(!open.is_empty());
    let approved = rows(base, &t, "payroll-payruns?approvedOn:isnotnull").await;
    assert!(!approved.is_empty(), "the seed has approved pay runs too");
    let id = open[0]["id"].as_i64().unwrap();
    let url = format!("{base}/rest/v1/payroll-payruns/{id}/actions/approve");
    let r = http().post(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["approvedOn"].is_string());
    assert_eq!(body["data"]["approvedBy"], 1001);
    let items = rows(
        base,
        &t,
        &format!("payroll-payrun-items?payrun={id}&limit=1000&include=employee,customPayCode"),
    )
    .await;
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["locked"] == "1"
        && i["employee"].is_object()
        && i["customPayCode"].is_object()));
    let again = http().post(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let unauth = http().post(&url).send().await.unwrap();
    assert_eq!(unauth.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pay_run_totals_are_on_demand_and_match_the_items() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let plain = &rows(base, &t, "payroll-payruns?limit=1").await[0];
    assert!(plain.get("totalCost").is_none());
    let id = plain["id"].as_i64().unwrap();
    let (_, body) = get(
        base,
        &t,
        &format!("payroll-payruns/{id}?include=totalCost,totalHours,countEmployees"),
    )
    .await;
    let items = rows(
        base,
        &t,
        &format!("payroll-payrun-items?payrun={id}&limit=1000"),
    )
    .await;
    let cost: Decimal = items.iter().map(|i| d(&i["total"])).sum();
    assert_eq!(d(&body["data"]["totalCost"]), cost);
    let labels: BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i["payrollCodeLabel"].as_str())
        .collect();
    assert!(
        labels.contains("REG") && labels.contains("TRAIN") && labels.contains("EXP"),
        "{labels:?}"
    );
}
