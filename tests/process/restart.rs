//! Supervised plugins (`ClientConfig::restart`): a plugin that dies unexpectedly comes back,
//! within the policy's budget and backoff, and never when the host did not start it or asked it
//! to stop.

use go_plugin::{PluginState, RestartPolicy};
use tokio::sync::watch;

use super::*;

/// How long anything here may take on a loaded machine before a test calls it a hang.
const HANG: Duration = Duration::from_secs(30);

/// At most `budget` restarts a minute, after a backoff from `initial` doubling up to `max`.
fn policy(budget: u32, initial: Duration, max: Duration) -> RestartPolicy {
    RestartPolicy::new(budget, Duration::from_secs(60)).backoff(initial, max)
}

/// The budget and backoff of the tests where the numbers do not matter.
fn quick() -> RestartPolicy {
    policy(3, Duration::from_millis(10), Duration::from_millis(10))
}

async fn start_supervised(command: Command, policy: RestartPolicy) -> Client {
    Client::start(ClientConfig::new(HANDSHAKE, command).restart(policy))
        .await
        .expect("the first start serves")
}

/// Gives a restart that should not happen time to show, then records the state it left.
async fn a_moment_later(states: &mut watch::Receiver<PluginState>, seen: &mut Vec<PluginState>) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    seen.push(states.borrow_and_update().clone());
}

fn restarted(seen: &[PluginState]) -> bool {
    seen.iter().any(|state| {
        matches!(
            state,
            PluginState::Restarting { .. } | PluginState::Starting { .. }
        )
    })
}

/// A plugin whose starts after the first do as `later` says, with its marker in `dir`.
fn marked(dir: &Path, later: &str) -> Command {
    let mut command = plugin("");
    command
        .env("TEST_PLUGIN_MARKER", dir.join("started"))
        .env("TEST_PLUGIN_LATER", later);
    command
}

/// The times of the starts after the first of a [`marked`] plugin, in ms since the epoch.
fn later_starts(dir: &Path) -> Vec<u128> {
    std::fs::read_to_string(dir.join("started.starts"))
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().expect("a time"))
        .collect()
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis()
}

fn sigkill(pid: u32) {
    // SAFETY: plain signal delivery to a child we started.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
}

