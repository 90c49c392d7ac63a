-- The wizard's answers (src/integrations/settings.rs) and where the customer is in it.
alter table integration add column settings jsonb not null default '{}'::jsonb;
alter table integration add column wizard_step text not null default 'setup_method';
alter table integration add column settings_saved_at timestamptz;
alter table integration add column activated_at timestamptz;
