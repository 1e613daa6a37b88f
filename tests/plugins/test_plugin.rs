//! The plugin the process-level tests launch. `TEST_PLUGIN_MODE` picks its shape:
//! (unset) serves `Tester` under version 1; `versions` serves versions 2 and 3; `tcp` listens on
//! TCP; `misconfigured` has an empty cookie; `no-logging` installs no log subscriber; `debug`
//! serves in debug mode; `survive-host` keeps running when its host goes away; `tls` serves with
//! the certificate in `TEST_TLS_CERT`/`TEST_TLS_KEY`, requiring client certificates from
//! `TEST_TLS_CLIENT_CA` when set. With `TEST_PLUGIN_MARKER` (a file), every start after the first
//! does as `TEST_PLUGIN_LATER` says: `crash` on start, or expect a `wrong-cookie`; each such start
//! appends its time (ms since the epoch) to `TEST_PLUGIN_MARKER.starts`. Mode `kv` serves the
//! examples' `proto.KV` (go-plugin's examples/grpc service) from memory, under its handshake. With
//! `TEST_PLUGIN_SPANS` (a file), the plugin records its OpenTelemetry spans there, one a line
//! (`tests::otel`).

use std::io::Write;
use std::process::ExitCode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use go_plugin::{Broker, HandshakeConfig, PluginError, ServeConfig, Stream, Transport, serve};
use tests::{
    AddHelper, AddHelperClient, AddHelperPlugin, Adder, HANDSHAKE, MODE, Streams, StreamsPlugin,
    Summer, Tester, TesterPlugin,
};

/// The streaming tests' implementation.
#[derive(Default)]
struct Streamer {
    flooded: Arc<AtomicU64>,
    flood_cancelled: Arc<AtomicBool>,
    last_error: std::sync::Mutex<Option<String>>,
}

impl Streams for Streamer {
    async fn count(
        &self,
        from: i64,
        to: i64,
        fail_at: Option<i64>,
    ) -> Result<Stream<i64>, PluginError> {
        let items = (from..to).map(move |n| match fail_at {
            Some(at) if n == at => Err(PluginError::with_code(
                go_plugin::Code::DataLoss,
                format!("failed at {n}"),
            )),
            _ => Ok(n),
        });
        // Nothing after the error.
        let mut failed = false;
        let items: Vec<_> = items
            .take_while(move |item| {
                let keep = !failed;
                failed |= item.is_err();
                keep
            })
            .collect();
        Ok(Stream::new(tokio_stream::iter(items)))
    }

    async fn sum_all(&self, mut numbers: Stream<i64>) -> Result<i64, PluginError> {
        /// Records a cancelled call: the host resetting the stream drops this handler.
        struct Cancelled<'a>(Option<&'a std::sync::Mutex<Option<String>>>);
        impl Drop for Cancelled<'_> {
            fn drop(&mut self) {
                if let Some(slot) = self.0 {
                    *slot.lock().expect("lock") = Some("Cancelled: handler dropped".to_owned());
                }
            }
        }
        let mut cancelled = Cancelled(Some(&self.last_error));
        let mut sum = 0;
        while let Some(number) = numbers.next().await {
            match number {
                Ok(number) => sum += number,
                Err(err) => {
                    cancelled.0 = None;
                    *self.last_error.lock().expect("lock") =
                        Some(format!("{:?}: {}", err.code(), err.message()));
                    return Err(err);
                }
            }
        }
        cancelled.0 = None;
        Ok(sum)
    }

    async fn double(&self, mut numbers: Stream<i64>) -> Result<Stream<i64>, PluginError> {
        let (sender, doubled) = Stream::channel(1);
        tokio::spawn(async move {
            while let Some(number) = numbers.next().await {
                if sender.send(number.map(|n| n * 2)).await.is_err() {
                    break;
                }
            }
        });
        Ok(doubled)
    }

    async fn flood(&self, size: u32) -> Result<Stream<Vec<u8>>, PluginError> {
        let (sender, chunks) = Stream::channel(4);
        let (flooded, cancelled) = (Arc::clone(&self.flooded), Arc::clone(&self.flood_cancelled));
        tokio::spawn(async move {
            let chunk = vec![7u8; size as usize];
            while sender.send(Ok(chunk.clone())).await.is_ok() {
                flooded.fetch_add(1, Ordering::SeqCst);
            }
            cancelled.store(true, Ordering::SeqCst);
        });
        Ok(chunks)
    }

    async fn flood_state(&self) -> Result<Vec<u64>, PluginError> {
        Ok(vec![
            self.flooded.load(Ordering::SeqCst),
            u64::from(self.flood_cancelled.load(Ordering::SeqCst)),
        ])
    }

    async fn last_error(&self) -> Result<Option<String>, PluginError> {
        Ok(self.last_error.lock().expect("lock").clone())
    }
}

