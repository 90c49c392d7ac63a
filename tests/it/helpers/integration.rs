//! An integration connected, set up with Express's defaults and activated, as the wizard would.

use super::*;

impl TestApp {
    /// Signs in with TrackTik, connects `realm` (multicurrency turned on first: the seeded
    /// portals bill in CAD and USD), runs Express setup through the library and activates the
    /// integration with `start_date` (UTC, cutoff 03:00, pay runs on).
    pub async fn activate_integration(
        &self,
        realm: &str,
        start_date: chrono::NaiveDate,
    ) -> ActiveIntegration {
        Sandboxes::control(
            self.sandboxes().quickbooks.base_url(),
            &format!("/__sandbox/companies/{realm}/settings"),
            serde_json::json!({"multicurrency": true}),
        )
        .await;
        assert_eq!(self.sign_in_with_tracktik().await.status(), 303);
        assert_eq!(self.connect_quickbooks(realm, None).await.status(), 303);
        let (tenant_id, integration_id) =
            sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
                .bind(realm)
                .fetch_one(&self.db)
                .await
                .unwrap();
        let active = ActiveIntegration {
            tenant_id,
            integration_id,
            realm: realm.to_owned(),
        };
        active.express(&self.state, start_date).await;
        active
    }
}

/// A connected, set-up, active integration.
pub struct ActiveIntegration {
    pub tenant_id: ledgerbridge::ids::TenantId,
    pub integration_id: ledgerbridge::ids::IntegrationId,
    pub realm: String,
}

impl ActiveIntegration {
    /// A QBO access token (refreshed when needed, single-flight with every other process).
    pub async fn qbo_token(&self, state: &ledgerbridge::state::AppState) -> secrecy::SecretString {
        let conn = ledgerbridge::connections::db::quickbooks_for_integration(
            &state.db,
            self.tenant_id,
            self.integration_id,
        )
        .await
        .unwrap()
        .unwrap();
        ledgerbridge::connections::access_token(state, self.tenant_id, conn.connection_id)
            .await
            .unwrap()
    }

    /// The TrackTik portal and an access token.
    pub async fn tracktik(
        &self,
        state: &ledgerbridge::state::AppState,
    ) -> (
        ledgerbridge::providers::tracktik::Portal,
        ledgerbridge::providers::tracktik::AccessToken,
    ) {
        let conn = ledgerbridge::connections::db::tracktik_for_tenant(&state.db, self.tenant_id)
            .await
            .unwrap()
            .unwrap();
        let token =
            ledgerbridge::connections::access_token(state, self.tenant_id, conn.connection_id)
                .await
                .unwrap();
        (
            ledgerbridge::providers::tracktik::Portal::new(&conn.external_id).unwrap(),
            ledgerbridge::providers::tracktik::AccessToken::new(
                secrecy::ExposeSecret::expose_secret(&token).to_owned(),
            ),
        )
    }

    /// Express setup's defaults in QBO, then settings saved and the integration made active.
    async fn express(&self, state: &ledgerbridge::state::AppState, start_date: chrono::NaiveDate) {
        use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
        use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
        let (portal, tt) = self.tracktik(state).await;
        let classes = state
            .providers
            .tracktik
            .tax_classes(&portal, &tt)
            .await
            .unwrap();
        let inputs: Vec<TaxClassInput> = classes
            .iter()
            .map(|c| TaxClassInput {
                id: c.id,
                name: c.name.clone().unwrap_or_default(),
            })
            .collect();
        let token = self.qbo_token(state).await;
        let co = ledgerbridge::providers::quickbooks::Company {
            realm_id: &self.realm,
            access_token: &token,
        };
        let refs = ensure_defaults(
            &state.providers.quickbooks,
            &co,
            &inputs,
            &ExpressOptions::default(),
        )
        .await
        .expect("Express setup");
        let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
            QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
        };
        let mut settings = Settings::default();
        settings.billing.default_item = Some(r(&refs.refs.service_income_item));
        for (id, t) in &refs.refs.tax_classes {
            settings
                .taxes
                .classes
                .insert(*id, TaxTarget::Item { item: r(&t.item) });
        }
        settings.taxes.automated_tax_item = Some(r(&refs.refs.automated_tax.item));
        settings.payroll.enabled = true;
        settings.payroll.wages_account = Some(r(&refs.refs.wages_account));
        settings.payroll.liability_account = Some(r(&refs.refs.wages_liability_account));
        settings.schedule.start_date = Some(start_date);
        settings.schedule.time_zone = Some("UTC".into());
        settings.schedule.cutoff = chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        sqlx::query(
            "update integration set settings = $2, state = 'active' where integration_id = $1",
        )
        .bind(self.integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
    }
}

