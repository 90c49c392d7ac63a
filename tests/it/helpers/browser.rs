//! What a browser does: a cookie jar, forms and redirects, both sandboxes' consent pages.

use super::*;

/// A client with a cookie jar that does not follow redirects (so tests see each 303).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_token(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `(name, value)` of every `<input>` with a name in `html` (hidden fields of a form).
pub fn inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
        };
        if let Some(name) = attr("name") {
            if attr("type").as_deref() == Some("hidden") {
                out.push((name, attr("value").unwrap_or_default()));
            }
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl TestApp {
    /// Signs in through the TrackTik sandbox's sign-in and Allow pages; returns the final
    /// response of our callback.
    pub async fn sign_in_with_tracktik(&self) -> reqwest::Response {
        let tt = self.sandboxes().tracktik.base_url().to_owned();
        let start = self.post_form("/", "/sign-in", &[("portal", &tt)]).await;
        assert_eq!(start.status(), 303, "sign-in sends the browser to TrackTik");
        let authorize = location(&start);
        assert!(authorize.starts_with(&tt), "{authorize}");
        self.tracktik_consent(&authorize, "allow").await
    }

    /// Drives the TrackTik sandbox's pages for `authorize` and answers `decision`; returns our
    /// callback's response.
    pub async fn tracktik_consent(&self, authorize: &str, decision: &str) -> reqwest::Response {
        let tt = self.sandboxes().tracktik.base_url().to_owned();
        self.tracktik_consent_as(
            &tt,
            authorize,
            decision,
            ledgerbridge::sandbox::tracktik::DEMO_USERNAME,
            ledgerbridge::sandbox::tracktik::DEMO_PASSWORD,
        )
        .await
    }

    /// [`TestApp::tracktik_consent`] on the TrackTik sandbox at `tt`, signed in as `username`.
    pub async fn tracktik_consent_as(
        &self,
        tt: &str,
        authorize: &str,
        decision: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let sandbox = client();
        let form = sandbox
            .get(authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = inputs(&form);
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        let allow = sandbox
            .post(format!("{tt}/rest/oauth2/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let allow_html = allow.text().await.unwrap();
        let mut fields = inputs(&allow_html);
        fields.push(("decision".into(), decision.into()));
        let back = sandbox
            .post(format!("{tt}/rest/oauth2/authorize/decision"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert!(
            back.status().is_redirection(),
            "the Allow page redirects back: {}",
            back.status()
        );
        let callback = location(&back);
        assert!(callback.starts_with(&self.base_url), "{callback}");
        self.client.get(callback).send().await.unwrap()
    }

    /// Connects a QuickBooks company through the sandbox's consent page; returns our callback's
    /// response. `reconnect` names an integration to reconnect instead of "Connect new account".
    pub async fn connect_quickbooks(
        &self,
        realm_id: &str,
        reconnect: Option<&str>,
    ) -> reqwest::Response {
        let start = match reconnect {
            Some(id) => {
                self.post_form(
                    &format!("/integrations/{id}"),
                    &format!("/integrations/{id}/reconnect"),
                    &[],
                )
                .await
            }
            None => {
                self.post_form("/integrations", "/integrations/connect", &[])
                    .await
            }
        };
        assert_eq!(start.status(), 303);
        let authorize = location(&start);
        self.quickbooks_consent(&authorize, realm_id, "allow").await
    }

    /// Answers the QuickBooks sandbox's consent page.
    pub async fn quickbooks_consent(
        &self,
        authorize: &str,
        realm_id: &str,
        decision: &str,
    ) -> reqwest::Response {
        let qbo = self.sandboxes().quickbooks.base_url().to_owned();
        assert!(authorize.starts_with(&qbo), "{authorize}");
        let sandbox = client();
        let page = sandbox
            .get(authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = inputs(&page);
        fields.push(("realm_id".into(), realm_id.into()));
        fields.push(("decision".into(), decision.into()));
        let back = sandbox
            .post(format!("{qbo}/connect/oauth2"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert!(
            back.status().is_redirection(),
            "consent redirects back: {}",
            back.status()
        );
        let callback = location(&back);
        assert!(callback.starts_with(&self.base_url), "{callback}");
        self.client.get(callback).send().await.unwrap()
    }
}
