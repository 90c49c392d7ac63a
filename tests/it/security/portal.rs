//! Where the server connects when a customer names a portal (issue 16, items 1 and 2): only
//! TrackTik's domains, never a loopback or private address, no user info, the client secret
//! to nobody else, capped answers, sign-ins limited per address, and one tenant per portal.
//!
//! Every address below that is not loopback is only ever typed into a form or checked by the
//! guard: nothing in these tests sends traffic anywhere but 127.0.0.0/8.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use base64::Engine;
use ledgerbridge::providers::tracktik::{AccessToken, Portal, TrackTikError};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};
use secrecy::SecretString;

use crate::helpers::{Sandboxes, TestApp, TestSettings, client, location};

/// A local listener that must never be connected to.
pub(super) struct Untouched(TcpListener);

impl Untouched {
    pub(super) fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self(listener)
    }

    pub(super) fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    pub(super) fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("{what}: something connected from {from}"),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// A JWT-shaped access token naming `sub` and `iss` (`None`: an opaque token).
pub(super) fn jwt(sub: &str, iss: &str) -> String {
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(serde_json::json!({"typ": "JWT", "alg": "RS256"})),
        enc(serde_json::json!({"sub": sub, "iss": iss, "aud": "ledgerbridge-demo"}))
    )
}

/// A hostile "portal" on loopback: its token endpoint answers `token`, it says the user is an
/// administrator, and `/rest/v1/regions` answers 50 MB. Counts the bytes it produced.
pub(super) struct FakePortal {
    pub(super) base_url: String,
    pub(super) produced: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl FakePortal {
    pub(super) async fn start(token: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let produced = Arc::new(AtomicUsize::new(0));
        let access = token(&base_url);
        let counter = produced.clone();
        let app = Router::new()
            .route(
                "/rest/oauth2/access_token",
                post(move || {
                    let access = access.clone();
                    async move {
                        axum::Json(serde_json::json!({
                            "access_token": access, "token_type": "Bearer",
                            "expires_in": 3600, "refresh_token": "def50200fake"
                        }))
                    }
                }),
            )
            .route(
                "/rest/v1/employees/{id}",
                get(|| async {
                    axum::Json(serde_json::json!({
                        "meta": {"security": {"granted": true, "grantedBy": "admin:*"}},
                        "data": {"id": 7, "name": "Mallory Admin"}
                    }))
                }),
            )
            .route(
                "/rest/v1/regions",
                get(move || {
                    let counter = counter.clone();
                    async move {
                        let chunk = vec![b' '; 64 * 1024];
                        let stream = futures_util::stream::iter((0..800).map(move |_| {
                            counter.fetch_add(chunk.len(), Ordering::Relaxed);
                            Ok::<_, std::io::Error>(chunk.clone())
                        }));
                        Body::from_stream(stream)
                    }
                }),
            );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base_url,
            produced,
            _task: task,
        }
    }
}

/// The `state` of an authorize URL our `/sign-in` redirected to.
pub(super) fn state_of(authorize: &str) -> String {
    reqwest::Url::parse(authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn portal_addresses_off_tracktiks_domains_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let listener = Untouched::new();
    let port = listener.port();
    for typed in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
        "https://10.255.255.1".to_owned(),
        "https://169.254.169.254".to_owned(),
        "https://user:pw@evil.example".to_owned(),
        "https://user:pw@acme.tracktik.com".to_owned(),
        "https://evil.example".to_owned(),
        "https://tracktik.com.evil.example".to_owned(),
    ] {
        let r = app.post_form("/", "/sign-in", &[("portal", &typed)]).await;
        assert_eq!(r.status(), 422, "{typed} is refused");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(r#"id="portal-error""#),
            "the field says why: {html}"
        );
    }
    listener.assert_untouched("the sign-in form");
    assert_eq!(count(&app, "tenant").await, 0);
}

#[tokio::test]
async fn a_portal_name_that_resolves_to_loopback_is_refused_before_any_connection() {
    // `localhost` is put on the allow-list so that the name passes the first check and only
    // the address check after DNS resolution stands in the way.
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("TRACKTIK_PORTAL_DOMAINS", "tracktik.com,localhost".into());
    let app = TestApp::spawn_with(settings).await;
    let listener = Untouched::new();
    let portal = format!("https://localhost:{}", listener.port());
    let start = app.post_form("/", "/sign-in", &[("portal", &portal)]).await;
    assert_eq!(start.status(), 303, "the name is on the list");
    let authorize = location(&start);
    assert!(authorize.starts_with(&portal), "{authorize}");
    let callback = app
        .get(&format!(
            "/auth/tracktik/callback?code=anything&state={}",
            state_of(&authorize)
        ))
        .await;
    assert_eq!(callback.status(), 400);
    assert!(
        callback
            .text()
            .await
            .unwrap()
            .contains("We do not connect to that address")
    );
    listener.assert_untouched("the code exchange, which carries our client secret");
    assert_eq!(count(&app, "tenant").await, 0);
}

