//! What a page view costs, counted rather than timed (issue 18): a signed-in customer's views
//! do not write the session row when nothing in the session changed.

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
