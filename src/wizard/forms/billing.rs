//! The billing step: bill items → products, customers, number and memo templates with a preview.

use super::{Errors, FieldView, Section, Values, get, pick};
use super::{dim_key, dimension_fields, parse_dim, qbo_choices, ref_id};
use crate::integrations::CompanyPrefs;
use crate::integrations::settings::{CustomerMatching, Settings};
use crate::wizard::catalog::{QboOption, SampleInvoice, Source};
use chrono::NaiveDate;

/// What the billing step offers.
pub struct BillingLists {
    /// QBO products and services.
    pub items: Vec<QboOption>,
    /// QBO customers.
    pub customers: Vec<QboOption>,
    /// TrackTik bill items.
    pub bill_items: Vec<Source>,
    /// TrackTik clients (those in the integration's regions).
    pub clients: Vec<Source>,
    /// Income accounts, for products created here.
    pub income_accounts: Vec<QboOption>,
}

/// Account types a product may sell into.
pub const INCOME_TYPES: [&str; 2] = ["Income", "Other Income"];

/// The billing values of saved answers.
pub fn billing_values(s: &Settings) -> Values {
    let b = &s.billing;
    let mut v = Values::new();
    v.insert("default_item".into(), ref_id(&b.default_item));
    for (id, r) in &b.items {
        v.insert(format!("item_{id}"), r.id.clone());
    }
    for (id, r) in &b.customer_map {
        v.insert(format!("customer_{id}"), r.id.clone());
    }
    v.insert(
        "customer_matching".into(),
        match b.customer_matching {
            CustomerMatching::MatchOrCreate => "match_or_create",
            CustomerMatching::PickedOnly => "picked_only",
        }
        .into(),
    );
    v.insert("doc_number_template".into(), b.doc_number_template.clone());
    v.insert("memo_template".into(), b.memo_template.clone());
    v.insert("class_from".into(), dim_key(b.class_from));
    v.insert("location_from".into(), dim_key(b.location_from));
    v
}

/// The billing step's fields.
pub fn billing_sections(
    values: &Values,
    errors: &Errors,
    lists: &BillingLists,
    prefs: &CompanyPrefs,
    express: bool,
) -> Vec<Section> {
    let ro = |f: FieldView| if express { f.read_only() } else { f };
    let default = get(values, "default_item");
    let mut products = vec![ro(FieldView::new(
        "default_item",
        "Default QuickBooks product/service",
        "select",
        values,
        errors,
    )
    .help("Used for every bill item below that is left on “Use the default product”.")
    .choices(qbo_choices(
        &lists.items,
        "No default: map every bill item",
        default,
    )))];
    for b in &lists.bill_items {
        let name = format!("item_{}", b.key);
        let current = get(values, &name);
        let mut choices = qbo_choices(&lists.items, "Use the default product", current);
        if !express {
            choices.insert(
                1,
                (
                    crate::wizard::products::NEW_PRODUCT.to_owned(),
                    format!("Create a new product “{}”", b.name),
                    String::new(),
                ),
            );
        }
        products.push(ro(
            FieldView::new(&name, &b.name, "select", values, errors).choices(choices)
        ));
    }
    if !express {
        let chosen = match get(values, "new_product_income") {
            "" => default_income(lists, default),
            v => v.to_owned(),
        };
        let mut shown = values.clone();
        shown.insert("new_product_income".into(), chosen.clone());
        products.push(
            FieldView::new(
                "new_product_income",
                "Income account for new products",
                "select",
                &shown,
                errors,
            )
            .help("Products made with “Create a new product” sell into this account.")
            .choices(qbo_choices(
                &lists.income_accounts,
                "Choose an income account",
                &chosen,
            )),
        );
    }
    let mut customers = vec![ro(FieldView::new(
        "customer_matching",
        "How TrackTik clients become QuickBooks customers",
        "radio",
        values,
        errors,
    )
    .choices(vec![
        ("match_or_create".into(), "Match by name, create when missing".into(), "The QuickBooks customer with the client's name is used; a new one is created when there is none.".into()),
        ("picked_only".into(), "Only the customers picked below".into(), "Invoices of a client without a picked customer fail with a message until you pick one.".into()),
    ]))];
    for c in &lists.clients {
        let name = format!("customer_{}", c.key);
        let current = get(values, &name);
        customers.push(ro(FieldView::new(&name, &c.name, "select", values, errors)
            .choices(qbo_choices(&lists.customers, "Match by name", current))));
    }
    let mut numbering = vec![
        ro(FieldView::new(
            "doc_number_template",
            "Invoice number in QuickBooks",
            "text",
            values,
            errors,
        )
        .help("{number} is TrackTik's invoice number; you can also use {client}, {invoice_date}, {period_start} and {period_end}. QuickBooks allows 21 characters: longer numbers are shortened the same way every time.")),
        ro(FieldView::new(
            "memo_template",
            "Memo (private note)",
            "textarea",
            values,
            errors,
        )
        .help("You can use {number}, {client}, {invoice_date}, {period_start} and {period_end}.")),
    ];
    numbering.extend(dimension_fields(prefs, values, errors).into_iter().map(ro));
    vec![
        Section {
            title: "Products and services".into(),
            intro:
                "Each TrackTik bill item becomes a line with this QuickBooks product or service."
                    .into(),
            fields: products,
        },
        Section {
            title: "Customers".into(),
            intro: "Pick a QuickBooks customer for a client only when the names differ.".into(),
            fields: customers,
        },
        Section {
            title: "Invoice number and memo".into(),
            intro: "The invoice date, due date and service dates are TrackTik's.".into(),
            fields: numbering,
        },
    ]
}