#[tokio::test]
async fn the_tracktik_client_sends_nothing_to_a_refused_address_not_even_the_token_request() {
    let app = TestApp::spawn().await;
    let p = &app.state.providers;
    let listener = Untouched::new();
    let port = listener.port();
    for base in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
        format!("https://user:pw@acme.tracktik.com:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        let portal = Portal::new(&base).unwrap();
        let exchanged = p
            .tracktik
            .exchange_code(&portal, &p.tracktik_app, "code", None)
            .await;
        assert!(
            matches!(exchanged, Err(TrackTikError::Refused { .. })),
            "{base}: {exchanged:?}"
        );
        let refreshed = p
            .tracktik
            .password_grant(
                &portal,
                &p.tracktik_app,
                "demo",
                &SecretString::from("demo".to_owned()),
            )
            .await;
        assert!(
            matches!(refreshed, Err(TrackTikError::Refused { .. })),
            "{base}"
        );
        let read = p
            .tracktik
            .regions(&portal, &AccessToken::new("token"))
            .await;
        assert!(matches!(read, Err(TrackTikError::Refused { .. })), "{base}");
    }
    // Private and link-local addresses are refused by the same check, before any socket.
    for base in ["https://10.255.255.1", "https://169.254.169.254"] {
        let url = reqwest::Url::parse(base).unwrap();
        assert!(matches!(
            app.state.portal_guard.check_url(&url),
            Err(TrackTikError::Refused { .. })
        ));
    }
    listener.assert_untouched("the guarded client");
}

