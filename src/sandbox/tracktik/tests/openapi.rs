//! Every response body validates against TrackTik's own OpenAPI schemas
//! (`/work/shared/spec/tracktik/openapi-subset.json`, present in CI; skipped when absent).
//!
//! The OpenAPI paths describe the `data` part of the envelope: a collection's schema is an array
//! of `<X>Collection`, a record's is `<X>Item`. Collection schemas type relations as bare ids,
//! so a collection fetched with `include` is checked against an array of `<X>Item` instead.
//! OpenAPI 3.0 → JSON Schema: `nullable: true` becomes "or null"; and because TrackTik's
//! generator never writes `nullable` although the API sends `null` for unset values, every
//! object property is allowed to be `null`. Formats (`date`, `date-time`, `email`, `uri`) are
//! checked.

use serde_json::{Map, Value, json};

use super::*;

pub(super) const SPEC: &str = "/work/shared/spec/tracktik/openapi-subset.json";

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [{"type": "null"}, schema]})
}

/// OpenAPI 3.0 schema → JSON Schema (see the module comment).
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                match k.as_str() {
                    "nullable" | "example" | "x-ttc-labels" => {}
                    "properties" => {
                        let props = x
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(n, s)| (n.clone(), nullable(to_json_schema(s))))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(x));
                    }
                }
            }
            let out = Value::Object(out);
            if m.get("nullable") == Some(&Value::Bool(true)) {
                nullable(out)
            } else {
                out
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

pub(super) struct Spec {
    doc: Value,
    schemas: Value,
}

impl Spec {
    pub(super) fn load() -> Option<Spec> {
        let text = std::fs::read_to_string(SPEC).ok()?;
        let doc: Value = serde_json::from_str(&text).expect("the OpenAPI subset is JSON");
        let schemas = to_json_schema(&doc["components"]["schemas"]);
        Some(Spec { doc, schemas })
    }

    /// The 200 response schema of `GET path` (or `POST` for actions).
    pub(super) fn response(&self, path: &str, method: &str) -> Value {
        let s = &self.doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert!(!s.is_null(), "no schema for {method} {path}");
        to_json_schema(s)
    }

    /// Up to five validation errors of `instance` against `schema`.
    fn errors(&self, schema: Value, instance: &Value) -> Vec<String> {
        let Value::Object(mut root) = schema else {
            unreachable!("schemas are objects")
        };
        root.insert("components".into(), json!({"schemas": self.schemas}));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&Value::Object(root))
            .expect("schema compiles");
        validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    pub(super) fn check(&self, schema: Value, instance: &Value, what: &str) {
        let errors = self.errors(schema, instance);
        assert!(
            errors.is_empty(),
            "{what} does not match its OpenAPI schema: {errors:#?}"
        );
    }
}

/// (collection path, includes used on the collection, includes used on one record)
const ENDPOINTS: &[(&str, &str, &str)] = &[
    (
        "accounts",
        "region,timeZone,status",
        "region,timeZone,status,createdOn",
    ),
    (
        "client-billing-settings",
        "client,taxClass",
        "client,taxClass",
    ),
    (
        "regions",
        "uri,resourceType",
        "timeZone,prefix,parentRegion,uri,resourceType",
    ),
    ("back-office-settings", "region", "region,billingTaxClass"),
    (
        "clients",
        "region,parentClient",
        "name,timeZone,parentClient,region",
    ),
    ("bill-items", "", "region,uri,resourceType"),
    (
        "billable-items",
        "billItem",
        "billItem,invoice,invoiceLine,serviceLocation,clientAccount",
    ),
    ("tax-classes", "items", "items,region"),
    ("tax-class-items", "taxClass", "taxClass"),
    (
        "invoices",
        "lines,approvedOn,client,taxClass",
        "lines,lines.billableItems.billItem,lines.taxTotal,approvedOn,client,taxClass,approvedBy,createdOn,updatedOn",
    ),
    (
        "invoice-line-taxes",
        "taxClassItem,invoiceLine",
        "taxClassItem,invoiceLine",
    ),
    (
        "payroll-payruns",
        "countEmployees,totalHours,totalCost,totalOvertimeHours,totalOvertimeCost,totalHolidayHours,totalHolidayCost,occurrenceStartDate,occurrenceEndDate",
        "items,region,approvedBy,countEmployees,totalCost",
    ),
    (
        "payroll-payrun-items",
        "employee,customPayCode",
        "employee,customPayCode,payrun,account",
    ),
    ("payroll-codes", "", "region"),
    ("employees", "region", "region,username"),
];

#[tokio::test]
async fn every_endpoint_answers_what_the_openapi_subset_describes() {
    let Some(spec) = Spec::load() else {
        println!(
            "NOTE: {SPEC} is absent (it ships with CI, not with the product); skipping the OpenAPI validation."
        );
        return;
    };
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let mut checked = 0;
    for (tag, coll_inc, one_inc) in ENDPOINTS {
        let coll_schema = spec.response(&format!("/{tag}"), "get");
        let item_schema = spec.response(&format!("/{tag}/{{id}}"), "get");
        let item_array = json!({"type": "array", "items": item_schema.clone()});

        let (status, body) = get(base, &t, &format!("{tag}?limit=50")).await;
        assert_eq!(status, 200, "{tag}: {body}");
        assert!(
            !body["data"].as_array().unwrap().is_empty(),
            "{tag} has data"
        );
        spec.check(coll_schema.clone(), &body["data"], &format!("GET /{tag}"));
        if !coll_inc.is_empty() {
            let (_, body) = get(base, &t, &format!("{tag}?limit=50&include={coll_inc}")).await;
            spec.check(
                item_array.clone(),
                &body["data"],
                &format!("GET /{tag}?include={coll_inc}"),
            );
        }
        // Records with the most relations filled in: prefer approved ones where it matters.
        let pick = match *tag {
            "invoices" | "payroll-payruns" => format!("{tag}?approvedOn:isnotnull&limit=1"),
            "clients" => format!("{tag}?type=SERVICE_LOCATION&limit=1"),
            _ => format!("{tag}?limit=1"),
        };
        let id = rows(base, &t, &pick).await[0]["id"].as_i64().unwrap();
        let (_, one) = get(base, &t, &format!("{tag}/{id}")).await;
        spec.check(
            item_schema.clone(),
            &one["data"],
            &format!("GET /{tag}/{id}"),
        );
        let (_, one) = get(base, &t, &format!("{tag}/{id}?include={one_inc}")).await;
        spec.check(
            item_schema,
            &one["data"],
            &format!("GET /{tag}/{id}?include={one_inc}"),
        );
        checked += 1;
    }
    // The approve action answers an ActionResponse.
    let open = rows(base, &t, "payroll-payruns?approvedOn:isnull&limit=1").await;
    let id = open[0]["id"].as_i64().unwrap();
    let r = http()
        .post(format!(
            "{base}/rest/v1/payroll-payruns/{id}/actions/approve"
        ))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    spec.check(
        spec.response("/payroll-payruns/{id}/actions/approve", "post"),
        &body,
        "approve action",
    );
    spec.check(
        spec.response("/payroll-payruns/{id}", "get"),
        &body["data"],
        "approve action data",
    );
    assert_eq!(checked, ENDPOINTS.len());
}

#[test]
fn the_schema_check_rejects_a_wrong_type() {
    let Some(spec) = Spec::load() else {
        println!("NOTE: {SPEC} is absent; skipping.");
        return;
    };
    let schema = spec.response("/invoices/{id}", "get");
    let bad = json!({"id": 1, "status": "PAID", "subTotal": "12.00", "invoiceDate": "yesterday"});
    let errors = spec.errors(schema, &bad);
    assert!(
        errors.len() >= 3,
        "a wrong enum, a string amount and a bad date must fail validation"
    );
}
