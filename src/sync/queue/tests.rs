//! Unit tests of merging requests and joining ranges.
use super::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

#[test]
fn back_sync_ranges_that_overlap_or_touch_are_joined_and_others_kept_apart() {
    let r = |a, b| DayRange { from: a, to: b };
    assert_eq!(
        join(vec![
            r(d(3, 10), d(3, 20)),
            r(d(1, 1), d(1, 31)),
            r(d(3, 15), d(3, 25)),
            r(d(2, 1), d(2, 5)),
            r(d(6, 1), d(6, 1)),
        ]),
        vec![
            r(d(1, 1), d(2, 5)),
            r(d(3, 10), d(3, 25)),
            r(d(6, 1), d(6, 1))
        ]
    );
}

#[test]
fn merged_requests_keep_every_ask_and_say_when_nothing_was_new() {
    let mut a = Asked::of(RunRequest::Manual, d(5, 1), Requester::Customer);
    assert!(!a.merge(&Asked::of(RunRequest::Manual, d(5, 1), Requester::Customer)));
    assert!(a.merge(&Asked::of(
        RunRequest::Retry {
            ledger_entry_id: Some(7)
        },
        d(5, 1),
        Requester::Support
    )));
    assert!(a.merge(&Asked::of(
        RunRequest::BackSync { from: d(1, 1) },
        d(1, 31),
        Requester::Customer
    )));
    assert_eq!(a.retry, vec![7]);
    assert_eq!(a.back_sync.len(), 1);
    assert_eq!(a.kind(), RunKind::Manual);
    assert_eq!(a.requester(), Requester::Support, "support asked too");
    let retry_only = Asked::of(
        RunRequest::Retry {
            ledger_entry_id: None,
        },
        d(5, 1),
        Requester::Customer,
    );
    assert_eq!(retry_only.kind(), RunKind::Retry);
    assert_eq!(retry_only.requester(), Requester::Customer);
}

#[test]
fn jobs_written_before_merging_existed_still_read() {
    let old = r#"{"integration_id":"6c1b5b8e-4d7e-4a3e-9d7f-3f1f0b7c2a11","day":"2026-05-01","request":{"kind":"back_sync","from":"2026-04-01"}}"#;
    let job: SyncIntegration = serde_json::from_str(old).unwrap();
    assert_eq!(job.request.kind(), RunKind::BackSync);
    let older = r#"{"integration_id":"6c1b5b8e-4d7e-4a3e-9d7f-3f1f0b7c2a11","day":"2026-05-01"}"#;
    let job: SyncIntegration = serde_json::from_str(older).unwrap();
    assert_eq!(job.request, RunRequest::Nightly);
}
