//! Process hygiene beyond go-plugin: children killed with their plugin, a bounded kill with a
//! configurable grace period, cleanup of every plugin at once, private socket directories.

use std::os::unix::fs::PermissionsExt;

use super::*;

/// Waits up to 5 s for `pid` to be gone.
async fn gone(pid: u32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(Instant::now() < deadline, "{what} {pid} is still running");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn kill_takes_the_plugins_children_and_grandchildren_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("grandchild");
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let child = tester
        .spawn_child("exec sleep 300".to_owned())
        .await
        .expect("child");
    tester
        .spawn_child(format!(
            "sleep 300 & echo $! > '{}'; wait",
            pid_file.display()
        ))
        .await
        .expect("grandchild");
    eventually("the grandchild's pid", || pid_file.exists()).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let grandchild: u32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(process_alive(child) && process_alive(grandchild));

    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
    gone(child, "the plugin's child").await;
    gone(grandchild, "the plugin's grandchild").await;
}

#[tokio::test]
async fn kill_of_a_stopped_plugin_waits_the_grace_period_then_sigkills_it() {
    let grace = Duration::from_millis(300);
    let client = Client::start(ClientConfig::new(HANDSHAKE, plugin("")).shutdown_grace(grace))
        .await
        .expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let child = tester
        .spawn_child("exec sleep 300".to_owned())
        .await
        .expect("child");
    // SAFETY: plain signal delivery to our own plugin.
    unsafe { libc::kill(client.pid() as libc::pid_t, libc::SIGSTOP) };

    // Kill returns at most a second after the grace (its documented bound, kept by timers); the
    // test only tells returning from hanging, so it leaves a loaded machine 10 s past the grace.
    let started = Instant::now();
    tokio::time::timeout(grace + Duration::from_secs(10), client.kill())
        .await
        .expect("kill returns after the grace period");
    let took = started.elapsed();
    assert!(
        took >= grace,
        "kill gave up before the grace period: {took:?}"
    );
    assert_eq!(
        client.wait().await.as_deref(),
        Some("signal: 9 (SIGKILL)"),
        "killed, not exited"
    );
    gone(child, "the stopped plugin's child").await;
}

// `cleanup_clients` stops every plugin of the process it runs in, so it is tested in a host of
// its own (`test-host`), never in this test process, whose other tests' plugins it would stop.
#[test]
fn an_interrupted_host_with_the_cleanup_helper_stops_its_plugins() {
    for (signal, status) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let mut host = Command::new(env!("CARGO_BIN_EXE_test-host"))
            .args(["cleanup", "2"])
            .env("TEST_PLUGIN", TEST_PLUGIN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn test-host");
        let mut stdout = BufReader::new(host.stdout.take().expect("stdout"));
        let mut plugins = Vec::new();
        loop {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read test-host");
            match line.trim().split_once(' ') {
                Some(("plugin", pid)) => plugins.push(pid.parse::<u32>().expect("pid")),
                _ if line.trim() == "ready" => break,
                _ => panic!("test-host said {line:?}"),
            }
        }
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(host.id() as libc::pid_t, signal) };
        let output = host.wait_with_output().expect("test-host exits");
        let logs = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(status), "{logs}");
        for pid in plugins {
            assert!(!process_alive(pid), "plugin {pid} outlived its host");
        }
        assert_eq!(
            logs.matches("plugin process exited").count(),
            2,
            "both plugins exited: {logs}"
        );
        assert!(!logs.contains("ERROR"), "{logs}");
        assert!(!logs.contains("failed to exit gracefully"), "{logs}");
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn a_plugin_keeps_its_socket_in_a_private_directory_it_removes() {
    let (line, mut child) = handshake_line("", &[]);
    let socket = PathBuf::from(line.trim_end().split('|').nth(3).expect("address"));
    let dir = socket.parent().expect("socket directory").to_path_buf();
    assert_eq!(dir.parent(), Some(std::env::temp_dir().as_path()));
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(name.starts_with("plugin-dir"), "{name}");
    assert_eq!(
        mode(&dir),
        0o700,
        "only the plugin's user can reach the socket"
    );

    // SAFETY: plain signal delivery to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("plugin exits");
    assert!(status.success(), "{status}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// macOS's `$TMPDIR` (`/var/folders/xx/…/T/`) leaves too little of the 104-byte socket path
/// (terraform#22198): a plugin whose temporary directory is that long still listens, in `/tmp`.
#[test]
fn a_temporary_directory_too_long_for_socket_paths_gives_way_to_tmp() {
    let base = tempfile::tempdir().expect("tempdir");
    let long = base
        .path()
        .join("t".repeat(100 - base.path().as_os_str().len()));
    std::fs::create_dir(&long).expect("long temporary directory");
    let (line, mut child) = handshake_line("", &[("TMPDIR", long.to_str().expect("utf-8"))]);
    let socket = PathBuf::from(line.trim_end().split('|').nth(3).expect("address"));
    let dir = socket.parent().expect("socket directory").to_path_buf();
    assert_eq!(dir.parent(), Some(Path::new("/tmp")), "{line}");
    assert!(socket.exists(), "{line}");
    kill(&mut child);
}

#[tokio::test]
async fn the_host_gives_each_plugin_a_private_socket_directory_and_removes_it() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let dir = PathBuf::from(
        tester
            .env("PLUGIN_UNIX_SOCKET_DIR".to_owned())
            .await
            .expect("env")
            .expect("the host set PLUGIN_UNIX_SOCKET_DIR"),
    );
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(
        std::fs::read_dir(&dir).expect("list").count(),
        1,
        "the socket"
    );
    client.kill().await;
    eventually("the socket directory to go", || !dir.exists()).await;
}