/// Signs in through the TrackTik sandbox, connects `realm` (multicurrency on: the seeded
/// portal bills in CAD and USD), saves Express setup's defaults with payroll on, the sync
/// `start_date` and time zone `zone`, and activates the integration, as a customer who went
/// through the wizard would. Returns (tenant, integration).
pub async fn activated_integration(
    app: &TestApp,
    realm: &str,
    start_date: chrono::NaiveDate,
    zone: &str,
) -> (
    ledgerbridge::ids::TenantId,
    ledgerbridge::ids::IntegrationId,
) {
    use ledgerbridge::connections;
    use ledgerbridge::ids::{IntegrationId, TenantId};
    use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
    use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
    use ledgerbridge::providers::quickbooks::Company;
    use ledgerbridge::providers::tracktik::{AccessToken, Portal};
    use secrecy::ExposeSecret;

    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        &format!("/__sandbox/companies/{realm}/settings"),
        serde_json::json!({"multicurrency": true}),
    )
    .await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(app.connect_quickbooks(realm, None).await.status(), 303);
    let (tenant, integration) = integration_of(&app.db, realm).await;
    let (tenant_id, integration_id) = (TenantId(tenant), IntegrationId(integration));
    let state = &app.state;

    let tt_conn = connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    let tt_token = connections::access_token(state, tenant_id, tt_conn.connection_id)
        .await
        .unwrap();
    let portal = Portal::new(&tt_conn.external_id).unwrap();
    let tt = AccessToken::new(tt_token.expose_secret().to_owned());
    let inputs: Vec<TaxClassInput> = state
        .providers
        .tracktik
        .tax_classes(&portal, &tt)
        .await
        .unwrap()
        .iter()
        .map(|c| TaxClassInput {
            id: c.id,
            name: c.name.clone().unwrap_or_default(),
        })
        .collect();
    let qbo_conn =
        connections::db::quickbooks_for_integration(&state.db, tenant_id, integration_id)
            .await
            .unwrap()
            .unwrap();
    let token = connections::access_token(state, tenant_id, qbo_conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: realm,
        access_token: &token,
    };
    let refs = ensure_defaults(
        &state.providers.quickbooks,
        &co,
        &inputs,
        &ExpressOptions::default(),
    )
    .await
    .expect("Express setup");
    let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
        QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
    };
    let mut settings = Settings::default();
    settings.billing.default_item = Some(r(&refs.refs.service_income_item));
    for (id, t) in &refs.refs.tax_classes {
        settings
            .taxes
            .classes
            .insert(*id, TaxTarget::Item { item: r(&t.item) });
    }
    settings.taxes.automated_tax_item = Some(r(&refs.refs.automated_tax.item));
    settings.payroll.enabled = true;
    settings.payroll.wages_account = Some(r(&refs.refs.wages_account));
    settings.payroll.liability_account = Some(r(&refs.refs.wages_liability_account));
    settings.schedule.start_date = Some(start_date);
    settings.schedule.time_zone = Some(zone.into());
    sqlx::query("update integration set settings = $2, state = 'active' where integration_id = $1")
        .bind(integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
    (tenant_id, integration_id)
}
