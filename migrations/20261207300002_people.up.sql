-- The people around a setup (issue 17): invited members who sign in with an e-mailed link,
-- staff availability and booked expert sessions, and the last full check of each draft.

-- A member invited by e-mail has no TrackTik account: no TrackTik user id, an e-mail instead.
alter table tenant_user
    alter column tracktik_user_id drop not null,
    add column invited_by uuid references tenant_user (tenant_user_id) on delete set null,
    add column invited_at timestamptz,
    add column revoked_at timestamptz,
    add column revoked_by text,
    -- Whether an accountant may activate the integration (their administrators decide).
    add column may_activate boolean not null default false,
    add constraint tenant_user_identity check (
        (tracktik_user_id is not null and role <> 'accountant')
        or (tracktik_user_id is null and role = 'accountant' and email is not null));
-- One invited member per address in a tenant.
create unique index tenant_user_invited_email on tenant_user (tenant_id, lower(email))
    where tracktik_user_id is null;
alter table tenant_user add constraint tenant_user_tenant_key unique (tenant_id, tenant_user_id);

-- Single-use, expiring sign-in links. Only a hash of the secret is kept; the secret itself is
-- in the e-mail alone.
create table member_link (
    member_link_id  uuid primary key default gen_random_uuid(),
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    tenant_user_id  uuid not null,
    token_hash      bytea not null unique,
    purpose         text not null check (purpose in ('invite', 'sign_in')),
    created_at      timestamptz not null default now(),
    expires_at      timestamptz not null,
    used_at         timestamptz,
    foreign key (tenant_id, tenant_user_id)
        references tenant_user (tenant_id, tenant_user_id) on delete cascade
);
create index member_link_member_idx on member_link (tenant_id, tenant_user_id, created_at desc);

-- Where staff work: console times are shown in their zone.
alter table staff_user add column time_zone text not null default 'UTC';

-- A staff member's availability for expert sessions, in their zone.
create table expert_availability (
    staff_user_id     uuid primary key references staff_user (staff_user_id) on delete cascade,
    time_zone         text not null,
    session_minutes   integer not null check (session_minutes between 15 and 180),
    published         boolean not null default true,
    updated_at        timestamptz not null default now()
);
-- Weekly hours: any number of ranges a day (1 = Monday … 7 = Sunday), local times.
create table expert_weekly_hours (
    expert_weekly_hours_id  bigint generated always as identity primary key,
    staff_user_id           uuid not null references expert_availability (staff_user_id) on delete cascade,
    weekday                 smallint not null check (weekday between 1 and 7),
    starts                  time not null,
    ends                    time not null check (ends > starts)
);
create index expert_weekly_hours_staff_idx on expert_weekly_hours (staff_user_id, weekday);
-- Exceptions for one date: no range means away all day; ranges replace that day's hours.
create table expert_exception (
    expert_exception_id  bigint generated always as identity primary key,
    staff_user_id        uuid not null references expert_availability (staff_user_id) on delete cascade,
    day                  date not null,
    starts               time,
    ends                 time,
    check ((starts is null and ends is null) or (starts is not null and ends > starts))
);
create index expert_exception_staff_idx on expert_exception (staff_user_id, day);

create type expert_session_status as enum ('booked', 'cancelled', 'done');

-- A booked expert session. Two sessions of one expert never overlap while booked (the
-- exclusion constraint), so a slot can be taken once.
create extension if not exists btree_gist;
create table expert_session (
    expert_session_id  uuid primary key default gen_random_uuid(),
    tenant_id          uuid not null references tenant (tenant_id) on delete cascade,
    integration_id     uuid not null,
    staff_user_id      uuid not null references staff_user (staff_user_id),
    starts_at          timestamptz not null,
    ends_at            timestamptz not null check (ends_at > starts_at),
    status             expert_session_status not null default 'booked',
    customer_zone      text not null,
    contact            text not null check (contact in ('phone', 'video')),
    phone              text,
    topic              text not null,
    booked_by          uuid,
    booked_by_name     text not null,
    booked_by_email    text not null,
    sequence           integer not null default 0,
    reminded_24h_for   timestamptz,
    reminded_1h_for    timestamptz,
    cancelled_at       timestamptz,
    cancelled_by       text,
    notes              text,
    outcome            text check (outcome in ('resolved', 'follow_up', 'no_show')),
    notes_by           text,
    notes_at           timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade,
    foreign key (booked_by) references tenant_user (tenant_user_id) on delete set null,
    constraint expert_session_no_double_booking exclude using gist (
        staff_user_id with =, tstzrange(starts_at, ends_at) with &&) where (status = 'booked')
);
-- Reschedule-and-cancel links sent to the customer: one per e-mail (each stays valid while the
-- session is booked), only a hash of each secret kept.
create table expert_session_link (
    token_hash         bytea primary key,
    tenant_id          uuid not null,
    expert_session_id  uuid not null references expert_session (expert_session_id) on delete cascade,
    created_at         timestamptz not null default now()
);
create index expert_session_link_session_idx on expert_session_link (tenant_id, expert_session_id);
create index expert_session_tenant_idx on expert_session (tenant_id, integration_id, starts_at desc);
create index expert_session_upcoming_idx on expert_session (starts_at) where status = 'booked';
create trigger expert_session_updated_at before update on expert_session
    for each row execute function set_updated_at();

-- The latest full review check of an integration (the one that reads both sides), so the
-- console's list of drafts shows its blockers without calling TrackTik and QuickBooks.
create table draft_check (
    tenant_id       uuid not null,
    integration_id  uuid not null,
    checked_at      timestamptz not null default now(),
    problems        jsonb not null,
    primary key (tenant_id, integration_id),
    foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade
);
