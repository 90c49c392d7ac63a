//! Memo and document-number templates: `{number}`, `{client}`, `{period_start}`,
//! `{period_end}`, `{invoice_date}`. A placeholder this module does not know, or a brace that
//! opens no placeholder, is kept literally, so a customer's typo shows up in the preview
//! instead of vanishing. A known placeholder without a value becomes empty.

use chrono::NaiveDate;

/// QBO's limit on `PrivateNote`, in characters.
pub const MAX_PRIVATE_NOTE: usize = 4000;

/// The values a template can use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateVars {
    /// TrackTik's document number.
    pub number: String,
    /// The client's name.
    pub client: Option<String>,
    /// First day of the service or pay period.
    pub period_start: Option<NaiveDate>,
    /// Last day of the service or pay period.
    pub period_end: Option<NaiveDate>,
    /// The invoice date.
    pub invoice_date: Option<NaiveDate>,
}

impl TemplateVars {
    /// Only a document number.
    pub fn number(number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            ..Self::default()
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        Some(match name {
            "number" => self.number.clone(),
            "client" => self.client.clone().unwrap_or_default(),
            "period_start" => date(self.period_start),
            "period_end" => date(self.period_end),
            "invoice_date" => date(self.invoice_date),
            _ => return None,
        })
    }
}

/// Fills the placeholders of `template`.
pub fn render(template: &str, vars: &TemplateVars) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after.find('}').and_then(|close| {
            let name = &after[..close];
            vars.value(name).map(|v| (v, close))
        });
        match known {
            Some((value, close)) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Cuts `text` to at most `max` characters, ending with `…` when it was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A QBO private note from the memo template: rendered, trimmed, at most 4000 characters;
/// `None` when it renders empty.
pub fn private_note(template: &str, vars: &TemplateVars) -> Option<String> {
    let text = render(template, vars);
    let text = text.trim();
    (!text.is_empty()).then(|| truncate(text, MAX_PRIVATE_NOTE))
}
