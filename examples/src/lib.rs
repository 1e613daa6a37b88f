//! The interfaces shared by the example hosts and plugins, mirroring go-plugin's examples, and
//! the greeter provider for OpenTofu ([`greeter`]).

use go_plugin::{HandshakeConfig, PluginError, Stream, plugin_interface};

pub mod greeter;
pub mod tflint;

/// The handshake every go-plugin example uses: protocol version 1, cookie `BASIC_PLUGIN=hello`.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");

/// go-plugin's examples/grpc key/value service, `proto.KV`, byte-for-byte on the wire.
#[plugin_interface(package = "proto", service = "KV")]
pub trait Kv {
    /// The value stored under `key`.
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
    /// Stores `value` under `key`.
    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
}

/// go-plugin's examples/bidirectional `proto.AddHelper`: the service a host hands its counter
/// plugin to call back.
#[plugin_interface(package = "proto", service = "AddHelper")]
pub trait AddHelper {
    /// `a + b`.
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError>;
}

/// go-plugin's examples/bidirectional `proto.Counter`, byte-for-byte on the wire: `put` takes
/// the host's [`AddHelper`] as a callback, which travels as the broker id `add_server`
/// (field 1 of `PutRequest`, as in go-plugin's `kv.proto`).
#[plugin_interface(package = "proto", service = "Counter")]
pub trait Counter {
    /// The count stored under `key`.
    async fn get(&self, key: String) -> Result<i64, PluginError>;
    /// Adds `value` to the count under `key`, asking `add_server` to do the sum.
    async fn put(
        &self,
        add_server: impl AddHelper,
        key: String,
        value: i64,
    ) -> Result<(), PluginError>;
}

/// go-plugin's examples/streaming `proto.StreamerService`, on the wire: a file written through a
/// client stream and read back through a server stream, in chunks that keep each message small.
#[plugin_interface(package = "proto", service = "StreamerService")]
pub trait Streamer {
    /// Which file the plugin streams, and in chunks of how many bytes it reads it back.
    async fn configure(&self, path: String, chunk_size: i64) -> Result<(), PluginError>;
    /// The file's contents, in chunks.
    async fn read(&self) -> Result<Stream<Vec<u8>>, PluginError>;
    /// Replaces the file's contents with the chunks sent.
    async fn write(&self, bytes_to_write: Stream<Vec<u8>>) -> Result<(), PluginError>;
}

/// What the example hosts share: their log output and how they find their plugin.
pub mod host {
    use std::process::Command;

    /// Logs to stderr at `RUST_LOG`'s level (default `warn`).
    pub fn init_logging() {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .init();
    }

    /// `sh -c "$<variable>"` (as go-plugin's example hosts run their plugin), or the binary
    /// `plugin` beside this host's own when the variable is unset or empty. Windows has no `sh`
    /// (go-plugin's example hosts fail there: `exec: "sh": executable file not found in
    /// %PATH%`): the variable is the plugin's program and its arguments, split at spaces.
    pub fn plugin_command(variable: &str, plugin: &str) -> Result<Command, String> {
        if let Ok(script) = std::env::var(variable)
            && !script.trim().is_empty()
        {
            return Ok(from_variable(&script));
        }
        let exe = std::env::current_exe()
            .map_err(|err| format!("cannot locate this host's binary: {err}"))?;
        let beside = exe.with_file_name(format!("{plugin}{}", std::env::consts::EXE_SUFFIX));
        if !beside.is_file() {
            return Err(format!(
                "no plugin: set {variable} or build {plugin} next to {}",
                exe.display()
            ));
        }
        Ok(beside_command(&beside))
    }

    #[cfg(unix)]
    fn from_variable(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
    }

    #[cfg(not(unix))]
    fn from_variable(script: &str) -> Command {
        let mut words = script.split_whitespace();
        let mut command = Command::new(words.next().unwrap_or_default());
        command.args(words);
        command
    }

    #[cfg(unix)]
    fn beside_command(plugin: &std::path::Path) -> Command {
        from_variable(&format!(
            "'{}'",
            plugin.to_string_lossy().replace('\'', r"'\''")
        ))
    }

    #[cfg(not(unix))]
    fn beside_command(plugin: &std::path::Path) -> Command {
        Command::new(plugin)
    }
}

/// Where the example plugins keep values: a file `kv_<key>` in the working directory, as
/// go-plugin's example plugins do, so a `put` and a later `get` in two runs agree.
pub mod store {
    use go_plugin::PluginError;

    /// The stored bytes of `key`; `NotFound` when nothing was stored.
    pub async fn read(key: &str) -> Result<Vec<u8>, PluginError> {
        match tokio::fs::read(file_name(key)?).await {
            Ok(value) => Ok(value),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(PluginError::not_found(format!("no value for key {key:?}")))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn write(key: &str, value: &[u8]) -> Result<(), PluginError> {
        tokio::fs::write(file_name(key)?, value).await?;
        Ok(())
    }

    /// The count stored under `key` as go-plugin's counter plugin stores it (`{"Value":N}`);
    /// 0 when nothing was stored.
    pub async fn read_count(key: &str) -> Result<i64, PluginError> {
        let raw = match read(key).await {
            Ok(raw) => raw,
            Err(err) if err.code() == go_plugin::Code::NotFound => return Ok(0),
            Err(err) => return Err(err),
        };
        let data: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|err| PluginError::internal(format!("kv_{key}: {err}")))?;
        data.get("Value")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| PluginError::internal(format!("kv_{key}: no number under \"Value\"")))
    }

    /// Stores `count` under `key`, as go-plugin's counter plugin does.
    pub async fn write_count(key: &str, count: i64) -> Result<(), PluginError> {
        write(
            key,
            serde_json::json!({ "Value": count }).to_string().as_bytes(),
        )
        .await
    }

    /// Keys become file names, so they must not reach outside the working directory.
    fn file_name(key: &str) -> Result<String, PluginError> {
        if key.is_empty() || key.contains('/') || key.contains('\0') {
            return Err(PluginError::invalid_argument(format!(
                "key {key:?} cannot be used as a file name"
            )));
        }
        Ok(format!("kv_{key}"))
    }
}