/// Waits for a state `wanted` accepts, recording every state seen on the way.
async fn state_where(
    states: &mut watch::Receiver<PluginState>,
    seen: &mut Vec<PluginState>,
    wanted: impl Fn(&PluginState) -> bool,
) -> PluginState {
    tokio::time::timeout(HANG, async {
        loop {
            let state = states.borrow_and_update().clone();
            if seen
                .last()
                .is_none_or(|last| format!("{last:?}") != format!("{state:?}"))
            {
                seen.push(state.clone());
            }
            if wanted(&state) {
                return state;
            }
            states.changed().await.expect("the plugin's state goes on");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no such state; seen {seen:?}"))
}

fn socket_dirs_of(pid: u32) -> Vec<PathBuf> {
    // The host's private socket directory is the plugin's PLUGIN_UNIX_SOCKET_DIR.
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    environ
        .split(|&b| b == 0)
        .filter_map(|entry| entry.strip_prefix(b"PLUGIN_UNIX_SOCKET_DIR="))
        .map(|dir| PathBuf::from(String::from_utf8_lossy(dir).into_owned()))
        .collect()
}

async fn gone(pid: u32) {
    tokio::time::timeout(HANG, async {
        while process_alive(pid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("process {pid} is still alive"));
}

#[tokio::test]
async fn a_plugin_killed_under_64_callers_comes_back_and_the_same_clients_reach_it() {
    const CALLERS: usize = 64;
    // A short backoff: a call that failed at the kill may look after the new process serves,
    // and still says the plugin exited.
    let policy = policy(3, Duration::from_millis(20), Duration::from_secs(1));
    let client = start_supervised(plugin(""), policy).await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let first = client.pid();
    let mut states = client.state();
    let mut seen = Vec::new();

    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let (tester, killed) = (tester.clone(), Arc::clone(&killed));
            tokio::spawn(async move {
                let own = format!("caller {caller}").into_bytes();
                let mut failures = Vec::new();
                loop {
                    let after_kill = killed.load(std::sync::atomic::Ordering::SeqCst);
                    match tester.echo(own.clone()).await {
                        Ok(answer) => {
                            assert_eq!(answer, own);
                            if after_kill {
                                // Answered after the kill: by the new process, unless the
                                // call was made before the old one was seen to die.
                                let pid = tester.pid().await;
                                if let Ok(pid) = pid
                                    && pid != first
                                {
                                    return (failures, pid);
                                }
                            }
                        }
                        Err(err) => {
                            failures.push(err.clone());
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    sigkill(first);

    let serving = state_where(
        &mut states,
        &mut seen,
        |state| matches!(state, PluginState::Serving { pid } if *pid != first),
    )
    .await;
    let PluginState::Serving { pid: second } = serving else {
        unreachable!()
    };
    assert_eq!(client.pid(), second);
    for caller in callers {
        let (failures, answered_by) = tokio::time::timeout(HANG, caller)
            .await
            .expect("every caller reaches the new process")
            .expect("no caller panics");
        assert_eq!(answered_by, second);
        for err in failures {
            assert_eq!(err.code(), Code::Unavailable, "{err:?}");
            assert!(err.message().starts_with("plugin exited"), "{err:?}");
        }
    }
    // A client dispensed before the crash, used afterwards.
    assert_eq!(tester.pid().await.expect("pid"), second);
    client.kill().await;
    gone(first).await;
    gone(second).await;
    assert!(matches!(*client.state().borrow(), PluginState::Stopped));
}

#[tokio::test]
async fn a_plugin_that_crashes_on_start_spends_the_budget_and_the_error_has_its_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let initial = Duration::from_millis(100);
    let client =
        start_supervised(marked(dir.path(), "crash"), policy(2, initial, initial * 8)).await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let mut states = client.state();
    let mut seen = Vec::new();
    let first = client.pid();
    let killed_at = now_ms();
    sigkill(first);

    let failed = state_where(&mut states, &mut seen, |state| {
        matches!(state, PluginState::Failed { .. })
    })
    .await;
    let PluginState::Failed { error: failed } = failed else {
        unreachable!()
    };
    // Two restarts, both crashing, then given up on: no third.
    let starts = later_starts(dir.path());
    assert_eq!(starts.len(), 2, "{starts:?}; seen {seen:?}");
    // Each restart waits its backoff, which doubles: 100 ms after the kill, then 200 ms after
    // the first restart crashed.
    let millis = |d: Duration| d.as_millis();
    assert!(
        starts[0] - killed_at >= millis(initial),
        "{starts:?} after {killed_at}"
    );
    assert!(starts[1] - starts[0] >= millis(initial * 2), "{starts:?}");

    let text = failed.to_string();
    assert!(text.starts_with("plugin given up on"), "{text}");
    assert!(
        text.contains("test-plugin: crashing on start, as asked"),
        "{text}"
    );
    let err = tester.echo(vec![1]).await.expect_err("given up on");
    assert!(err.message().starts_with("plugin exited"), "{err:?}");
    assert!(client.serving().await.is_err());
    client.kill().await;
}

#[tokio::test]
async fn a_restart_refused_for_its_cookie_is_not_tried_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let every_20_ms = policy(5, Duration::from_millis(20), Duration::from_millis(20));
    let client = start_supervised(marked(dir.path(), "wrong-cookie"), every_20_ms).await;
    let mut states = client.state();
    let mut seen = Vec::new();
    sigkill(client.pid());
    let failed = state_where(&mut states, &mut seen, |state| {
        matches!(state, PluginState::Failed { .. })
    })
    .await;
    let PluginState::Failed { error } = failed else {
        unreachable!()
    };
    assert!(
        matches!(*error, Error::MagicCookieMismatch { .. }),
        "{error}"
    );
    let starts = later_starts(dir.path());
    assert_eq!(
        starts.len(),
        1,
        "one start, not five: {starts:?}; seen {seen:?}"
    );
    client.kill().await;
}

#[tokio::test]
async fn kill_during_the_backoff_leaves_no_process_and_no_socket() {
    // Long enough for the kill to land within it on a busy machine, short enough that a
    // supervisor the kill failed to stop would restart the plugin while the test still looks.
    let backoff = Duration::from_secs(5);
    let client = start_supervised(plugin(""), policy(3, backoff, backoff)).await;
    let first = client.pid();
    let dirs = socket_dirs_of(first);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let mut states = client.state();
    let mut seen = Vec::new();
    sigkill(first);
    let restarting = state_where(&mut states, &mut seen, |state| {
        matches!(state, PluginState::Restarting { .. })
    })
    .await;
    assert!(
        matches!(
            &restarting,
            PluginState::Restarting { attempt: 1, last_exit: Some(exit) } if exit.contains("signal: 9")
        ),
        "{restarting:?}"
    );
    // Within the backoff.
    let killed = std::time::Instant::now();
    tokio::time::timeout(HANG, client.kill())
        .await
        .expect("kill returns during the backoff");
    assert!(killed.elapsed() < backoff, "kill waited for the backoff");
    state_where(&mut states, &mut seen, |state| {
        matches!(state, PluginState::Stopped)
    })
    .await;
    gone(first).await;
    assert!(!dirs[0].exists(), "socket directory {:?} left", dirs[0]);
    // Nothing started after the kill, even once the backoff is over.
    tokio::time::sleep(backoff + Duration::from_secs(1)).await;
    a_moment_later(&mut states, &mut seen).await;
    assert_eq!(client.pid(), first);
    assert!(
        !seen
            .iter()
            .any(|state| matches!(state, PluginState::Starting { .. })),
        "{seen:?}"
    );
    assert!(
        matches!(seen.last(), Some(PluginState::Stopped)),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_serving_supervised_plugin_killed_by_the_host_is_not_restarted() {
    let client = start_supervised(plugin(""), quick()).await;
    let pid = client.pid();
    let dirs = socket_dirs_of(pid);
    let (mut states, mut seen) = (client.state(), Vec::new());
    client.kill().await;
    gone(pid).await;
    assert!(matches!(*client.state().borrow(), PluginState::Stopped));
    a_moment_later(&mut states, &mut seen).await;
    assert!(!restarted(&seen), "{seen:?}");
    assert!(
        matches!(seen.last(), Some(PluginState::Stopped)),
        "{seen:?}"
    );
    assert_eq!(client.pid(), pid, "nothing restarted");
    assert!(dirs.iter().all(|dir| !dir.exists()), "{dirs:?}");
    let tester = client.dispense::<TesterPlugin>();
    assert!(matches!(tester, Err(Error::PluginExited { .. })));
}

#[tokio::test]
async fn dropping_every_handle_stops_a_supervised_plugin_for_good() {
    let client = start_supervised(plugin(""), quick()).await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let pid = client.pid();
    drop(client);
    tester
        .echo(vec![1])
        .await
        .expect("the dispensed client keeps it running");
    drop(tester);
    gone(pid).await;
}

#[tokio::test]
async fn a_reattached_plugin_is_never_restarted() {
    let owner = start("").await;
    let config = owner.reattach_config();
    let client = Client::start(ClientConfig::reattach(HANDSHAKE, config).restart(quick()))
        .await
        .expect("reattach");
    let mut states = client.state();
    let mut seen = Vec::new();
    sigkill(owner.pid());
    state_where(&mut states, &mut seen, |state| {
        matches!(state, PluginState::Stopped)
    })
    .await;
    a_moment_later(&mut states, &mut seen).await;
    assert!(!restarted(&seen), "{seen:?}");
    assert!(
        matches!(seen.last(), Some(PluginState::Stopped)),
        "{seen:?}"
    );
}

#[tokio::test]
async fn an_idempotent_call_is_made_again_on_the_new_process() {
    let policy = policy(3, Duration::from_millis(50), Duration::from_secs(1));
    let client = start_supervised(plugin(""), policy).await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let first = client.pid();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let pid = client
        .retry_idempotent(|| async {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                // The first attempt dies with the plugin under it.
                sigkill(first);
                tester.hold(60_000).await.map(|()| 0)
            } else {
                tester.pid().await
            }
        })
        .await
        .expect("answered by the new process");
    assert_ne!(pid, first);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    client.kill().await;
}
