-- The setup wizard: how far each integration got, what Express setup did, every settings
-- change, and "Talk to an expert" requests with staff notes.

-- The furthest step the customer reached (every step up to it is reachable from the stepper).
alter table integration add column wizard_reached text not null default 'setup_method';
-- What Express setup created or reused in QuickBooks, for the review step.
alter table integration add column express_outcome jsonb;

-- Every save of a wizard step: who, when, which step, the settings before and after.
create table settings_change (
    settings_change_id  bigint generated always as identity primary key,
    tenant_id           uuid not null references tenant (tenant_id) on delete cascade,
    integration_id      uuid not null references integration (integration_id) on delete cascade,
    step                text not null,
    actor_kind          text not null,
    actor_label         text not null,
    before              jsonb not null,
    after               jsonb not null,
    changed_at          timestamptz not null default now()
);
create index settings_change_tenant_idx on settings_change (tenant_id, integration_id, changed_at desc);

create type support_request_status as enum ('open', 'done');

-- "Talk to an expert": a customer asks for a support session from a wizard step.
create table support_request (
    support_request_id  uuid primary key default gen_random_uuid(),
    tenant_id           uuid not null references tenant (tenant_id) on delete cascade,
    integration_id      uuid not null references integration (integration_id) on delete cascade,
    step                text not null,
    preferred_times     text not null,
    note                text not null default '',
    requested_by        text not null,
    status              support_request_status not null default 'open',
    done_at             timestamptz,
    done_by             text,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
create index support_request_tenant_idx on support_request (tenant_id, created_at desc);
create index support_request_status_idx on support_request (status, created_at);
create trigger support_request_updated_at before update on support_request
    for each row execute function set_updated_at();

-- Internal notes staff add to a request (never shown to the customer).
create table support_request_note (
    support_request_note_id  bigint generated always as identity primary key,
    tenant_id                uuid not null references tenant (tenant_id) on delete cascade,
    support_request_id       uuid not null references support_request (support_request_id) on delete cascade,
    staff_user_id            uuid references staff_user (staff_user_id) on delete set null,
    author                   text not null,
    body                     text not null,
    created_at               timestamptz not null default now()
);
create index support_request_note_request_idx on support_request_note (tenant_id, support_request_id, created_at);
