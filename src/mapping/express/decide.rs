//! Which existing QBO object to use for one row of the table, or what to create: the matching
//! and conflict rules, free of I/O so they can be tested on their own.
//!
//! The rules, in order (see the module docs of [`super`] for the customer-facing version):
//! 1. **By number / SKU** (accounts only when the company uses account numbers). An active match
//!    wins over an inactive one. A compatible match is used (an inactive one is reactivated). An
//!    incompatible one is left alone and noted; for accounts its number is then not sent, since
//!    QBO keeps account numbers unique.
//! 2. **By name**, case-insensitively (QBO names are case-insensitive-unique). A compatible
//!    active object is used. An inactive compatible one, whose name QBO turned into
//!    `<name> (deleted)`, is reactivated under its name. An incompatible active one (or one
//!    already used for another row) is a **conflict**: rule 2 is tried once more with the
//!    name plus the conflict suffix, e.g. `TrackTik Service Income (Ledgerbridge)`.
//! 3. Otherwise **create**, under the name rule 2 settled on.

use std::collections::HashSet;

use super::plan::with_suffix;

/// What the rules need to know about an existing account or item.
pub(super) trait Existing {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    /// `AcctNum` or `Sku`.
    fn key(&self) -> Option<&str>;
    fn is_active(&self) -> bool;
}

/// The decision for one object.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// Use the existing object at this index.
    Use {
        index: usize,
        /// `Some(name)`: it is inactive; reactivate it under this name.
        reactivate_as: Option<String>,
        notes: Vec<String>,
    },
    /// Create a new object.
    Create {
        name: String,
        /// Whether the number/SKU may be sent.
        send_key: bool,
        /// The table's name was taken; `name` carries the suffix.
        under_other_name: bool,
        notes: Vec<String>,
    },
}

/// Both the table's name and the suffixed one are taken by objects Express cannot use.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct NamesTaken {
    pub name: String,
    pub other_name: String,
    pub why: String,
}

/// The row being matched.
pub(super) struct Wanted<'a> {
    /// `account` or `item`, for notes.
    pub what: &'static str,
    pub name: &'a str,
    /// The number/SKU to match on, `None` when matching by name only.
    pub key: Option<&'a str>,
    /// Whether QBO refuses a second object with the same key (account numbers: yes; SKUs: no).
    pub key_unique: bool,
    /// Appended to the name on a conflict.
    pub conflict_suffix: &'a str,
}

/// Applies the rules. `compatible` says whether an object can serve this row (`Ok(notes)`) or
/// why not (`Err(reason)`, e.g. "it is an Income account"); `claimed` holds the ids already
/// used for other rows in this run.
pub(super) fn decide<T: Existing>(
    existing: &[T],
    claimed: &HashSet<String>,
    wanted: &Wanted<'_>,
    compatible: impl Fn(&T) -> Result<Vec<String>, String>,
) -> Result<Decision, NamesTaken> {
    let mut notes = Vec::new();
    let mut send_key = true;
    let free = |e: &&T| !claimed.contains(e.id());

    if let Some(key) = wanted.key {
        let mut by_key: Vec<(usize, &T)> = existing
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key().is_some_and(|k| k.trim().eq_ignore_ascii_case(key)))
            .collect();
        by_key.sort_by_key(|(_, e)| !e.is_active());
        for (index, e) in by_key {
            let verdict = if free(&e) {
                compatible(e)
            } else {
                Err("it is already used for another Express object".to_owned())
            };
            match verdict {
                Ok(more) => {
                    if !same_name(e.name(), wanted.name) {
                        notes.push(format!(
                            "Found by its number {key} under the name \"{}\".",
                            e.name()
                        ));
                    }
                    notes.extend(more);
                    let reactivate_as = (!e.is_active()).then(|| {
                        let base = base_name(e.name());
                        if active_name_taken(existing, base, e.id()) {
                            e.name().to_owned()
                        } else {
                            base.to_owned()
                        }
                    });
                    return Ok(Decision::Use {
                        index,
                        reactivate_as,
                        notes,
                    });
                }
                Err(why) => {
                    let state = if e.is_active() { "" } else { "inactive " };
                    notes.push(format!(
                        "The number {key} is already used by the {state}{} \"{}\", which Express setup cannot use ({why}); it was left alone.",
                        wanted.what,
                        e.name()
                    ));
                    if wanted.key_unique {
                        send_key = false;
                    }
                }
            }
        }
    }

    let names = [
        wanted.name.to_owned(),
        with_suffix(wanted.name, wanted.conflict_suffix),
    ];
    let mut last_conflict = String::new();
    for (attempt, name) in names.iter().enumerate() {
        let active = existing
            .iter()
            .enumerate()
            .find(|(_, e)| e.is_active() && same_name(e.name(), name));
        if let Some((index, e)) = active {
            let verdict = if free(&e) {
                compatible(e)
            } else {
                Err("it is already used for another Express object".to_owned())
            };
            match verdict {
                Ok(more) => {
                    if attempt > 0 {
                        notes.push(format!(
                            "Uses \"{name}\" because \"{}\" belongs to something else.",
                            wanted.name
                        ));
                    }
                    notes.extend(more);
                    return Ok(Decision::Use {
                        index,
                        reactivate_as: None,
                        notes,
                    });
                }
                Err(why) => {
                    notes.push(format!(
                        "The name \"{name}\" is already used by another {} ({why}); it was left alone.",
                        wanted.what
                    ));
                    last_conflict = why;
                    continue;
                }
            }
        }
        let inactive = existing.iter().enumerate().find(|(_, e)| {
            !e.is_active()
                && same_name(base_name(e.name()), name)
                && free(e)
                && compatible(e).is_ok()
        });
        if let Some((index, e)) = inactive {
            notes.extend(compatible(e).unwrap_or_default());
            return Ok(Decision::Use {
                index,
                reactivate_as: Some(name.clone()),
                notes,
            });
        }
        return Ok(Decision::Create {
            name: name.clone(),
            send_key,
            under_other_name: attempt > 0,
            notes,
        });
    }
    Err(NamesTaken {
        name: names[0].clone(),
        other_name: names[1].clone(),
        why: last_conflict,
    })
}

