//! The plugin the process-level tests launch. `TEST_PLUGIN_MODE` picks its shape:
//! (unset) serves `Tester` under version 1; `versions` serves versions 2 and 3; `tcp` listens on
//! TCP; `misconfigured` has an empty cookie; `no-logging` installs no log subscriber; `debug`
//! serves in debug mode; `survive-host` keeps running when its host goes away; `tls` serves with
//! the certificate in `TEST_TLS_CERT`/`TEST_TLS_KEY`, requiring client certificates from
//! `TEST_TLS_CLIENT_CA` when set.

use std::io::Write;
use std::process::ExitCode;

use go_plugin::{Broker, HandshakeConfig, PluginError, ServeConfig, Transport, serve};
use tests::{
    AddHelper, AddHelperClient, AddHelperPlugin, Adder, HANDSHAKE, MODE, Summer, Tester,
    TesterPlugin,
};

struct Plugin {
    version: u32,
    /// Brokered services served for the host, kept for as long as the plugin runs.
    served: std::sync::Mutex<Vec<go_plugin::BrokeredServer>>,
}

impl Plugin {
    fn new(version: u32) -> Self {
        Plugin {
            version,
            served: std::sync::Mutex::new(Vec::new()),
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

#[tokio::main]
async fn main() -> ExitCode {
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
        "survive-host" => ServeConfig::new(HANDSHAKE)
            .plugin(TesterPlugin::server(Plugin::new(1)))
            .exit_with_host(false),
        _ => ServeConfig::new(HANDSHAKE).plugin(TesterPlugin::server(Plugin::new(1))),
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
