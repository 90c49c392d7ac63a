//! Integration tests: one binary, one module per area. Each test gets a fresh PostgreSQL
//! database (see `helpers`), and talks to the app over real HTTP.

mod bad_input;
mod browser;
mod connect;
mod dashboard;
mod express_setup;
mod fidelity;
mod foundation;
mod helpers;
mod members;
mod notices;
mod page_costs;
mod quickbooks_client;
mod quickbooks_third_party;
mod reliability;
mod scope_sync;
mod security;
mod sessions;
mod staff_sign_in;
mod support_console;
mod sync;
mod tracktik_client;
mod wizard;
mod wizard_mapping;
mod wizard_scope;