/// QBO compares names case-insensitively.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The name before QBO's ` (deleted)` / ` (deleted-2)` suffix for inactive objects.
pub(super) fn base_name(name: &str) -> &str {
    if let Some(i) = name.rfind(" (deleted") {
        let tail = &name[i + " (deleted".len()..];
        let ok = tail == ")"
            || (tail.starts_with('-')
                && tail.ends_with(')')
                && tail[1..tail.len() - 1].bytes().all(|b| b.is_ascii_digit()));
        if ok {
            return &name[..i];
        }
    }
    name
}

fn active_name_taken<T: Existing>(existing: &[T], name: &str, except: &str) -> bool {
    existing
        .iter()
        .any(|e| e.is_active() && e.id() != except && same_name(e.name(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Obj {
        id: &'static str,
        name: &'static str,
        key: Option<&'static str>,
        active: bool,
        ok: bool,
    }

    impl Existing for Obj {
        fn id(&self) -> &str {
            self.id
        }
        fn name(&self) -> &str {
            self.name
        }
        fn key(&self) -> Option<&str> {
            self.key
        }
        fn is_active(&self) -> bool {
            self.active
        }
    }

    fn obj(id: &'static str, name: &'static str, key: Option<&'static str>) -> Obj {
        Obj {
            id,
            name,
            key,
            active: true,
            ok: true,
        }
    }

    fn wanted(key: Option<&'static str>) -> Wanted<'static> {
        Wanted {
            what: "account",
            name: "TrackTik Service Income",
            key,
            key_unique: true,
            conflict_suffix: " (Ledgerbridge)",
        }
    }

    fn run(existing: &[Obj], key: Option<&'static str>) -> Result<Decision, NamesTaken> {
        decide(existing, &HashSet::new(), &wanted(key), |o: &Obj| {
            if o.ok {
                Ok(vec![])
            } else {
                Err("it is a Bank account".into())
            }
        })
    }

    #[test]
    fn the_number_wins_over_the_name() {
        let existing = [
            obj("1", "TrackTik Service Income", None),
            obj("2", "Consulting", Some("TT-2000")),
        ];
        let Ok(Decision::Use { index, notes, .. }) = run(&existing, Some("TT-2000")) else {
            panic!("expected a match");
        };
        assert_eq!(index, 1);
        assert!(notes[0].contains("Consulting"), "{notes:?}");
    }

    #[test]
    fn names_match_case_insensitively_when_numbers_are_not_used() {
        let existing = [obj("1", "tracktik service INCOME", Some("4000"))];
        assert!(matches!(
            run(&existing, None),
            Ok(Decision::Use {
                index: 0,
                reactivate_as: None,
                ..
            })
        ));
    }

    #[test]
    fn an_inactive_match_is_reactivated_under_its_original_name() {
        let mut o = obj("1", "TrackTik Service Income (deleted)", None);
        o.active = false;
        let d = run(&[o], None).unwrap();
        assert_eq!(
            d,
            Decision::Use {
                index: 0,
                reactivate_as: Some("TrackTik Service Income".into()),
                notes: vec![]
            }
        );
        assert_eq!(base_name("A (deleted-12)"), "A");
        assert_eq!(base_name("A (deleted stuff)"), "A (deleted stuff)");
    }

    #[test]
    fn an_incompatible_name_holder_leads_to_the_suffixed_name() {
        let mut o = obj("1", "TrackTik Service Income", None);
        o.ok = false;
        let Ok(Decision::Create {
            name,
            under_other_name,
            send_key,
            notes,
        }) = run(&[o], Some("TT-2000"))
        else {
            panic!("expected a create");
        };
        assert_eq!(name, "TrackTik Service Income (Ledgerbridge)");
        assert!(under_other_name && send_key);
        assert!(notes[0].contains("Bank account"), "{notes:?}");
    }

    #[test]
    fn an_incompatible_number_holder_keeps_its_number_and_ours_is_not_sent() {
        let mut o = obj("1", "Bank fees", Some("TT-2000"));
        o.ok = false;
        let Ok(Decision::Create { name, send_key, .. }) = run(&[o], Some("TT-2000")) else {
            panic!("expected a create");
        };
        assert_eq!(name, "TrackTik Service Income");
        assert!(!send_key);
    }

    #[test]
    fn both_names_taken_is_an_error() {
        let mut a = obj("1", "TrackTik Service Income", None);
        a.ok = false;
        let mut b = obj("2", "TrackTik Service Income (Ledgerbridge)", None);
        b.ok = false;
        assert!(run(&[a, b], None).is_err());
    }

    #[test]
    fn an_object_claimed_by_another_row_is_not_used_twice() {
        let existing = [obj("1", "TrackTik Service Income", None)];
        let claimed: HashSet<String> = ["1".to_owned()].into();
        let d = decide(&existing, &claimed, &wanted(None), |_| Ok(vec![])).unwrap();
        assert!(matches!(
            d,
            Decision::Create {
                under_other_name: true,
                ..
            }
        ));
    }
}
