alter table ledger_entry drop column qbo_amount;
