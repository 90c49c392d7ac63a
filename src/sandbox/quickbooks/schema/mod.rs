//! The entity shapes of QuickBooks Online minor version 75, read from `v75.schema` (generated
//! from Intuit's published XSDs by `generate.py`), and the request reader built on them.
//!
//! [`read_entity`] does what QuickBooks' deserialiser does with a JSON body:
//! - a property the type does not have → 2010, worded as QuickBooks words it (Jackson's
//!   "Unrecognized field … (N known properties: …)");
//! - `null`, the empty string and the empty list are "absent" (third-party SDKs send
//!   `"TxnDate": ""`, `"TotalAmt": ""`, `"LinkedTxn": []` for unset fields); `ExchangeRate: 0`
//!   is absent too;
//! - numbers and booleans may come as strings; a value that cannot be read → 2010;
//! - text given as a number is text (`"Id": 5` → `"5"`).
//!
//! Business rules (required fields, references, enumerations' meaning) stay in `entities`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::fault::QboError;

const SOURCE: &str = include_str!("v75.schema");

/// One property of a complex type.
#[derive(Debug, Clone)]
pub struct Prop {
    /// Property (JSON key) name.
    pub name: String,
    /// Its type: an XSD simple type (`string`, `decimal`, `date`…), an enumeration or a complex
    /// type of this schema.
    pub ty: String,
    /// Repeated (a JSON array).
    pub many: bool,
}

#[derive(Debug, Default)]
struct TypeDef {
    base: Option<String>,
    props: Vec<Prop>,
}

/// The parsed schema.
#[derive(Debug, Default)]
pub struct Schema {
    types: HashMap<String, TypeDef>,
    enums: HashMap<String, Vec<String>>,
    simple: HashMap<String, String>,
}

/// The schema (parsed once).
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| parse(SOURCE))
}

fn parse(text: &str) -> Schema {
    let mut s = Schema::default();
    for line in text.lines() {
        let (head, rest) = line.split_once(" ; ").unwrap_or((line, ""));
        let mut words = head.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("S"), Some(name), Some(base)) => {
                s.simple.insert(name.into(), base.into());
            }
            (Some("E"), Some(name), _) => {
                s.enums
                    .insert(name.into(), rest.split('|').map(str::to_string).collect());
            }
            (Some("T"), Some(name), Some(base)) => {
                let props = rest
                    .split_whitespace()
                    .filter_map(|p| {
                        let (n, t) = p.split_once(':')?;
                        let many = t.ends_with('*');
                        Some(Prop {
                            name: n.into(),
                            ty: t.trim_end_matches('*').into(),
                            many,
                        })
                    })
                    .collect();
                let base = (base != "-").then(|| base.to_string());
                s.types.insert(name.into(), TypeDef { base, props });
            }
            _ => {}
        }
    }
    s
}

/// How a value of a type is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    Number,
    Bool,
    Date,
    DateTime,
    Enum,
    Object,
    Any,
}

impl Schema {
    /// Whether a complex type is defined.
    #[cfg(test)]
    pub fn has_type(&self, ty: &str) -> bool {
        self.types.contains_key(ty)
    }

    /// Every property of a type, its bases' first (as QuickBooks lists them).
    pub fn props(&self, ty: &str) -> Vec<&Prop> {
        let mut chain = Vec::new();
        let mut cur = Some(ty);
        while let Some(t) = cur {
            let Some(def) = self.types.get(t) else { break };
            chain.push(def);
            cur = def.base.as_deref();
        }
        chain.iter().rev().flat_map(|d| d.props.iter()).collect()
    }

    /// One property of a type (bases included).
    pub fn prop(&self, ty: &str, name: &str) -> Option<&Prop> {
        let mut cur = Some(ty);
        while let Some(t) = cur {
            let def = self.types.get(t)?;
            if let Some(p) = def.props.iter().find(|p| p.name == name) {
                return Some(p);
            }
            cur = def.base.as_deref();
        }
        None
    }

