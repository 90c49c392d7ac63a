alter table ledger_entry
    drop constraint ledger_entry_send_tenant_fkey,
    add constraint ledger_entry_send_id_fkey foreign key (send_id)
        references qbo_send (send_id) on delete set null;
alter table sync_cursor drop constraint sync_cursor_integration_tenant_fkey;
alter table qbo_send
    drop constraint qbo_send_tenant_key,
    drop constraint qbo_send_integration_tenant_fkey;
