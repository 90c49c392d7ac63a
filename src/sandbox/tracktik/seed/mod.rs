//! The deterministic seed: a whole portal from a handful of parameters. Same [`SeedConfig`] →
//! identical [`Portal`]; it never reads the wall clock (`today` is a parameter).

mod activity;
mod clients;
mod extras;
mod names;

use chrono::{Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::{Portal, date, num, row};

/// Parameters of the generated portal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SeedConfig {
    /// Generator seed: a different seed gives different data.
    pub seed: u64,
    /// The portal's company name (regions' `company`, sign-in page).
    pub portal_name: String,
    /// Regions cycle through Ontario, British Columbia, New York, Alberta, Quebec, Washington.
    pub regions: usize,
    /// Billed clients (type `CLIENT`).
    pub clients: usize,
    /// Sites (type `SERVICE_LOCATION`) under each client.
    pub sites_per_client: usize,
    /// Invoices are dated on each of the `days_of_invoices` days before `today`.
    pub days_of_invoices: u32,
    /// Invoices dated on each of those days.
    pub invoices_per_day: usize,
    /// Up to this many lines per invoice (at least one).
    pub max_lines_per_invoice: usize,
    /// Guards (the portal administrator comes on top).
    pub employees: usize,
    /// Pay runs every two weeks per region, covering this many weeks before `today`.
    pub payrun_weeks: u32,
    /// "Today" for the generator: nothing is dated or approved on or after it.
    pub today: NaiveDate,
    /// Make the second client tax-exempt.
    pub tax_exempt_client: bool,
    /// Add, after everything else (so no other record changes): a sub-region under the first
    /// region with a client and its site, and a client and site without any region, each
    /// with a weekly approved invoice. What the Regions step of the wizard shows.
    pub scope_extras: bool,
}

impl Default for SeedConfig {
    /// The demo portal: three regions in three time zones, 40 clients with two sites each,
    /// six weeks of invoices (12 a day), 60 employees, twelve weeks of pay runs.
    fn default() -> Self {
        SeedConfig {
            seed: 20_200_101,
            portal_name: "Acme Security".into(),
            regions: 3,
            clients: 40,
            sites_per_client: 2,
            days_of_invoices: 42,
            invoices_per_day: 12,
            max_lines_per_invoice: 4,
            employees: 60,
            payrun_weeks: 12,
            today: Utc::now().date_naive(),
            tax_exempt_client: true,
            scope_extras: true,
        }
    }
}

impl SeedConfig {
    /// Small and fast, for tests: 3 regions, 6 clients with 2 sites, 7 days × 3 invoices,
    /// 9 employees, 4 weeks of pay runs (2 per region); no scope extras.
    pub fn small() -> Self {
        SeedConfig {
            clients: 6,
            days_of_invoices: 7,
            invoices_per_day: 3,
            employees: 9,
            payrun_weeks: 4,
            scope_extras: false,
            ..SeedConfig::default()
        }
    }
}

