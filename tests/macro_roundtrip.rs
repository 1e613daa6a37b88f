//! `#[plugin_interface]` end to end: generated servers served by tonic on a Unix socket, called
//! through generated clients, plus the wire bytes and the `.proto` text of the KV interface.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use go_plugin::{Code, Connection, PluginError, PluginInterface, PluginServer, plugin_interface};
use hyper_util::rt::TokioIo;
use prost::Message;
use protox::prost_reflect::prost_types::FileDescriptorProto;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::service::RoutesBuilder;
use tonic::transport::{Endpoint, Server};

/// Maps with each kind of key and value.
#[plugin_interface(package = "maps", service = "Maps")]
pub trait Maps {
    async fn labels(&self, v: HashMap<String, i64>) -> Result<HashMap<String, i64>, PluginError>;
    async fn by_id(
        &self,
        v: std::collections::BTreeMap<u32, Point>,
    ) -> Result<std::collections::BTreeMap<u32, Point>, PluginError>;
    async fn flags(&self, v: HashMap<i64, bool>) -> Result<HashMap<i64, bool>, PluginError>;
    async fn blobs(&self, v: HashMap<bool, Vec<u8>>)
    -> Result<HashMap<bool, Vec<u8>>, PluginError>;
}

struct MapEcho;

impl Maps for MapEcho {
    async fn labels(&self, v: HashMap<String, i64>) -> Result<HashMap<String, i64>, PluginError> {
        Ok(v)
    }
    async fn by_id(
        &self,
        v: std::collections::BTreeMap<u32, Point>,
    ) -> Result<std::collections::BTreeMap<u32, Point>, PluginError> {
        Ok(v)
    }
    async fn flags(&self, v: HashMap<i64, bool>) -> Result<HashMap<i64, bool>, PluginError> {
        Ok(v)
    }
    async fn blobs(
        &self,
        v: HashMap<bool, Vec<u8>>,
    ) -> Result<HashMap<bool, Vec<u8>>, PluginError> {
        Ok(v)
    }
}

/// go-plugin's `examples/grpc` interface.
#[plugin_interface(package = "proto", service = "KV")]
pub trait Kv {
    /// Reads a key.
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
    /// Writes a key.
    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
}

/// The same service with one method more, to call a method the KV server lacks.
#[plugin_interface(package = "proto", service = "KV")]
pub trait KvWithDelete {
    async fn delete(&self, key: String) -> Result<(), PluginError>;
}

/// A message type defined in Rust.
#[derive(Clone, PartialEq, Message)]
pub struct Point {
    #[prost(int32, tag = "1")]
    pub x: i32,
    #[prost(int32, tag = "2")]
    pub y: i32,
}

/// Every mapped type, each echoed back.
#[plugin_interface]
pub trait Echo {
    async fn string(&self, v: String) -> Result<String, PluginError>;
    async fn bytes(&self, v: Vec<u8>) -> Result<Vec<u8>, PluginError>;
    async fn boolean(&self, v: bool) -> Result<bool, PluginError>;
    async fn int32(&self, v: i32) -> Result<i32, PluginError>;
    async fn int64(&self, v: i64) -> Result<i64, PluginError>;
    async fn uint32(&self, v: u32) -> Result<u32, PluginError>;
    async fn uint64(&self, v: u64) -> Result<u64, PluginError>;
    async fn float(&self, v: f32) -> Result<f32, PluginError>;
    async fn double(&self, v: f64) -> Result<f64, PluginError>;
    async fn optional_int(&self, v: Option<i32>) -> Result<Option<i32>, PluginError>;
    async fn optional_string(&self, v: Option<String>) -> Result<Option<String>, PluginError>;
    async fn optional_bytes(&self, v: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, PluginError>;
    async fn point(&self, v: Point) -> Result<Point, PluginError>;
    async fn optional_point(&self, v: Option<Point>) -> Result<Option<Point>, PluginError>;
    async fn points(&self, v: Vec<Point>) -> Result<Vec<Point>, PluginError>;
    async fn strings(&self, v: Vec<String>) -> Result<Vec<String>, PluginError>;
    async fn blobs(&self, v: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, PluginError>;
    async fn int64s(&self, v: Vec<i64>) -> Result<Vec<i64>, PluginError>;
    async fn doubles(&self, v: Vec<f64>) -> Result<Vec<f64>, PluginError>;
    async fn bools(&self, v: Vec<bool>) -> Result<Vec<bool>, PluginError>;
    /// Several arguments of different types, in order.
    async fn describe(
        &self,
        name: String,
        count: u64,
        flag: Option<bool>,
        sizes: Vec<u32>,
    ) -> Result<String, PluginError>;
    async fn nothing(&self) -> Result<(), PluginError>;
    /// Fails with the given code and message.
    async fn fail(&self, code: i32, message: String) -> Result<(), PluginError>;
}

#[derive(Default)]
struct Memory(Mutex<HashMap<String, Vec<u8>>>);

impl Kv for Memory {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        let map = self
            .0
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))?;
        map.get(&key)
            .cloned()
            .ok_or_else(|| PluginError::not_found(format!("no such key: {key}")))
    }

    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))?;
        map.insert(key, value);
        Ok(())
    }
}

