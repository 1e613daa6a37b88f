//! Stdio and logs.

use super::*;

#[tokio::test]
async fn plugin_stdout_and_stderr_reach_the_host_through_grpc_stdio() {
    let (out, err, raw) = (
        Captured::default(),
        Captured::default(),
        Captured::default(),
    );
    let config = ClientConfig::new(HANDSHAKE, plugin(""))
        .sync_stdout(out.clone())
        .sync_stderr(err.clone())
        .stderr(raw.clone());
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    tester
        .print("hello\nworld!".into(), "and some error\n messages!".into())
        .await
        .expect("print");
    eventually("stdout", || out.text() == "hello\nworld!").await;
    eventually("stderr", || err.text() == "and some error\n messages!").await;
    assert!(
        !raw.text().contains("world!"),
        "stdio is not mixed into the log channel"
    );
    client.kill().await;
}

#[tokio::test]
async fn plugin_logs_are_hclog_json_lines() {
    let raw = Captured::default();
    let config = ClientConfig::new(HANDSHAKE, plugin("")).stderr(raw.clone());
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    tester
        .log("warn".into(), "disk almost full".into())
        .await
        .expect("log");
    eventually("the log line", || raw.text().contains("disk almost full")).await;
    let text = raw.text();
    let line = text
        .lines()
        .find(|l| l.contains("disk almost full"))
        .expect("line");
    let json: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
    assert_eq!(json["@level"], "warn");
    assert_eq!(json["@message"], "disk almost full");
    assert_eq!(json["answer"], 42);
    let timestamp = json["@timestamp"].as_str().expect("timestamp");
    let fraction = timestamp.split('.').nth(1).expect("fractional seconds");
    assert!(
        fraction.len() > 6
            && fraction[..6].chars().all(|c| c.is_ascii_digit())
            && !fraction.as_bytes()[6].is_ascii_digit(),
        "exactly 6 fractional digits and a zone: {timestamp}"
    );
    client.kill().await;
}

/// The events the host's runtime emits for plugin log lines: level, message, rendered fields.
#[derive(Clone, Default)]
pub(crate) struct MirroredLogs(Arc<Mutex<Vec<(tracing::Level, String, String)>>>);

impl MirroredLogs {
    pub(crate) fn find(&self, message: &str) -> Option<(tracing::Level, String, String)> {
        self.0
            .lock()
            .ok()?
            .iter()
            .find(|(_, m, _)| m.contains(message))
            .cloned()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for MirroredLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "go_plugin::plugin" {
            return;
        }
        #[derive(Default)]
        struct Visitor(String, String);
        impl tracing::field::Visit for Visitor {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                match field.name() {
                    "message" => self.0 = format!("{value:?}"),
                    "fields" => self.1 = format!("{value:?}"),
                    _ => {}
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                match field.name() {
                    "message" => self.0 = value.to_owned(),
                    "fields" => self.1 = value.to_owned(),
                    _ => {}
                }
            }
        }
        let mut visitor = Visitor::default();
        event.record(&mut visitor);
        if let Ok(mut events) = self.0.lock() {
            events.push((*event.metadata().level(), visitor.0, visitor.1));
        }
    }
}

#[test]
fn plugin_logs_and_panics_reach_the_hosts_tracing_at_their_level() {
    use tracing_subscriber::layer::SubscriberExt;
    let logs = MirroredLogs::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(logs.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut command = plugin("");
        // Trace for the test plugin, not for the transport crates (their frames would flood the log).
        command.env(
            "RUST_LOG",
            "trace,h2=off,hyper=off,hyper_util=off,tower=off,tonic=off",
        );
        let client = Client::start(ClientConfig::new(HANDSHAKE, command))
            .await
            .expect("start");
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        let levels = [
            ("trace", tracing::Level::TRACE),
            ("debug", tracing::Level::DEBUG),
            ("info", tracing::Level::INFO),
            ("warn", tracing::Level::WARN),
            ("error", tracing::Level::ERROR),
        ];
        for (name, _) in levels {
            tester
                .log(name.into(), format!("event at {name}"))
                .await
                .expect("log");
        }
        for (name, level) in levels {
            let message = format!("event at {name}");
            eventually(&message, || logs.find(&message).is_some()).await;
            let (got, _, fields) = logs.find(&message).expect("event");
            assert_eq!(got, level, "{message}");
            assert!(
                fields.contains("answer=42"),
                "fields of {message}: {fields}"
            );
        }

        let err = tester
            .panic("the plugin broke".into())
            .await
            .expect_err("panics");
        assert_ne!(err.code(), Code::Ok);
        eventually("the panic", || {
            logs.find("panic: the plugin broke").is_some()
        })
        .await;
        let (level, _, _) = logs.find("panic: the plugin broke").expect("panic event");
        assert_eq!(level, tracing::Level::ERROR);
        eventually("the panic location", || logs.find("panicked at").is_some()).await;
        let (level, _, _) = logs.find("panicked at").expect("location");
        assert_eq!(
            level,
            tracing::Level::ERROR,
            "lines after a panic are errors too"
        );

        client
            .ping()
            .await
            .expect("a panicking call does not take the plugin down");
        client.kill().await;
    });
}
