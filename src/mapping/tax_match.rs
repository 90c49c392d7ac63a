//! TrackTik tax classes matched to a non-US company's QuickBooks tax codes, by rate and name:
//! "ON HST" (HST 13 %) → "HST ON" (13 %), "BC GST + PST" (5 % + 7 %) → "GST/PST BC" (12 %),
//! "Tax Exempt" (no rate) → "Exempt" (0 %). Pure; the wizard reads the lists.
//!
//! The rule: the active codes whose sales rates add up to the class's rates are the
//! candidates. One candidate is the match. Several are told apart by the words of their names
//! (the class's name and its component codes, in any order and case): the one sharing the most
//! words is the match, unless two share as many. No candidate, or several that names cannot
//! separate, leave the class to the customer with the candidates listed.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

/// A TrackTik tax class to match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRates {
    /// TrackTik id.
    pub id: i64,
    /// Its name ("ON HST").
    pub name: String,
    /// Its component codes ("HST"; "GST", "PST").
    pub components: Vec<String>,
    /// The sum of its component percentages; `None` when TrackTik did not send them.
    pub rate: Option<Decimal>,
}

/// A QuickBooks tax code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRates {
    /// QBO id.
    pub id: String,
    /// Its name ("HST ON").
    pub name: String,
    /// Active in QBO (inactive codes are never proposed).
    pub active: bool,
    /// The sum of its sales tax rates, when they could be read.
    pub rate: Option<Decimal>,
}

/// What matching found for one class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaxMatch {
    /// Exactly this code.
    Matched(String),
    /// Several codes charge the class's rate and their names do not tell them apart.
    Several(Vec<String>),
    /// No code charges the class's rate; codes whose names share words with it, best first.
    Nothing(Vec<String>),
}

fn words(s: &str) -> BTreeSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn class_words(class: &ClassRates) -> BTreeSet<String> {
    let mut w = words(&class.name);
    for c in &class.components {
        w.extend(words(c));
    }
    w
}

fn shared(a: &BTreeSet<String>, code: &CodeRates) -> usize {
    words(&code.name).intersection(a).count()
}

/// Matches one class against the company's codes.
pub fn match_class(class: &ClassRates, codes: &[CodeRates]) -> TaxMatch {
    let mine = class_words(class);
    let active: Vec<&CodeRates> = codes.iter().filter(|c| c.active).collect();
    let by_name = |pool: &[&CodeRates]| -> Vec<(usize, String)> {
        let mut scored: Vec<(usize, String)> = pool
            .iter()
            .map(|c| (shared(&mine, c), c.id.clone()))
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored
    };
    let pool: Vec<&CodeRates> = match class.rate {
        Some(rate) => active
            .iter()
            .copied()
            .filter(|c| c.rate == Some(rate))
            .collect(),
        // Without TrackTik's rates only a name with exactly the same words is trusted.
        None => {
            let same: Vec<&CodeRates> = active
                .iter()
                .copied()
                .filter(|c| words(&c.name) == mine)
                .collect();
            return match same.as_slice() {
                [one] => TaxMatch::Matched(one.id.clone()),
                [] => TaxMatch::Nothing(by_name(&active).into_iter().map(|x| x.1).collect()),
                many => TaxMatch::Several(many.iter().map(|c| c.id.clone()).collect()),
            };
        }
    };
    match pool.as_slice() {
        [one] => TaxMatch::Matched(one.id.clone()),
        [] => TaxMatch::Nothing(by_name(&active).into_iter().map(|x| x.1).collect()),
        many => {
            let scored = by_name(many);
            match scored.as_slice() {
                [(best, id), rest @ ..] if rest.first().is_none_or(|(s, _)| s < best) => {
                    TaxMatch::Matched(id.clone())
                }
                _ => TaxMatch::Several(many.iter().map(|c| c.id.clone()).collect()),
            }
        }
    }
}

/// `13` → "13 %", `4.875` → "4.875 %".
pub fn percent(rate: Decimal) -> String {
    format!("{} %", rate.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn class(id: i64, name: &str, parts: &[(&str, &str)]) -> ClassRates {
        ClassRates {
            id,
            name: name.into(),
            components: parts.iter().map(|(c, _)| (*c).to_owned()).collect(),
            rate: Some(parts.iter().map(|(_, r)| d(r)).sum()),
        }
    }

    fn code(id: &str, name: &str, rate: &str) -> CodeRates {
        CodeRates {
            id: id.into(),
            name: name.into(),
            active: true,
            rate: Some(d(rate)),
        }
    }

    /// The Canadian sandbox company's codes.
    fn canada() -> Vec<CodeRates> {
        vec![
            code("1", "GST", "5"),
            code("2", "HST ON", "13"),
            code("3", "GST/PST BC", "12"),
            code("4", "Zero-rated", "0"),
            code("5", "Exempt", "0"),
        ]
    }

    #[test]
    fn canadian_classes_find_their_codes_by_rate_and_name() {
        let codes = canada();
        let m = |c: &ClassRates| match_class(c, &codes);
        assert_eq!(
            m(&class(3, "ON HST", &[("HST", "13.00")])),
            TaxMatch::Matched("2".into())
        );
        assert_eq!(
            m(&class(5, "BC GST + PST", &[("GST", "5"), ("PST", "7")])),
            TaxMatch::Matched("3".into())
        );
        assert_eq!(
            m(&class(9, "AB GST", &[("GST", "5")])),
            TaxMatch::Matched("1".into())
        );
        assert_eq!(
            m(&class(2, "Tax Exempt", &[])),
            TaxMatch::Matched("5".into()),
            "two codes charge 0 %; the name tells them apart"
        );
    }

    #[test]
    fn a_rate_no_code_charges_is_left_to_the_customer_with_the_closest_names() {
        let codes = canada();
        assert_eq!(
            match_class(
                &class(7, "QC GST + QST", &[("GST", "5"), ("QST", "9.975")]),
                &codes
            ),
            TaxMatch::Nothing(vec!["1".into(), "3".into()])
        );
        assert_eq!(
            match_class(
                &class(
                    8,
                    "NYC Sales Tax",
                    &[("NYS", "4"), ("NYC", "4.5"), ("MCTD", "0.375")]
                ),
                &codes
            ),
            TaxMatch::Nothing(vec![])
        );
    }

    #[test]
    fn codes_names_cannot_separate_are_listed_and_inactive_codes_never_match() {
        let mut codes = canada();
        codes.push(code("6", "HST ON (old)", "13"));
        assert_eq!(
            match_class(&class(3, "ON HST", &[("HST", "13")]), &codes),
            TaxMatch::Several(vec!["2".into(), "6".into()])
        );
        codes[1].active = false;
        assert_eq!(
            match_class(&class(3, "ON HST", &[("HST", "13")]), &codes),
            TaxMatch::Matched("6".into())
        );
        assert_eq!(
            match_class(&class(4, "Harmonized", &[("X", "0")]), &canada()),
            TaxMatch::Several(vec!["4".into(), "5".into()])
        );
    }

    #[test]
    fn without_rates_only_the_same_words_match() {
        let unknown = ClassRates {
            id: 1,
            name: "hst on".into(),
            components: vec![],
            rate: None,
        };
        assert_eq!(
            match_class(&unknown, &canada()),
            TaxMatch::Matched("2".into())
        );
        assert_eq!(percent(d("13.000")), "13 %");
        assert_eq!(percent(d("4.875")), "4.875 %");
    }
}
