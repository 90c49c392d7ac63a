-- E-mail notices sent (or that would have been, with no SMTP server configured), one per key,
-- so the same event never mails twice.
create table notice (
    notice_id       bigint generated always as identity primary key,
    tenant_id       uuid not null references tenant (tenant_id) on delete cascade,
    integration_id  uuid references integration (integration_id) on delete cascade,
    dedupe_key      text not null,
    kind            text not null,
    subject         text not null,
    recipients      text[] not null,
    delivered       boolean not null,
    error           text,
    created_at      timestamptz not null default now(),
    unique (tenant_id, dedupe_key)
);
