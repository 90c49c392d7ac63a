drop table audit_event;
drop table staff_sign_in_attempt;
drop table staff_user;
drop type staff_role;
drop table tenant;
drop function set_updated_at();
