//! The sandbox's whole state: companies with their entities and indexes, OAuth grants, the clock.
//! Everything here is serialisable so demo mode can keep it in a state file.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::json::str_field;
use super::oauth::OAuthStore;

/// The entities the Accounting API serves, with their wire name and URL segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// Chart of accounts.
    Account,
    /// Products and services.
    Item,
    /// Suppliers.
    Vendor,
    /// Clients.
    Customer,
    /// Employees (read/query; created by seeding or the API).
    Employee,
    /// AP bills.
    Bill,
    /// AR invoices.
    Invoice,
    /// Credits to a customer.
    CreditMemo,
    /// Expenses, cheques and card charges.
    Purchase,
    /// Journal entries.
    JournalEntry,
    /// Classes.
    Class,
    /// Departments (locations).
    Department,
    /// Tax codes (read only).
    TaxCode,
    /// Tax rates (read only).
    TaxRate,
    /// Payment terms (read only).
    Term,
    /// Tax agencies (read only).
    TaxAgency,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 16] = [
        Kind::Account,
        Kind::Item,
        Kind::Vendor,
        Kind::Customer,
        Kind::Employee,
        Kind::Bill,
        Kind::Invoice,
        Kind::CreditMemo,
        Kind::Purchase,
        Kind::JournalEntry,
        Kind::Class,
        Kind::Department,
        Kind::TaxCode,
        Kind::TaxRate,
        Kind::Term,
        Kind::TaxAgency,
    ];

    /// The JSON envelope key and query entity name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Account => "Account",
            Kind::Item => "Item",
            Kind::Vendor => "Vendor",
            Kind::Customer => "Customer",
            Kind::Employee => "Employee",
            Kind::Bill => "Bill",
            Kind::Invoice => "Invoice",
            Kind::CreditMemo => "CreditMemo",
            Kind::Purchase => "Purchase",
            Kind::JournalEntry => "JournalEntry",
            Kind::Class => "Class",
            Kind::Department => "Department",
            Kind::TaxCode => "TaxCode",
            Kind::TaxRate => "TaxRate",
            Kind::Term => "Term",
            Kind::TaxAgency => "TaxAgency",
        }
    }

    /// From the lower-case URL segment.
    pub fn from_segment(seg: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(seg) && seg == seg.to_ascii_lowercase())
    }

    /// From the (case-sensitive) query entity name.
    pub fn from_query_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Transactions are deleted; name lists are deactivated.
    pub fn is_transaction(self) -> bool {
        matches!(
            self,
            Kind::Bill | Kind::Invoice | Kind::CreditMemo | Kind::Purchase | Kind::JournalEntry
        )
    }

    /// Name lists hide inactive rows from queries unless `Active` is filtered.
    pub fn is_name_list(self) -> bool {
        !self.is_transaction()
    }

    /// The list name used in "Invalid Reference Id : <list> element id N not found".
    pub fn ref_list(self) -> &'static str {
        match self {
            Kind::Account => "Accounts",
            Kind::Item => "Items",
            Kind::Vendor | Kind::Customer | Kind::Employee => "Names",
            Kind::Class => "Klasses",
            Kind::Department => "Depts",
            Kind::TaxCode => "TaxCodes",
            Kind::TaxRate => "TaxRates",
            Kind::Term => "Terms",
            Kind::TaxAgency => "TaxAgencies",
            _ => "Transactions",
        }
    }
}

/// An entity id that sorts numerically ("9" < "10"), with non-numeric ids (`TAX`) after.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl Ord for Id {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The company's flavour, fixed at seeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// US, account numbers on.
    Us,
    /// Canada: GST/HST/PST, multicurrency, class + location tracking.
    Ca,
    /// US, account numbers off, refuses `PayrollWageExpenses`.
    UsNoAcctNum,
}

/// A stored response, for `requestid` replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    /// HTTP status.
    pub status: u16,
    /// Exact body bytes (UTF-8 JSON).
    pub body: String,
}

/// One QBO company (realm).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Company {
    /// Numeric realm id.
    pub realm_id: String,
    /// How it was seeded.
    pub flavour: Flavour,
    /// `CompanyInfo` entity.
    pub info: Map<String, Value>,
    /// `Preferences` entity.
    pub prefs: Map<String, Value>,
    /// Entities by kind and id.
    pub entities: BTreeMap<Kind, BTreeMap<Id, Map<String, Value>>>,
    /// Deleted transactions: id → (kind, when), for CDC.
    pub deleted: BTreeMap<Id, (Kind, DateTime<Utc>)>,
    /// Next numeric id.
    pub next_id: u64,
    /// Next address id (addresses are numbered apart from entities).
    #[serde(default)]
    pub next_address_id: u64,
    /// `requestid` → original response.
    pub request_ids: HashMap<String, Stored>,
    /// Refuse `AccountSubType: PayrollWageExpenses` (control API switch).
    pub reject_payroll_wage: bool,
    /// Every write answers 6190 (control API switch).
    #[serde(default)]
    pub subscription_lapsed: bool,
    /// The duplicate-document-number check as a whole (control API switch
    /// `duplicate_doc_check`, on by default). When on, a transaction whose DocNumber its type
    /// already uses is refused with 6140 as QuickBooks refuses it: invoices, credit memos and
    /// cash or card expenses always; bills, journal entries and cheques only while their
    /// company preference (`OtherPrefs` `WarnDuplicateBillNumber`, `WarnDuplicateJournalNumber`,
    /// `WarnDuplicateCheckNumber`) is "true". When off, nothing is refused.
    #[serde(default = "duplicate_check_default")]
    pub duplicate_doc_check: bool,
    /// Name uniqueness index: (namespace, lower-case name) → id.
    #[serde(skip)]
    pub names: HashMap<(String, String), Id>,
    /// DocNumber index: (kind, lower-case DocNumber) → ids (several with allowduplicatedocnum).
    #[serde(skip)]
    pub doc_numbers: HashMap<(Kind, String), Vec<Id>>,
}

