drop table connection;
drop type connection_health;
drop type provider;
drop table integration;
drop type integration_state;
drop table tenant_user;
