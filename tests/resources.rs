//! The host's own resources with many plugins and with noisy ones: file descriptors, socket
//! files, processes, memory and call latency. A test binary of its own, whose tests run one at a
//! time ([`alone`]), so that no other test's plugins disturb what is counted and timed.

use std::process::Command;
use std::time::Duration;

use tests::process_alive;

const TEST_PLUGIN: &str = env!("CARGO_BIN_EXE_test-plugin");
const TEST_HOST: &str = env!("CARGO_BIN_EXE_test-host");

/// Held by each test for its whole run: the tests of this binary measure the machine.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `test-host fleet 100` (see `plugins/test_host.rs`) with its temporary directory, where the
/// runtime makes each plugin's private socket directory, set to a fresh one: all 100 plugins
/// start at once and answer, then are killed at once; afterwards no plugin process, socket file
/// or socket directory is left and the host has exactly the file descriptors it had before.
#[test]
fn one_host_starts_a_hundred_plugins_at_once_and_leaves_nothing_behind() {
    const PLUGINS: usize = 100;
    let _alone = alone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(TEST_HOST);
    command
        .args(["fleet", &PLUGINS.to_string()])
        .env("TEST_PLUGIN", TEST_PLUGIN)
        .env("TMPDIR", tmp.path());
    let run = tests::run::run(command, Duration::from_secs(90)).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let value = |prefix: &str| -> &str {
        lines
            .iter()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line:\n{run}"))
    };
    let pids: std::collections::BTreeSet<u32> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("plugin "))
        .map(|pid| pid.parse().expect("pid"))
        .collect();
    assert_eq!(pids.len(), PLUGINS, "{run}");
    assert!(
        lines.contains(&"ready") && lines.contains(&"killed"),
        "{run}"
    );
    assert_eq!(
        value("socket dirs "),
        PLUGINS.to_string(),
        "one socket directory each:\n{run}"
    );

    let (before, after) = (value("fds before "), value("fds after "));
    let leaked: Vec<&&str> = lines.iter().filter(|l| l.starts_with("leaked ")).collect();
    assert!(
        leaked.is_empty() && before == after,
        "fds {before} before, {after} after:\n{run}"
    );

    let left: Vec<&u32> = pids
        .iter()
        .filter(|pid| {
            process_alive(**pid) || std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
        .collect();
    assert!(left.is_empty(), "plugin processes left: {left:?}");
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("read the temporary directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    assert!(
        entries.is_empty(),
        "left in the temporary directory: {entries:?}"
    );
    eprintln!(
        "{PLUGINS} plugins started, answered and killed in {:.2?}; fds {before} before and after",
        run.elapsed
    );
}
