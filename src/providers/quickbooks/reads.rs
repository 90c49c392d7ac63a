//! Reads: queries (followed to the last page), counts, the company's info and preferences.

use reqwest::Method;
use serde_json::Value;

use super::client::{parse_json, unwrap_entity};
use super::error::QboError;
use super::models::{CompanyInfo, Entity, Preferences};
use super::{Company, QuickBooksClient};

impl QuickBooksClient {
    /// Runs a query and follows it to the last page. `statement` is a `SELECT * FROM …` without
    /// `STARTPOSITION`/`MAXRESULTS`.
    pub async fn query<E: Entity>(
        &self,
        co: &Company<'_>,
        statement: &str,
    ) -> Result<Vec<E>, QboError> {
        const PAGE: usize = 1000;
        let mut all = Vec::new();
        let mut start = 1;
        loop {
            let page: Vec<E> = self.query_page(co, statement, start, PAGE).await?;
            let n = page.len();
            all.extend(page);
            if n < PAGE {
                return Ok(all);
            }
            start += PAGE;
        }
    }

    /// One page of a query.
    pub async fn query_page<E: Entity>(
        &self,
        co: &Company<'_>,
        statement: &str,
        start: usize,
        max: usize,
    ) -> Result<Vec<E>, QboError> {
        let statement = format!("{statement} STARTPOSITION {start} MAXRESULTS {max}");
        let mut call = self.call(Method::POST, "query".to_owned());
        call.body = Some((statement, "application/text"));
        let text = self.send(co, call).await?;
        let value: Value = parse_json(&text, "query response")?;
        let rows = value
            .get("QueryResponse")
            .and_then(|q| q.get(E::NAME))
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        serde_json::from_value(rows).map_err(|e| QboError::InvalidResponse {
            context: format!("{} query rows", E::NAME),
            detail: e.to_string(),
        })
    }

    /// `SELECT count(*) FROM …`.
    pub async fn count(&self, co: &Company<'_>, statement: &str) -> Result<u64, QboError> {
        let mut call = self.call(Method::POST, "query".to_owned());
        call.body = Some((statement.to_owned(), "application/text"));
        let text = self.send(co, call).await?;
        let value: Value = parse_json(&text, "count response")?;
        Ok(value
            .get("QueryResponse")
            .and_then(|q| q.get("totalCount"))
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// The company's name, country and address.
    pub async fn company_info(&self, co: &Company<'_>) -> Result<CompanyInfo, QboError> {
        self.read::<CompanyInfo>(co, co.realm_id).await
    }

    /// The company's preferences (currency, tax, account numbers, class/location tracking).
    pub async fn preferences(&self, co: &Company<'_>) -> Result<Preferences, QboError> {
        let body = self
            .send(co, self.call(Method::GET, "preferences".to_owned()))
            .await?;
        unwrap_entity(&body, "Preferences")
    }
}
