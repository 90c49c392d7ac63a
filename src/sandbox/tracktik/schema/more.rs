//! Collections added for issue 15: `credit-memos` (the invoices' shape, TrackTik's OpenAPI
//! `CreditMemos*`) and `positions` (posts at a site, `Positions*`).

use super::Ty::*;
use super::{Field, Kind, Resource, f, kids, od, rel};

pub const CREDIT_MEMOS: Resource = Resource {
    tag: "credit-memos",
    routed: true,
    fields: &[
        f("id", Int),
        rel("client", "clients"),
        f("status", Str),
        f("documentNumber", Str),
        f("invoiceDate", Date),
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

pub const POSITIONS: Resource = Resource {
    tag: "positions",
    routed: true,
    fields: &[
        f("id", Int),
        f("name", Str),
        f("description", Str),
        f("customId", Str),
        f("status", Str),
        rel("account", "accounts"),
        f("contract", Int),
        f("nonBillable", Bool),
        f("shiftMemo", Str),
        f("beginDate", Date),
        f("endDate", Date),
        f("breakRule", Int),
        f("billingSetting", Int),
        f("payrollSetting", Int),
        rel("taxClass", "tax-classes"),
        Field {
            name: "payCodeLabel",
            ty: Int,
            kind: Kind::Rel("payroll-codes"),
        },
        rel("createdBy", "employees"),
        od("createdOn", Ts),
        rel("updatedBy", "employees"),
        od("updatedOn", Ts),
    ],
};
