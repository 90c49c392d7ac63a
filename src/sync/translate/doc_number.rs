//! QBO document numbers: TrackTik's number through the customer's template, made to fit QBO's
//! 21-character `DocNumber`.
//!
//! # The shortening rule
//!
//! A rendered number of at most [`MAX_DOC_NUMBER`] (21) characters is used unchanged. A longer
//! one becomes
//!
//! ```text
//! <its first 12 characters> "~" <8 characters of its fingerprint>
//! ```
//!
//! where the fingerprint is the SHA-256 digest of the **whole** rendered number (UTF-8 bytes),
//! its first 40 bits written in Crockford base 32 (`0-9A-Z` without `I L O U`), most
//! significant first. Example: `ACME-SECURITY-TORONTO-INV-000123` → `ACME-SECURIT~` + 8
//! characters. Characters are Unicode scalar values, as QBO counts them.
//!
//! Why this shape: the prefix keeps the number recognisable in QBO lists; the `~` shows it was
//! shortened; 40 bits make two different long numbers that share their first 12 characters
//! collide with probability 2⁻⁴⁰ per pair (about one in a million for 1,000 such numbers of
//! one customer). SHA-256 never changes between Rust versions or machines, unlike
//! `DefaultHasher`, so a document keeps its number across releases and the duplicate check of
//! the exactly-once ledger keeps working. The full TrackTik number stays in the private note
//! (default memo template) and in the ledger.
//!
//! Limits, stated honestly: no 21-character scheme can keep every pair of longer strings
//! apart (there are fewer outputs than inputs); and a number that is *already* 21 characters
//! or fewer and happens to look like a shortened one (12 characters, `~`, 8 base-32
//! characters) could equal a shortened long number. Both are vanishingly unlikely for real
//! invoice numbers.

use sha2::{Digest, Sha256};

use super::template::{TemplateVars, render};

/// QBO's limit on `DocNumber`, in characters.
pub const MAX_DOC_NUMBER: usize = 21;

/// Characters of the original kept in front of a shortened number.
const KEPT: usize = 12;

/// Crockford's base-32 alphabet.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The QBO `DocNumber` for a TrackTik document number under `template` (`{number}` is
/// replaced; other placeholders are left as they are unless [`doc_number_with`] fills them).
pub fn doc_number(tracktik_number: &str, template: &str) -> String {
    doc_number_with(template, &TemplateVars::number(tracktik_number))
}

/// The QBO `DocNumber` for `template` with every placeholder of `vars` filled in, shortened by
/// [`fit_doc_number`].
pub fn doc_number_with(template: &str, vars: &TemplateVars) -> String {
    fit_doc_number(render(template, vars).trim())
}

/// Applies the module's shortening rule: unchanged when it fits, else prefix + `~` + hash.
pub fn fit_doc_number(rendered: &str) -> String {
    if rendered.chars().count() <= MAX_DOC_NUMBER {
        return rendered.to_owned();
    }
    let mut out: String = rendered.chars().take(KEPT).collect();
    out.push('~');
    out.push_str(&fingerprint(rendered));
    out
}

/// Whether [`fit_doc_number`] had to shorten `rendered`.
pub fn is_shortened(rendered: &str) -> bool {
    rendered.chars().count() > MAX_DOC_NUMBER
}

/// First 40 bits of SHA-256(text), as 8 Crockford base-32 characters.
fn fingerprint(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let bits = digest[..5]
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    (0..8)
        .rev()
        .map(|i| char::from(BASE32[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}