    /// The values of an enumeration type.
    pub fn enum_values(&self, ty: &str) -> Option<&[String]> {
        self.enums.get(ty).map(Vec::as_slice)
    }

    fn shape(&self, ty: &str) -> Shape {
        if ty == "any" || ty == "IntuitAnyType" {
            return Shape::Any;
        }
        if self.types.contains_key(ty) {
            return Shape::Object;
        }
        if self.enums.contains_key(ty) {
            return Shape::Enum;
        }
        let base = self.simple.get(ty).map_or(ty, String::as_str);
        match base {
            "decimal" | "int" | "integer" | "long" | "short" | "double" | "float"
            | "positiveInteger" | "nonNegativeInteger" => Shape::Number,
            "boolean" => Shape::Bool,
            "date" => Shape::Date,
            "dateTime" => Shape::DateTime,
            _ => Shape::Text,
        }
    }

    fn has_any(&self, ty: &str) -> bool {
        self.props(ty).iter().any(|p| p.name == "*")
    }
}

/// Reads a request body as QuickBooks reads an entity of type `ty` (see the module docs).
pub fn read_entity(ty: &str, body: Map<String, Value>) -> Result<Map<String, Value>, QboError> {
    read_object(schema(), ty, body)
}

fn read_object(
    s: &Schema,
    ty: &str,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, QboError> {
    let mut out = Map::new();
    for (key, value) in body {
        let Some(prop) = s.prop(ty, &key) else {
            if s.has_any(ty) {
                out.insert(key, value);
                continue;
            }
            return Err(unknown(s, ty, &key));
        };
        if key == "ExchangeRate" && value.as_f64() == Some(0.0) {
            continue;
        }
        if let Some(v) = read_value(s, prop, value)? {
            out.insert(key, v);
        }
    }
    Ok(out)
}

fn read_value(s: &Schema, prop: &Prop, value: Value) -> Result<Option<Value>, QboError> {
    let shape = s.shape(&prop.ty);
    match value {
        Value::Null => Ok(None),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Array(items) if prop.many || shape == Shape::Any => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let single = Prop {
                    many: false,
                    ..prop.clone()
                };
                if let Some(v) = read_value(s, &single, item)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Value::String(t) if t.is_empty() => Ok(None),
        other if prop.many && shape != Shape::Any => Err(unreadable(prop, &other, "ArrayList")),
        other => read_single(s, prop, shape, other),
    }
}

fn read_single(
    s: &Schema,
    prop: &Prop,
    shape: Shape,
    value: Value,
) -> Result<Option<Value>, QboError> {
    Ok(Some(match (shape, value) {
        (Shape::Any, v) => v,
        (Shape::Object, Value::Object(m)) => Value::Object(read_object(s, &prop.ty, m)?),
        (Shape::Object, v) => return Err(unreadable(prop, &v, &prop.ty)),
        (Shape::Text, Value::Number(n)) => Value::String(n.to_string()),
        (Shape::Text, Value::Bool(b)) => Value::String(b.to_string()),
        (Shape::Text | Shape::Date | Shape::DateTime | Shape::Enum, Value::String(t)) => {
            Value::String(t)
        }
        (Shape::Number, Value::Number(n)) => Value::Number(n),
        (Shape::Number, Value::String(t)) if t.trim().parse::<f64>().is_ok() => Value::String(t),
        (Shape::Bool, Value::Bool(b)) => Value::Bool(b),
        (Shape::Bool, Value::String(t)) if t == "true" || t == "false" => Value::Bool(t == "true"),
        (_, v) => return Err(unreadable(prop, &v, java_type(shape))),
    }))
}

fn java_type(shape: Shape) -> &'static str {
    match shape {
        Shape::Number => "java.math.BigDecimal",
        Shape::Bool => "boolean",
        Shape::Date | Shape::DateTime => "java.util.Date",
        _ => "java.lang.String",
    }
}

