-- An enum value cannot be dropped: the type is made again without it. Accountants go first
-- (the next migration's down removes them with their links).
delete from tenant_user where role = 'accountant';
alter type member_role rename to member_role_with_accountant;
create type member_role as enum ('portal_admin', 'viewer');
alter table tenant_user alter column role drop default;
alter table tenant_user alter column role type member_role using role::text::member_role;
alter table tenant_user alter column role set default 'viewer';
drop type member_role_with_accountant;
