-- TrackTik credit memos are synced too (as QuickBooks credit memos).
alter type ledger_source add value if not exists 'credit_memo';
