//! Process-level tests: this test process is the host, `test-plugin` and `kv-plugin` are real
//! plugin processes, and everything crosses real pipes and sockets.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plugin_runtime::{Client, ClientConfig, Code, Error, PluginError};
use tests::{HANDSHAKE, MODE, Tester, TesterPlugin};

const TEST_PLUGIN: &str = env!("CARGO_BIN_EXE_test-plugin");

const NOT_A_COMMAND: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

fn plugin(mode: &str) -> Command {
    let mut command = Command::new(TEST_PLUGIN);
    command.env(MODE, mode);
    command
}

async fn start(mode: &str) -> Client {
    Client::start(ClientConfig::new(HANDSHAKE, plugin(mode)))
        .await
        .expect("plugin starts")
}

/// Runs the plugin by hand with the cookie set and returns its first stdout line; the plugin is
/// killed afterwards.
fn handshake_line(mode: &str, env: &[(&str, &str)]) -> (String, std::process::Child) {
    let mut command = plugin(mode);
    command
        .env(HANDSHAKE.magic_cookie_key, HANDSHAKE.magic_cookie_value)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("spawn test-plugin");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read handshake");
    (line, child)
}

fn kill(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// Plugin side: cookie, handshake line, listener, negotiation.

#[test]
fn plugin_run_by_hand_explains_itself_and_exits_1() {
    let output = Command::new(TEST_PLUGIN)
        .env_remove(HANDSHAKE.magic_cookie_key)
        .output()
        .expect("run test-plugin");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert_eq!(String::from_utf8_lossy(&output.stderr), NOT_A_COMMAND);

    let wrong = Command::new(TEST_PLUGIN)
        .env(HANDSHAKE.magic_cookie_key, "wrong")
        .output()
        .expect("run test-plugin");
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&wrong.stderr), NOT_A_COMMAND);
}

#[test]
fn misconfigured_cookie_is_reported_as_a_bug() {
    let output = plugin("misconfigured").output().expect("run test-plugin");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Misconfigured ServeConfig given to serve this plugin: no magic cookie\n\
         key or value was set. Please notify the plugin author and report\n\
         this as a bug.\n"
    );
}

#[test]
fn handshake_line_is_go_plugins_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_str = dir.path().to_str().expect("utf-8 temp dir");
    let (line, mut child) = handshake_line("", &[("PLUGIN_UNIX_SOCKET_DIR", dir_str)]);
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert!(line.ends_with("|grpc|\n"), "line: {line:?}");
    assert_eq!(fields.len(), 6, "six fields without multiplexing: {line:?}");
    assert_eq!(&fields[..3], ["1", "1", "unix"]);
    let socket = Path::new(fields[3]);
    assert_eq!(
        socket.parent(),
        Some(dir.path()),
        "socket in PLUGIN_UNIX_SOCKET_DIR"
    );
    let name = socket.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(
        name.starts_with("plugin") && name["plugin".len()..].chars().all(|c| c.is_ascii_digit()),
        "go-plugin's socket name pattern: {name}"
    );
    assert!(socket.exists());
    kill(&mut child);
}

unsafe extern "C" {
    fn getgid() -> u32;
}

#[test]
fn socket_group_and_mode_follow_plugin_unix_socket_group() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: getgid has no preconditions.
    let gid = unsafe { getgid() };
    let name = std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|groups| {
            groups.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.get(2) == Some(&gid.to_string().as_str())).then(|| fields[0].to_owned())
            })
        })
        .expect("the current group has a name");
    for group in [gid.to_string(), name] {
        let (line, mut child) = handshake_line("", &[("PLUGIN_UNIX_SOCKET_GROUP", &group)]);
        let socket = line.split('|').nth(3).expect("address").to_owned();
        let metadata = std::fs::metadata(&socket).expect("socket exists");
        assert_eq!(metadata.gid(), gid, "group {group}");
        assert_eq!(
            metadata.permissions().mode() & 0o777,
            0o660,
            "group {group}"
        );
        kill(&mut child);
    }
}

#[test]
fn seventh_field_only_when_multiplexing_was_requested() {
    let (line, mut child) = handshake_line("", &[("PLUGIN_MULTIPLEX_GRPC", "true")]);
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 7, "line: {line:?}");
    assert_eq!(fields[5], "");
    kill(&mut child);
}

