//! The verdict: QuickBooks read back through its API, against what TrackTik approved.

use super::*;

impl Rig {
    /// QuickBooks read back through its API, against TrackTik.
    pub(super) async fn verdict(&self) -> Verdict {
        let state = &self.app.state;
        let token = self.active.qbo_token(state).await;
        let co = Company {
            realm_id: &self.active.realm,
            access_token: &token,
        };
        let invoices: Vec<Invoice> = state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Invoice")
            .await
            .unwrap();
        let purchases: Vec<Purchase> = state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Purchase")
            .await
            .unwrap();
        let mut v = Verdict::default();
        let numbers = [
            (
                "Invoice",
                invoices.into_iter().filter_map(|i| i.doc_number).collect(),
                &self.invoices,
            ),
            (
                "Purchase",
                purchases
                    .into_iter()
                    .filter_map(|p| p.doc_number)
                    .collect::<Vec<_>>(),
                &self.purchases,
            ),
        ];
        let stats: Value = reqwest::get(format!(
            "{}/__sandbox/stats",
            self.app.sandboxes().quickbooks.base_url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        for (entity, held, expected) in numbers {
            let mut count: BTreeMap<String, usize> = BTreeMap::new();
            for n in held {
                *count.entry(n).or_default() += 1;
            }
            // Per TrackTik document (its number is unique in TrackTik, and QuickBooks keeps
            // it): the copies QuickBooks holds.
            v.duplicates
                .extend(count.iter().filter(|(_, n)| **n > 1).map(
                    |(d, n)| match expected.get(d) {
                        Some(id) => format!("TrackTik {entity} #{id} ({d}) ×{n}"),
                        None => format!("{entity} {d} ×{n}"),
                    },
                ));
            v.missing.extend(
                expected
                    .iter()
                    .filter(|(d, _)| !count.contains_key(*d))
                    .map(|(d, id)| format!("TrackTik {entity} #{id} ({d})")),
            );
            v.unexpected.extend(
                count
                    .keys()
                    .filter(|d| !expected.contains_key(*d))
                    .map(|d| format!("{entity} {d}")),
            );
            v.creates.insert(
                entity.to_owned(),
                stats["creates_per_entity"][&self.active.realm][entity]
                    .as_i64()
                    .unwrap_or(0),
            );
        }
        v.ledger = self.ledger().await;
        v
    }

    /// Asserts exactly once: nothing duplicated, missing or unexpected, one create per document,
    /// every ledger row posted.
    pub(super) fn assert_exactly_once(&self, v: &Verdict) {
        assert!(v.duplicates.is_empty(), "duplicates: {:?}", v.duplicates);
        assert!(v.missing.is_empty(), "missing: {:?}", v.missing);
        assert!(v.unexpected.is_empty(), "unexpected: {:?}", v.unexpected);
        assert_eq!(
            v.creates.get("Invoice").copied(),
            Some(self.invoices.len() as i64),
            "one create per invoice"
        );
        assert_eq!(
            v.creates.get("Purchase").copied(),
            Some(self.purchases.len() as i64),
            "one create per pay run"
        );
        assert_eq!(
            v.ledger,
            LedgerCounts {
                total: self.documents(),
                posted: self.documents(),
                ..Default::default()
            },
            "every ledger row posted"
        );
    }
}
