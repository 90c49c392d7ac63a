drop table if exists sync_customer;
drop table if exists sync_day;
drop table if exists sync_run;
drop table if exists ledger_entry;
drop type if exists sync_run_status;
drop type if exists sync_run_kind;
drop type if exists ledger_state;
drop type if exists ledger_source;