/// Placeholders the memo may use.
/// Placeholders the number and memo may use (the same the sync fills in).
pub const PLACEHOLDERS: [&str; 5] = [
    "number",
    "client",
    "period_start",
    "period_end",
    "invoice_date",
];

/// Fills `{placeholder}`s from the sample; unknown ones are returned as errors.
pub fn render_template(
    template: &str,
    sample: &SampleInvoice,
    allowed: &[&str],
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("A “{” is not closed with “}”.".into());
        };
        let key = &after[..close];
        if !allowed.contains(&key) {
            let names: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
            return Err(format!(
                "{{{key}}} is not something we can fill in. Use {}.",
                names.join(", ")
            ));
        }
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&match key {
            "number" => sample.number.clone(),
            "client" => sample.client.clone(),
            "period_start" => date(sample.period_start),
            "period_end" => date(sample.period_end),
            "invoice_date" => date(sample.invoice_date),
            _ => String::new(),
        });
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The preview of the number and memo, exactly as the sync will fill them in.
pub struct Preview {
    /// The invoice it was built from.
    pub source: String,
    /// QBO document number.
    pub doc_number: String,
    /// The number was longer than QuickBooks allows and was shortened.
    pub shortened: bool,
    /// QBO private note.
    pub memo: String,
}

/// Builds the preview from a real invoice with the sync's own rendering (templates with
/// errors get no preview; the errors are shown next to the fields instead).
pub fn preview(values: &Values, sample: &SampleInvoice) -> Option<Preview> {
    use crate::sync::translate::{doc_number, template};
    let doc = get(values, "doc_number_template");
    let memo = get(values, "memo_template");
    render_template(doc, sample, &PLACEHOLDERS).ok()?;
    render_template(memo, sample, &PLACEHOLDERS).ok()?;
    let vars = template::TemplateVars {
        number: sample.number.clone(),
        client: Some(sample.client.clone()),
        period_start: sample.period_start,
        period_end: sample.period_end,
        invoice_date: sample.invoice_date,
    };
    Some(Preview {
        source: format!("TrackTik invoice {} for {}", sample.number, sample.client),
        doc_number: doc_number::doc_number_with(doc, &vars),
        shortened: doc_number::is_shortened(template::render(doc, &vars).trim()),
        memo: template::private_note(memo, &vars).unwrap_or_default(),
    })
}

