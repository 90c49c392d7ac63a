//! Entity operations (create, read, full/sparse update, delete, void) and the rules they share:
//! unknown properties, references, lengths, names, SyncToken, MetaData.

mod account_types;
mod lines;
mod names;
mod postings;
mod props;
mod txn;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::fault::QboError;
use super::json::{self, decimal_of, meta_time, money, ref_value, str_field};
use super::schema;
use super::store::{Company, Id, Kind};

/// Per-request context.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Sandbox "now".
    pub now: DateTime<Utc>,
    /// `include=allowduplicatedocnum` / batch `optionsData`.
    pub allow_dup_doc: bool,
    /// Inside a batch: entities with an id at or above this were created by the same batch and are
    /// not visible to its other items.
    pub visible_below: Option<u64>,
}

impl Ctx {
    /// A plain (non-batch) context.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            allow_dup_doc: false,
            visible_below: None,
        }
    }

    /// Whether `id` may be seen by this request.
    pub fn visible(&self, id: &str) -> bool {
        match (self.visible_below, id.parse::<u64>()) {
            (Some(floor), Ok(n)) => n < floor,
            _ => true,
        }
    }
}

/// Result of a write: the stored entity.
pub type Entity = Map<String, Value>;

/// `GET /{entity}/{id}`.
pub fn read(co: &Company, kind: Kind, id: &str) -> Result<Entity, QboError> {
    if kind != Kind::TaxCode && !is_numeric(id) {
        return Err(QboError::invalid_id(id));
    }
    co.get(kind, id)
        .cloned()
        .ok_or_else(|| QboError::not_found(""))
}

/// `POST /{entity}` without `Id`.
pub fn create(co: &mut Company, kind: Kind, body: Value, ctx: &Ctx) -> Result<Entity, QboError> {
    let Value::Object(body) = body else {
        return Err(QboError::unsupported("Request body must be a JSON object"));
    };
    check_writable(kind)?;
    let body = schema::read_entity(kind.name(), body)?;
    let mut e = normalize(co, kind, body, None, ctx)?;
    number_addresses(co, &mut e, None);
    let id = co.alloc_id();
    e.insert("Id".into(), Value::String(id.0.clone()));
    stamp(co, &mut e, "0", None, ctx.now);
    after_write(co, kind, None, &e);
    co.put(kind, e.clone());
    Ok(e)
}

/// `POST /{entity}` with `Id` + `SyncToken` (full, or sparse when `"sparse": true`).
pub fn update(co: &mut Company, kind: Kind, body: Value, ctx: &Ctx) -> Result<Entity, QboError> {
    let Value::Object(body) = body else {
        return Err(QboError::unsupported("Request body must be a JSON object"));
    };
    check_writable(kind)?;
    let body = schema::read_entity(kind.name(), body)?;
    let old = existing(co, kind, &body, ctx)?;
    let sparse = body.get("sparse").and_then(Value::as_bool).unwrap_or(false);
    let merged = if sparse {
        let mut m = old.clone();
        for (k, v) in body {
            m.insert(k, v);
        }
        m
    } else {
        body
    };
    let mut e = normalize(co, kind, merged, Some(&old), ctx)?;
    number_addresses(co, &mut e, Some(&old));
    e.insert("Id".into(), old["Id"].clone());
    if unchanged(&e, &old) {
        // QBO keeps the SyncToken (and LastUpdatedTime) when an update changes nothing.
        return Ok(old);
    }
    let next = next_sync(&old);
    stamp(co, &mut e, &next, old.get("MetaData"), ctx.now);
    after_write(co, kind, Some(&old), &e);
    co.put(kind, e.clone());
    Ok(e)
}

/// `POST /{entity}?operation=delete` (transactions only).
pub fn delete(co: &mut Company, kind: Kind, body: Value, ctx: &Ctx) -> Result<Entity, QboError> {
    if !kind.is_transaction() {
        return Err(QboError::unsupported(&format!(
            "Operation Delete is not supported for {}",
            kind.name()
        )));
    }
    let body = body.as_object().cloned().unwrap_or_default();
    let old = existing(co, kind, &body, ctx)?;
    txn::check_books_open(co, &old)?;
    after_write(co, kind, Some(&old), &Map::new());
    co.remove(kind, str_field(&old, "Id").unwrap_or_default(), ctx.now);
    let mut stub = Map::new();
    stub.insert("status".into(), json!("Deleted"));
    stub.insert("domain".into(), json!("QBO"));
    stub.insert("Id".into(), old["Id"].clone());
    Ok(stub)
}