struct Echoer;

impl Echo for Echoer {
    async fn string(&self, v: String) -> Result<String, PluginError> {
        Ok(v)
    }
    async fn bytes(&self, v: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        Ok(v)
    }
    async fn boolean(&self, v: bool) -> Result<bool, PluginError> {
        Ok(v)
    }
    async fn int32(&self, v: i32) -> Result<i32, PluginError> {
        Ok(v)
    }
    async fn int64(&self, v: i64) -> Result<i64, PluginError> {
        Ok(v)
    }
    async fn uint32(&self, v: u32) -> Result<u32, PluginError> {
        Ok(v)
    }
    async fn uint64(&self, v: u64) -> Result<u64, PluginError> {
        Ok(v)
    }
    async fn float(&self, v: f32) -> Result<f32, PluginError> {
        Ok(v)
    }
    async fn double(&self, v: f64) -> Result<f64, PluginError> {
        Ok(v)
    }
    async fn optional_int(&self, v: Option<i32>) -> Result<Option<i32>, PluginError> {
        Ok(v)
    }
    async fn optional_string(&self, v: Option<String>) -> Result<Option<String>, PluginError> {
        Ok(v)
    }
    async fn optional_bytes(&self, v: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, PluginError> {
        Ok(v)
    }
    async fn point(&self, v: Point) -> Result<Point, PluginError> {
        Ok(v)
    }
    async fn optional_point(&self, v: Option<Point>) -> Result<Option<Point>, PluginError> {
        Ok(v)
    }
    async fn points(&self, v: Vec<Point>) -> Result<Vec<Point>, PluginError> {
        Ok(v)
    }
    async fn strings(&self, v: Vec<String>) -> Result<Vec<String>, PluginError> {
        Ok(v)
    }
    async fn blobs(&self, v: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, PluginError> {
        Ok(v)
    }
    async fn int64s(&self, v: Vec<i64>) -> Result<Vec<i64>, PluginError> {
        Ok(v)
    }
    async fn doubles(&self, v: Vec<f64>) -> Result<Vec<f64>, PluginError> {
        Ok(v)
    }
    async fn bools(&self, v: Vec<bool>) -> Result<Vec<bool>, PluginError> {
        Ok(v)
    }
    async fn describe(
        &self,
        name: String,
        count: u64,
        flag: Option<bool>,
        sizes: Vec<u32>,
    ) -> Result<String, PluginError> {
        Ok(format!("{name}|{count}|{flag:?}|{sizes:?}"))
    }
    async fn nothing(&self) -> Result<(), PluginError> {
        Ok(())
    }
    async fn fail(&self, code: i32, message: String) -> Result<(), PluginError> {
        Err(PluginError::with_code(Code::from(code), message))
    }
}

/// Serves `servers` on a Unix socket in a fresh directory and connects to it.
struct Served {
    connection: Connection,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(servers: &[PluginServer]) -> Served {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("plugin.sock");
    let listener = UnixListener::bind(&path).expect("bind the socket");
    let mut routes = RoutesBuilder::default();
    for server in servers {
        server.add_to(&mut routes);
    }
    let router = Server::builder().add_routes(routes.routes());
    let server = tokio::spawn(async move {
        router
            .serve_with_incoming(UnixListenerStream::new(listener))
            .await
            .expect("serve");
    });
    let channel = Endpoint::from_static("http://plugin")
        .connect_with_connector(tower::service_fn(move |_| connect(path.clone())))
        .await
        .expect("connect to the socket");
    Served {
        connection: Connection::from_channel(channel),
        _dir: dir,
        server,
    }
}

async fn connect(path: PathBuf) -> std::io::Result<TokioIo<UnixStream>> {
    Ok(TokioIo::new(UnixStream::connect(path).await?))
}

async fn kv() -> (Served, KvClient) {
    let served = serve(&[KvPlugin::server(Memory::default())]).await;
    let client = KvPlugin::client(served.connection.clone());
    (served, client)
}

#[tokio::test]
async fn kv_put_then_get() {
    let (_served, client) = kv().await;
    client
        .put("hello".into(), b"world".to_vec())
        .await
        .expect("put");
    assert_eq!(client.get("hello".into()).await.expect("get"), b"world");
    client
        .put(String::new(), Vec::new())
        .await
        .expect("put empty");
    assert_eq!(client.get(String::new()).await.expect("get empty"), b"");
}

#[tokio::test]
async fn errors_keep_code_and_message() {
    let (_served, client) = kv().await;
    let err = client.get("missing".into()).await.expect_err("no such key");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.message(), "no such key: missing");

    let served = serve(&[EchoPlugin::server(Echoer)]).await;
    let echo = EchoClient::new(served.connection.clone());
    for code in [
        Code::InvalidArgument,
        Code::PermissionDenied,
        Code::Internal,
    ] {
        let err = echo
            .fail(code as i32, format!("failed with {code:?}"))
            .await
            .expect_err("fails");
        assert_eq!(
            err,
            PluginError::with_code(code, format!("failed with {code:?}"))
        );
    }
}

#[tokio::test]
async fn unknown_method_is_unimplemented() {
    let (served, _client) = kv().await;
    let other = KvWithDeleteClient::new(served.connection.clone());
    let err = other
        .delete("k".into())
        .await
        .expect_err("KV has no Delete");
    assert_eq!(err.code(), Code::Unimplemented);
    assert_eq!(err.message(), "unknown method Delete for service proto.KV");
}

#[tokio::test]
async fn two_interfaces_share_a_connection() {
    let served = serve(&[
        KvPlugin::server(Memory::default()),
        EchoPlugin::server(Echoer),
    ])
    .await;
    let kv = KvClient::new(served.connection.clone());
    let echo = EchoClient::new(served.connection.clone());
    kv.put("a".into(), vec![1]).await.expect("put");
    assert_eq!(echo.string("b".into()).await.expect("echo"), "b");
    assert_eq!(kv.get("a".into()).await.expect("get"), [1]);
}

#[tokio::test]
async fn every_type_round_trips() {
    let served = serve(&[EchoPlugin::server(Echoer)]).await;
    let echo = EchoClient::new(served.connection.clone());

    for v in ["", "plain", "ünïcødé ✓", &"x".repeat(100_000)] {
        assert_eq!(echo.string(v.to_owned()).await.expect("string"), v);
    }
    for v in [vec![], vec![0], vec![0, 255, 1, 254]] {
        assert_eq!(echo.bytes(v.clone()).await.expect("bytes"), v);
    }
    for v in [false, true] {
        assert_eq!(echo.boolean(v).await.expect("bool"), v);
    }
    for v in [0, 1, -1, i32::MIN, i32::MAX] {
        assert_eq!(echo.int32(v).await.expect("int32"), v);
    }
    for v in [0, -1, i64::MIN, i64::MAX] {
        assert_eq!(echo.int64(v).await.expect("int64"), v);
    }
    for v in [0, 1, u32::MAX] {
        assert_eq!(echo.uint32(v).await.expect("uint32"), v);
    }
    for v in [0, 1, u64::MAX] {
        assert_eq!(echo.uint64(v).await.expect("uint64"), v);
    }
    for v in [0.0, -1.5, f32::MIN_POSITIVE, f32::MAX, f32::INFINITY] {
        assert_eq!(echo.float(v).await.expect("float"), v);
    }
    assert!(echo.float(f32::NAN).await.expect("float").is_nan());
    for v in [0.0, -0.1, f64::MAX, f64::NEG_INFINITY] {
        assert_eq!(echo.double(v).await.expect("double"), v);
    }

    for v in [None, Some(0), Some(-7)] {
        assert_eq!(echo.optional_int(v).await.expect("optional int"), v);
    }
    for v in [None, Some(String::new()), Some("s".to_owned())] {
        assert_eq!(
            echo.optional_string(v.clone())
                .await
                .expect("optional string"),
            v
        );
    }
    for v in [None, Some(vec![]), Some(vec![9])] {
        assert_eq!(
            echo.optional_bytes(v.clone())
                .await
                .expect("optional bytes"),
            v
        );
    }

    let origin = Point { x: 0, y: 0 };
    let p = Point { x: -3, y: 4 };
    assert_eq!(echo.point(p.clone()).await.expect("point"), p);
    assert_eq!(echo.point(origin.clone()).await.expect("origin"), origin);
    for v in [None, Some(origin.clone()), Some(p.clone())] {
        assert_eq!(
            echo.optional_point(v.clone())
                .await
                .expect("optional point"),
            v
        );
    }
    for v in [vec![], vec![origin.clone()], vec![p.clone(), origin, p]] {
        assert_eq!(echo.points(v.clone()).await.expect("points"), v);
    }

    for v in [
        vec![],
        vec![String::new()],
        vec!["a".to_owned(), String::new(), "c".to_owned()],
    ] {
        assert_eq!(echo.strings(v.clone()).await.expect("strings"), v);
    }
    for v in [vec![], vec![vec![]], vec![vec![1, 2], vec![], vec![3]]] {
        assert_eq!(echo.blobs(v.clone()).await.expect("blobs"), v);
    }
    for v in [vec![], vec![0], vec![i64::MIN, 0, i64::MAX]] {
        assert_eq!(echo.int64s(v.clone()).await.expect("int64s"), v);
    }
    let many: Vec<f64> = (0..10_000).map(f64::from).collect();
    assert_eq!(echo.doubles(many.clone()).await.expect("doubles"), many);
    for v in [vec![], vec![false], vec![true, false, true]] {
        assert_eq!(echo.bools(v.clone()).await.expect("bools"), v);
    }

    let described = echo
        .describe("n".into(), 7, Some(false), vec![1, 2])
        .await
        .expect("describe");
    assert_eq!(described, "n|7|Some(false)|[1, 2]");
    let described = echo
        .describe(String::new(), 0, None, vec![])
        .await
        .expect("describe defaults");
    assert_eq!(described, "|0|None|[]");
    echo.nothing().await.expect("nothing");
}

#[tokio::test]
async fn large_values_pass_the_default_4_mib_limit() {
    let (_served, client) = kv().await;
    let value: Vec<u8> = (0..16 * 1024 * 1024)
        .map(|i: u32| (i % 251) as u8)
        .collect();
    client
        .put("big".into(), value.clone())
        .await
        .expect("put 16 MiB");
    let read = client.get("big".into()).await.expect("get 16 MiB");
    assert!(read == value, "16 MiB value changed on the way");
}

#[test]
fn kv_messages_encode_like_go_plugins_kv_proto() {
    use kv_messages::{GetRequest, GetResponse, PutRequest, PutResponse};

    let get = GetRequest { key: "a".into() };
    assert_eq!(get.encode_to_vec(), [0x0a, 0x01, b'a']);
    assert_eq!(GetRequest { key: String::new() }.encode_to_vec(), [0u8; 0]);
    let got = GetResponse {
        value: b"xyz".to_vec(),
    };
    assert_eq!(got.encode_to_vec(), [0x0a, 0x03, b'x', b'y', b'z']);
    let put = PutRequest {
        key: "k".into(),
        value: vec![1, 2],
    };
    assert_eq!(put.encode_to_vec(), [0x0a, 0x01, b'k', 0x12, 0x02, 1, 2]);
    assert_eq!(PutResponse {}.encode_to_vec(), [0u8; 0]);

    let decoded = PutRequest::decode(&[0x12, 0x01, 7, 0x0a, 0x02, b'h', b'i'][..]).expect("decode");
    assert_eq!(
        decoded,
        PutRequest {
            key: "hi".into(),
            value: vec![7]
        }
    );
}

#[test]
fn echo_messages_use_proto3_encodings() {
    use echo_messages::{Int32Request, Int64sRequest, OptionalIntRequest, PointRequest};

    // A present optional zero is sent; an absent one is not.
    assert_eq!(
        OptionalIntRequest { v: Some(0) }.encode_to_vec(),
        [0x08, 0x00]
    );
    assert_eq!(OptionalIntRequest { v: None }.encode_to_vec(), [0u8; 0]);
    // Negative int32 is ten bytes of varint.
    assert_eq!(Int32Request { v: -1 }.encode_to_vec().len(), 11);
    // Repeated numbers are packed.
    assert_eq!(
        Int64sRequest { v: vec![1, 2] }.encode_to_vec(),
        [0x0a, 0x02, 1, 2]
    );
    // A message argument is always sent, even when it is all defaults.
    let origin = PointRequest {
        v: Some(Point { x: 0, y: 0 }),
    };
    assert_eq!(origin.encode_to_vec(), [0x0a, 0x00]);
}

#[test]
fn plugin_constants() {
    assert_eq!(KvPlugin::SERVICE_NAME, "proto.KV");
    assert_eq!(KvPlugin::PROTO, KV_PROTO);
    assert_eq!(EchoPlugin::SERVICE_NAME, "echo.Echo");
    assert_eq!(KvPlugin::server(Memory::default()).name(), "proto.KV");
    assert_eq!(
        <KvServer<Memory> as tonic::server::NamedService>::NAME,
        "proto.KV"
    );
}

#[test]
fn kv_proto_text() {
    for line in [
        "syntax = \"proto3\";",
        "package proto;",
        "service KV {",
        "  rpc Get(GetRequest) returns (GetResponse);",
        "  rpc Put(PutRequest) returns (PutResponse);",
        "  string key = 1;",
        "  bytes value = 2;",
        "  // Reads a key.",
    ] {
        assert!(
            KV_PROTO.lines().any(|l| l == line),
            "missing {line:?} in\n{KV_PROTO}"
        );
    }
}

/// go-plugin's examples/grpc `kv.proto`, as its definition reads on the wire.
const GO_PLUGIN_KV: &str = r#"
syntax = "proto3";
package proto;
message GetRequest { string key = 1; }
message GetResponse { bytes value = 1; }
message PutRequest { string key = 1; bytes value = 2; }
message Empty {}
service KV {
  rpc Get(GetRequest) returns (GetResponse);
  rpc Put(PutRequest) returns (Empty);
}
"#;

fn compile(name: &str, text: &str) -> FileDescriptorProto {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join(name), text).expect("write the .proto");
    let set = protox::compile([name], [dir.path()])
        .unwrap_or_else(|err| panic!("{name} does not compile: {err:?}\n{text}"));
    set.file
        .into_iter()
        .find(|file| file.name() == name)
        .expect("the compiled file")
}

/// Per method, the full name and the (number, name, type, label) of each field of its input and
/// output: everything that decides the bytes on the wire.
fn wire_shape(file: &FileDescriptorProto) -> Vec<(String, Vec<String>, Vec<String>)> {
    let fields = |type_name: &str| -> Vec<String> {
        let name = type_name.rsplit('.').next().unwrap_or_default();
        let message = file
            .message_type
            .iter()
            .find(|message| message.name() == name)
            .expect("message is defined");
        message
            .field
            .iter()
            .map(|f| {
                let optional = if f.proto3_optional() { " optional" } else { "" };
                format!(
                    "{} {} {:?} {:?}{optional}",
                    f.number(),
                    f.name(),
                    f.r#type(),
                    f.label()
                )
            })
            .collect()
    };
    let service = &file.service[0];
    service
        .method
        .iter()
        .map(|m| {
            let path = format!("/{}.{}/{}", file.package(), service.name(), m.name());
            (path, fields(m.input_type()), fields(m.output_type()))
        })
        .collect()
}

#[test]
fn kv_proto_compiles_and_matches_go_plugin_on_the_wire() {
    let ours = compile("kv.proto", KV_PROTO);
    let theirs = compile("go_kv.proto", GO_PLUGIN_KV);
    assert_eq!(wire_shape(&ours), wire_shape(&theirs));
}

#[test]
fn echo_proto_compiles_with_the_rust_defined_message_added() {
    assert!(
        ECHO_PROTO.contains("//   message Point: the Rust type `Point`"),
        "{ECHO_PROTO}"
    );
    let text = format!("{ECHO_PROTO}\nmessage Point {{ int32 x = 1; int32 y = 2; }}\n");
    let file = compile("echo.proto", &text);
    let shape = wire_shape(&file);
    let describe = shape
        .iter()
        .find(|(path, ..)| path == "/echo.Echo/Describe")
        .expect("Describe");
    assert_eq!(
        describe.1,
        [
            "1 name String Optional",
            "2 count Uint64 Optional",
            "3 flag Bool Optional optional",
            "4 sizes Uint32 Repeated",
        ]
    );
    let nothing = shape
        .iter()
        .find(|(path, ..)| path == "/echo.Echo/Nothing")
        .expect("Nothing");
    assert!(nothing.1.is_empty() && nothing.2.is_empty());
}

#[tokio::test]
async fn maps_round_trip() {
    let served = serve(&[MapsPlugin::server(MapEcho)]).await;
    let maps = MapsClient::new(served.connection.clone());
    let labels: HashMap<String, i64> = [("a".to_owned(), 1), ("".to_owned(), -5)].into();
    assert_eq!(maps.labels(labels.clone()).await.expect("labels"), labels);
    assert!(maps.labels(HashMap::new()).await.expect("empty").is_empty());
    let points: std::collections::BTreeMap<u32, Point> =
        [(7, Point { x: 1, y: 2 }), (0, Point::default())].into();
    assert_eq!(maps.by_id(points.clone()).await.expect("by_id"), points);
    let flags: HashMap<i64, bool> = [(i64::MIN, true), (3, false)].into();
    assert_eq!(maps.flags(flags.clone()).await.expect("flags"), flags);
    let blobs: HashMap<bool, Vec<u8>> = [(true, vec![0, 255]), (false, vec![])].into();
    assert_eq!(maps.blobs(blobs.clone()).await.expect("blobs"), blobs);
}

#[test]
fn maps_proto_compiles_with_map_fields() {
    for field in [
        "map<string, int64> v = 1;",
        "map<uint32, Point> v = 1;",
        "map<int64, bool> v = 1;",
        "map<bool, bytes> v = 1;",
    ] {
        assert!(MAPS_PROTO.contains(field), "{field}\n{MAPS_PROTO}");
    }
    let text = format!("{MAPS_PROTO}\nmessage Point {{ int32 x = 1; int32 y = 2; }}\n");
    compile("maps.proto", &text);
}

/// `Shade` as the enum it is.
#[plugin_interface(package = "shades", service = "Shades")]
pub trait Shades {
    async fn pick(
        &self,
        shade: tests::catalog::Shade,
        many: Vec<tests::catalog::Shade>,
        maybe: Option<tests::catalog::Shade>,
    ) -> Result<tests::catalog::Shade, PluginError>;
}

/// The same method with the numbers as they travel, to send a number the enum lacks.
#[plugin_interface(package = "shades", service = "Shades")]
pub trait ShadeNumbers {
    async fn pick(
        &self,
        shade: i32,
        many: Vec<i32>,
        maybe: Option<i32>,
    ) -> Result<i32, PluginError>;
}

struct Picker;

impl Shades for Picker {
    async fn pick(
        &self,
        shade: tests::catalog::Shade,
        many: Vec<tests::catalog::Shade>,
        maybe: Option<tests::catalog::Shade>,
    ) -> Result<tests::catalog::Shade, PluginError> {
        Ok(maybe.or(many.last().copied()).unwrap_or(shade))
    }
}

#[tokio::test]
async fn enums_travel_as_their_numbers_and_an_unknown_number_fails_the_call() {
    use tests::catalog::Shade;
    let served = serve(&[ShadesPlugin::server(Picker)]).await;
    let shades = ShadesClient::new(served.connection.clone());
    let picked = shades.pick(Shade::Light, vec![], None).await;
    assert_eq!(picked.expect("pick"), Shade::Light);
    let picked = shades.pick(Shade::Light, vec![Shade::Light, Shade::Dark], None);
    assert_eq!(picked.await.expect("pick"), Shade::Dark);
    // `Some` of the zero value is sent, so it is not taken for `None`.
    let picked = shades.pick(Shade::Dark, vec![], Some(Shade::Unspecified));
    assert_eq!(picked.await.expect("pick"), Shade::Unspecified);

    let numbers = ShadeNumbersClient::new(served.connection.clone());
    assert_eq!(numbers.pick(2, vec![1], None).await.expect("pick"), 1);
    for (shade, many) in [(7, vec![]), (1, vec![1, 9])] {
        let error = numbers
            .pick(shade, many, None)
            .await
            .expect_err("no such shade");
        assert!(
            error.message().contains("is not a value of the enum")
                && error.message().contains("Shade"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn nested_messages_enums_maps_and_streams_round_trip() {
    use tests::catalog::{Catalog, CatalogClient, CatalogPlugin, Item, Part, Shade, Shop};
    let served = serve(&[CatalogPlugin::server(Shop)]).await;
    let catalog = CatalogClient::new(served.connection.clone());
    let item = Item {
        name: "box".into(),
        parts: vec![
            Part {
                id: 1,
                shade: Shade::Dark.into(),
            },
            Part {
                id: 2,
                shade: Shade::Light.into(),
            },
        ],
        counts: [("a".to_owned(), 1)].into(),
        main: Some(Part {
            id: 9,
            shade: Shade::Light.into(),
        }),
        labels: HashMap::new(),
    };
    let tags = [("x".to_owned(), Shade::Light)].into();
    let got = catalog
        .describe(item, Shade::Dark, tags, vec![Shade::Dark], None)
        .await
        .expect("describe");
    assert_eq!(got.name, "box/SHADE_DARK");
    assert_eq!(got.parts.iter().map(|p| p.id).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(got.main.map(|m| m.shade), Some(Shade::Dark.into()));
    assert_eq!(got.labels, [("x".to_owned(), Shade::Light.into())].into());
    assert_eq!(got.counts["maybe"], -1);
    assert_eq!(got.counts["also_dark"], 1);

    let listed = catalog.list("it".into(), 3).await.expect("list");
    let items: Vec<Item> = listed.collect().await.expect("the stream");
    let names: Vec<String> = items.into_iter().map(|item| item.name).collect();
    assert_eq!(names, ["it-0", "it-1", "it-2"]);
}

#[test]
fn the_whole_proto_defines_the_structs_and_enums_and_compiles() {
    use tests::catalog::{CatalogPlugin, ScorerPlugin};
    let proto = CatalogPlugin::proto();
    for text in [
        "message Item {",
        "  map<string, Shade> labels = 5;",
        "  repeated Part parts = 2;",
        "  Part main = 4;",
        "message Part {",
        "  Shade shade = 2;",
        "enum Shade {",
        "  SHADE_UNSPECIFIED = 0;",
        "  optional Shade maybe = 5;",
        "  repeated Shade also = 4;",
        "rpc List(ListRequest) returns (stream ListResponse);",
    ] {
        assert!(proto.contains(text), "{text}\n{proto}");
    }
    assert_eq!(proto.matches("message Part {").count(), 1, "{proto}");
    assert!(!proto.contains("define them here"), "{proto}");
    let file = compile("catalog.proto", &proto);
    let item = file
        .message_type
        .iter()
        .find(|message| message.name() == "Item")
        .expect("Item is defined");
    assert_eq!(item.field.len(), 5);
    assert_eq!(file.enum_type[0].value.len(), 3);
    compile("scorer.proto", &ScorerPlugin::proto());
    // The constant keeps naming the types for the reader instead.
    assert!(
        tests::catalog::CATALOG_PROTO.contains("//   message Item: the Rust type `Item`"),
        "{}",
        tests::catalog::CATALOG_PROTO
    );
}

/// A host that holds "a plugin or an in-process implementation" in one type: `DynKv` of
/// either, which is a `Kv` again and can itself be served.
#[tokio::test]
async fn a_client_and_a_local_implementation_are_one_type() {
    let served = serve(&[KvPlugin::server(Memory::default())]).await;
    let stores = [
        DynKv::new(KvClient::new(served.connection.clone())),
        DynKv::new(Memory::default()),
    ];
    for store in &stores {
        store.put("k".into(), b"v".to_vec()).await.expect("put");
        assert_eq!(store.get("k".into()).await.expect("get"), b"v");
    }
    // Clones share the implementation.
    let local = stores[1].clone();
    local
        .put("shared".into(), b"1".to_vec())
        .await
        .expect("put");
    assert_eq!(stores[1].get("shared".into()).await.expect("get"), b"1");

    // The client behind `DynKv`, served again: a proxy in one line.
    let proxy = serve(&[KvPlugin::server(stores[0].clone())]).await;
    let through = KvClient::new(proxy.connection.clone());
    through.put("p".into(), b"2".to_vec()).await.expect("put");
    assert_eq!(stores[0].get("p".into()).await.expect("get"), b"2");
}
