//! Region scope rules, by example and by property.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

/// Canada (1) ⊃ Ontario (2) ⊃ Toronto (4); Canada ⊃ British Columbia (3); New York (5).
fn tree() -> RegionTree {
    RegionTree::new([
        (1, None),
        (2, Some(1)),
        (3, Some(1)),
        (4, Some(2)),
        (5, None),
    ])
}

fn only(regions: &[i64]) -> ScopeSettings {
    ScopeSettings {
        regions: RegionChoice::Only {
            regions: regions.iter().copied().collect(),
        },
        chosen: true,
        ..ScopeSettings::default()
    }
}

/// Client 500 in Toronto with site 501 (no region of its own); client 600 without a region
/// and its site 601; client 700 in New York; site 702 of 700 placed in Ontario.
fn places() -> ClientPlaces {
    ClientPlaces::new([
        (500, Some(4), None),
        (501, None, Some(500)),
        (600, None, None),
        (601, None, Some(600)),
        (700, Some(5), None),
        (702, Some(2), Some(700)),
    ])
}

#[test]
fn a_chosen_region_takes_its_sub_regions_at_any_depth_and_nothing_else() {
    let t = tree();
    let ontario = only(&[2]);
    assert!(region_in_scope(&ontario, &t, 2));
    assert!(region_in_scope(&ontario, &t, 4), "Toronto is under Ontario");
    assert!(!region_in_scope(&ontario, &t, 1), "not the parent");
    assert!(!region_in_scope(&ontario, &t, 3), "not a sibling");
    let canada = only(&[1]);
    assert!(
        [1, 2, 3, 4]
            .iter()
            .all(|r| region_in_scope(&canada, &t, *r))
    );
    assert!(!region_in_scope(&canada, &t, 5));
    assert_eq!(regions_taken(&canada, &t), BTreeSet::from([1, 2, 3, 4]));
}

#[test]
fn every_region_takes_everything_including_what_has_no_region() {
    let (t, p) = (tree(), places());
    let every = ScopeSettings::default();
    assert!(region_in_scope(&every, &t, 99), "a region added later");
    assert!(client_in_scope(&every, &t, &p, 600));
    assert!(
        client_in_scope(&every, &t, &p, 12345),
        "a client never seen"
    );
    assert!(payrun_in_scope(&every, &t, None));
}

#[test]
fn sites_follow_their_own_region_else_their_clients() {
    let (t, p) = (tree(), places());
    let toronto = only(&[4]);
    assert!(client_in_scope(&toronto, &t, &p, 500));
    assert!(
        client_in_scope(&toronto, &t, &p, 501),
        "the site follows its client"
    );
    let ontario = only(&[2]);
    assert!(
        client_in_scope(&ontario, &t, &p, 702),
        "a site's own region wins"
    );
    assert!(!client_in_scope(&ontario, &t, &p, 700));
}

#[test]
fn clients_without_a_region_go_where_the_customer_said() {
    let (t, p) = (tree(), places());
    let mut s = only(&[2]);
    assert!(!client_in_scope(&s, &t, &p, 600));
    assert!(!client_in_scope(&s, &t, &p, 601));
    s.without_region.insert(600);
    assert!(client_in_scope(&s, &t, &p, 600));
    assert!(
        client_in_scope(&s, &t, &p, 601),
        "its site comes with the client"
    );
    assert!(
        !client_in_scope(&s, &t, &p, 500) || region_in_scope(&s, &t, 4),
        "a client with a region is never decided by the list"
    );
    assert!(!payrun_in_scope(&s, &t, None));
    s.payruns_without_region = true;
    assert!(payrun_in_scope(&s, &t, None));
    assert!(payrun_in_scope(&s, &t, Some(4)));
    assert!(!payrun_in_scope(&s, &t, Some(5)));
}

