-- The sync v2 tables name their tenant with every integration and send they point at, so a
-- row can never point across tenants (the pattern of 20261207100001_hardening).
alter table qbo_send
    add constraint qbo_send_integration_tenant_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade,
    add constraint qbo_send_tenant_key unique (tenant_id, send_id);
alter table sync_cursor
    add constraint sync_cursor_integration_tenant_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table ledger_entry
    drop constraint ledger_entry_send_id_fkey,
    add constraint ledger_entry_send_tenant_fkey foreign key (tenant_id, send_id)
        references qbo_send (tenant_id, send_id) on delete set null (send_id);
