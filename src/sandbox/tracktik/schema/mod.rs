//! What each resource looks like on the wire: field names, value types and how relations and
//! on-demand fields behave. Names follow TrackTik's OpenAPI document (API version 2020-01-01).

/// The JSON type of a field, used to compare filter values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Num,
    Str,
    Bool,
    Date,
    /// A timestamp or date-time string (`2024-07-01T02:15:00+00:00`).
    Ts,
    Json,
}

/// How a field is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Always present.
    Plain,
    /// Present only when named in `include`.
    OnDemand,
    /// An integer id, or the related record when named in `include`.
    Rel(&'static str),
    /// An array of ids of `tag`, or the related records when included.
    RelList(&'static str),
    /// On-demand list of the records of `tag` whose field `fk` points at this record.
    Children(&'static str, &'static str),
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub kind: Kind,
}

#[derive(Debug)]
pub struct Resource {
    pub tag: &'static str,
    /// Served under `/rest/v1/<tag>` (invoice lines are reachable only through `include`).
    pub routed: bool,
    pub fields: &'static [Field],
}

impl Resource {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        kind: Kind::Plain,
    }
}
const fn od(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        kind: Kind::OnDemand,
    }
}
const fn rel(name: &'static str, tag: &'static str) -> Field {
    Field {
        name,
        ty: Ty::Int,
        kind: Kind::Rel(tag),
    }
}
const fn kids(name: &'static str, tag: &'static str, fk: &'static str) -> Field {
    Field {
        name,
        ty: Ty::Json,
        kind: Kind::Children(tag, fk),
    }
}

use Ty::*;

mod more;
pub use more::{CREDIT_MEMOS, POSITIONS};

pub const REGIONS: Resource = Resource {
    tag: "regions",
    routed: true,
    fields: &[
        f("id", Int),
        f("customId", Str),
        f("name", Str),
        f("company", Str),
        f("email", Str),
        rel("parentRegion", "regions"),
        od("timeZone", Str),
        od("prefix", Str),
    ],
};

pub const BACK_OFFICE_SETTINGS: Resource = Resource {
    tag: "back-office-settings",
    routed: true,
    fields: &[
        f("id", Int),
        rel("region", "regions"),
        f("payrollHourlyRate", Num),
        f("payrollSchedule", Int),
        f("payrollOvertimeDayOfWeek", Str),
        f("payrollSeparatePremium", Bool),
        f("billingTaxEngine", Str),
        rel("billingTaxClass", "tax-classes"),
        f("billingBaseCurrency", Str),
        f("billingSeparatePremium", Bool),
    ],
};

pub const CLIENTS: Resource = Resource {
    tag: "clients",
    routed: true,
    fields: &[
        f("id", Int),
        od("name", Str),
        f("company", Str),
        f("customId", Str),
        rel("parentClient", "clients"),
        f("type", Str),
        rel("region", "regions"),
        f("status", Str),
        f("email", Str),
        f("primaryPhone", Str),
        od("timeZone", Str),
        f("closedDate", Date),
        od("createdOn", Ts),
        od("updatedOn", Ts),
    ],
};

pub const ACCOUNTS: Resource = Resource {
    tag: "accounts",
    routed: true,
    fields: &[
        f("id", Int),
        f("name", Str),
        f("customId", Str),
        f("type", Str),
        f("subType", Str),
        rel("region", "regions"),
        od("timeZone", Str),
        od("status", Str),
        f("closedDate", Date),
        od("createdOn", Ts),
        od("updatedOn", Ts),
    ],
};

pub const CLIENT_BILLING_SETTINGS: Resource = Resource {
    tag: "client-billing-settings",
    routed: true,
    fields: &[
        f("id", Int),
        f("useMainAddress", Bool),
        f("distributeByMail", Bool),
        f("distributeByEmail", Bool),
        f("emailList", Json),
        rel("client", "clients"),
        rel("taxClass", "tax-classes"),
        f("paymentTerm", Str),
        f("taxExempt", Bool),
        f("taxExemptCode", Str),
        f("invoicePermanentMemo", Str),
        f("invoiceAttentionOf", Str),
        f("flagForReview", Bool),
    ],
};

