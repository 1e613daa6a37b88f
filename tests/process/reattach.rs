//! Reattach and debug mode: connecting to a plugin that is already running, and the plugin side
//! of it, a plugin run by hand that prints where to connect.

use go_plugin::{ReattachAddress, ReattachConfig, SecureConfig};

use super::*;

/// A plugin no host will stop (its host left it, or it runs in debug mode): killed when the test
/// ends, however it ends, so a failing test leaves nothing behind.
struct Unowned(u32);

impl Drop for Unowned {
    fn drop(&mut self) {
        if process_alive(self.0) {
            // SAFETY: plain signal delivery to the plugin this test started.
            unsafe { libc::kill(self.0 as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Starts `test-host leave`, which starts `test-plugin` in `mode`, prints its reattach
/// configuration and exits without stopping it.
fn plugin_left_running(mode: &str) -> (Unowned, ReattachConfig) {
    let output = Command::new(env!("CARGO_BIN_EXE_test-host"))
        .arg("leave")
        .env("TEST_PLUGIN", TEST_PLUGIN)
        .env(MODE, mode)
        .stderr(Stdio::null())
        .output()
        .expect("run test-host leave");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let config = ReattachConfig::from_json(text.trim()).expect("reattach JSON");
    (Unowned(config.pid), config)
}

/// Starts `test-plugin` in debug mode and reads its announcement.
fn plugin_in_debug_mode() -> (Unowned, std::process::Child, ReattachConfig) {
    let mut child = plugin("debug")
        .env_remove(HANDSHAKE.magic_cookie_key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn test-plugin in debug mode");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut announcement = String::new();
    for _ in 0..4 {
        stdout.read_line(&mut announcement).expect("read");
    }
    assert!(
        announcement.starts_with("Plugin started in debug mode."),
        "{announcement:?}"
    );
    let json = announcement
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with('{'))
        .expect("the reattach configuration");
    let config = ReattachConfig::from_json(json).expect("reattach JSON");
    // The rest of stdout is the plugin's own (println! in debug mode): keep draining it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (Unowned(child.id()), child, config)
}

#[tokio::test]
async fn a_second_host_reattaches_to_a_plugin_its_first_host_left_running() {
    let (_plugin, config) = plugin_left_running("survive-host");
    assert_eq!(config.protocol, "grpc");
    assert_eq!(config.protocol_version, 1);
    assert!(!config.test);
    assert!(matches!(config.address, ReattachAddress::Unix(_)));
    let pid = config.pid;
    assert!(process_alive(pid), "the first host's plugin is running");

    let client = Client::start(ClientConfig::reattach(HANDSHAKE, config.clone()))
        .await
        .expect("reattach");
    assert_eq!(client.reattach_config(), config);
    assert_eq!(client.pid(), pid);
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(tester.pid().await.expect("call"), pid);
    assert_eq!(
        tester.echo(b"again".to_vec()).await.expect("echo"),
        b"again"
    );

    client.kill().await;
    assert!(
        client.exited(),
        "the host heard of the exit from the kernel"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "reattached plugin {pid} survived kill"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_reattached_host_signals_only_the_pid_it_was_told_about() {
    let (_plugin, config) = plugin_left_running("survive-host");
    let client = Client::start(ClientConfig::reattach(HANDSHAKE, config.clone()))
        .await
        .expect("reattach");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let child = tester
        .spawn_child("exec sleep 300".to_owned())
        .await
        .expect("child");
    // SIGSTOP: the plugin cannot shut down by itself, so kill must use the pid.
    // SAFETY: plain signal delivery to the plugin this test started.
    unsafe { libc::kill(config.pid as libc::pid_t, libc::SIGSTOP) };
    client.kill().await;
    // On the generic path the host sees a reattached plugin's exit only by looking at its pid
    // now and then, and this plugin, the test's own child, stays a zombie until the test reaps
    // it.
    assert!(client.exited() || generic_unix());
    assert!(
        process_alive(child),
        "the host signalled {child}, which nobody told it about"
    );
    // SAFETY: cleaning up the child this test made the plugin start.
    unsafe { libc::kill(child as libc::pid_t, libc::SIGKILL) };
}

#[tokio::test]
async fn reattaching_to_a_plugin_that_is_gone_says_so_in_go_plugins_words() {
    let (_plugin, config) = plugin_left_running("survive-host");
    // SAFETY: plain signal delivery to the plugin this test started.
    unsafe { libc::kill(config.pid as libc::pid_t, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(config.pid) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let err = Client::start(ClientConfig::reattach(HANDSHAKE, config.clone()))
        .await
        .expect_err("nothing to reattach to");
    assert!(matches!(err, Error::ProcessNotFound), "{err:?}");
    assert_eq!(err.to_string(), "reattachment process not found");

    // A live pid but nothing listening at the address.
    let mut dead_address = config;
    dead_address.pid = std::process::id();
    dead_address.address = ReattachAddress::Unix("/nonexistent/plugin-socket".into());
    let err = Client::start(ClientConfig::reattach(HANDSHAKE, dead_address))
        .await
        .expect_err("nothing listens");
    assert_eq!(err.to_string(), "reattachment process not found");
}

#[tokio::test]
async fn secure_config_and_reattach_together_are_refused() {
    let config = ReattachConfig {
        protocol: "grpc".to_owned(),
        protocol_version: 1,
        address: ReattachAddress::Unix("/nonexistent".into()),
        pid: 0,
        test: false,
    };
    let err = Client::start(
        ClientConfig::reattach(HANDSHAKE, config).secure_config(SecureConfig::sha256([0u8; 32])),
    )
    .await
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "only one of Reattach or SecureConfig can be set"
    );
}

#[tokio::test]
async fn a_plugin_in_debug_mode_is_never_stopped_by_a_host_and_stops_on_ctrl_c() {
    let (_unowned, mut plugin, config) = plugin_in_debug_mode();
    assert!(config.test, "debug mode is go-plugin's test mode");
    assert_eq!(config.pid, plugin.id());

    let client = Client::start(ClientConfig::reattach(HANDSHAKE, config))
        .await
        .expect("reattach");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester.echo(b"debug".to_vec()).await.expect("echo"),
        b"debug"
    );
    // Debug mode needs no cookie: the plugin was started without one.
    assert_eq!(
        tester
            .env(HANDSHAKE.magic_cookie_key.to_owned())
            .await
            .expect("env"),
        None
    );
    client.kill().await;
    drop(tester);
    drop(client);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        matches!(plugin.try_wait(), Ok(None)),
        "a host stopped a plugin in debug mode"
    );

    // SAFETY: plain signal delivery to our own child.
    unsafe { libc::kill(plugin.id() as libc::pid_t, libc::SIGINT) };
    let status = plugin.wait().expect("plugin exits");
    assert!(status.success(), "Ctrl-C ends debug mode cleanly: {status}");
}

#[tokio::test]
async fn a_plugin_in_debug_mode_keeps_its_stdout() {
    let mut child = plugin("debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let _unowned = Unowned(child.id());
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let json = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("announcement");
        if line.trim().starts_with('{') {
            break line;
        }
    };
    let config = ReattachConfig::from_json(json.trim()).expect("reattach JSON");
    let client = Client::start(ClientConfig::reattach(HANDSHAKE, config))
        .await
        .expect("reattach");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    tester
        .print("println! in debug mode\n".to_owned(), String::new())
        .await
        .expect("print");
    let printed = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the plugin's own stdout");
        if !line.trim().is_empty() {
            break line;
        }
    };
    assert_eq!(printed, "println! in debug mode");
    kill(&mut child);
}