/// `POST /invoice?operation=void`.
pub fn void(co: &mut Company, kind: Kind, body: Value, ctx: &Ctx) -> Result<Entity, QboError> {
    if kind != Kind::Invoice {
        return Err(QboError::unsupported(&format!(
            "Operation Void is not supported for {}",
            kind.name()
        )));
    }
    let body = body.as_object().cloned().unwrap_or_default();
    let old = existing(co, kind, &body, ctx)?;
    txn::check_books_open(co, &old)?;
    let mut e = txn::voided(&old);
    let next = next_sync(&old);
    stamp(co, &mut e, &next, old.get("MetaData"), ctx.now);
    after_write(co, kind, Some(&old), &e);
    co.put(kind, e.clone());
    Ok(e)
}

/// Addresses get an `Id` (kept across updates) and, for billing and shipping addresses, the
/// geocode QBO adds (`Lat`/`Long`, "INVALID" when it cannot place them, as recorded).
fn number_addresses(co: &mut Company, e: &mut Entity, old: Option<&Entity>) {
    for key in [
        "BillAddr",
        "ShipAddr",
        "PrimaryAddr",
        "RemitToAddr",
        "VendorAddr",
    ] {
        let Some(Value::Object(addr)) = e.get_mut(key) else {
            continue;
        };
        if !addr.contains_key("Id") {
            let id = old
                .and_then(|o| o.get(key))
                .and_then(|a| a.get("Id"))
                .cloned()
                .unwrap_or_else(|| json!(co.alloc_address_id()));
            addr.insert("Id".into(), id);
        }
        if matches!(key, "BillAddr" | "ShipAddr") {
            for k in ["Lat", "Long"] {
                addr.entry(k).or_insert(json!("INVALID"));
            }
        }
    }
}

fn check_writable(kind: Kind) -> Result<(), QboError> {
    match kind {
        Kind::TaxCode | Kind::TaxRate | Kind::Term | Kind::TaxAgency => {
            Err(QboError::unsupported(&format!(
                "Operation Create/Update is not supported for {} through this endpoint",
                kind.name()
            )))
        }
        _ => Ok(()),
    }
}

/// Looks up the entity named by `Id` in an update/delete/void body and checks its SyncToken.
fn existing(co: &Company, kind: Kind, body: &Entity, ctx: &Ctx) -> Result<Entity, QboError> {
    let id = match body.get("Id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(QboError::required("Id")),
    };
    if !is_numeric(&id) {
        return Err(QboError::invalid_id(&id));
    }
    let old = co
        .get(kind, &id)
        .filter(|_| ctx.visible(&id))
        .cloned()
        .ok_or_else(|| QboError::not_found(""))?;
    let sync = match body.get("SyncToken") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(QboError::required("SyncToken")),
    };
    if str_field(&old, "SyncToken") != Some(sync.as_str()) {
        return Err(QboError::stale());
    }
    Ok(old)
}

/// Whether a normalised update equals the stored entity, bookkeeping fields aside.
fn unchanged(new: &Entity, old: &Entity) -> bool {
    let mut candidate = new.clone();
    for key in ["SyncToken", "MetaData", "domain", "sparse"] {
        match old.get(key) {
            Some(v) => candidate.insert(key.into(), v.clone()),
            None => candidate.remove(key),
        };
    }
    candidate.remove("status");
    &candidate == old
}