pub const BILL_ITEMS: Resource = Resource {
    tag: "bill-items",
    routed: true,
    fields: &[
        f("id", Int),
        f("name", Str),
        f("customId", Str),
        f("isGlobal", Bool),
        rel("region", "regions"),
    ],
};

pub const BILLABLE_ITEMS: Resource = Resource {
    tag: "billable-items",
    routed: true,
    fields: &[
        f("id", Int),
        f("type", Str),
        f("serviceModel", Json),
        f("quantity", Num),
        f("rate", Num),
        f("price", Num),
        rel("taxClass", "tax-classes"),
        rel("invoice", "invoices"),
        rel("invoiceLine", "invoice-lines"),
        rel("serviceLocation", "clients"),
        rel("clientAccount", "clients"),
        rel("region", "regions"),
        rel("billItem", "bill-items"),
        f("postedOn", Ts),
        f("memo", Str),
        f("statType", Str),
        f("serviceDate", Date),
        f("servicedOn", Ts),
        f("groupKey", Str),
    ],
};

pub const TAX_CLASSES: Resource = Resource {
    tag: "tax-classes",
    routed: true,
    fields: &[
        f("id", Int),
        f("name", Str),
        f("status", Str),
        f("customId", Str),
        rel("region", "regions"),
        kids("items", "tax-class-items", "taxClass"),
    ],
};

pub const TAX_CLASS_ITEMS: Resource = Resource {
    tag: "tax-class-items",
    routed: true,
    fields: &[
        f("id", Int),
        f("percentage", Num),
        f("code", Str),
        f("number", Str),
        rel("taxClass", "tax-classes"),
    ],
};

pub const INVOICES: Resource = Resource {
    tag: "invoices",
    routed: true,
    fields: &[
        f("id", Int),
        rel("client", "clients"),
        f("status", Str),
        f("documentNumber", Str),
        f("invoiceDate", Date),
        // Deprecated in favour of `invoiceDate` and `servicePeriod*Date`, still sent.
        f("date", Date),
        f("dueDate", Date),
        f("servicePeriodStartDate", Date),
        f("servicePeriodStart", Date),
        f("servicePeriodEndDate", Date),
        f("servicePeriodEnd", Date),
        rel("taxClass", "tax-classes"),
        f("contract", Int),
        f("subTotal", Num),
        f("taxTotal", Num),
        f("total", Num),
        f("distributed", Bool),
        kids("lines", "invoice-lines", "invoice"),
        f("aging", Str),
        rel("approvedBy", "employees"),
        od("approvedOn", Ts),
        f("invoiceBatchId", Int),
        rel("createdBy", "employees"),
        od("createdOn", Ts),
        rel("updatedBy", "employees"),
        od("updatedOn", Ts),
    ],
};

pub const INVOICE_LINES: Resource = Resource {
    tag: "invoice-lines",
    routed: false,
    fields: &[
        f("id", Int),
        f("quantity", Num),
        f("unitPrice", Num),
        f("lineSubTotal", Num),
        f("relationGuid", Int),
        rel("serviceLocation", "clients"),
        f("serviceDateTime", Ts),
        rel("taxClass", "tax-classes"),
        f("taxable", Bool),
        od("taxTotal", Num),
        kids("billableItems", "billable-items", "invoiceLine"),
        rel("invoice", "invoices"),
        f("timeZone", Str),
    ],
};

pub const INVOICE_LINE_TAXES: Resource = Resource {
    tag: "invoice-line-taxes",
    routed: true,
    fields: &[
        f("id", Int),
        f("amount", Num),
        rel("taxClassItem", "tax-class-items"),
        Field {
            name: "invoiceLine",
            ty: Int,
            kind: Kind::RelList("invoice-lines"),
        },
    ],
};