struct Plugin {
    version: u32,
    /// `flood_stdio`'s writers.
    flood: Arc<Flood>,
    /// Brokered services served for the host, kept for as long as the plugin runs.
    served: std::sync::Mutex<Vec<go_plugin::BrokeredServer>>,
    /// `hold` calls cancelled before they finished.
    cancelled: AtomicU64,
}

impl Plugin {
    fn new(version: u32) -> Self {
        Plugin {
            version,
            flood: Arc::default(),
            served: std::sync::Mutex::new(Vec::new()),
            cancelled: AtomicU64::new(0),
        }
    }
}

impl Tester for Plugin {
    async fn echo(&self, data: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        Ok(data)
    }

    async fn print(&self, stdout: String, stderr: String) -> Result<(), PluginError> {
        // Rust's stdout is line-buffered; flushing makes a partial last line go out now.
        print!("{stdout}");
        eprint!("{stderr}");
        std::io::stdout().flush()?;
        Ok(())
    }

    async fn log(&self, level: String, message: String) -> Result<(), PluginError> {
        match level.as_str() {
            "trace" => tracing::trace!(answer = 42, "{message}"),
            "debug" => tracing::debug!(answer = 42, "{message}"),
            "info" => tracing::info!(answer = 42, "{message}"),
            "warn" => tracing::warn!(answer = 42, "{message}"),
            "error" => tracing::error!(answer = 42, "{message}"),
            other => return Err(PluginError::invalid_argument(format!("level {other}"))),
        }
        Ok(())
    }

    async fn sleep(&self, millis: u64) -> Result<(), PluginError> {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
        Ok(())
    }

    async fn exit(&self, code: i32) -> Result<(), PluginError> {
        std::process::exit(code)
    }

    async fn fail(&self, code: i32, message: String) -> Result<(), PluginError> {
        Err(PluginError::with_code(go_plugin::Code::from(code), message))
    }

    async fn fail_with_details(
        &self,
        code: i32,
        message: String,
        details: Vec<u8>,
    ) -> Result<(), PluginError> {
        Err(PluginError::with_code(go_plugin::Code::from(code), message).with_details(details))
    }

    async fn panic(&self, message: String) -> Result<(), PluginError> {
        panic!("{message}")
    }

    async fn version(&self) -> Result<u32, PluginError> {
        Ok(self.version)
    }

    async fn env(&self, name: String) -> Result<Option<String>, PluginError> {
        Ok(std::env::var(name).ok())
    }

    async fn pid(&self) -> Result<u32, PluginError> {
        Ok(std::process::id())
    }

    async fn add_through(&self, helper: u32, a: i64, b: i64) -> Result<i64, PluginError> {
        let broker = Broker::current().ok_or_else(|| PluginError::internal("no broker"))?;
        let helper = AddHelperClient::new(broker.dial(helper).await?);
        helper.sum(a, b).await
    }

