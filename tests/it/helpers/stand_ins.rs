//! Stand-ins for the outside world: both provider sandboxes and a local SMTP sink.

/// The two sandboxes, in process, on random ports.
pub struct Sandboxes {
    pub tracktik: ledgerbridge::sandbox::tracktik::Running,
    pub quickbooks: ledgerbridge::sandbox::quickbooks::Running,
}

impl Sandboxes {
    pub async fn start() -> Self {
        use ledgerbridge::sandbox::{quickbooks, tracktik};
        let tracktik = tracktik::start(tracktik::Options {
            seed: tracktik::SeedConfig::small(),
            ..Default::default()
        })
        .await
        .expect("TrackTik sandbox starts");
        let quickbooks = quickbooks::start(quickbooks::Options::default())
            .await
            .expect("QuickBooks sandbox starts");
        Self {
            tracktik,
            quickbooks,
        }
    }

    /// POSTs JSON to a sandbox's control API.
    pub async fn control(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }
}

/// A message as the sink received it: envelope recipients and raw data.
pub type Received = (Vec<String>, String);

/// A local SMTP sink: accepts every message and keeps it.
#[derive(Clone, Default)]
pub struct SmtpSink {
    pub url: String,
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            url: format!("smtp://{}", listener.local_addr().unwrap()),
            ..Default::default()
        };
        let messages = sink.messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let messages = messages.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let (mut to, mut data, mut in_data) = (Vec::new(), String::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                messages
                                    .lock()
                                    .unwrap()
                                    .push((std::mem::take(&mut to), std::mem::take(&mut data)));
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                data.push_str(&line);
                                data.push('\n');
                            }
                            continue;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 sink\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(
                                line[8..]
                                    .trim()
                                    .trim_matches(|c| c == '<' || c == '>')
                                    .to_owned(),
                            );
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        sink
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

impl Sandboxes {
    /// Both sandboxes with the given options (a bigger portal, QBO limits lifted, …).
    pub async fn start_with(
        tracktik: ledgerbridge::sandbox::tracktik::Options,
        quickbooks: ledgerbridge::sandbox::quickbooks::Options,
    ) -> Self {
        Self {
            tracktik: ledgerbridge::sandbox::tracktik::start(tracktik)
                .await
                .expect("TrackTik sandbox starts"),
            quickbooks: ledgerbridge::sandbox::quickbooks::start(quickbooks)
                .await
                .expect("QuickBooks sandbox starts"),
        }
    }
}
