//! A host at a terminal, as go-plugin runs plugins: in the host's process group with the host's
//! stdin, so a plugin can read what the user types, and Ctrl-C is the host's to act on.

use tests::terminal::Terminal;

use super::*;

/// How long a run at the terminal may take. A plugin stopped by SIGTTIN hangs until this passes.
const AT_THE_TERMINAL: Duration = Duration::from_secs(20);

#[test]
fn a_plugin_reads_a_line_typed_at_the_hosts_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kv_plugin = tests::workspace_binary("kv-plugin");
    let mut kv = Command::new(tests::workspace_binary("kv"));
    kv.args(["put", "hello", "world"])
        .current_dir(dir.path())
        .env(
            "KV_PLUGIN",
            format!(
                "read x; echo \"$x\" > typed; exec '{}'",
                kv_plugin.display()
            ),
        );
    let mut terminal = Terminal::spawn(kv).expect("start kv on a terminal");
    terminal
        .type_text("a line from the keyboard\n")
        .expect("type");
    let status = terminal.wait(AT_THE_TERMINAL);
    assert!(status.success(), "{status}: {}", terminal.output());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("typed")).expect("the plugin wrote it"),
        "a line from the keyboard\n"
    );
    assert!(
        dir.path().join("kv_hello").exists(),
        "and then served the put"
    );
}

#[test]
fn ctrl_c_at_the_terminal_leaves_the_plugin_to_the_host() {
    let mut host = Command::new(env!("CARGO_BIN_EXE_test-host"));
    host.arg("terminal").env("TEST_PLUGIN", TEST_PLUGIN);
    let mut terminal = Terminal::spawn(host).expect("start test-host on a terminal");
    terminal.expect("ready", AT_THE_TERMINAL);
    terminal.type_text("\x03").expect("Ctrl-C");
    terminal.expect("plugin answered after ctrl-c", AT_THE_TERMINAL);
    let output = terminal.expect("killed", AT_THE_TERMINAL);
    let status = terminal.wait(AT_THE_TERMINAL);
    assert!(status.success(), "{status}: {output}");
    let grandchild: u32 = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("grandchild "))
        .and_then(|pid| pid.parse().ok())
        .expect("the grandchild's pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(grandchild) {
        assert!(
            Instant::now() < deadline,
            "the plugin's child {grandchild} outlived kill()"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