pub const PAYROLL_PAYRUNS: Resource = Resource {
    tag: "payroll-payruns",
    routed: true,
    fields: &[
        f("id", Int),
        f("payrollSchedule", Int),
        f("occurrenceDate", Date),
        od("occurrenceStartDate", Str),
        od("occurrenceEndDate", Str),
        rel("region", "regions"),
        f("status", Str),
        f("isProcessed", Bool),
        od("countEmployees", Int),
        od("totalHours", Num),
        od("totalCost", Num),
        od("totalOvertimeCost", Num),
        od("totalOvertimeHours", Num),
        od("totalHolidayCost", Num),
        od("totalHolidayHours", Num),
        rel("approvedBy", "employees"),
        f("approvedOn", Ts),
        kids("items", "payroll-payrun-items", "payrun"),
        od("createdOn", Ts),
        od("updatedOn", Ts),
    ],
};

pub const PAYROLL_PAYRUN_ITEMS: Resource = Resource {
    tag: "payroll-payrun-items",
    routed: true,
    fields: &[
        f("id", Int),
        rel("payrun", "payroll-payruns"),
        rel("employee", "employees"),
        f("department", Int),
        f("shift", Int),
        rel("account", "accounts"),
        rel("customPayCode", "payroll-codes"),
        f("payrollCodeLabel", Str),
        f("quantity", Num),
        f("rate", Num),
        f("total", Num),
        f("originType", Str),
        f("originTypeItemId", Str),
        f("label", Str),
        f("notes", Str),
        f("locked", Str),
        f("shiftFragmentDateStart", Str),
        f("shiftFragmentDateEnd", Str),
        f("expenseDate", Date),
        f("employeeType", Str),
        f("companyCode", Str),
        f("baseRate", Num),
        f("payRateLevel", Str),
        f("qualifier", Str),
        f("labeledCode", Str),
    ],
};

pub const PAYROLL_CODES: Resource = Resource {
    tag: "payroll-codes",
    routed: true,
    fields: &[
        f("id", Int),
        f("name", Str),
        f("isGlobal", Bool),
        f("code", Str),
        f("type", Str),
        rel("region", "regions"),
        f("multiplier", Num),
        f("extraCharge", Num),
        f("payable", Bool),
        f("impactsOvertime", Bool),
        f("billable", Bool),
        f("isAdhoc", Bool),
        f("isDeductable", Bool),
        f("isLabel", Bool),
    ],
};

pub const EMPLOYEES: Resource = Resource {
    tag: "employees",
    routed: true,
    fields: &[
        f("id", Int),
        f("customId", Str),
        f("firstName", Str),
        f("lastName", Str),
        f("name", Str),
        f("jobTitle", Str),
        rel("region", "regions"),
        f("primaryPhone", Str),
        od("username", Str),
        f("email", Str),
        f("status", Str),
        od("createdOn", Ts),
        od("updatedOn", Ts),
    ],
};

pub static ALL: &[&Resource] = &[
    &REGIONS,
    &BACK_OFFICE_SETTINGS,
    &CLIENTS,
    &ACCOUNTS,
    &CLIENT_BILLING_SETTINGS,
    &BILL_ITEMS,
    &BILLABLE_ITEMS,
    &TAX_CLASSES,
    &TAX_CLASS_ITEMS,
    &INVOICES,
    &INVOICE_LINES,
    &INVOICE_LINE_TAXES,
    &PAYROLL_PAYRUNS,
    &PAYROLL_PAYRUN_ITEMS,
    &PAYROLL_CODES,
    &EMPLOYEES,
    &CREDIT_MEMOS,
    &POSITIONS,
];

/// On-demand fields every record has (`include=uri,resourceType`).
pub const COMMON_ON_DEMAND: &[&str] = &["uri", "resourceType"];

pub fn resource(tag: &str) -> Option<&'static Resource> {
    ALL.iter().copied().find(|r| r.tag == tag)
}