fn duplicate_check_default() -> bool {
    true
}

impl Company {
    /// The company's time zone (used for MetaData offsets and "today").
    pub fn tz(&self) -> Tz {
        match self.flavour {
            Flavour::Ca => chrono_tz::America::Toronto,
            _ => chrono_tz::America::Los_Angeles,
        }
    }

    /// Country code from CompanyInfo.
    pub fn is_us(&self) -> bool {
        self.flavour != Flavour::Ca
    }

    /// Home currency code.
    pub fn home_currency(&self) -> &'static str {
        if self.is_us() { "USD" } else { "CAD" }
    }

    /// A boolean preference at `Section.Key`.
    pub fn pref_bool(&self, section: &str, key: &str) -> bool {
        self.prefs
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A value of `Preferences.OtherPrefs.NameValue`.
    pub fn other_pref(&self, name: &str) -> Option<&str> {
        self.prefs
            .get("OtherPrefs")?
            .get("NameValue")?
            .as_array()?
            .iter()
            .find(|nv| nv.get("Name").and_then(Value::as_str) == Some(name))?
            .get("Value")?
            .as_str()
    }

    /// Sets (or adds) a value of `Preferences.OtherPrefs.NameValue`.
    pub fn set_other_pref(&mut self, name: &str, value: &str) {
        let Some(Value::Array(list)) = self
            .prefs
            .entry("OtherPrefs")
            .or_insert_with(|| serde_json::json!({"NameValue": []}))
            .as_object_mut()
            .map(|o| o.entry("NameValue").or_insert_with(|| Value::Array(vec![])))
        else {
            return;
        };
        match list
            .iter_mut()
            .find(|nv| nv.get("Name").and_then(Value::as_str) == Some(name))
        {
            Some(nv) => nv["Value"] = Value::String(value.into()),
            None => list.push(serde_json::json!({"Name": name, "Value": value})),
        }
    }

    /// Whether a DocNumber already used by `kind` is refused with 6140 (see
    /// [`Company::duplicate_doc_check`]).
    pub fn checks_duplicate_doc(&self, kind: Kind, payment_type: Option<&str>) -> bool {
        if !self.duplicate_doc_check {
            return false;
        }
        let warn = |name: &str| self.other_pref(name) == Some("true");
        match kind {
            Kind::Bill => warn("WarnDuplicateBillNumber"),
            Kind::JournalEntry => warn("WarnDuplicateJournalNumber"),
            Kind::Purchase if payment_type == Some("Check") => warn("WarnDuplicateCheckNumber"),
            _ => true,
        }
    }

    /// `AccountingInfoPrefs.BookCloseDate`, if set.
    pub fn book_close_date(&self) -> Option<NaiveDate> {
        self.prefs
            .get("AccountingInfoPrefs")
            .and_then(|s| s.get("BookCloseDate"))
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    }

    /// Allocates the next address id (from 1).
    pub fn alloc_address_id(&mut self) -> String {
        self.next_address_id = self.next_address_id.max(1) + 1;
        (self.next_address_id - 1).to_string()
    }

    /// Allocates the next id.
    pub fn alloc_id(&mut self) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        Id(id.to_string())
    }

    /// Reads an entity.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Map<String, Value>> {
        self.entities.get(&kind)?.get(&Id(id.to_string()))
    }

    /// All entities of a kind, by id.
    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &Map<String, Value>> {
        self.entities
            .get(&kind)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Stores an entity and refreshes the indexes.
    pub fn put(&mut self, kind: Kind, entity: Map<String, Value>) {
        let id = Id(str_field(&entity, "Id").unwrap_or_default().to_string());
        if let Some(old) = self.get(kind, &id.0).cloned() {
            self.unindex(kind, &old);
        }
        self.index(kind, &entity);
        self.entities.entry(kind).or_default().insert(id, entity);
    }

    /// Removes a transaction (delete), keeping a tombstone.
    pub fn remove(&mut self, kind: Kind, id: &str, at: DateTime<Utc>) {
        if let Some(old) = self
            .entities
            .get_mut(&kind)
            .and_then(|m| m.remove(&Id(id.to_string())))
        {
            self.unindex(kind, &old);
        }
        self.deleted.insert(Id(id.to_string()), (kind, at));
    }

    /// The uniqueness namespace of a name-list kind and the field that must be unique.
    pub fn name_key(kind: Kind) -> Option<(&'static str, &'static str)> {
        match kind {
            Kind::Vendor | Kind::Customer | Kind::Employee => Some(("person", "DisplayName")),
            Kind::Account => Some(("Account", "Name")),
            Kind::Item => Some(("Item", "Name")),
            Kind::Class => Some(("Class", "FullyQualifiedName")),
            Kind::Department => Some(("Department", "FullyQualifiedName")),
            _ => None,
        }
    }

    fn index_keys(kind: Kind, e: &Map<String, Value>) -> Vec<(String, String)> {
        let mut keys = Vec::new();
        if let Some((ns, field)) = Self::name_key(kind)
            && let Some(n) = str_field(e, field)
        {
            keys.push((ns.to_string(), n.to_lowercase()));
        }
        if kind == Kind::Account
            && let Some(n) = str_field(e, "AcctNum")
        {
            keys.push(("AcctNum".into(), n.to_lowercase()));
        }
        keys
    }

    fn index(&mut self, kind: Kind, e: &Map<String, Value>) {
        let id = Id(str_field(e, "Id").unwrap_or_default().to_string());
        for key in Self::index_keys(kind, e) {
            self.names.insert(key, id.clone());
        }
        if kind.is_transaction()
            && let Some(d) = str_field(e, "DocNumber")
        {
            self.doc_numbers
                .entry((kind, d.to_lowercase()))
                .or_default()
                .push(id.clone());
        }
    }

    fn unindex(&mut self, kind: Kind, e: &Map<String, Value>) {
        let id = str_field(e, "Id").unwrap_or_default();
        for key in Self::index_keys(kind, e) {
            if self.names.get(&key).is_some_and(|i| i.0 == id) {
                self.names.remove(&key);
            }
        }
        if let Some(d) = str_field(e, "DocNumber") {
            let key = (kind, d.to_lowercase());
            if let Some(ids) = self.doc_numbers.get_mut(&key) {
                ids.retain(|i| i.0 != id);
                if ids.is_empty() {
                    self.doc_numbers.remove(&key);
                }
            }
        }
    }

    /// Ids of the transactions of `kind` using a DocNumber (case-insensitive).
    pub fn by_doc_number(&self, kind: Kind, doc: &str) -> &[Id] {
        self.doc_numbers
            .get(&(kind, doc.to_lowercase()))
            .map_or(&[], Vec::as_slice)
    }

    /// Rebuilds the indexes (after loading a state file).
    pub fn reindex(&mut self) {
        self.names.clear();
        self.doc_numbers.clear();
        let all: Vec<(Kind, Map<String, Value>)> = self
            .entities
            .iter()
            .flat_map(|(k, m)| m.values().map(|e| (*k, e.clone())))
            .collect();
        for (k, e) in all {
            self.index(k, &e);
        }
    }
}