#[test]
fn overlaps_name_the_shared_regions_from_the_top() {
    let (t, p) = (tree(), places());
    let o = overlap(&only(&[1]), &only(&[2, 5]), &t, &p).unwrap();
    assert_eq!(o.regions, BTreeSet::from([2, 4]));
    assert_eq!(o.top_regions(&t), vec![2]);
    assert!(overlap(&only(&[2]), &only(&[3, 5]), &t, &p).is_none());
    let every = ScopeSettings::default();
    let o = overlap(&every, &only(&[3]), &t, &p).unwrap();
    assert_eq!(o.regions, BTreeSet::from([3]));
    assert!(!o.every);
    assert!(overlap(&every, &every, &t, &p).unwrap().every);
    assert!(
        overlap(&every, &only(&[]), &t, &p).is_none(),
        "an empty choice takes nothing"
    );
    let mut a = only(&[2]);
    let mut b = only(&[3]);
    a.without_region.insert(600);
    b.without_region.insert(601);
    let o = overlap(&a, &b, &t, &p).unwrap();
    assert_eq!(
        o.clients,
        BTreeSet::from([601]),
        "the site 601 comes with 600 into a, and b chose it"
    );
}

#[test]
fn the_only_integration_keeps_every_region_a_second_must_choose() {
    let legacy = ScopeSettings::default();
    assert!(!must_choose(&legacy, false));
    assert!(must_choose(&legacy, true));
    assert!(!must_choose(&only(&[2]), true));
}

fn money() -> BTreeMap<i64, String> {
    BTreeMap::from([(1, "CAD".into()), (5, "USD".into())])
}

#[test]
fn currencies_are_inherited_from_the_nearest_parent() {
    let t = tree();
    let c = money();
    assert_eq!(currency_of(&t, &c, 4), Some("CAD"));
    assert_eq!(currency_of(&t, &c, 5), Some("USD"));
    assert_eq!(currency_of(&t, &c, 77), None);
}

#[test]
fn express_proposes_the_home_currency_regions_or_everything_with_multicurrency() {
    let t = tree();
    let c = money();
    let usd = Books {
        home_currency: "USD",
        multicurrency: false,
    };
    assert_eq!(
        propose(&t, &c, usd, &BTreeSet::new()),
        RegionChoice::Only {
            regions: BTreeSet::from([5])
        }
    );
    let cad = Books {
        home_currency: "CAD",
        multicurrency: false,
    };
    assert_eq!(
        propose(&t, &c, cad, &BTreeSet::new()),
        RegionChoice::Only {
            regions: BTreeSet::from([1])
        }
    );
    let multi = Books {
        home_currency: "CAD",
        multicurrency: true,
    };
    assert_eq!(
        propose(&t, &c, multi, &BTreeSet::new()),
        RegionChoice::Every
    );
    assert_eq!(
        propose(&t, &c, multi, &BTreeSet::from([5])),
        RegionChoice::Only {
            regions: BTreeSet::from([1])
        },
        "another company's region is left out"
    );
    assert_eq!(
        propose(&t, &c, multi, &BTreeSet::from([4])),
        RegionChoice::Only {
            regions: BTreeSet::from([3, 5])
        },
        "Canada without Toronto: British Columbia and New York on their own; Ontario is left to the customer"
    );
}

#[test]
fn regions_billing_in_another_currency_are_misfits_without_multicurrency() {
    let t = tree();
    let c = money();
    let usd = Books {
        home_currency: "USD",
        multicurrency: false,
    };
    let misfits = currency_misfits(&only(&[2, 5]), &t, &c, usd);
    assert_eq!(misfits, vec![(2, "CAD".into()), (4, "CAD".into())]);
    let multi = Books {
        home_currency: "USD",
        multicurrency: true,
    };
    assert!(currency_misfits(&ScopeSettings::default(), &t, &c, multi).is_empty());
}

#[test]
fn a_parent_loop_in_tracktik_does_not_hang_and_still_forms_a_tree() {
    let t = RegionTree::new([(1, Some(2)), (2, Some(3)), (3, Some(1)), (4, Some(4))]);
    assert_eq!(t.roots(), vec![1, 4]);
    assert_eq!(t.lineage(2), vec![2, 3, 1]);
    assert_eq!(t.in_order(), vec![1, 3, 2, 4]);
    assert!(region_in_scope(&only(&[1]), &t, 2));
}

