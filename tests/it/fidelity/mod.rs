//! The fidelity suite: real QuickBooks traffic recorded in public repositories, rewritten as our
//! own fixtures (`tests/fixtures/quickbooks/fidelity/*.json`, each naming its source repository
//! and path), replayed against the QuickBooks sandbox and compared structurally: status,
//! envelope, keys at every level, value types, formats and fault codes.
//!
//! A fixture:
//! ```json
//! {"source": {"repository": "…", "path": "…"}, "notes": "…",
//!  "company": "us" | "ca", "settings": {…control API settings…},
//!  "setup": [{"method": "POST", "path": "vendor", "body": {…}, "save": "v"}],
//!  "request": {"method": "GET", "path": "vendor/{{v.Vendor.Id}}", "token": "expired"?},
//!  "expect": {"status": 200, "body": {…the recorded shape, with our own values…}},
//!  "known_difference": "why the sandbox still differs" (optional)}
//! ```
//! Paths are relative to `/v3/company/{realmId}/`; `{{name.a.b}}` is a value from a saved answer.

mod compare;

use std::collections::HashMap;
use std::path::PathBuf;

use ledgerbridge::sandbox::quickbooks::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Options, start};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn fixtures() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quickbooks/fidelity");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the fidelity fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("fixture readable");
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, v)
        })
        .collect()
}

/// Replaces `{{name.path}}` with values from saved answers.
fn fill(text: &str, saved: &HashMap<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let key = &rest[start + 2..start + end];
        let mut parts = key.split('.');
        let mut cur = parts
            .next()
            .and_then(|n| saved.get(n))
            .cloned()
            .unwrap_or(Value::Null);
        for p in parts {
            cur = cur.get(p).cloned().unwrap_or(Value::Null);
        }
        match cur {
            Value::String(s) => out.push_str(&s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

fn fill_value(v: &Value, saved: &HashMap<String, Value>) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s, saved)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_value(x, saved)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), fill_value(x, saved)))
                .collect(),
        ),
        other => other.clone(),
    }
}

struct Company {
    realm: String,
    token: String,
}

async fn company(http: &reqwest::Client, base: &str, case: &Value) -> Company {
    let flavour = case["company"].as_str().unwrap_or("us");
    let created: Value = http
        .post(format!("{base}/__sandbox/companies"))
        .json(&json!({"flavour": flavour}))
        .send()
        .await
        .expect("create company")
        .json()
        .await
        .expect("company json");
    let realm = created["realmId"].as_str().expect("realmId").to_string();
    if let Some(settings) = case.get("settings") {
        let r = http
            .post(format!("{base}/__sandbox/companies/{realm}/settings"))
            .json(settings)
            .send()
            .await
            .expect("settings");
        assert!(r.status().is_success());
    }
    let code: Value = http
        .post(format!("{base}/__sandbox/oauth/code"))
        .json(&json!({"client_id": DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": realm}))
        .send()
        .await
        .expect("code")
        .json()
        .await
        .expect("code json");
    let tokens: Value = http
        .post(format!("{base}/oauth2/v1/tokens/bearer"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code["code"].as_str().expect("code")),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    Company { realm, token }
}

/// Sends one request of a fixture; returns status and JSON body (`Null` if not JSON).
async fn send(
    http: &reqwest::Client,
    base: &str,
    co: &Company,
    step: &Value,
    saved: &HashMap<String, Value>,
) -> (u16, Value) {
    let method = step["method"].as_str().unwrap_or("GET");
    let path = fill(step["path"].as_str().unwrap_or_default(), saved);
    let url = format!("{base}/v3/company/{}/{path}", co.realm);
    let mut req = match method {
        "POST" => http.post(&url),
        _ => http.get(&url),
    };
    if let Some(q) = step.get("query").and_then(Value::as_object) {
        let pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.clone(), fill(v.as_str().unwrap_or_default(), saved)))
            .collect();
        req = req.query(&pairs);
    }
    let token = match step["token"].as_str() {
        Some(t) => t.to_string(),
        None => co.token.clone(),
    };
    req = req.bearer_auth(token).header("Accept", "application/json");
    if let Some(text) = step.get("text").and_then(Value::as_str) {
        req = req
            .header("Content-Type", "application/text")
            .body(fill(text, saved));
    } else if let Some(body) = step.get("body") {
        req = req.json(&fill_value(body, saved));
    }
    let r = req.send().await.expect("sandbox answers");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Runs one case; returns its differences from the recording.
async fn run_case(http: &reqwest::Client, base: &str, case: &Value) -> Vec<String> {
    let co = company(http, base, case).await;
    let mut saved: HashMap<String, Value> = HashMap::new();
    saved.insert("realm".into(), Value::String(co.realm.clone()));
    for step in case["setup"].as_array().into_iter().flatten() {
        let (status, body) = send(http, base, &co, step, &saved).await;
        assert_eq!(status, 200, "setup step {step} answered {status}: {body}");
        if let Some(name) = step["save"].as_str() {
            saved.insert(name.to_string(), body);
        }
    }
    let request = &case["request"];
    if request["token"] == "expired" {
        http.post(format!("{base}/__sandbox/tokens/expire"))
            .json(&json!({"realm_id": co.realm}))
            .send()
            .await
            .expect("expire");
    }
    let mut step = request.clone();
    if step["token"] == "expired" {
        step.as_object_mut().map(|m| m.remove("token"));
    }
    let (status, body) = send(http, base, &co, &step, &saved).await;
    let expect = &case["expect"];
    let mut diffs = Vec::new();
    if expect["status"].as_u64() != Some(u64::from(status)) {
        diffs.push(format!(
            "status: recorded {}, the sandbox answers {status}",
            expect["status"]
        ));
    }
    diffs.extend(compare::differences(&expect["body"], &body));
    diffs
}

#[tokio::test]
async fn the_sandbox_answers_every_recorded_quickbooks_exchange_in_the_recorded_shape() {
    let running = start(Options::default()).await.expect("sandbox starts");
    let base = running.base_url().to_string();
    let http = reqwest::Client::new();
    http.post(format!("{base}/__sandbox/rate-limits"))
        .json(&json!({"enforce": false}))
        .send()
        .await
        .expect("rate limits off");
    let cases = fixtures();
    assert!(cases.len() >= 30, "the suite holds {} cases", cases.len());
    let mut matched = 0;
    let mut unexpected = Vec::new();
    let mut report = Vec::new();
    for (name, case) in &cases {
        for key in ["repository", "path"] {
            assert!(
                case["source"][key].is_string(),
                "{name} names its source {key}"
            );
        }
        let diffs = run_case(&http, &base, case).await;
        let known = case["known_difference"].as_str();
        match (diffs.is_empty(), known) {
            (true, None) => matched += 1,
            (true, Some(_)) => unexpected.push(format!(
                "{name} now matches: remove its known_difference (and from docs/sandbox-quickbooks.md)"
            )),
            (false, Some(why)) => report.push(format!("{name} differs (known: {why}):\n  {}", diffs.join("\n  "))),
            (false, None) => unexpected.push(format!("{name}:\n  {}", diffs.join("\n  "))),
        }
    }
    println!(
        "fidelity: {matched} of {} recorded cases match ({:.0} %)",
        cases.len(),
        100.0 * f64::from(matched) / cases.len() as f64
    );
    for r in &report {
        println!("{r}");
    }
    running.shutdown();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
