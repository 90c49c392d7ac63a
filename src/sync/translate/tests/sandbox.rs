//! Round trip through the QuickBooks sandbox: translated documents are accepted as they are,
//! and QBO's `TotalAmt` equals what the translation expected (US: exactly; Canada: after QBO
//! computes the tax from the codes, checked with `reconcile`).

use reqwest::Client;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::fixtures::*;
use crate::integrations::settings::{PayrollPosting, QboRef, TaxTarget};
use crate::sandbox::quickbooks::{
    self as sandbox, CA_REALM_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, US_REALM_ID,
};
use crate::sync::translate::{QboPayrun, reconcile, translate_invoice, translate_payrun};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Qbo {
    http: Client,
    base: String,
    realm: String,
    token: String,
}

impl Qbo {
    async fn connect(running: &sandbox::Running, realm: &str) -> Qbo {
        let http = Client::new();
        let base = running.base_url().to_owned();
        let control = |path: &str, body: Value| {
            http.post(format!("{base}/__sandbox/{path}"))
                .json(&body)
                .send()
        };
        control("rate-limits", json!({"enforce": false}))
            .await
            .unwrap();
        let code: Value = control(
            "oauth/code",
            json!({"client_id": DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": realm}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let token: Value = http
            .post(format!("{base}/oauth2/v1/tokens/bearer"))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .header("Accept", "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code["code"].as_str().unwrap()),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Qbo {
            token: token["access_token"].as_str().unwrap().to_owned(),
            http,
            base,
            realm: realm.to_owned(),
        }
    }

    async fn id(&self, entity: &str, field: &str, value: &str) -> QboRef {
        let query = format!("select * from {entity} where {field} = '{value}'");
        let v: Value = self
            .http
            .get(format!("{}/v3/company/{}/query", self.base, self.realm))
            .query(&[("query", query.as_str()), ("minorversion", "75")])
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = v["QueryResponse"][entity][0]["Id"].as_str();
        QboRef::new(id.unwrap_or_else(|| panic!("{entity} {value}: {v}")), value)
    }

    /// Creates the entity; returns its `TotalAmt` (a journal entry has none, as in QuickBooks:
    /// the sum of its debit lines).
    async fn create(&self, path: &str, body: &impl Serialize) -> Decimal {
        let r = self
            .http
            .post(format!(
                "{}/v3/company/{}/{path}?minorversion=75",
                self.base, self.realm
            ))
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{path}: {v}");
        let entity = v
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| *k != "time")
            .unwrap()
            .1;
        if entity.get("TotalAmt").is_none() {
            return entity["Line"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["JournalEntryLineDetail"]["PostingType"] == "Debit")
                .map(|l| l["Amount"].to_string().parse::<Decimal>().unwrap())
                .sum();
        }
        entity["TotalAmt"].to_string().parse().unwrap()
    }
}

/// A world whose mappings point at the seeded company's objects.
async fn seeded_world(qbo: &Qbo, us: bool) -> World {
    let mut w = World::new(us);
    let s = &mut w.settings;
    s.billing
        .items
        .insert(10, qbo.id("Item", "Name", "Guard Services").await);
    s.billing
        .items
        .insert(11, qbo.id("Item", "Name", "Mobile Patrol").await);
    if us {
        let tax_item = qbo.id("Item", "Name", "Services").await;
        for class in [1, 2] {
            s.taxes.classes.insert(
                class,
                TaxTarget::Item {
                    item: tax_item.clone(),
                },
            );
        }
        s.taxes.automated_tax_item = Some(tax_item);
    } else {
        for (class, name) in [(1, "HST ON"), (2, "GST")] {
            let code = qbo.id("TaxCode", "Name", name).await;
            s.taxes.classes.insert(class, TaxTarget::TaxCode { code });
        }
        s.taxes.exempt_tax_code = Some(qbo.id("TaxCode", "Name", "Exempt").await);
        w.company.prefs.multicurrency = true;
        w.currency = Some("CAD".into());
    }
    let s = &mut w.settings;
    s.payroll.wages_account = Some(qbo.id("Account", "Name", "Payroll Expenses").await);
    s.payroll.pay_code_accounts.insert(
        "OT".into(),
        qbo.id("Account", "Name", "Payroll Taxes").await,
    );
    s.payroll.liability_account = Some(qbo.id("Account", "Name", "Visa Business Card").await);
    s.payroll.vendor = Some(
        qbo.id("Vendor", "DisplayName", "Payroll Provider Inc.")
            .await,
    );
    w.customer = Some(qbo.id("Customer", "DisplayName", "Northwind Mall").await);
    w
}

#[tokio::test]
async fn translated_documents_post_to_the_sandbox_and_total_what_tracktik_says() {
    let running = sandbox::start(sandbox::Options::default()).await.unwrap();
    for (realm, us) in [(US_REALM_ID, true), (CA_REALM_ID, false)] {
        let qbo = Qbo::connect(&running, realm).await;
        let mut world = seeded_world(&qbo, us).await;

        let mut doc = two_line_invoice();
        if !us {
            // GST is 5 %: TrackTik's 2.50 on the 50.00 line is what QBO will compute.
            doc.line_taxes[1].amount = d("2.50");
            doc.invoice.tax_total = Some(d("15.50"));
            doc.invoice.total = Some(d("165.50"));
        }
        let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
        let total = qbo.create("invoice", &out.invoice).await;
        assert_eq!(reconcile(out.expected_total, total), None, "{realm}");

        if !us {
            // TrackTik taxed the line at 13 % where the mapped code is 5 %: reported after posting.
            let mut second = two_line_invoice();
            second.invoice.document_number = Some("INV-4013".into());
            let out = translate_invoice(&second, &world.invoice_ctx()).unwrap();
            let total = qbo.create("invoice", &out.invoice).await;
            let diff = reconcile(out.expected_total, total).expect("a difference");
            assert_eq!(diff.difference(), d("-4.00"));
        }

        for posting in [
            PayrollPosting::Bill,
            PayrollPosting::CreditCardExpense,
            PayrollPosting::JournalEntry,
        ] {
            world.settings.payroll.posting = posting;
            let out = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap();
            let total = match &out.transaction {
                QboPayrun::Bill(t) => qbo.create("bill", t).await,
                QboPayrun::Purchase(t) => qbo.create("purchase", t).await,
                QboPayrun::JournalEntry(t) => qbo.create("journalentry", t).await,
            };
            assert_eq!(total, out.expected_total, "{realm} {posting:?}");
        }
    }
    running.shutdown();
}