    async fn serve_adder(&self) -> Result<u32, PluginError> {
        let broker = Broker::current().ok_or_else(|| PluginError::internal("no broker"))?;
        let id = broker.next_id();
        let server = broker
            .accept_and_serve(id, [AddHelperPlugin::server(Adder { offset: 1000 })])
            .await?;
        self.served
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))?
            .push(server);
        Ok(id)
    }

    async fn hold(&self, millis: u64) -> Result<(), PluginError> {
        /// Counts the call as cancelled unless it finishes.
        struct Counted<'a>(Option<&'a AtomicU64>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                if let Some(count) = self.0 {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        let mut counted = Counted(Some(&self.cancelled));
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
        counted.0 = None;
        Ok(())
    }

    async fn cancelled(&self) -> Result<u64, PluginError> {
        Ok(self.cancelled.load(Ordering::SeqCst))
    }

    async fn flood_stdio(&self, line_bytes: u32, lines_per_second: u32) -> Result<(), PluginError> {
        self.flood.set(line_bytes, lines_per_second)
    }

    async fn add_with(&self, helper: impl AddHelper, a: i64, b: i64) -> Result<i64, PluginError> {
        helper.sum(a, b).await
    }

    async fn add_via(&self, summer: impl Summer, a: i64, b: i64) -> Result<i64, PluginError> {
        summer.sum_with(Adder { offset: 1000 }, a, b).await
    }

    async fn spawn_child(&self, script: String) -> Result<u32, PluginError> {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::null())
            .spawn()?;
        let pid = child.id();
        // Reaped when it ends; the host must make it end with the plugin.
        std::thread::spawn(move || child.wait());
        Ok(pid)
    }
}

/// `flood_stdio`'s three writers, and the line size (0: paused) and rate in lines a second (0:
/// without pause) they write at.
#[derive(Default)]
struct Flood {
    size: std::sync::Mutex<Option<(u32, u32)>>,
    changed: std::sync::Condvar,
}

impl Flood {
    /// Sets the line size and rate, starting the writers the first time.
    fn set(self: &Arc<Self>, line_bytes: u32, lines_per_second: u32) -> Result<(), PluginError> {
        let mut size = self
            .size
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))?;
        if size.is_none() {
            for sink in ["stdout", "stderr", "log"] {
                let flood = Arc::clone(self);
                std::thread::spawn(move || flood.write(sink));
            }
        }
        *size = Some((line_bytes, lines_per_second));
        self.changed.notify_all();
        Ok(())
    }

    /// One writer: waits while paused, else writes lines of the current size to `sink`, at the
    /// current rate.
    fn write(&self, sink: &str) {
        let mut count = 0u64;
        let mut next = std::time::Instant::now();
        loop {
            let (size, rate) = {
                let Ok(mut size) = self.size.lock() else {
                    return;
                };
                while matches!(*size, Some((0, _))) {
                    let Ok(woken) = self.changed.wait(size) else {
                        return;
                    };
                    size = woken;
                    next = std::time::Instant::now();
                }
                size.unwrap_or_default()
            };
            if rate > 0 {
                next += std::time::Duration::from_secs(1) / rate;
                std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
            }
            count += 1;
            let mut line = format!("{sink} flood line {count} ");
            let size = size as usize;
            line.extend(std::iter::repeat_n(
                'x',
                size.saturating_sub(line.len() + 1),
            ));
            match sink {
                "stdout" => println!("{line}"),
                "stderr" => eprintln!("{line}"),
                _ => tracing::info!("{line}"),
            }
        }
    }
}

/// go-plugin's examples/grpc `proto.KV`, kept in memory.
#[derive(Default)]
struct MemoryKv(std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>);

