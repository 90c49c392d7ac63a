//! Batch requests: up to 30 creates, updates or deletes in one call, each answered on its own.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::client::parse_json;
use super::error::{Fault, QboError, parse_fault};
use super::models::Entity;
use super::{Company, MAX_BATCH_ITEMS, QuickBooksClient, RequestId};

/// What a batch item does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchOperation {
    /// Create the entity.
    Create,
    /// Update it (full or sparse).
    Update,
    /// Delete a transaction.
    Delete,
}

/// One item of a batch request.
#[derive(Clone, Debug)]
pub struct BatchItem {
    /// Our id for the item (at most 10 characters when a request id is used).
    pub b_id: String,
    /// What to do.
    pub operation: BatchOperation,
    /// The entity's JSON key, e.g. `Invoice`.
    pub entity: &'static str,
    /// The entity as JSON.
    pub payload: Value,
}

impl BatchItem {
    /// A create of `entity`.
    pub fn create<E: Entity>(b_id: impl Into<String>, entity: &E) -> Result<Self, QboError> {
        Ok(Self {
            b_id: b_id.into(),
            operation: BatchOperation::Create,
            entity: E::NAME,
            payload: serde_json::to_value(entity).map_err(|e| QboError::InvalidResponse {
                context: format!("serialising a {}", E::NAME),
                detail: e.to_string(),
            })?,
        })
    }
}

/// The answer to one batch item.
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    /// The item's id.
    pub b_id: String,
    /// The entity as QBO saved it, or the fault that refused it.
    pub result: Result<Value, Fault>,
}

impl BatchOutcome {
    /// The saved entity, typed.
    pub fn entity<E: Entity>(&self) -> Result<E, QboError> {
        match &self.result {
            Ok(v) => serde_json::from_value(v.clone()).map_err(|e| QboError::InvalidResponse {
                context: format!("batch item {} ({})", self.b_id, E::NAME),
                detail: e.to_string(),
            }),
            Err(fault) => Err(QboError::Rejected {
                status: 200,
                fault: fault.clone(),
                intuit_tid: None,
            }),
        }
    }
}

impl QuickBooksClient {
    /// Sends up to 30 items in one request. Per-item faults come back per item; the request id
    /// replays the whole batch on a retry.
    pub async fn batch(
        &self,
        co: &Company<'_>,
        items: &[BatchItem],
        request_id: &RequestId,
    ) -> Result<Vec<BatchOutcome>, QboError> {
        assert!(
            !items.is_empty() && items.len() <= MAX_BATCH_ITEMS,
            "a batch holds 1 to 30 items"
        );
        let requests: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut v = serde_json::json!({ "bId": item.b_id, "operation": item.operation });
                v[item.entity] = item.payload.clone();
                v
            })
            .collect();
        let body = serde_json::json!({ "BatchItemRequest": requests }).to_string();
        self.batch_text(co, &body, request_id).await
    }

    /// Sends a batch body exactly as given (a batch recorded before it was sent is sent again
    /// byte for byte), under `request_id`. Each item's entity is read from the body.
    pub async fn batch_text(
        &self,
        co: &Company<'_>,
        body: &str,
        request_id: &RequestId,
    ) -> Result<Vec<BatchOutcome>, QboError> {
        let sent: Value = parse_json(body, "batch request")?;
        let requests = sent
            .get("BatchItemRequest")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty() && r.len() <= MAX_BATCH_ITEMS)
            .ok_or_else(|| QboError::InvalidResponse {
                context: "batch request".into(),
                detail: "a batch holds 1 to 30 items".into(),
            })?;
        // bId → the entity key of its request.
        let entity_of: Vec<(String, String)> = requests
            .iter()
            .filter_map(|r| {
                let b_id = r.get("bId")?.as_str()?.to_owned();
                let entity = r
                    .as_object()?
                    .keys()
                    .find(|k| !matches!(k.as_str(), "bId" | "operation" | "optionsData"))?
                    .clone();
                Some((b_id, entity))
            })
            .collect();
        let mut call = self.call(Method::POST, "batch".to_owned());
        call.request_id = Some(request_id);
        call.body = Some((body.to_owned(), "application/json"));
        call.weight = requests.len();
        call.batch = true;
        let text = self.send(co, call).await?;
        let value: Value = parse_json(&text, "batch response")?;
        let responses = value
            .get("BatchItemResponse")
            .and_then(Value::as_array)
            .ok_or_else(|| QboError::InvalidResponse {
                context: "batch response".into(),
                detail: "no BatchItemResponse".into(),
            })?;
        Ok(responses
            .iter()
            .map(|r| {
                let b_id = r
                    .get("bId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let result = match r.get("Fault") {
                    Some(f) => Err(parse_fault(&serde_json::json!({ "Fault": f }).to_string())),
                    None => {
                        let entity = entity_of
                            .iter()
                            .find(|(b, _)| *b == b_id)
                            .map(|(_, e)| e.as_str())
                            .unwrap_or_default();
                        r.get(entity).cloned().ok_or_else(Fault::default)
                    }
                };
                BatchOutcome { b_id, result }
            })
            .collect())
    }
}
