-- TrackTik can hold totals of any size. A bounded column made one absurd document
-- ("numeric field overflow") stop the recording of every other document of the run; the
-- ledger now records any amount exactly, and QuickBooks' own limits fail that document alone.
alter table ledger_entry alter column amount type numeric;
alter table ledger_entry alter column qbo_amount type numeric;
