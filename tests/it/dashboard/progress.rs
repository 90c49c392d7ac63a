//! The live progress stream of a real run.

use super::*;

/// One server-sent event: (event name, JSON data).
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
) -> Option<(String, Value)> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if data.is_empty() {
                continue; // a keep-alive comment
            }
            return Some((name, serde_json::from_str(&data).unwrap()));
        }
        let chunk = response.chunk().await.unwrap()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_progress_stream_follows_a_real_run_from_the_queue_to_its_end() {
    let app = TestApp::spawn_with_sandboxes().await;
    let (tenant_id, integration_id) =
        activated_integration(&app, US_REALM_ID, days_ago(6), ZONE).await;

    // Preview first: it lists what would be posted and writes nothing.
    let preview = plain(
        &app.get_html(&format!("/integrations/{integration_id}/preview"))
            .await,
    );
    assert!(preview.contains("What a sync would post now"), "{preview}");
    assert!(preview.contains("Ready"));
    let rows: i64 = sqlx::query_scalar("select count(*) from ledger_entry")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0, "a preview writes nothing");

    // QuickBooks holds each write for two seconds, so the run lasts long enough to be watched
    // (documents go in batches of up to 30, or one by one when alone).
    for path in ["/batch", "/invoice", "/purchase"] {
        Sandboxes::control(
            app.sandboxes().quickbooks.base_url(),
            "/__sandbox/faults",
            json!({"kind": "timeout", "seconds": 2, "count": 2, "method": "POST", "path_contains": path}),
        )
        .await;
    }
    let (job, _) = controls::enqueue(
        &app.state,
        tenant_id,
        integration_id,
        RunRequest::Manual,
        None,
        ledgerbridge::sync::runs::Requester::Customer,
    )
    .await
    .unwrap();

    let mut stream = app
        .get(&format!("/integrations/{integration_id}/progress"))
        .await;
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let (name, first) = next_event(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(
        (name.as_str(), first["phase"].as_str()),
        ("progress", Some("queued"))
    );

    // The worker's part: run the job, then mark it done as apalis would.
    let worker = tokio::spawn({
        let state = app.state.clone();
        async move {
            let report = controls::run_job(&state, tenant_id, &job).await.unwrap();
            sqlx::query("update apalis.jobs set status = 'Done', done_at = now()")
                .execute(&state.db)
                .await
                .unwrap();
            report
        }
    });

    let mut running = Vec::new();
    let last = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let (name, event) = next_event(&mut stream, &mut buffer)
                .await
                .expect("the stream ends with an end event");
            if name == "end" {
                return event;
            }
            assert_eq!(event["phase"], "running", "{event}");
            running.push(event);
        }
    })
    .await
    .expect("the run ends");
    let report = worker.await.unwrap();

    assert!(report.counts.total >= 3, "{report:?}");
    assert!(
        running.iter().any(|e| {
            let (done, total) = (e["done"].as_i64().unwrap(), e["total"].as_i64().unwrap());
            total > 0 && done < total
        }),
        "progress part-way through was streamed: {running:?}"
    );
    let dones: Vec<i64> = running
        .iter()
        .map(|e| e["done"].as_i64().unwrap())
        .collect();
    assert!(
        dones.windows(2).all(|w| w[0] <= w[1]),
        "progress only moves forward: {dones:?}"
    );
    assert_eq!(last["phase"], "finished");
    assert_eq!(
        last["total"].as_i64().unwrap(),
        i64::from(report.counts.total)
    );
    assert_eq!(
        last["posted"].as_i64().unwrap(),
        i64::from(report.counts.posted)
    );
    assert_eq!(last["done"], last["total"]);

    // After the run, the dashboard shows it and no progress box.
    let html = plain(
        &app.get_html(&format!("/integrations/{integration_id}"))
            .await,
    );
    assert!(!html.contains("data-progress-url"));
    assert!(
        html.contains("Sync now for"),
        "the last run is the manual one"
    );
    let _ = csrf_token(&html).expect("the page has its forms");
}
