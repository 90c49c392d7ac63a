alter table support_request_note drop constraint support_request_note_tenant_request_fkey,
    add constraint support_request_note_support_request_id_fkey foreign key (support_request_id)
        references support_request (support_request_id) on delete cascade;
alter table support_request drop constraint support_request_tenant_key;

alter table sync_customer drop constraint sync_customer_tenant_integration_fkey,
    add constraint sync_customer_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table sync_day drop constraint sync_day_tenant_integration_fkey,
    add constraint sync_day_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table sync_run drop constraint sync_run_tenant_integration_fkey,
    add constraint sync_run_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table ledger_entry drop constraint ledger_entry_tenant_integration_fkey,
    add constraint ledger_entry_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table support_request drop constraint support_request_tenant_integration_fkey,
    add constraint support_request_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table settings_change drop constraint settings_change_tenant_integration_fkey,
    add constraint settings_change_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table notice drop constraint notice_tenant_integration_fkey,
    add constraint notice_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table connection drop constraint connection_tenant_integration_fkey,
    add constraint connection_integration_id_fkey foreign key (integration_id)
        references integration (integration_id) on delete cascade;
alter table integration drop constraint integration_tenant_key;

-- Tokens sealed with binding 2 cannot be opened by the older code: they are dropped, and
-- those connections need a reconnect.
update connection set access_token_enc = null, refresh_token_enc = null, token_key_id = null,
                      health = 'needs_reconnect',
                      health_reason = 'Reconnect after the downgrade'
where token_binding = 2;
alter table connection drop column token_binding;

delete from staff_sign_in_attempt where succeeded is null;
alter table staff_sign_in_attempt alter column succeeded set not null;

alter table tenant_user drop column email, drop column role;
drop type member_role;

drop trigger tenant_portal_key on tenant;
drop function tenant_default_portal_key();
drop index tenant_portal_key;
alter table tenant drop column portal_key;
drop function portal_key_of(text);