/// 2010 for a property the type does not have, as Jackson (QuickBooks' deserialiser) words it.
fn unknown(s: &Schema, ty: &str, key: &str) -> QboError {
    let known: Vec<&str> = s
        .props(ty)
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| *n != "*")
        .collect();
    let mut list = String::new();
    for (i, name) in known.iter().enumerate() {
        if list.len() > 1000 {
            list.push_str(" [truncated]");
            break;
        }
        if i > 0 {
            list.push_str(", ");
        }
        list.push('"');
        list.push_str(name);
        list.push('"');
    }
    QboError::unknown_property_detail(&format!(
        "Property Name:Unrecognized field \"{key}\" (class com.intuit.schema.finance.v3.{ty}), not marked as ignorable ({} known properties: {list}])\n specified is unsupported or invalid",
        known.len()
    ))
}

/// 2010 for a value that cannot be read as its property's type.
fn unreadable(prop: &Prop, value: &Value, java: &str) -> QboError {
    let shown = match value {
        Value::String(t) => format!("String value '{t}'"),
        other => format!("value {other}"),
    };
    QboError::unparseable_detail(
        &prop.name,
        &format!(
            "Property Name:Can not construct instance of {java} from {shown}: not a valid representation specified is unsupported or invalid"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(ty: &str, v: Value) -> Result<Value, QboError> {
        read_entity(ty, v.as_object().cloned().unwrap_or_default()).map(Value::Object)
    }

    #[test]
    fn every_served_entity_and_its_bases_come_from_the_xsd() {
        for ty in [
            "Account",
            "Item",
            "Vendor",
            "Customer",
            "Employee",
            "Bill",
            "Invoice",
            "CreditMemo",
            "Purchase",
            "JournalEntry",
            "Class",
            "Department",
            "TaxCode",
            "TaxRate",
            "Term",
            "TaxAgency",
            "CompanyInfo",
            "Preferences",
        ] {
            assert!(schema().has_type(ty), "{ty}");
            assert!(
                schema().prop(ty, "Id").is_some(),
                "{ty} inherits IntuitEntity"
            );
        }
        assert!(schema().prop("Vendor", "TaxReportingBasis").is_some());
        assert!(
            schema().prop("Bill", "VendorRef").is_some(),
            "from PurchaseByVendor"
        );
        assert!(schema().prop("Line", "JournalEntryLineDetail").is_some());
    }

    #[test]
    fn empty_strings_nulls_and_empty_lists_are_absent_and_exchange_rate_zero_too() {
        let v = read(
            "Bill",
            json!({"TxnDate": "", "DueDate": "", "TotalAmt": "", "ExchangeRate": 0,
                   "DocNumber": "", "PrivateNote": null, "LinkedTxn": [],
                   "VendorRef": {"value": 56, "name": ""}}),
        )
        .expect("reads");
        assert_eq!(v, json!({"VendorRef": {"value": "56"}}));
    }

    #[test]
    fn an_unknown_property_is_2010_with_the_known_properties_listed() {
        let err = read("Invoice", json!({"BadJson": true})).expect_err("refused");
        assert_eq!(err.code, "2010");
        assert!(err.detail.starts_with(
            "Property Name:Unrecognized field \"BadJson\" (class com.intuit.schema.finance.v3.Invoice), not marked as ignorable ("
        ));
        assert!(err.detail.contains("known properties: \"Id\""));
        assert!(
            err.detail
                .ends_with("])\n specified is unsupported or invalid")
        );
        let nested = read(
            "Bill",
            json!({"Line": [{"DetailType": "AccountBasedExpenseLineDetail", "AccountRef": {"value": "1"}}]}),
        )
        .expect_err("AccountRef belongs inside the detail");
        assert!(
            nested
                .detail
                .contains("\"AccountRef\" (class com.intuit.schema.finance.v3.Line)")
        );
    }

    #[test]
    fn a_number_that_is_not_a_number_is_2010() {
        let err = read("Bill", json!({"TotalAmt": "ten"})).expect_err("refused");
        assert_eq!(err.code, "2010");
        assert!(read("Item", json!({"UnitPrice": "12.50", "Taxable": "true"})).is_ok());
    }
}
