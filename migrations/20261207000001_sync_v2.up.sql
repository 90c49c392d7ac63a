-- Sync engine v2: one ledger row per document, durable sends (batches recorded before they are
-- sent), per-source read watermarks, and who asked for a run.

-- One row per (integration, document). Where earlier revisions left several rows, keep the
-- posted one, else the open one, else the newest skipped one.
delete from ledger_entry l
using (
    select ledger_entry_id,
           row_number() over (
               partition by integration_id, source, source_id
               order by (state = 'posted') desc, (state <> 'skipped') desc, updated_at desc,
                        ledger_entry_id desc
           ) as n
    from ledger_entry
) d
where l.ledger_entry_id = d.ledger_entry_id and d.n > 1;

alter table ledger_entry drop constraint ledger_entry_integration_id_source_source_id_revision_key;
drop index ledger_entry_posted_key;
drop index ledger_entry_open_key;
alter table ledger_entry
    add constraint ledger_entry_document_key unique (integration_id, source, source_id);

-- A send: one request to QuickBooks (a batch of up to 30 creates, or one create), recorded with
-- its request id, its members in item order and its exact body before it is sent. An unanswered
-- send is sent again with the same request id and the same body; it is never regrouped.
create table qbo_send (
    send_id          bigint generated always as identity primary key,
    tenant_id        uuid not null references tenant (tenant_id) on delete cascade,
    integration_id   uuid not null references integration (integration_id) on delete cascade,
    request_id       text not null,
    -- `batch`, or the entity path of a lone create (`invoice`, `purchase`, `bill`, `journalentry`).
    kind             text not null,
    -- Exactly what is sent, byte for byte (cleared once every member is settled).
    body             text,
    body_hash        text not null,
    -- The ledger rows it carries, in item order (item i has bId d<i>).
    members          bigint[] not null,
    created_at       timestamptz not null default now(),
    -- When it was last handed to QuickBooks, and until when an unanswered send may still be
    -- processed there (the client's request time-out after the last try).
    sent_at          timestamptz,
    in_flight_until  timestamptz,
    attempts         integer not null default 0,
    settled_at       timestamptz,
    unique (integration_id, request_id)
);
create index qbo_send_open_idx on qbo_send (integration_id) where settled_at is null;

alter table ledger_entry
    -- The send carrying the row while it is `posting`, and its item number in it.
    add column send_id bigint references qbo_send (send_id) on delete set null,
    add column send_item integer,
    -- What QuickBooks will store, to recognise the document in a look-up.
    add column qbo_customer_id text,
    add column qbo_txn_date date,
    add column qbo_lines_total numeric,
    -- A late writer (a run that lost its lock) found the row settled by another: recorded for
    -- support, never applied.
    add column conflict text,
    add column conflict_at timestamptz,
    -- The failure last announced by e-mail (code and reason), so a document is announced once,
    -- and again only for a new reason.
    add column notified_failure text,
    -- When TrackTik was last asked directly about this document.
    add column checked_at timestamptz,
    -- QuickBooks' books were closed on the document's date: the date it is sent with instead.
    add column txn_date_override date;
create index ledger_entry_send_idx on ledger_entry (send_id) where send_id is not null;
create index ledger_entry_owed_idx on ledger_entry (integration_id, approved_at)
    where state in ('pending', 'posting', 'failed');

-- `skipped` now means TrackTik said so when asked directly. Rows skipped only because one read
-- did not list them are owed again: the next run asks TrackTik about each.
update ledger_entry
set state = 'pending', generation = generation + 1, last_error = null, error_code = null,
    fix_hint = null, fix_at = null
where state = 'skipped' and last_error like 'The TrackTik % is no longer approved%';
update ledger_entry set error_code = 'nothing_to_post'
where state = 'skipped' and error_code is null;

-- Per source, how far TrackTik's changes were read: the next run asks for documents updated
-- since then (less an overlap margin), so tonight's read does not grow with history.
create table sync_cursor (
    integration_id   uuid not null references integration (integration_id) on delete cascade,
    source           ledger_source not null,
    tenant_id        uuid not null references tenant (tenant_id) on delete cascade,
    read_through     timestamptz not null,
    -- The earliest approval day the reads cover (the start date, or an earlier back-sync from).
    covered_from     date not null,
    -- The changes check (posted documents edited or deleted in TrackTik) got this far.
    changes_through  timestamptz,
    updated_at       timestamptz not null default now(),
    primary key (integration_id, source)
);

-- Who asked for a run, and the first trading day a catch-up covers.
alter table sync_run
    add column requested_by text not null default 'schedule',
    add column first_day date;
