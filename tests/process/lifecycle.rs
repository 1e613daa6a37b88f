//! Shutdown and kill, and plugins whose host goes away.

use super::*;

/// Starts the test plugin with its socket in a fresh directory, so tests can see the socket file.
async fn start_with_socket_dir() -> (tempfile::TempDir, Client) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = plugin("");
    command.env("PLUGIN_UNIX_SOCKET_DIR", dir.path());
    let client = Client::start(ClientConfig::new(HANDSHAKE, command))
        .await
        .expect("start");
    (dir, client)
}

#[tokio::test]
async fn kill_shuts_down_gracefully_and_removes_the_socket() {
    let (dir, client) = start_with_socket_dir().await;
    client.ping().await.expect("ping");
    assert_eq!(socket_files(dir.path()).len(), 1);

    client.kill().await;
    assert!(client.exited());
    // Status 0: the plugin exited by itself after Shutdown, inside the grace period; past it,
    // kill would have ended it with SIGKILL.
    assert_eq!(
        client.wait().await.as_deref(),
        Some("exit status: 0"),
        "exited by itself"
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
async fn sigterm_shuts_the_plugin_down_cleanly() {
    let (dir, client) = start_with_socket_dir().await;
    // SAFETY: plain signal delivery to the child we started.
    unsafe { libc_kill(client.pid() as i32, 15) };
    let status = tokio::time::timeout(Duration::from_secs(5), client.wait())
        .await
        .expect("exits");
    assert_eq!(status.as_deref(), Some("exit status: 0"));
    assert!(socket_files(dir.path()).is_empty(), "socket file removed");
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

#[tokio::test]
async fn a_dispensed_client_keeps_its_plugin_alive_until_it_is_dropped() {
    // The one-liner users write: the `Client` is a temporary, dropped at the end of the statement.
    let tester = Client::start(ClientConfig::new(HANDSHAKE, plugin("")))
        .await
        .expect("start")
        .dispense::<TesterPlugin>()
        .expect("dispense");
    let pid = tester.pid().await.expect("pid");
    assert_eq!(
        tester.echo(b"still here".to_vec()).await.expect("echo"),
        b"still here"
    );
    assert!(process_alive(pid), "plugin {pid} died with its Client");

    drop(tester);
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "plugin {pid} outlived its last client"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A shell standing in for a host: runs `script` with the plugin's cookie set and hands back its
/// stdout, where the handshake arrives.
fn shell_host(script: &str) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env(HANDSHAKE.magic_cookie_key, HANDSHAKE.magic_cookie_value)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let stdout = BufReader::new(shell.stdout.take().expect("stdout"));
    (shell, stdout)
}

/// How long an orphaned plugin may take to exit. It is woken by the kernel and exits within
/// milliseconds (each test prints how soon); the bound only tells exiting from living on, so
/// it leaves a loaded machine 10 s.
const HOST_DEATH_NOTICED: Duration = Duration::from_secs(10);

#[test]
fn a_plugin_whose_host_dies_exits() {
    // A stand-in host: a shell that starts the plugin in the background and is then SIGKILLed.
    let (mut host, mut stdout) = shell_host(&format!("'{TEST_PLUGIN}' & echo $!; wait"));
    let mut pid_line = String::new();
    stdout.read_line(&mut pid_line).expect("pid");
    let pid: u32 = pid_line.trim().parse().expect("pid number");
    let mut handshake = String::new();
    stdout.read_line(&mut handshake).expect("handshake");
    assert!(handshake.contains("|grpc|"), "{handshake:?}");
    kill(&mut host);
    let killed = Instant::now();
    while process_alive(pid) {
        assert!(
            killed.elapsed() < HOST_DEATH_NOTICED,
            "orphaned plugin {pid} still running {:?} after its host died",
            killed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!(
        "plugin exited {:?} after its host was killed",
        killed.elapsed()
    );
}

#[test]
fn a_plugin_behind_a_shell_exits_when_nobody_reads_its_stdout() {
    // `sh -c "PLUGIN; true"` forks, so the plugin's parent is the shell, which outlives the host.
    // The host is gone once the handshake pipe has no reader left.
    let (mut shell, mut stdout) = shell_host(&format!("'{TEST_PLUGIN}'; true"));
    let mut handshake = String::new();
    stdout.read_line(&mut handshake).expect("handshake");
    assert!(handshake.contains("|grpc|"), "{handshake:?}");
    drop(stdout);
    let closed = Instant::now();
    loop {
        if let Ok(Some(_)) = shell.try_wait() {
            break;
        }
        if closed.elapsed() > HOST_DEATH_NOTICED {
            kill(&mut shell);
            panic!(
                "the plugin kept running {:?} after its host went away",
                closed.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!(
        "plugin exited {:?} after its stdout lost its reader",
        closed.elapsed()
    );
}
