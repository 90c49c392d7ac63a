-- Customers' users, integrations (one per QBO company) and OAuth connections to both sides.

-- Someone from a tenant who signed in with TrackTik.
create table tenant_user (
    tenant_user_id     uuid primary key default gen_random_uuid(),
    tenant_id          uuid not null references tenant (tenant_id) on delete cascade,
    tracktik_user_id   text not null,
    display_name       text not null,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    last_signed_in_at  timestamptz not null default now(),
    unique (tenant_id, tracktik_user_id)
);
create trigger tenant_user_updated_at before update on tenant_user
    for each row execute function set_updated_at();

create type integration_state as enum ('draft', 'active', 'paused', 'needs_reconnect');

-- One QuickBooks Online company connected by a tenant.
create table integration (
    integration_id  uuid primary key default gen_random_uuid(),
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    realm_id        text not null,
    company_name    text not null,
    country         text not null,
    home_currency   text not null,
    company_prefs   jsonb not null default '{}'::jsonb,
    state           integration_state not null default 'draft',
    -- The state to return to when a lost connection is restored.
    resume_state    integration_state,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (tenant_id, realm_id)
);
create index integration_tenant_idx on integration (tenant_id, created_at);
create trigger integration_updated_at before update on integration
    for each row execute function set_updated_at();

create type provider as enum ('tracktik', 'quickbooks');
create type connection_health as enum ('ok', 'expiring', 'needs_reconnect', 'disconnected');

-- OAuth tokens, sealed with AES-256-GCM (see src/crypto.rs); `token_key_id` names the key.
-- TrackTik: one per tenant (integration_id null). QuickBooks: one per integration.
create table connection (
    connection_id       uuid primary key default gen_random_uuid(),
    tenant_id           uuid not null references tenant (tenant_id) on delete cascade,
    integration_id      uuid references integration (integration_id) on delete cascade,
    provider            provider not null,
    external_id         text not null,
    access_token_enc    bytea,
    refresh_token_enc   bytea,
    token_key_id        text,
    access_expires_at   timestamptz,
    refresh_expires_at  timestamptz,
    health              connection_health not null default 'ok',
    health_reason       text,
    refreshed_at        timestamptz,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check ((provider = 'tracktik') = (integration_id is null))
);
create unique index connection_tracktik_key on connection (tenant_id) where provider = 'tracktik';
create unique index connection_quickbooks_key on connection (integration_id) where provider = 'quickbooks';
create index connection_refresh_idx on connection (refreshed_at) where health <> 'disconnected';
create trigger connection_updated_at before update on connection
    for each row execute function set_updated_at();
