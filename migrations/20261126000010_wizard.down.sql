drop table support_request_note;
drop table support_request;
drop type support_request_status;
drop table settings_change;
alter table integration drop column express_outcome;
alter table integration drop column wizard_reached;
