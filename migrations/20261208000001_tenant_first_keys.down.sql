alter table tenant_user
    drop constraint tenant_user_invited_by_fkey,
    add constraint tenant_user_invited_by_fkey foreign key (invited_by)
        references tenant_user (tenant_user_id) on delete set null;
alter table expert_session_link
    drop constraint expert_session_link_session_fkey,
    add constraint expert_session_link_expert_session_id_fkey foreign key (expert_session_id)
        references expert_session (expert_session_id) on delete cascade;
alter table expert_session
    drop constraint expert_session_booked_by_fkey,
    add constraint expert_session_booked_by_fkey foreign key (booked_by)
        references tenant_user (tenant_user_id) on delete set null,
    drop constraint expert_session_tenant_key;

alter table reversal
    drop constraint reversal_pkey,
    add constraint reversal_pkey primary key (rollback_id, ledger_entry_id);

drop index connection_quickbooks_key;
create unique index connection_quickbooks_key on connection (integration_id)
    where provider = 'quickbooks';

drop index rollback_integration_idx;
create index rollback_integration_idx on rollback (integration_id, trading_day);
drop index sync_run_integration_idx;
create index sync_run_integration_idx on sync_run (integration_id, started_at desc);
alter table sync_day
    drop constraint sync_day_pkey,
    add constraint sync_day_pkey primary key (integration_id, trading_day);
alter table sync_customer
    drop constraint sync_customer_pkey,
    add constraint sync_customer_pkey primary key (integration_id, client_id);
alter table sync_cursor
    drop constraint sync_cursor_pkey,
    add constraint sync_cursor_pkey primary key (integration_id, source),
    add constraint sync_cursor_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;

drop index qbo_send_open_idx;
create index qbo_send_open_idx on qbo_send (integration_id) where settled_at is null;
alter table qbo_send
    drop constraint qbo_send_request_key,
    add constraint qbo_send_integration_id_request_id_key unique (integration_id, request_id),
    add constraint qbo_send_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;

drop index ledger_entry_send_idx;
create index ledger_entry_send_idx on ledger_entry (send_id) where send_id is not null;
drop index ledger_entry_state_idx;
create index ledger_entry_state_idx on ledger_entry (integration_id, state);
drop index ledger_entry_owed_idx;
create index ledger_entry_owed_idx on ledger_entry (integration_id, approved_at)
    where state in ('pending', 'posting', 'failed');
alter table ledger_entry
    drop constraint ledger_entry_document_key,
    add constraint ledger_entry_document_key unique (integration_id, source, source_id);