#[test]
fn negotiates_the_highest_common_version_or_answers_its_lowest() {
    for (offered, expected) in [
        ("2,3", "3"),
        ("3,2", "3"),
        ("1,2", "2"),
        ("5", "2"),
        ("", "2"),
    ] {
        let (line, mut child) =
            handshake_line("versions", &[("PLUGIN_PROTOCOL_VERSIONS", offered)]);
        let version = line.split('|').nth(1).unwrap_or("");
        assert_eq!(version, expected, "offered {offered:?}: {line:?}");
        kill(&mut child);
    }
}

#[tokio::test]
async fn one_binary_serves_each_negotiated_version() {
    for (versions, expected) in [(vec![2], 2), (vec![3], 3), (vec![1, 2, 3], 3)] {
        let config = ClientConfig::new(HANDSHAKE, plugin("versions")).versions(versions.clone());
        let client = Client::start(config).await.expect("start");
        assert_eq!(client.negotiated_version(), expected);
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        assert_eq!(tester.version().await.expect("call"), expected);
        client.kill().await;
    }
}

#[tokio::test]
async fn version_mismatch_gives_go_plugins_error() {
    let config = ClientConfig::new(HANDSHAKE, plugin("versions")).versions([5, 7]);
    let err = Client::start(config).await.expect_err("no common version");
    assert_eq!(
        err.to_string(),
        "incompatible API version with plugin. Plugin version: 2, Client versions: [5 7]"
    );
}

#[tokio::test]
async fn tcp_listener_stays_in_the_port_range() {
    let (line, mut child) = handshake_line(
        "tcp",
        &[("PLUGIN_MIN_PORT", "23000"), ("PLUGIN_MAX_PORT", "23999")],
    );
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields[2], "tcp");
    let port: u16 = fields[3]
        .strip_prefix("127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .expect("127.0.0.1:PORT");
    assert!((23000..=23999).contains(&port), "port {port}");
    kill(&mut child);

    let client =
        Client::start(ClientConfig::new(HANDSHAKE, plugin("tcp")).port_range(24000, 24999))
            .await
            .expect("start over tcp");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(tester.echo(b"tcp".to_vec()).await.expect("echo"), b"tcp");
    client.kill().await;
}

// ---------------------------------------------------------------------------------------------
// Calls, errors, health, large messages.

#[tokio::test]
async fn calls_cross_the_process_boundary_with_errors_intact() {
    let client = start("").await;
    client.ping().await.expect("health \"plugin\" is SERVING");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester.echo(vec![1, 2, 3]).await.expect("echo"),
        vec![1, 2, 3]
    );
    let err: PluginError = tester
        .fail(Code::NotFound as i32, "no such thing".into())
        .await
        .expect_err("fails");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.message(), "no such thing");
    // Errors the plugin returns, even with the code of a broken transport (`Unknown`), are
    // reported at once: only transport failures wait to learn whether the plugin died.
    let started = Instant::now();
    for _ in 0..3 {
        let err = tester
            .fail(Code::Unknown as i32, "plain error".into())
            .await
            .expect_err("fails");
        assert_eq!((err.code(), err.message()), (Code::Unknown, "plain error"));
    }
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        tester
            .env("BASIC_PLUGIN_HOST_ONLY".into())
            .await
            .expect("env"),
        None
    );
    client.kill().await;
}

#[tokio::test]
async fn messages_far_beyond_4_mib_go_both_ways() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let big: Vec<u8> = (0..64 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let back = tester.echo(big.clone()).await.expect("64 MiB echo");
    assert!(back == big, "64 MiB round trip intact");
    client.kill().await;
}

#[tokio::test]
async fn host_environment_is_passed_unless_skipped() {
    // SAFETY: no other thread of this test binary reads this variable.
    unsafe { std::env::set_var("PLUGIN_RS_TEST_HOST_VAR", "from-host") };
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester
            .env("PLUGIN_RS_TEST_HOST_VAR".into())
            .await
            .expect("env")
            .as_deref(),
        Some("from-host")
    );
    assert_eq!(
        tester
            .env("PLUGIN_PROTOCOL_VERSIONS".into())
            .await
            .expect("env")
            .as_deref(),
        Some("1")
    );
    client.kill().await;

    let config = ClientConfig::new(HANDSHAKE, plugin("")).skip_host_env(true);
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester
            .env("PLUGIN_RS_TEST_HOST_VAR".into())
            .await
            .expect("env"),
        None
    );
    assert_eq!(
        tester.env(MODE.into()).await.expect("env").as_deref(),
        Some(""),
        "the command's own environment is kept"
    );
    client.kill().await;
}