#[tokio::test]
async fn a_huge_answer_is_abandoned_at_the_cap_and_the_sign_in_creates_nothing() {
    let fake = FakePortal::start(|base| jwt("7", base)).await;
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("TRACKTIK_HTTP_PORTALS", fake.base_url.clone());
    let app = TestApp::spawn_with(settings).await;
    let start = app
        .post_form("/", "/sign-in", &[("portal", &fake.base_url)])
        .await;
    assert_eq!(start.status(), 303);
    let callback = app
        .get(&format!(
            "/auth/tracktik/callback?code=anything&state={}",
            state_of(&location(&start))
        ))
        .await;
    assert_eq!(callback.status(), 502);
    assert!(callback.text().await.unwrap().contains("could not reach"));
    assert_eq!(count(&app, "tenant").await, 0, "nothing was set up");
    let produced = fake.produced.load(Ordering::Relaxed);
    assert!(
        produced < 30 * 1024 * 1024,
        "reading stopped near 10 MB, not at 50 MB: {produced} bytes produced"
    );
    // The client says why.
    let portal = Portal::new(&fake.base_url).unwrap();
    let read = app
        .state
        .providers
        .tracktik
        .regions(&portal, &AccessToken::new("token"))
        .await;
    match read {
        Err(e @ TrackTikError::TooLarge { .. }) => {
            assert!(e.to_string().contains("more than 10 MB"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sign_ins_are_limited_per_client_address() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_SIGN_IN_PER_MINUTE", "3".into());
    settings
        .env
        .insert("LEDGERBRIDGE_TRUSTED_PROXIES", "127.0.0.1".into());
    let app = TestApp::spawn_with(settings).await;
    let html = app.get_html("/").await;
    let token = crate::helpers::csrf_token(&html).unwrap();
    let post = |from: &'static str| {
        app.client
            .post(app.url("/sign-in"))
            .header("x-forwarded-for", from)
            .form(&[("portal", "acme.tracktik.com"), ("csrf_token", &token)])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(post("203.0.113.5").await.unwrap().status(), 303);
    }
    let limited = post("203.0.113.5").await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(limited.text().await.unwrap().contains("Try again in"));
    assert_eq!(
        post("198.51.100.7").await.unwrap().status(),
        303,
        "another address has its own allowance"
    );
}

#[tokio::test]
async fn the_shorthand_and_every_spelling_of_a_portal_lead_to_one_canonical_address() {
    let app = TestApp::spawn().await;
    for typed in [
        "acme",
        "ACME.TrackTik.com",
        "https://acme.tracktik.com.",
        "https://acme.tracktik.com:443/rest/v1",
    ] {
        let r = app.post_form("/", "/sign-in", &[("portal", typed)]).await;
        assert_eq!(r.status(), 303, "{typed}");
        assert!(
            location(&r).starts_with("https://acme.tracktik.com/rest/oauth2/authorize?"),
            "{typed}: {}",
            location(&r)
        );
    }
}

#[tokio::test]
async fn two_addresses_of_one_portal_sign_in_to_one_tenant() {
    let sandboxes = Sandboxes::start().await;
    let tt = sandboxes.tracktik.base_url().to_owned();
    let port = sandboxes.tracktik.local_addr().port();
    let alias = format!("http://localhost:{port}");
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("TRACKTIK_HTTP_PORTALS", format!("{tt},{alias}"));
    settings.env.insert(
        "QUICKBOOKS_BASE_URL",
        sandboxes.quickbooks.base_url().to_owned(),
    );
    let mut app = TestApp::spawn_with(settings).await;
    app.sandboxes = Some(sandboxes);
    for typed in [tt.clone(), format!("{alias}/")] {
        let start = app.post_form("/", "/sign-in", &[("portal", &typed)]).await;
        assert_eq!(start.status(), 303, "{typed}");
        let done = app.tracktik_consent(&location(&start), "allow").await;
        assert_eq!(done.status(), 303, "{typed}");
        app.post_form("/integrations", "/sign-out", &[]).await;
    }
    assert_eq!(
        count(&app, "tenant").await,
        1,
        "the portal names itself the same through both addresses"
    );
    assert_eq!(count(&app, "tenant_user").await, 1);
}

#[tokio::test]
async fn a_quickbooks_company_another_tenant_holds_is_refused_naming_support_and_revoked() {
    let sandboxes = Sandboxes::start().await;
    let other = ledgerbridge::sandbox::tracktik::start(ledgerbridge::sandbox::tracktik::Options {
        seed: ledgerbridge::sandbox::tracktik::SeedConfig::small(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut settings = TestSettings::default();
    settings.env.insert(
        "TRACKTIK_HTTP_PORTALS",
        format!("{},{}", sandboxes.tracktik.base_url(), other.base_url()),
    );
    settings.env.insert(
        "QUICKBOOKS_BASE_URL",
        sandboxes.quickbooks.base_url().to_owned(),
    );
    let mut app = TestApp::spawn_with(settings).await;
    app.sandboxes = Some(sandboxes);
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    app.post_form("/integrations", "/sign-out", &[]).await;

    // Another portal, another tenant, the same company.
    let start = app
        .post_form("/", "/sign-in", &[("portal", other.base_url())])
        .await;
    let done = app
        .tracktik_consent_as(
            other.base_url(),
            &location(&start),
            "allow",
            ledgerbridge::sandbox::tracktik::DEMO_USERNAME,
            ledgerbridge::sandbox::tracktik::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(count(&app, "tenant").await, 2);
    let revokes_before = revokes(&app).await;
    let refused = app.connect_quickbooks(US_REALM_ID, None).await;
    assert_eq!(refused.status(), 409);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("connected by another customer")
            && html.contains("contact Ledgerbridge support"),
        "{html}"
    );
    assert_eq!(count(&app, "integration").await, 1, "nothing was connected");
    assert_eq!(
        revokes(&app).await,
        revokes_before + 1,
        "the grant Intuit gave for the refused connect is revoked"
    );
    // A company of its own is still fine.
    assert_eq!(
        app.connect_quickbooks(CA_REALM_ID, None).await.status(),
        303
    );
}

/// How many token revocations the QuickBooks sandbox has seen.
pub(super) async fn revokes(app: &TestApp) -> usize {
    let log: Vec<serde_json::Value> = client()
        .get(format!(
            "{}/__sandbox/requests",
            app.sandboxes().quickbooks.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.iter()
        .filter(|r| r["path"] == "/v2/oauth2/tokens/revoke")
        .count()
}

#[tokio::test]
async fn reconnecting_to_a_swapped_company_revokes_the_grant_it_was_given() {
    let app = TestApp::spawn_with_sandboxes().await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    let id = location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned();
    let before = revokes(&app).await;
    let refused = app.connect_quickbooks(CA_REALM_ID, Some(&id)).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(revokes(&app).await, before + 1);
}
