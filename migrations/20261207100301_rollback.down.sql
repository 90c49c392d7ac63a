alter table ledger_entry drop column reversal_note;
drop table reversal;
drop table rollback;
