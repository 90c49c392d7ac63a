-- The nightly syncs: the ledger of every TrackTik document and its QuickBooks twin, the runs,
-- the (integration, day) enqueue keys and the QuickBooks customers found or created per client.

create type ledger_source as enum ('invoice', 'payrun');
create type ledger_state as enum ('pending', 'posting', 'posted', 'failed', 'skipped');
create type sync_run_kind as enum ('nightly', 'manual', 'back_sync', 'retry', 'preview');
create type sync_run_status as enum ('running', 'succeeded', 'partial', 'failed');

-- One row per integration, TrackTik document and revision. While a document is not posted its
-- row follows the latest revision; once posted, later edits only raise `changed_in_tracktik`.
create table ledger_entry (
    ledger_entry_id      bigint generated always as identity primary key,
    tenant_id            uuid not null references tenant (tenant_id) on delete cascade,
    integration_id       uuid not null references integration (integration_id) on delete cascade,
    source               ledger_source not null,
    source_id            bigint not null,
    revision             text not null,
    doc_number           text not null,
    trading_day          date not null,
    approved_at          timestamptz not null,
    amount               numeric(20, 4) not null,
    currency             text,
    state                ledger_state not null default 'pending',
    qbo_entity           text,
    qbo_id               text,
    qbo_doc_number       text,
    qbo_link             text,
    request_id           text,
    generation           integer not null default 0,
    attempts             integer not null default 0,
    retryable            boolean not null default false,
    last_error           text,
    error_code           text,
    fix_hint             text,
    fix_at               text,
    changed_in_tracktik  boolean not null default false,
    change_note          text,
    -- QuickBooks' total differs from TrackTik's (QBO computed the tax): reported, not adjusted.
    discrepancy          text,
    posting_started_at   timestamptz,
    posted_at            timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    unique (integration_id, source, source_id, revision)
);
-- At most one QuickBooks document per TrackTik document, ever.
create unique index ledger_entry_posted_key on ledger_entry (integration_id, source, source_id)
    where state = 'posted';
-- At most one live (not posted, not skipped) row per document.
create unique index ledger_entry_open_key on ledger_entry (integration_id, source, source_id)
    where state in ('pending', 'posting', 'failed');
create index ledger_entry_state_idx on ledger_entry (integration_id, state);
create index ledger_entry_tenant_idx on ledger_entry (tenant_id, integration_id, trading_day);
create trigger ledger_entry_updated_at before update on ledger_entry
    for each row execute function set_updated_at();

-- One sync run: what it was asked to do and how far it got (the dashboard streams it).
create table sync_run (
    sync_run_id     bigint generated always as identity primary key,
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    integration_id  uuid not null references integration (integration_id) on delete cascade,
    trading_day     date not null,
    kind            sync_run_kind not null,
    status          sync_run_status not null default 'running',
    total           integer not null default 0,
    done            integer not null default 0,
    posted          integer not null default 0,
    failed          integer not null default 0,
    skipped         integer not null default 0,
    error           text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);
create index sync_run_integration_idx on sync_run (integration_id, started_at desc);

-- One row per (integration, trading day) enqueued by the cron tick: a second enqueue is a no-op.
create table sync_day (
    integration_id  uuid not null references integration (integration_id) on delete cascade,
    trading_day     date not null,
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    enqueued_at     timestamptz not null default now(),
    primary key (integration_id, trading_day)
);

-- The QuickBooks customer used for each TrackTik client, remembered after first use.
create table sync_customer (
    integration_id  uuid not null references integration (integration_id) on delete cascade,
    client_id       bigint not null,
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    qbo_id          text not null,
    display_name    text not null,
    note            text,
    created_at      timestamptz not null default now(),
    primary key (integration_id, client_id)
);