/// The sandbox clock: real time plus an offset the control API can set; it can also be frozen
/// (then it only moves when told to), which makes time-window tests deterministic.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Clock {
    /// Offset from real time, in seconds.
    pub offset_seconds: i64,
    /// While frozen, the offset is measured from this real instant instead of from "now".
    #[serde(default)]
    pub frozen_at: Option<DateTime<Utc>>,
}

impl Clock {
    /// Sandbox "now".
    pub fn now(&self) -> DateTime<Utc> {
        self.frozen_at.unwrap_or_else(Utc::now) + Duration::seconds(self.offset_seconds)
    }

    /// Freezes (at the current sandbox time) or thaws (continuing from the current sandbox time).
    pub fn set_frozen(&mut self, frozen: bool) {
        let now = self.now();
        match (frozen, self.frozen_at) {
            (true, None) => {
                self.frozen_at = Some(Utc::now());
                self.offset_seconds = (now - Utc::now()).num_seconds();
            }
            (false, Some(_)) => {
                self.frozen_at = None;
                self.offset_seconds = (now - Utc::now()).num_seconds();
            }
            _ => {}
        }
    }

    /// Sets sandbox time to `at`.
    pub fn set_now(&mut self, at: DateTime<Utc>) {
        let base = self.frozen_at.unwrap_or_else(Utc::now);
        self.offset_seconds = (at - base).num_seconds();
    }
}

/// Everything that is persisted.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Store {
    /// Companies by realm id.
    pub companies: BTreeMap<String, Company>,
    /// OAuth grants, codes and tokens.
    pub oauth: OAuthStore,
    /// The clock.
    pub clock: Clock,
    /// Sequence for realms created through the control API.
    pub next_realm: u64,
}

impl Store {
    /// Rebuilds indexes after deserialising.
    pub fn reindex(&mut self) {
        for c in self.companies.values_mut() {
            c.reindex();
        }
    }
}
