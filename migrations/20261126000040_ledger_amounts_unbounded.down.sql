-- Fails, and changes nothing, if a recorded amount does not fit numeric(20, 4).
alter table ledger_entry alter column qbo_amount type numeric(20, 4);
alter table ledger_entry alter column amount type numeric(20, 4);