// ---------------------------------------------------------------------------------------------
// Shutdown and kill.

#[tokio::test]
async fn kill_shuts_down_gracefully_fast_and_removes_the_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = plugin("");
    command.env("PLUGIN_UNIX_SOCKET_DIR", dir.path());
    let client = Client::start(ClientConfig::new(HANDSHAKE, command))
        .await
        .expect("start");
    client.ping().await.expect("ping");
    assert_eq!(socket_files(dir.path()).len(), 1);

    let started = Instant::now();
    client.kill().await;
    let took = started.elapsed();
    assert!(client.exited());
    assert_eq!(
        client.wait().await.as_deref(),
        Some("exit status: 0"),
        "exited by itself"
    );
    assert!(
        took < Duration::from_millis(1000),
        "graceful exit took {took:?}"
    );
    assert!(socket_files(dir.path()).is_empty(), "socket file removed");

    // Idempotent, and everything after it says the plugin exited.
    client.kill().await;
    assert!(matches!(
        client.ping().await,
        Err(Error::PluginExited { .. })
    ));
    assert!(matches!(
        client.dispense::<TesterPlugin>(),
        Err(Error::PluginExited { .. })
    ));
}

fn socket_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn calls_after_kill_say_the_plugin_exited() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    client.kill().await;
    let err = tester.echo(vec![1]).await.expect_err("plugin is gone");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().starts_with("plugin exited"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_plugin_dying_mid_call_gives_an_error_not_a_hang() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let err = tokio::time::timeout(Duration::from_secs(10), tester.exit(3))
        .await
        .expect("no hang")
        .expect_err("the call cannot succeed");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("plugin exited"), "{}", err.message());
    assert!(
        err.message().contains("exit status: 3"),
        "{}",
        err.message()
    );
    assert!(client.exited());
}

