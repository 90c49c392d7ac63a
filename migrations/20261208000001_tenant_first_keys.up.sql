-- Every key and index of a tenant's data leads with tenant_id (issue 18), so the ledger can be
-- hash-partitioned on tenant_id or distributed by Citus with tenant_id as its distribution
-- column: both need every unique key to carry it. Each unique key keeps its meaning: the rows
-- naming an integration (or a rollback) name its tenant through a composite foreign key, so
-- tenant_id is fixed by the column it is put in front of.

-- One ledger row per (integration, document): the target of `record_all`'s `on conflict`.
alter table ledger_entry
    drop constraint ledger_entry_document_key,
    add constraint ledger_entry_document_key unique (tenant_id, integration_id, source, source_id);
drop index ledger_entry_owed_idx;
create index ledger_entry_owed_idx on ledger_entry (tenant_id, integration_id, approved_at)
    where state in ('pending', 'posting', 'failed');
drop index ledger_entry_state_idx;
create index ledger_entry_state_idx on ledger_entry (tenant_id, integration_id, state);
-- Also the index of the (tenant_id, send_id) foreign key to qbo_send.
drop index ledger_entry_send_idx;
create index ledger_entry_send_idx on ledger_entry (tenant_id, send_id) where send_id is not null;

-- A request id is used once per integration. The single-column reference to integration is
-- dropped: qbo_send_integration_tenant_fkey covers it (same columns plus tenant_id, same cascade).
alter table qbo_send
    drop constraint qbo_send_integration_id_request_id_key,
    add constraint qbo_send_request_key unique (tenant_id, integration_id, request_id),
    drop constraint qbo_send_integration_id_fkey;
drop index qbo_send_open_idx;
create index qbo_send_open_idx on qbo_send (tenant_id, integration_id) where settled_at is null;

-- Per-integration rows: tenant first in their primary keys. sync_cursor's single-column
-- reference to integration is covered by sync_cursor_integration_tenant_fkey.
alter table sync_cursor
    drop constraint sync_cursor_pkey,
    add constraint sync_cursor_pkey primary key (tenant_id, integration_id, source),
    drop constraint sync_cursor_integration_id_fkey;
alter table sync_customer
    drop constraint sync_customer_pkey,
    add constraint sync_customer_pkey primary key (tenant_id, integration_id, client_id);
alter table sync_day
    drop constraint sync_day_pkey,
    add constraint sync_day_pkey primary key (tenant_id, integration_id, trading_day);
drop index sync_run_integration_idx;
create index sync_run_integration_idx on sync_run (tenant_id, integration_id, started_at desc);
drop index rollback_integration_idx;
create index rollback_integration_idx on rollback (tenant_id, integration_id, trading_day);

-- One QuickBooks connection per integration (the target of its `on conflict`).
drop index connection_quickbooks_key;
create unique index connection_quickbooks_key on connection (tenant_id, integration_id)
    where provider = 'quickbooks';

-- One reversal per (rollback, document); rollback_id fixes the tenant (reversal's foreign key).
alter table reversal
    drop constraint reversal_pkey,
    add constraint reversal_pkey primary key (tenant_id, rollback_id, ledger_entry_id);

-- References between tenant rows name the tenant too, so they cannot cross tenants and stay on
-- one node when distributed.
alter table expert_session
    add constraint expert_session_tenant_key unique (tenant_id, expert_session_id),
    drop constraint expert_session_booked_by_fkey,
    add constraint expert_session_booked_by_fkey foreign key (tenant_id, booked_by)
        references tenant_user (tenant_id, tenant_user_id) on delete set null (booked_by);
alter table expert_session_link
    drop constraint expert_session_link_expert_session_id_fkey,
    add constraint expert_session_link_session_fkey foreign key (tenant_id, expert_session_id)
        references expert_session (tenant_id, expert_session_id) on delete cascade;
alter table tenant_user
    drop constraint tenant_user_invited_by_fkey,
    add constraint tenant_user_invited_by_fkey foreign key (tenant_id, invited_by)
        references tenant_user (tenant_id, tenant_user_id) on delete set null (invited_by);
