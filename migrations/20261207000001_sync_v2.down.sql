alter table sync_run drop column first_day, drop column requested_by;
drop table sync_cursor;
drop index ledger_entry_owed_idx;
drop index ledger_entry_send_idx;
alter table ledger_entry
    drop column txn_date_override, drop column checked_at, drop column notified_failure, drop column conflict_at,
    drop column conflict, drop column qbo_lines_total, drop column qbo_txn_date,
    drop column qbo_customer_id, drop column send_item, drop column send_id;
drop table qbo_send;
alter table ledger_entry drop constraint ledger_entry_document_key;
create unique index ledger_entry_posted_key on ledger_entry (integration_id, source, source_id)
    where state = 'posted';
create unique index ledger_entry_open_key on ledger_entry (integration_id, source, source_id)
    where state in ('pending', 'posting', 'failed');
alter table ledger_entry
    add constraint ledger_entry_integration_id_source_source_id_revision_key
    unique (integration_id, source, source_id, revision);
