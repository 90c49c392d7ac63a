-- Accountants and bookkeepers a tenant's administrators invite by e-mail (issue 17). The new
-- value is added on its own: Postgres lets a new enum value be used only once it is committed.
alter type member_role add value if not exists 'accountant';
