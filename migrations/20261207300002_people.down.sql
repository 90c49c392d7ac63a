drop table draft_check;
drop table expert_session_link;
drop table expert_session;
drop type expert_session_status;
drop table expert_exception;
drop table expert_weekly_hours;
drop table expert_availability;
alter table staff_user drop column time_zone;
drop table member_link;
delete from tenant_user where tracktik_user_id is null;
alter table tenant_user drop constraint tenant_user_tenant_key;
drop index tenant_user_invited_email;
alter table tenant_user
    drop constraint tenant_user_identity,
    drop column may_activate,
    drop column revoked_by,
    drop column revoked_at,
    drop column invited_at,
    drop column invited_by,
    alter column tracktik_user_id set not null;
