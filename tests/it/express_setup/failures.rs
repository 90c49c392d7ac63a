//! Express when things go wrong: half-done runs, lost answers, races; never a duplicate.

use super::*;

#[tokio::test]
async fn a_run_that_fails_halfway_completes_on_the_next_run_without_duplicates() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    // The 4th write (the first item) fails on every attempt.
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "server_error", "count": ATTEMPTS, "path_contains": "/item", "method": "POST"}),
    )
    .await;

    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();
    match &err {
        ExpressError::Write {
            kind,
            purpose,
            name,
            verb,
            ..
        } => {
            assert_eq!(*kind, ObjectKind::Item);
            assert_eq!(*purpose, Purpose::ServiceIncome);
            assert_eq!(name, "TrackTik Service Income");
            assert_eq!(*verb, "create");
        }
        other => panic!("expected a write error, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("TrackTik Service Income") && message.contains("Run Express setup again"),
        "{message}"
    );
    assert_eq!(qbo.counts(&co).await, (before.0 + 3, before.1));

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let actions: Vec<(ObjectKind, Action)> =
        outcome.objects.iter().map(|o| (o.kind, o.action)).collect();
    assert_eq!(
        actions[..4],
        [
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Item, Action::Created),
        ]
    );
    assert!(actions[4..].iter().all(|(_, a)| *a == Action::Created));
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_replayed_and_never_duplicated() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    // The first account create is committed, then its answer is lost: the client retries with
    // the same request id.
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 1, "path_contains": "/account", "method": "POST"}),
    )
    .await;
    // Every attempt of the first item create is committed-then-lost: the run fails …
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "drop", "count": ATTEMPTS, "path_contains": "/item", "method": "POST"}),
    )
    .await;
    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExpressError::Write {
                kind: ObjectKind::Item,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(qbo.counts(&co).await, (before.0 + 3, before.1 + 1));
    let account_writes: Vec<String> = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/account"))
        .map(|r| r["requestid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(account_writes.len(), 4, "one retry: {account_writes:?}");
    assert_eq!(
        account_writes[0], account_writes[1],
        "the retry reuses the request id"
    );

    // … and the next run finds the item that was committed.
    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let item = outcome
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Item && o.purpose == Purpose::ServiceIncome)
        .unwrap();
    assert_eq!(item.action, Action::Reused);
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn an_expired_connection_is_reported_in_words_the_customer_can_act_on() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.control("/__sandbox/tokens/expire", json!({"realm_id": US_REALM_ID}))
        .await;

    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();

    assert!(matches!(err, ExpressError::Company(_)), "{err:?}");
    assert!(err.to_string().contains("reconnect QuickBooks"), "{err}");
}

/// The request ids of Express's writes, in order.
async fn express_request_ids(qbo: &Qbo) -> Vec<String> {
    qbo.requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.contains("/v3/")))
        .filter_map(|r| r["requestid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_same_objects_are_always_written_with_the_same_request_ids() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.express(&co, &us_tax_classes()).await.unwrap();
    let first = express_request_ids(&qbo).await;
    assert_eq!(first.len(), 10);
    // A crash that lost every answer looks, to the next run, like a company without the objects.
    qbo.control(
        &format!("/__sandbox/companies/{US_REALM_ID}/reset"),
        json!({}),
    )
    .await;
    let reqs = qbo
        .control
        .delete(format!("{}/__sandbox/requests", qbo.sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert!(reqs.status().is_success());

    qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(express_request_ids(&qbo).await, first);
}

#[tokio::test]
async fn a_replayed_answer_naming_an_object_changed_since_is_not_taken_for_a_new_one() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let wages: Account = qbo
        .client
        .read(&co, &first.refs.wages_account.value)
        .await
        .unwrap();
    // The customer turns our wages account into something else.
    let changed = qbo
        .client
        .update(
            &co,
            &Account {
                id: wages.id.clone(),
                sync_token: wages.sync_token.clone(),
                sparse: Some(true),
                name: Some("Old wages".into()),
                acct_num: Some("6999".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "rename wages"]),
        )
        .await
        .unwrap();

    // The same create is sent again; QBO replays its first answer, which names that account.
    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let new_wages = &outcome.objects[0];
    assert_eq!(new_wages.action, Action::Created);
    assert_ne!(Some(new_wages.qbo_id.clone()), wages.id);
    let read: Account = qbo.client.read(&co, &new_wages.qbo_id).await.unwrap();
    assert_eq!(read.name.as_deref(), Some("TrackTik Direct Wages"));
    assert_eq!(read.acct_num.as_deref(), Some("TT-3000"));
    let old: Account = qbo
        .client
        .read(&co, wages.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(old, changed, "the customer's account is untouched");
}

#[tokio::test]
async fn two_runs_at_once_still_create_each_object_only_once() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    let classes = us_tax_classes();

    let (a, b) = tokio::join!(qbo.express(&co, &classes), qbo.express(&co, &classes));

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.refs, b.refs, "both runs ended up with the same objects");
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
    assert_table(&qbo, &co, &a, &US_TABLE, true).await;
}