impl examples::Kv for MemoryKv {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        tracing::info!(key, "get");
        let values = self.0.lock().map_err(|_| PluginError::new("poisoned"))?;
        Ok(values.get(&key).cloned().unwrap_or_default())
    }

    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError> {
        tracing::info!(key, "put");
        let mut values = self.0.lock().map_err(|_| PluginError::new("poisoned"))?;
        values.insert(key, value);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(spans) = std::env::var_os("TEST_PLUGIN_SPANS") {
        go_plugin::opentelemetry::global::set_tracer_provider(tests::otel::provider_writing_to(
            spans,
        ));
    }
    // The restart tests: the first start leaves a marker; later starts do as TEST_PLUGIN_LATER
    // says (`crash`: write to stderr and exit 3; `wrong-cookie`: expect another cookie).
    if let Some(marker) = std::env::var_os("TEST_PLUGIN_MARKER") {
        if std::path::Path::new(&marker).exists() {
            // Each later start, as milliseconds since the epoch, one a line.
            let mut starts = marker.clone();
            starts.push(".starts");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_millis())
                .unwrap_or_default();
            let recorded = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&starts)
                .and_then(|mut file| writeln!(file, "{now}"));
            if let Err(err) = recorded {
                eprintln!("test-plugin: {}: {err}", starts.to_string_lossy());
                return ExitCode::FAILURE;
            }
            match std::env::var("TEST_PLUGIN_LATER").as_deref() {
                Ok("crash") => {
                    eprintln!("test-plugin: crashing on start, as asked");
                    return ExitCode::from(3);
                }
                Ok("wrong-cookie") => {
                    let config =
                        ServeConfig::new(HandshakeConfig::new(1, "TEST_OTHER_COOKIE", "x"))
                            .plugin(TesterPlugin::server(Plugin::new(1)));
                    return match serve(config).await {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(_) => ExitCode::FAILURE,
                    };
                }
                _ => {}
            }
        } else if let Err(err) = std::fs::write(&marker, b"started") {
            eprintln!("test-plugin: marker: {err}");
            return ExitCode::FAILURE;
        }
    }
    let mode = std::env::var(MODE).unwrap_or_default();
    let config = match mode.as_str() {
        "versions" => ServeConfig::new(HANDSHAKE)
            .version(2, [TesterPlugin::server(Plugin::new(2))])
            .version(3, [TesterPlugin::server(Plugin::new(3))]),
        "tcp" => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .transport(Transport::Tcp),
        "misconfigured" => ServeConfig::new(HandshakeConfig::new(1, "", ""))
            .plugin(TesterPlugin::server(Plugin::new(1))),
        "no-logging" => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .logging(false),
        "debug" => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .debug(true),
        "tls" => match tls_from_env() {
            Ok(tls) => ServeConfig::new(HANDSHAKE)
                .plugin(TesterPlugin::server(Plugin::new(1)))
                .tls(tls),
            Err(err) => {
                eprintln!("test-plugin: {err}");
                return ExitCode::FAILURE;
            }
        },
        "kv" => ServeConfig::new(examples::HANDSHAKE)
            .plugin(examples::KvPlugin::server(MemoryKv::default())),
        "survive-host" => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .exit_with_host(false),
        _ => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .plugin(StreamsPlugin::server(Streamer::default())),
    };
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("test-plugin: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The plugin's own TLS (go-plugin's `TLSProvider`) from the `TEST_TLS_*` variables.
fn tls_from_env() -> Result<go_plugin::TlsConfig, String> {
    let var = |name: &str| std::env::var_os(name).map(std::path::PathBuf::from);
    let (Some(cert), Some(key)) = (var("TEST_TLS_CERT"), var("TEST_TLS_KEY")) else {
        return Err("mode tls needs TEST_TLS_CERT and TEST_TLS_KEY".to_owned());
    };
    let client_ca = var("TEST_TLS_CLIENT_CA");
    let config = tests::pki::server_config(&cert, &key, client_ca.as_deref())?;
    Ok(go_plugin::TlsConfig::server(std::sync::Arc::new(config)))
}
