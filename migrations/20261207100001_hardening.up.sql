-- Hardening (issue 16): one tenant per portal however its address is written, who in a portal
-- may change things, sign-in attempts recorded before the password is checked, tokens bound
-- to their portal or company, and references that cannot cross tenants.

-- The canonical host[:port] of a portal URL: lower case, no user info, no trailing dot, no
-- default https port, no path. (The application computes the same in `tenants::portal`, and
-- prefers the portal's own name from its access tokens.)
create function portal_key_of(url text) returns text language sql immutable as $$
    select regexp_replace(
               regexp_replace(
                   lower(split_part(
                       regexp_replace(regexp_replace(url, '^[a-zA-Z][a-zA-Z0-9+.-]*://', ''),
                                      '^[^/]*@', ''),
                       '/', 1)),
                   '\.(:|$)', '\1'),
               ':443$', '')
$$;

alter table tenant add column portal_key text;
update tenant set portal_key = portal_key_of(portal_url);
-- Tenants made for one portal under different spellings before this change stay apart (the
-- oldest keeps the key); support merges them by hand if ever needed.
update tenant t set portal_key = t.portal_key || '#' || t.tenant_id
where exists (select 1 from tenant o
              where o.portal_key = t.portal_key
                and (o.created_at, o.tenant_id) < (t.created_at, t.tenant_id));
alter table tenant alter column portal_key set not null;
create unique index tenant_portal_key on tenant (portal_key);

create function tenant_default_portal_key() returns trigger language plpgsql as $$
begin
    if new.portal_key is null then
        new.portal_key := portal_key_of(new.portal_url);
    end if;
    return new;
end;
$$;
create trigger tenant_portal_key before insert on tenant
    for each row execute function tenant_default_portal_key();

-- What a person may do in their tenant, read from TrackTik at each sign-in. People who signed
-- in before roles existed may view until their next sign-in says more.
create type member_role as enum ('portal_admin', 'viewer');
alter table tenant_user
    add column role member_role not null default 'viewer',
    add column email text;

-- A staff sign-in attempt is recorded before its password is checked: `succeeded` is null
-- while the check runs, and such attempts count as failures.
alter table staff_sign_in_attempt alter column succeeded drop not null;

-- What a sealed token's associated data names: 1 = the connection and column; 2 = also the
-- portal URL (TrackTik) or realm id (QuickBooks) in `external_id`. Every new seal is 2.
alter table connection
    add column token_binding smallint not null default 1 check (token_binding in (1, 2));

-- A row that names an integration names its tenant too, and the two must agree.
alter table integration add constraint integration_tenant_key unique (tenant_id, integration_id);

alter table connection drop constraint connection_integration_id_fkey,
    add constraint connection_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table notice drop constraint notice_integration_id_fkey,
    add constraint notice_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table settings_change drop constraint settings_change_integration_id_fkey,
    add constraint settings_change_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table support_request drop constraint support_request_integration_id_fkey,
    add constraint support_request_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table ledger_entry drop constraint ledger_entry_integration_id_fkey,
    add constraint ledger_entry_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table sync_run drop constraint sync_run_integration_id_fkey,
    add constraint sync_run_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table sync_day drop constraint sync_day_integration_id_fkey,
    add constraint sync_day_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;
alter table sync_customer drop constraint sync_customer_integration_id_fkey,
    add constraint sync_customer_tenant_integration_fkey foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade;

-- The same for a note and its request.
alter table support_request add constraint support_request_tenant_key unique (tenant_id, support_request_id);
alter table support_request_note drop constraint support_request_note_support_request_id_fkey,
    add constraint support_request_note_tenant_request_fkey foreign key (tenant_id, support_request_id)
        references support_request (tenant_id, support_request_id) on delete cascade;