#[tokio::test]
async fn a_plugin_killed_from_outside_fails_calls_in_flight() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let pid = client.pid();
    let in_flight = tokio::spawn(async move { tester.sleep(30_000).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // SAFETY: plain signal delivery to the child we started.
    unsafe { libc_kill(pid as i32, 9) };
    let result = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("no hang")
        .expect("task");
    let err = result.expect_err("killed mid-call");
    assert!(err.message().contains("plugin exited"), "{}", err.message());
    assert!(
        client
            .wait()
            .await
            .unwrap_or_default()
            .contains("signal: 9")
    );
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

#[tokio::test]
async fn sigint_is_ignored_by_the_plugin() {
    let client = start("").await;
    // SAFETY: plain signal delivery to the child we started.
    unsafe { libc_kill(client.pid() as i32, 2) };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!client.exited(), "SIGINT must not end a plugin");
    client.ping().await.expect("still serving");
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
}

#[tokio::test]
async fn dropping_the_last_client_kills_the_plugin() {
    let client = start("").await;
    let pid = client.pid();
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "plugin {pid} outlived its client"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Alive and not a zombie.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

#[test]
fn a_plugin_whose_host_dies_exits_by_itself() {
    // A stand-in host: a shell that starts the plugin in the background and is then SIGKILLed.
    let mut host = Command::new("sh")
        .arg("-c")
        .arg(format!("'{TEST_PLUGIN}' & echo $!; wait"))
        .env(HANDSHAKE.magic_cookie_key, HANDSHAKE.magic_cookie_value)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let mut stdout = BufReader::new(host.stdout.take().expect("stdout"));
    let mut pid_line = String::new();
    stdout.read_line(&mut pid_line).expect("pid");
    let pid: u32 = pid_line.trim().parse().expect("pid number");
    let mut handshake = String::new();
    stdout.read_line(&mut handshake).expect("handshake");
    assert!(handshake.contains("|grpc|"), "{handshake:?}");
    kill(&mut host);
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "orphaned plugin {pid} still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_plugin_behind_a_shell_exits_when_nobody_reads_its_stdout() {
    // `sh -c "PLUGIN; true"` forks, so the plugin's parent is the shell, which outlives the host.
    // The host is gone once the handshake pipe has no reader left.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!("'{TEST_PLUGIN}'; true"))
        .env(HANDSHAKE.magic_cookie_key, HANDSHAKE.magic_cookie_value)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let mut stdout = BufReader::new(shell.stdout.take().expect("stdout"));
    let mut handshake = String::new();
    stdout.read_line(&mut handshake).expect("handshake");
    assert!(handshake.contains("|grpc|"), "{handshake:?}");
    drop(stdout);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(_)) = shell.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            kill(&mut shell);
            panic!("the plugin kept running after its host went away");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Stdio and logs.

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(std::io::Write::write(&mut self.get_mut().clone(), buf))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

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
struct MirroredLogs(Arc<Mutex<Vec<(tracing::Level, String, String)>>>);

impl MirroredLogs {
    fn find(&self, message: &str) -> Option<(tracing::Level, String, String)> {
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
        if event.metadata().target() != "plugin_runtime::plugin" {
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
        command.env("RUST_LOG", "trace");
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

// ---------------------------------------------------------------------------------------------
// Bad plugins: every one gives a clear error, none a hang or a panic.

fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    command
}

#[tokio::test]
async fn garbage_before_the_handshake_is_unrecognized() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo 'Hello from a banner'; sleep 5"),
    ))
    .await
    .expect_err("not a handshake");
    let text = err.to_string();
    assert!(
        text.starts_with("Unrecognized remote plugin message: Hello from a banner\n"),
        "{text}"
    );
    assert!(text.contains("This usually means"), "{text}");
    assert!(text.contains("Additional notes about plugin:"), "{text}");
    assert!(text.contains("Path: /"), "{text}");
}

#[tokio::test]
async fn a_plugin_that_exits_silently_says_so() {
    let err = Client::start(ClientConfig::new(HANDSHAKE, sh("exit 3")))
        .await
        .expect_err("no handshake");
    let text = err.to_string();
    assert!(
        text.starts_with("Unrecognized remote plugin message: \n"),
        "{text}"
    );
    assert!(
        text.contains("Failed to read any lines from plugin's stdout"),
        "{text}"
    );
}

#[tokio::test]
async fn a_plugin_that_hangs_before_its_handshake_times_out() {
    let started = Instant::now();
    let config =
        ClientConfig::new(HANDSHAKE, sh("sleep 30")).start_timeout(Duration::from_millis(300));
    let err = Client::start(config).await.expect_err("times out");
    assert_eq!(err.to_string(), "timeout while waiting for plugin to start");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_netrpc_plugin_is_refused_with_go_plugins_message() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo '1|1|unix|/tmp/plugin-none|netrpc|'; sleep 5"),
    ))
    .await
    .expect_err("netrpc is not supported");
    assert_eq!(
        err.to_string(),
        "unsupported plugin protocol \"netrpc\". Supported: [grpc]"
    );
}

#[tokio::test]
async fn a_wrong_core_version_is_refused() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo '2|1|unix|/tmp/plugin-none|grpc|'; sleep 5"),
    ))
    .await
    .expect_err("core version 2");
    assert!(
        err.to_string().starts_with(
            "incompatible core API version with plugin. Plugin version: 2, Core version: 1"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_plugin_flooding_stderr_does_not_block_anything() {
    // 4 MiB on the log channel in one line far longer than the log buffer, before the handshake.
    let script =
        format!("head -c 4194304 /dev/zero | tr '\\0' Q >&2; echo >&2; exec '{TEST_PLUGIN}'");
    let raw = Captured::default();
    let config = ClientConfig::new(HANDSHAKE, sh(&script))
        .stderr(raw.clone())
        .log_buffer_size(4096);
    let client = Client::start(config)
        .await
        .expect("starts despite the flood");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    // And 4 MiB through stdout after the handshake.
    let flood = "y".repeat(4 << 20);
    tester.print(flood, String::new()).await.expect("print");
    eventually("the whole flood", || {
        raw.text().matches('Q').count() == 4 << 20
    })
    .await;
    client.ping().await.expect("still healthy");
    client.kill().await;
}

#[tokio::test]
async fn kv_plugin_put_then_get_in_two_runs_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kv = tests::example_binary("kv");
    let run = |args: &[&str]| {
        let output = Command::new(&kv)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run kv");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, _, stderr) = run(&["put", "hello", "world"]);
    assert!(ok, "put failed: {stderr}");
    let (ok, stdout, stderr) = run(&["get", "hello"]);
    assert!(ok, "get failed: {stderr}");
    assert_eq!(stdout, "world\n\nWritten from plugin-rust\n");
    let (ok, _, stderr) = run(&["get", "missing"]);
    assert!(!ok);
    assert!(stderr.starts_with("error: "), "{stderr}");
}
