-- Rolling back a night: every document a trading day posted is voided (invoices) or deleted
-- (the rest) in QuickBooks, each exactly once, and owed again so that it is posted again, once,
-- after the fix.
create table rollback (
    rollback_id     bigint generated always as identity primary key,
    tenant_id       uuid not null,
    integration_id  uuid not null,
    trading_day     date not null,
    -- The person who asked, as the audit log names them.
    requested_by    text not null,
    -- `queued`, `running`, `done`.
    status          text not null default 'queued',
    reversed        integer not null default 0,
    refused         integer not null default 0,
    created_at      timestamptz not null default now(),
    finished_at     timestamptz,
    unique (tenant_id, rollback_id),
    foreign key (tenant_id, integration_id)
        references integration (tenant_id, integration_id) on delete cascade
);
create index rollback_integration_idx on rollback (integration_id, trading_day);

-- One reversal per document of the night, recorded before anything is sent.
create table reversal (
    rollback_id      bigint not null,
    tenant_id        uuid not null,
    ledger_entry_id  bigint not null,
    qbo_entity       text not null,
    qbo_id           text not null,
    qbo_doc_number   text,
    amount           numeric,
    -- `void` (invoices) or `delete` (credit memos, expenses, bills, journal entries).
    action           text not null,
    -- `pending`, `done`, `refused`.
    state            text not null default 'pending',
    reason           text,
    done_at          timestamptz,
    primary key (rollback_id, ledger_entry_id),
    foreign key (tenant_id, rollback_id)
        references rollback (tenant_id, rollback_id) on delete cascade
);

-- What a rollback did to a document (shown on it).
alter table ledger_entry add column reversal_note text;
