//! Streaming methods of each kind; the exported `.proto` marks their streams.

use go_plugin::{Connection, PluginError, PluginInterface, Stream, plugin_interface};

/// go-plugin's examples/streaming `StreamerService`, on the wire.
#[plugin_interface(package = "proto", service = "StreamerService")]
pub trait Streamer {
    async fn configure(&self, path: String, chunk_size: i64) -> Result<(), PluginError>;
    async fn read(&self) -> Result<Stream<Vec<u8>>, PluginError>;
    async fn write(&self, bytes_to_write: Stream<Vec<u8>>) -> Result<(), PluginError>;
    async fn echo(&self, chunks: Stream<Vec<u8>>) -> Result<Stream<Vec<u8>>, PluginError>;
}

struct Nothing;

impl Streamer for Nothing {
    async fn configure(&self, _path: String, _chunk_size: i64) -> Result<(), PluginError> {
        Ok(())
    }

    async fn read(&self) -> Result<Stream<Vec<u8>>, PluginError> {
        Ok(Stream::iter([b"hello".to_vec()]))
    }

    async fn write(&self, bytes_to_write: Stream<Vec<u8>>) -> Result<(), PluginError> {
        let _: Vec<Vec<u8>> = bytes_to_write.collect().await?;
        Ok(())
    }

    async fn echo(&self, chunks: Stream<Vec<u8>>) -> Result<Stream<Vec<u8>>, PluginError> {
        Ok(chunks)
    }
}

fn assert_send<T: Send>(_: &T) {}

#[allow(dead_code)]
fn client_futures_are_send(connection: Connection) {
    let client: StreamerClient = <StreamerPlugin as PluginInterface>::client(connection);
    assert_send(&client.read());
    assert_send(&client.write(Stream::iter([])));
    assert_send(&client.echo(Stream::iter([])));
}

fn main() {
    let _ = StreamerPlugin::server(Nothing);
    for rpc in [
        "rpc Configure(ConfigureRequest) returns (ConfigureResponse);",
        "rpc Read(ReadRequest) returns (stream ReadResponse);",
        "rpc Write(stream WriteRequest) returns (WriteResponse);",
        "rpc Echo(stream EchoRequest) returns (stream EchoResponse);",
    ] {
        assert!(STREAMER_PROTO.contains(rpc), "{rpc}\n{STREAMER_PROTO}");
    }
    assert!(STREAMER_PROTO.contains("message WriteRequest {\n  bytes bytes_to_write = 1;"));
}
