//! What a page view costs, counted rather than timed (issue 18): a signed-in customer's views
//! do not write the session row when nothing in the session changed, and the dashboard and a
//! wizard step make a fixed, small number of database round trips (sqlx's statement log, one
//! entry per statement sent).

use tracing_subscriber::layer::SubscriberExt;

use crate::members::admin_with_company;

/// The session rows' versions (`xmin` changes with every write).
async fn session_versions(app: &crate::helpers::TestApp) -> Vec<String> {
    sqlx::query_scalar("select xmin::text from tower_sessions.session order by id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn viewing_the_dashboard_and_a_wizard_step_again_does_not_write_the_session() {
    let (app, id) = admin_with_company().await;
    let pages = [
        format!("/integrations/{id}"),
        format!("/integrations/{id}/setup/method"),
    ];
    // The first views may store what the session lacked (its form token).
    for page in &pages {
        assert_eq!(app.get(page).await.status(), 200, "{page}");
    }
    let before = session_versions(&app).await;
    assert!(!before.is_empty(), "the customer has a session row");
    for _ in 0..3 {
        for page in &pages {
            assert_eq!(app.get(page).await.status(), 200, "{page}");
        }
    }
    assert_eq!(session_versions(&app).await, before);
}

std::thread_local! {
    /// Where the statements sqlx logs on this thread go, while a view is being counted.
    static CAPTURE: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Catches every statement sqlx logs on a thread that is counting (see [`statements_of`]).
/// Installed once as the process's subscriber: a subscriber set for one thread only is not
/// reliably asked about callsites first reached on other threads while it exists.
struct StatementLog;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementLog {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        metadata.target() == "sqlx::query" && CAPTURE.with(|c| c.borrow().is_some())
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "summary" && self.0.is_empty() {
                    self.0 = format!("{value:?}");
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "db.statement" && !value.trim().is_empty() {
                    self.0 = value.split_whitespace().collect::<Vec<_>>().join(" ");
                } else if field.name() == "summary" && self.0.is_empty() {
                    self.0 = value.to_owned();
                }
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        CAPTURE.with(|c| {
            if let Some(log) = c.borrow_mut().as_mut() {
                log.push(text.0);
            }
        });
    }
}

/// The statements one view of `page` sends, leaving out sqlx's own look-ups of the enum types
/// (once per connection). The test runtime has one thread and the server's tasks run on it,
/// so what this thread logs is this request's statements.
async fn statements_of(app: &crate::helpers::TestApp, page: &str) -> Vec<String> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(StatementLog))
            .expect("no other test sets the process's subscriber");
    });
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let status = app.get(page).await.status();
    let statements = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    assert_eq!(status, 200, "{page}");
    statements
        .into_iter()
        .filter(|s| !s.contains("pg_catalog."))
        .collect()
}

/// Fails, listing the statements, when a view does not make exactly `expected` round trips.
fn assert_round_trips(page: &str, statements: &[String], expected: usize) {
    assert!(
        statements.len() == expected,
        "{page} made {} round trips to the database, {expected} expected:\n{}",
        statements.len(),
        statements.join("\n")
    );
}

#[tokio::test]
async fn the_dashboard_and_a_wizard_step_make_a_fixed_small_number_of_database_round_trips() {
    let (app, id) = admin_with_company().await;
    let dashboard = format!("/integrations/{id}");
    let step = format!("/integrations/{id}/setup/method");
    // The first views store the session's form token.
    for page in [&dashboard, &step] {
        assert_eq!(app.get(page).await.status(), 200, "{page}");
    }
    for _ in 0..2 {
        // The session; the member with their tenant and its integrations (the frame); the
        // integration with its connections, runs, queue, rollbacks and failures; the documents.
        assert_round_trips(&dashboard, &statements_of(&app, &dashboard).await, 4);
        // The session; the member (as above); the draft with whether both sides are connected.
        assert_round_trips(&step, &statements_of(&app, &step).await, 3);
    }
}

#[tokio::test]
async fn every_view_reads_afresh_so_a_change_between_two_views_shows_on_the_second() {
    let (app, id) = admin_with_company().await;
    let dashboard = format!("/integrations/{id}");
    let step = format!("/integrations/{id}/setup/method");
    assert!(app.get_html(&dashboard).await.contains("Times in UTC"));

    // Another process (a wizard save elsewhere) chooses a zone: the dashboard and the frame's
    // switcher follow at once.
    sqlx::query(
        "update integration
         set settings = settings || jsonb_build_object('schedule',
             coalesce(settings -> 'schedule', '{}') || jsonb_build_object('time_zone', $2::text))
         where integration_id = $1::uuid",
    )
    .bind(&id)
    .bind("America/Toronto")
    .execute(&app.db)
    .await
    .unwrap();
    assert!(
        app.get_html(&dashboard)
            .await
            .contains("Times in America/Toronto")
    );

    // The QuickBooks side needs a reconnect: the dashboard says so, and a wizard step sends
    // the customer back to Connect.
    sqlx::query(
        "update connection set health = 'needs_reconnect', health_reason = 'Intuit refused the token.'
         where integration_id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    assert!(
        app.get_html(&dashboard)
            .await
            .contains("Intuit refused the token.")
    );
    let r = app.get(&step).await;
    assert_eq!(
        (r.status().as_u16(), crate::helpers::location(&r)),
        (303, format!("/integrations/{id}/setup/connect"))
    );

    // A revoked member is nobody on their next request, whatever they viewed before.
    sqlx::query("update tenant_user set revoked_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    for page in [&dashboard, &step] {
        let r = app.get(page).await;
        assert_eq!(
            (r.status().as_u16(), crate::helpers::location(&r)),
            (303, "/".to_owned()),
            "{page}"
        );
    }
}