/// `SplitMix64`: tiny, fast and stable forever (a library generator could change its stream).
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    /// A price between `lo` and `hi` cents, in steps of `step` cents.
    pub fn money(&mut self, lo: i64, hi: i64, step: i64) -> Decimal {
        let steps = ((hi - lo) / step).max(0) as usize + 1;
        Decimal::new(lo + step * self.below(steps) as i64, 2)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct RegionTemplate {
    code: &'static str,
    name: &'static str,
    tz: &'static str,
    currency: &'static str,
    tax_name: &'static str,
    tax_id: &'static str,
    /// (code, percentage in hundredths of a percent, registration number)
    taxes: &'static [(&'static str, i64, &'static str)],
}

const REGIONS: &[RegionTemplate] = &[
    RegionTemplate {
        code: "ON",
        name: "Ontario",
        tz: "America/Toronto",
        currency: "CAD",
        tax_name: "ON HST",
        tax_id: "HST-ON",
        taxes: &[("HST", 1300, "123456789RT0001")],
    },
    RegionTemplate {
        code: "BC",
        name: "British Columbia",
        tz: "America/Vancouver",
        currency: "CAD",
        tax_name: "BC GST + PST",
        tax_id: "GST-PST-BC",
        taxes: &[
            ("GST", 500, "123456789RT0001"),
            ("PST", 700, "PST-1234-5678"),
        ],
    },
    RegionTemplate {
        code: "NY",
        name: "New York",
        tz: "America/New_York",
        currency: "USD",
        tax_name: "NYC Sales Tax",
        tax_id: "ST-NYC",
        taxes: &[
            ("NYS", 400, "NY-11-2233445"),
            ("NYC", 450, "NY-11-2233445"),
            ("MCTD", 37, "NY-11-2233445"),
        ],
    },
    RegionTemplate {
        code: "AB",
        name: "Alberta",
        tz: "America/Edmonton",
        currency: "CAD",
        tax_name: "AB GST",
        tax_id: "GST-AB",
        taxes: &[("GST", 500, "123456789RT0001")],
    },
    RegionTemplate {
        code: "QC",
        name: "Quebec",
        tz: "America/Toronto",
        currency: "CAD",
        tax_name: "QC GST + QST",
        tax_id: "GST-QST-QC",
        taxes: &[
            ("GST", 500, "123456789RT0001"),
            ("QST", 998, "1234567890TQ0001"),
        ],
    },
    RegionTemplate {
        code: "WA",
        name: "Washington",
        tz: "America/Los_Angeles",
        currency: "USD",
        tax_name: "WA Sales Tax",
        tax_id: "ST-WA",
        taxes: &[("WAST", 1025, "WA-600-111-222")],
    },
];

pub(crate) const BILL_ITEMS: &[(&str, &str)] = &[
    ("Guarding - Regular Hours", "4000"),
    ("Guarding - Overtime", "4010"),
    ("Mobile Patrol", "4020"),
    ("Alarm Response", "4030"),
    ("Statutory Holiday Premium", "4040"),
];

/// What the activity generator needs to know about the reference data.
pub(crate) struct Refs {
    pub regions: Vec<(i64, &'static str)>,
    /// (client id, its sites (or itself when it has none), hourly bill rate)
    pub clients: Vec<(i64, Vec<i64>, Decimal)>,
    pub bill_items: Vec<i64>,
    /// (employee id, region id, base pay rate)
    pub employees: Vec<(i64, i64, Decimal)>,
}

/// Generates a whole portal. Pure and deterministic; linear in the sizes asked for.
pub fn generate(config: &SeedConfig) -> Portal {
    let mut rng = Rng::new(config.seed);
    let mut p = Portal::new(&config.portal_name);
    let created = date(config.today - chrono::Duration::days(400));
    let created_ts: Value = created
        .as_str()
        .map(|d| format!("{d}T12:00:00+00:00"))
        .into();
    let mut refs = Refs {
        regions: vec![],
        clients: vec![],
        bill_items: vec![],
        employees: vec![],
    };

    // The portal administrator, who is also the `demo` sign-in user.
    p.admin_employee = p.insert(
        "employees",
        row([
            ("customId", "ADMIN".into()),
            ("firstName", "Dana".into()),
            ("lastName", "Whitfield".into()),
            ("name", "Dana Whitfield".into()),
            ("jobTitle", "Portal Administrator".into()),
            ("region", Value::Null),
            ("primaryPhone", "+1 416 555 0100".into()),
            ("username", super::DEMO_USERNAME.into()),
            ("email", "admin@acme-security.example".into()),
            ("status", "ACTIVE".into()),
            ("createdOn", created_ts.clone()),
            ("updatedOn", created_ts.clone()),
        ]),
    );

    let exempt = p.insert(
        "tax-classes",
        row([
            ("name", "Tax Exempt".into()),
            ("status", "ACTIVE".into()),
            ("customId", "EXEMPT".into()),
            ("region", Value::Null),
        ]),
    );
    p.exempt_tax_class = Some(exempt);

    for i in 0..config.regions.max(1) {
        let t = &REGIONS[i % REGIONS.len()];
        let round = i / REGIONS.len();
        let suffix = if round == 0 {
            String::new()
        } else {
            format!(" {}", round + 1)
        };
        let region = p.insert(
            "regions",
            row([
                ("customId", format!("{}{}", t.code, suffix.trim()).into()),
                ("name", format!("{}{suffix}", t.name).into()),
                ("company", config.portal_name.clone().into()),
                (
                    "email",
                    format!("{}@acme-security.example", t.code.to_lowercase()).into(),
                ),
                ("parentRegion", Value::Null),
                ("timeZone", t.tz.into()),
                ("prefix", t.code.into()),
            ]),
        );
        let class = p.insert(
            "tax-classes",
            row([
                ("name", format!("{}{suffix}", t.tax_name).into()),
                ("status", "ACTIVE".into()),
                ("customId", format!("{}{}", t.tax_id, suffix.trim()).into()),
                ("region", region.into()),
            ]),
        );
        for (code, pct, number) in t.taxes {
            p.insert(
                "tax-class-items",
                row([
                    ("percentage", num(Decimal::new(*pct, 2))),
                    ("code", (*code).into()),
                    ("number", (*number).into()),
                    ("taxClass", class.into()),
                ]),
            );
        }
        p.insert(
            "back-office-settings",
            row([
                ("region", region.into()),
                ("payrollHourlyRate", num(Decimal::new(1750, 2))),
                ("payrollSchedule", (40 + region).into()),
                ("payrollOvertimeDayOfWeek", "SUNDAY".into()),
                ("payrollSeparatePremium", false.into()),
                ("billingTaxEngine", "DEFAULT".into()),
                ("billingTaxClass", class.into()),
                ("billingBaseCurrency", t.currency.into()),
                ("billingSeparatePremium", false.into()),
            ]),
        );
        refs.regions.push((region, t.tz));
    }

    for (name, custom) in BILL_ITEMS {
        let id = p.insert(
            "bill-items",
            row([
                ("name", (*name).into()),
                ("customId", (*custom).into()),
                ("isGlobal", true.into()),
                ("region", Value::Null),
            ]),
        );
        refs.bill_items.push(id);
    }

    for (code, name, ty, mult, adhoc) in [
        ("REG", "Regular", "NORMAL", 100, false),
        ("OT", "Overtime", "MULTIPLIER", 150, false),
        ("HOL", "Statutory Holiday", "MULTIPLIER", 150, false),
        ("TRAIN", "Training", "NORMAL", 100, true),
        ("EXP", "Expense Reimbursement", "ADDITIONNER", 100, true),
    ] {
        p.insert(
            "payroll-codes",
            row([
                ("name", name.into()),
                ("isGlobal", true.into()),
                ("code", code.into()),
                ("type", ty.into()),
                ("region", Value::Null),
                ("multiplier", num(Decimal::new(mult, 2))),
                ("extraCharge", num(Decimal::ZERO)),
                ("payable", true.into()),
                ("impactsOvertime", (code == "REG").into()),
                ("billable", (code != "EXP").into()),
                ("isAdhoc", adhoc.into()),
                ("isDeductable", false.into()),
                ("isLabel", false.into()),
            ]),
        );
    }

    clients::clients(config, &mut rng, &mut p, &mut refs, &created_ts);

    for i in 0..config.employees {
        let (region, _) = refs.regions[i % refs.regions.len()];
        let first = names::FIRST[i % names::FIRST.len()];
        let last = names::LAST[(i / names::FIRST.len() + i * 7) % names::LAST.len()];
        let id = p.insert(
            "employees",
            row([
                ("customId", format!("E-{:04}", i + 1).into()),
                ("firstName", first.into()),
                ("lastName", last.into()),
                ("name", format!("{first} {last}").into()),
                ("jobTitle", "Security Officer".into()),
                ("region", region.into()),
                ("primaryPhone", format!("+1 555 01{:02}", i % 100).into()),
                (
                    "username",
                    format!("{}.{}{}", first.to_lowercase(), last.to_lowercase(), i + 1).into(),
                ),
                (
                    "email",
                    format!(
                        "{}.{}{}@acme-security.example",
                        first.to_lowercase(),
                        last.to_lowercase(),
                        i + 1
                    )
                    .into(),
                ),
                ("status", "ACTIVE".into()),
                ("createdOn", created_ts.clone()),
                ("updatedOn", created_ts.clone()),
            ]),
        );
        refs.employees.push((id, region, rng.money(1750, 2600, 25)));
    }

    activity::invoices(config, &mut rng, &mut p, &refs);
    activity::payruns(config, &mut rng, &mut p, &refs);
    if config.scope_extras {
        extras::add(config, &mut p, &refs, &created_ts);
    }
    p
}

/// The last Saturday strictly before `today` (pay periods end on Saturdays).
pub(crate) fn last_saturday_before(today: NaiveDate) -> NaiveDate {
    let from_sunday = today.weekday().num_days_from_sunday() as i64;
    let back = match (from_sunday + 1) % 7 {
        0 => 7,
        n => n,
    };
    today - chrono::Duration::days(back)
}
