alter table integration drop column activated_at;
alter table integration drop column settings_saved_at;
alter table integration drop column wizard_step;
alter table integration drop column settings;