fn arb_tree() -> impl Strategy<Value = RegionTree> {
    prop::collection::vec(prop::option::of(0i64..12), 1..12).prop_map(|parents| {
        RegionTree::new(parents.into_iter().enumerate().map(|(i, p)| (i as i64, p)))
    })
}

fn arb_scope() -> impl Strategy<Value = ScopeSettings> {
    (
        any::<bool>(),
        prop::collection::btree_set(0i64..14, 0..5),
        prop::collection::btree_set(100i64..106, 0..3),
        any::<bool>(),
    )
        .prop_map(|(every, regions, without, payruns)| ScopeSettings {
            regions: if every {
                RegionChoice::Every
            } else {
                RegionChoice::Only { regions }
            },
            chosen: true,
            without_region: without,
            payruns_without_region: payruns,
        })
}

fn arb_places() -> impl Strategy<Value = ClientPlaces> {
    prop::collection::vec(
        (prop::option::of(0i64..12), prop::option::of(100i64..106)),
        6,
    )
    .prop_map(|v| {
        ClientPlaces::new(
            v.into_iter()
                .enumerate()
                .map(|(i, (r, p))| (100 + i as i64, r, p)),
        )
    })
}

proptest! {
    #[test]
    fn a_region_is_in_scope_exactly_when_it_or_a_parent_was_chosen(t in arb_tree(), s in arb_scope(), r in 0i64..14) {
        let expected = match &s.regions {
            RegionChoice::Every => true,
            RegionChoice::Only { regions } => t.lineage(r).iter().any(|x| regions.contains(x)),
        };
        prop_assert_eq!(region_in_scope(&s, &t, r), expected);
        if t.contains(r) {
            prop_assert_eq!(regions_taken(&s, &t).contains(&r), expected);
        }
    }

    #[test]
    fn scopes_without_an_overlap_never_take_the_same_document(t in arb_tree(), p in arb_places(), a in arb_scope(), b in arb_scope()) {
        let o = overlap(&a, &b, &t, &p);
        prop_assert_eq!(o.clone(), overlap(&b, &a, &t, &p), "symmetric");
        if o.is_none() {
            for r in t.ids() {
                prop_assert!(!(region_in_scope(&a, &t, r) && region_in_scope(&b, &t, r)), "region {}", r);
            }
            for c in p.ids() {
                prop_assert!(!(client_in_scope(&a, &t, &p, c) && client_in_scope(&b, &t, &p, c)), "client {}", c);
            }
            prop_assert!(!(payrun_in_scope(&a, &t, None) && payrun_in_scope(&b, &t, None)));
        }
    }

    #[test]
    fn every_walk_up_the_tree_ends_and_the_order_lists_each_region_once(t in arb_tree()) {
        let order = t.in_order();
        let ids: BTreeSet<i64> = t.ids().collect();
        prop_assert_eq!(order.len(), ids.len());
        prop_assert_eq!(order.iter().copied().collect::<BTreeSet<_>>(), ids);
        for r in t.ids() {
            let pos = order.iter().position(|x| *x == r).unwrap();
            if let Some(parent) = t.parent(r).filter(|p| t.contains(*p)) {
                prop_assert!(order.iter().position(|x| *x == parent).unwrap() < pos);
            }
        }
    }

    #[test]
    fn the_proposal_takes_only_regions_the_books_can_hold_and_nobody_else_has(
        t in arb_tree(),
        cur in prop::collection::btree_map(0i64..12, prop::sample::select(vec!["CAD", "USD"]), 0..12),
        claimed in prop::collection::btree_set(0i64..12, 0..3),
        multi in any::<bool>(),
    ) {
        let currencies: BTreeMap<i64, String> = cur.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
        let books = Books { home_currency: "USD", multicurrency: multi };
        let scope = ScopeSettings { regions: propose(&t, &currencies, books, &claimed), chosen: true, ..ScopeSettings::default() };
        prop_assert!(currency_misfits(&scope, &t, &currencies, books).is_empty());
        for r in regions_taken(&scope, &t) {
            prop_assert!(!claimed.contains(&r));
        }
    }
}
