//! Tests of the translation layer: hand-built documents (`invoice`, `payroll`), the
//! document-number rule and templates (`doc_number`), property tests (`props`), and a round trip through the QuickBooks sandbox (`sandbox`).

mod doc_number;
mod fixtures;
mod invoice;
mod invoice_options;
mod payroll;
mod payroll_amounts;
mod props;
mod sandbox;
