//! The collections added in issue 15 (`credit-memos`, `positions`) validate against TrackTik's
//! OpenAPI schemas, and the `updatedOn` filters an incremental reader uses work as TrackTik
//! documents them (`:after` exclusive, `:before`, `:between=a|b` inclusive, `:gte`/`:lte`,
//! dates and date-times).

use reqwest::Method;
use serde_json::{Value, json};

use super::openapi::{SPEC, Spec};
use super::*;

async fn first(base: &str, t: &str, path: &str) -> Value {
    rows(base, t, path).await.into_iter().next().expect(path)
}

async fn setup(base: &str, t: &str) -> (Value, Value) {
    let invoice = first(base, t, "invoices?approvedOn:isnotnull&limit=1").await;
    let (status, memo) = control(
        base,
        Method::POST,
        "credit-memos",
        json!({"invoice": invoice["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{memo}");
    let account = first(base, t, "accounts?limit=1").await;
    let class = first(base, t, "tax-classes?limit=1").await;
    let code = first(base, t, "payroll-codes?limit=1").await;
    let (status, position) = control(
        base,
        Method::POST,
        "positions",
        json!({"name": "Front desk, nights", "account": account["id"], "custom_id": "P-100",
               "tax_class": class["id"], "pay_code_label": code["id"], "begin_date": "2024-07-01"}),
    )
    .await;
    assert_eq!(status, 201, "{position}");
    (memo["data"].clone(), position["data"].clone())
}

#[tokio::test]
async fn credit_memos_and_positions_answer_what_the_openapi_subset_describes() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let (memo, position) = setup(base, &t).await;
    assert!(
        memo["documentNumber"]
            .as_str()
            .is_some_and(|n| n.starts_with("CM-"))
    );
    assert_eq!(position["name"], "Front desk, nights");
    let Some(spec) = Spec::load() else {
        println!("NOTE: {SPEC} is absent; skipping the OpenAPI validation.");
        return;
    };
    for (tag, id, coll_inc, one_inc) in [
        (
            "credit-memos",
            &memo["id"],
            "lines,approvedOn,client,taxClass",
            "lines,client,taxClass,approvedBy,createdOn,updatedOn",
        ),
        (
            "positions",
            &position["id"],
            "account,taxClass",
            "account,taxClass,payCodeLabel,createdOn,updatedOn",
        ),
    ] {
        let (status, body) = get(base, &t, tag).await;
        assert_eq!(status, 200, "{tag}: {body}");
        assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{tag}");
        spec.check(spec.response(&format!("/{tag}"), "get"), &body["data"], tag);
        let item = spec.response(&format!("/{tag}/{{id}}"), "get");
        let (_, body) = get(base, &t, &format!("{tag}?include={coll_inc}")).await;
        spec.check(
            json!({"type": "array", "items": item.clone()}),
            &body["data"],
            &format!("{tag}?include={coll_inc}"),
        );
        let (status, one) = get(base, &t, &format!("{tag}/{id}?include={one_inc}")).await;
        assert_eq!(status, 200);
        spec.check(item, &one["data"], &format!("{tag}/{id}?include={one_inc}"));
    }
}

#[tokio::test]
async fn the_updated_on_filters_work_as_tracktik_documents_them() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let (memo, position) = setup(base, &t).await;
    for (tag, id) in [
        ("credit-memos", memo["id"].clone()),
        ("positions", position["id"].clone()),
        (
            "invoices",
            first(base, &t, "invoices?limit=1").await["id"].clone(),
        ),
        (
            "payroll-payruns",
            first(base, &t, "payroll-payruns?limit=1").await["id"].clone(),
        ),
    ] {
        let (_, one) = get(base, &t, &format!("{tag}/{id}?include=updatedOn")).await;
        let updated = one["data"]["updatedOn"]
            .as_str()
            .expect("updatedOn")
            .to_string();
        let at = chrono::DateTime::parse_from_rfc3339(&updated).expect("a date-time");
        let day = at.date_naive();
        let has = |rows: &[Value]| rows.iter().any(|r| r["id"] == id);
        let q = |filter: String| format!("{tag}?limit=1000&{filter}");
        let enc = |s: &str| s.replace('+', "%2B");
        // :after is exclusive, :gte inclusive, :between inclusive on both ends.
        assert!(
            !has(&rows(base, &t, &q(format!("updatedOn:after={}", enc(&updated)))).await),
            "{tag} :after"
        );
        assert!(
            has(&rows(base, &t, &q(format!("updatedOn:gte={}", enc(&updated)))).await),
            "{tag} :gte"
        );
        let earlier = (at - chrono::Duration::seconds(1)).to_rfc3339();
        assert!(
            has(&rows(base, &t, &q(format!("updatedOn:after={}", enc(&earlier)))).await),
            "{tag} :after earlier"
        );
        assert!(
            has(&rows(base, &t, &q(format!("updatedOn:between={day}|{day}"))).await),
            "{tag} :between one day"
        );
        let before = day - chrono::Duration::days(1);
        assert!(
            !has(&rows(base, &t, &q(format!("updatedOn:before={before}"))).await),
            "{tag} :before"
        );
        let plain = at.format("%Y-%m-%d %H:%M:%S").to_string();
        assert!(
            has(&rows(base, &t, &q(format!("updatedOn:lte={plain}"))).await),
            "{tag} :lte with a space-separated time"
        );
    }
}