/// The income account of the default product, to start "new products" from.
fn default_income(lists: &BillingLists, default: &str) -> String {
    lists
        .items
        .iter()
        .find(|o| o.id == default)
        .and_then(|o| o.income_account.clone())
        .filter(|a| lists.income_accounts.iter().any(|i| &i.id == a))
        .unwrap_or_default()
}

/// Like [`pick`], refusing a product without an income account: QuickBooks refuses it on an
/// invoice line.
fn pick_product(
    items: &[QboOption],
    id: &str,
) -> Result<Option<crate::integrations::settings::QboRef>, String> {
    let picked = pick(items, id, "product or service")?;
    if let Some(r) = &picked
        && items
            .iter()
            .any(|o| o.id == r.id && o.income_account.is_none())
    {
        return Err(format!(
            "“{}” has no income account in QuickBooks, so QuickBooks refuses it on an invoice. Give it an income account in QuickBooks, or choose another product.",
            r.name
        ));
    }
    Ok(picked)
}

/// Validates the billing form into `settings`.
pub fn parse_billing(
    values: &Values,
    lists: &BillingLists,
    sample: Option<&SampleInvoice>,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let b = &mut settings.billing;
    match pick_product(&lists.items, get(values, "default_item")) {
        Ok(r) => b.default_item = r,
        Err(e) => {
            errors.insert("default_item".into(), e);
        }
    }
    b.items.clear();
    let mut on_default = Vec::new();
    for item in &lists.bill_items {
        let name = format!("item_{}", item.key);
        match pick_product(&lists.items, get(values, &name)) {
            Ok(Some(r)) => {
                if let Ok(id) = item.key.parse() {
                    b.items.insert(id, r);
                }
            }
            Ok(None) => on_default.push(format!("“{}”", item.name)),
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", item.name));
            }
        }
    }
    if b.default_item.is_none() && !on_default.is_empty() && !errors.contains_key("default_item") {
        let n = on_default.len();
        errors.insert(
            "default_item".into(),
            format!(
                "Choose a default product: {} {} left on “Use the default product”. Or choose a product for {}.",
                crate::wizard::regions::join(&on_default),
                if n == 1 { "is" } else { "are" },
                if n == 1 { "it" } else { "each of them" }
            ),
        );
    }
    b.customer_matching = match get(values, "customer_matching") {
        "picked_only" => CustomerMatching::PickedOnly,
        "match_or_create" => CustomerMatching::MatchOrCreate,
        _ => {
            errors.insert(
                "customer_matching".into(),
                "Choose how TrackTik clients become QuickBooks customers.".into(),
            );
            CustomerMatching::MatchOrCreate
        }
    };
    b.customer_map.clear();
    for client in &lists.clients {
        let name = format!("customer_{}", client.key);
        match pick(&lists.customers, get(values, &name), "customer") {
            Ok(Some(r)) => {
                if let Ok(id) = client.key.parse() {
                    b.customer_map.insert(id, r);
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", client.name));
            }
        }
    }
    let example = sample.cloned().unwrap_or(SampleInvoice {
        number: "INV-1001".into(),
        client: "Example client".into(),
        ..SampleInvoice::default()
    });
    let doc = get(values, "doc_number_template");
    if !doc.contains("{number}") {
        errors.insert(
            "doc_number_template".into(),
            "Include {number} so each QuickBooks invoice carries TrackTik's invoice number.".into(),
        );
    } else if let Err(e) = render_template(doc, &example, &PLACEHOLDERS) {
        errors.insert("doc_number_template".into(), e);
    }
    b.doc_number_template = doc.to_owned();
    let memo = get(values, "memo_template");
    if let Err(e) = render_template(memo, &example, &PLACEHOLDERS) {
        errors.insert("memo_template".into(), e);
    } else if memo.chars().count() > 4000 {
        errors.insert(
            "memo_template".into(),
            "Shorten the memo to 4,000 characters or fewer.".into(),
        );
    }
    b.memo_template = memo.to_owned();
    b.class_from = parse_dim(get(values, "class_from"));
    b.location_from = parse_dim(get(values, "location_from"));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
