//! Many failures with one cause: the documents page says the reason and the fix once, in the
//! group, names the documents, and each row points to it instead of repeating it.

use super::*;

#[tokio::test]
async fn a_hundred_and_sixty_failures_with_one_cause_say_what_to_do_once() {
    let s = Seeded::start().await;
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state, error_code,
            last_error, fix_hint, fix_at)
         select tenant_id, integration_id, 'invoice', 3000 + n, 'r1',
                'INV-' || (3000 + n), $2, now(), 10, 'USD', 'failed', 'currency',
                'The invoice is in CAD, which this company does not accept.',
                'Turn on multicurrency in QuickBooks, then retry.', 'quickbooks'
         from integration, generate_series(1, 160) n where integration_id = $1",
    )
    .bind(s.id)
    .bind(days_ago(1))
    .execute(&s.app.db)
    .await
    .unwrap();

    let html = s
        .page(&format!("/integrations/{}/documents?state=failed", s.id))
        .await;
    assert_eq!(
        html.matches("Turn on multicurrency in QuickBooks, then retry.")
            .count(),
        1,
        "the fix is said once, in the group"
    );
    assert_eq!(
        html.matches("The invoice is in CAD").count(),
        1,
        "and so is the reason"
    );
    assert!(html.contains("160 failed"), "{html}");
    assert!(
        html.contains("INV-3001, INV-3002, INV-3003, INV-3004, INV-3005, INV-3006, INV-3007, INV-3008 and 152 more"),
        "the group names its documents: {html}"
    );
    assert!(html.contains("id=\"why-currency\""));
    assert!(html.contains(
        "Failed for the same reason as 159 other documents: <a href=\"#why-currency\">what to do</a>"
    ));
    // A failure alone in its group keeps its own reason and fix on its row.
    assert!(html.contains("Move the closing date in QuickBooks, then retry."));
}
