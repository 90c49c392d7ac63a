-- Foundation: shared helpers, tenants, staff accounts, sign-in attempts and the audit log.

create or replace function set_updated_at() returns trigger as $$
begin
    new.updated_at = now();
    return new;
end;
$$ language plpgsql;

-- One TrackTik portal, identified by its base URL.
create table tenant (
    tenant_id   uuid primary key default gen_random_uuid(),
    portal_url  text not null unique,
    name        text not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create trigger tenant_updated_at before update on tenant
    for each row execute function set_updated_at();

create type staff_role as enum ('support', 'admin');

-- Support staff, created with `ledgerbridge staff add`.
create table staff_user (
    staff_user_id  uuid primary key default gen_random_uuid(),
    email          text not null,
    password_hash  text not null,
    role           staff_role not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create unique index staff_user_email_key on staff_user (lower(email));
create trigger staff_user_updated_at before update on staff_user
    for each row execute function set_updated_at();

-- Every staff sign-in attempt, for rate limiting failures.
create table staff_sign_in_attempt (
    staff_sign_in_attempt_id  bigint generated always as identity primary key,
    email                     text not null,
    client_addr               text not null,
    succeeded                 boolean not null,
    attempted_at              timestamptz not null default now()
);
create index staff_sign_in_attempt_email_idx on staff_sign_in_attempt (lower(email), attempted_at);
create index staff_sign_in_attempt_addr_idx on staff_sign_in_attempt (client_addr, attempted_at);

-- Who did what, when: staff sign-ins, every staff look at customer data, settings changes.
create table audit_event (
    audit_event_id  bigint generated always as identity primary key,
    occurred_at     timestamptz not null default now(),
    actor_kind      text not null check (actor_kind in ('staff', 'user', 'system', 'anonymous')),
    actor_id        uuid,
    actor_label     text not null,
    action          text not null,
    tenant_id       uuid references tenant (tenant_id) on delete set null,
    detail          jsonb not null default '{}'::jsonb,
    client_addr     text
);
create index audit_event_tenant_idx on audit_event (tenant_id, occurred_at desc);
create index audit_event_occurred_idx on audit_event (occurred_at desc);
