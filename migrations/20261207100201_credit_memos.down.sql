-- PostgreSQL cannot drop an enum value: the credit memos' rows go, the value stays unused.
delete from ledger_entry where source::text = 'credit_memo';
delete from sync_cursor where source::text = 'credit_memo';
