-- What QuickBooks holds for each posted document (its TotalAmt as returned by the write or the
-- lookup), so the dashboard can reconcile a day to the cent without calling QuickBooks.
alter table ledger_entry add column qbo_amount numeric(20, 4);