fn next_sync(old: &Entity) -> String {
    let n: u64 = str_field(old, "SyncToken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (n + 1).to_string()
}

/// Sets `SyncToken`, `MetaData`, `domain`, `sparse`.
fn stamp(co: &Company, e: &mut Entity, sync: &str, old_meta: Option<&Value>, now: DateTime<Utc>) {
    let now_s = meta_time(now, co.tz());
    let created = old_meta
        .and_then(|m| m.get("CreateTime"))
        .cloned()
        .unwrap_or_else(|| Value::String(now_s.clone()));
    e.insert("SyncToken".into(), Value::String(sync.into()));
    e.insert(
        "MetaData".into(),
        json!({"CreateTime": created, "LastUpdatedTime": now_s}),
    );
    e.insert("domain".into(), json!("QBO"));
    e.insert("sparse".into(), json!(false));
    e.remove("status");
}

/// Validates and completes an entity (create or update) for its kind.
fn normalize(
    co: &Company,
    kind: Kind,
    body: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    match kind {
        Kind::Account => names::account(co, body, old, ctx),
        Kind::Item => names::item(co, body, old, ctx),
        Kind::Vendor | Kind::Customer | Kind::Employee => names::person(co, kind, body, old, ctx),
        Kind::Class | Kind::Department => names::class_like(co, kind, body, old, ctx),
        Kind::Bill | Kind::Invoice | Kind::CreditMemo | Kind::Purchase | Kind::JournalEntry => {
            txn::transaction(co, kind, body, old, ctx)
        }
        Kind::TaxCode | Kind::TaxRate | Kind::Term | Kind::TaxAgency => {
            Err(QboError::unsupported("read only"))
        }
    }
}

/// Keeps customer/vendor `Balance` and balance-sheet `CurrentBalance` in step with transactions.
fn after_write(co: &mut Company, kind: Kind, old: Option<&Entity>, new: &Entity) {
    if kind.is_transaction() {
        if let Some(o) = old {
            postings::apply(co, kind, o, -rust_decimal::Decimal::ONE);
        }
        postings::apply(co, kind, new, rust_decimal::Decimal::ONE);
    }
    let (party_key, party_kind, sign) = match kind {
        Kind::Invoice => ("CustomerRef", Kind::Customer, rust_decimal::Decimal::ONE),
        Kind::CreditMemo => ("CustomerRef", Kind::Customer, -rust_decimal::Decimal::ONE),
        Kind::Bill => ("VendorRef", Kind::Vendor, rust_decimal::Decimal::ONE),
        _ => return,
    };
    let contribution = |e: &Entity| {
        let party = ref_value(e.get(party_key))?;
        let key = if kind == Kind::CreditMemo {
            "RemainingCredit"
        } else {
            "Balance"
        };
        let bal = e.get(key).and_then(decimal_of)?;
        Some((party, bal * sign))
    };
    let mut changes = Vec::new();
    if let Some((p, b)) = old.and_then(contribution) {
        changes.push((p, -b));
    }
    if let Some((p, b)) = contribution(new) {
        changes.push((p, b));
    }
    for (party, delta) in changes {
        if let Some(p) = co
            .entities
            .get_mut(&party_kind)
            .and_then(|m| m.get_mut(&Id(party)))
        {
            let bal = p.get("Balance").and_then(decimal_of).unwrap_or_default() + delta;
            p.insert("Balance".into(), money(bal));
            if party_kind == Kind::Customer {
                p.insert("BalanceWithJobs".into(), money(bal));
            }
        }
    }
}

// ---- shared helpers for the entity modules ----

/// Whether an id is numeric text.
pub fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a string field's length.
pub fn check_len(e: &Entity, key: &str, max: usize, element: &str) -> Result<(), QboError> {
    if let Some(s) = str_field(e, key) {
        let len = s.chars().count();
        if len > max {
            return Err(QboError::too_long(element, max, len));
        }
    }
    Ok(())
}

/// Rejects `:` and `"` in a name.
pub fn check_name_chars(e: &Entity, key: &str) -> Result<(), QboError> {
    if let Some(s) = str_field(e, key) {
        if s.contains(':') {
            return Err(QboError::invalid_string(key, "colon (:)"));
        }
        if s.contains('"') {
            return Err(QboError::invalid_string(key, "double quote (\")"));
        }
    }
    Ok(())
}

/// Resolves a reference to one of `kinds`; fills in its `name`. Unknown ⇒ 2500, inactive ⇒ 610.
pub fn resolve<'a>(
    co: &'a Company,
    ctx: &Ctx,
    e: &mut Entity,
    key: &str,
    kinds: &[Kind],
    element: &str,
) -> Result<Option<(Kind, &'a Entity)>, QboError> {
    let Some(raw) = e.get(key) else {
        return Ok(None);
    };
    if raw.is_null() {
        e.remove(key);
        return Ok(None);
    }
    let Some(id) = ref_value(Some(raw)) else {
        return Err(QboError::required(&format!("{element}.value")));
    };
    let found = kinds.iter().find_map(|k| {
        co.get(*k, &id)
            .filter(|_| ctx.visible(&id))
            .map(|ent| (*k, ent))
    });
    let Some((k, ent)) = found else {
        return Err(QboError::invalid_ref(element, kinds[0].ref_list(), &id));
    };
    if ent.get("Active").and_then(Value::as_bool) == Some(false) {
        return Err(QboError::not_found(element));
    }
    let name = str_field(ent, "FullyQualifiedName")
        .or_else(|| str_field(ent, "DisplayName"))
        .or_else(|| str_field(ent, "Name"));
    e.insert(key.into(), json::reference(&id, name));
    Ok(Some((k, ent)))
}

/// Parses a `YYYY-MM-DD` field.
pub fn date_field(e: &Entity, key: &str) -> Result<Option<NaiveDate>, QboError> {
    match e.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| QboError::unparseable(key, s)),
        Some(other) => Err(QboError::unparseable(key, &other.to_string())),
    }
}

/// Amounts at or above this are refused (keeps every product and sum far from `Decimal`'s range).
const MAX_AMOUNT: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(1_316_134_912, 2_328, 0, false, 0); // 10^13

/// Normalises a money field to its stored decimal-string form; rejects non-numbers.
pub fn money_field(e: &mut Entity, key: &str, element: &str) -> Result<(), QboError> {
    match e.get(key) {
        None => Ok(()),
        Some(Value::Null) => {
            e.remove(key);
            Ok(())
        }
        Some(v) => {
            let d = decimal_of(v)
                .filter(|d| d.abs() < MAX_AMOUNT)
                .ok_or_else(|| QboError::unparseable(element, &v.to_string()))?;
            e.insert(key.into(), money(d));
            Ok(())
        }
    }
}
