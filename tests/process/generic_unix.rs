//! The generic Unix path: what `go-plugin` falls back on where the OS offers no process handles
//! (Unixes other than Linux, macOS and the BSDs). `GO_PLUGIN_GENERIC_UNIX=1` forces it on Linux,
//! and `scripts/test-all` runs `lifecycle::`, `reattach::` and this module again with it set
//! (the variable reaches the plugins too), so that path runs in CI and is not only compiled.
//! These tests assert what differs between the two paths; they run in both.

use super::*;

#[tokio::test]
async fn kill_takes_the_plugins_children_only_where_the_os_can_find_them() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let child = tester
        .spawn_child("exec sleep 300".to_owned())
        .await
        .expect("child");
    let plugin = client.pid();
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
    if generic_unix() {
        // Only the plugin, by its pid, as go-plugin kills it. A child that was sent SIGKILL can
        // look alive for a moment, until the kernel has run its exit: a second tells that from
        // one never signalled (a busy machine could only make a break pass, never this fail).
        assert!(!process_alive(plugin));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            process_alive(child),
            "the plugin's child was killed: the generic path is not in effect"
        );
        // SAFETY: cleaning up the child this test made the plugin start.
        unsafe { libc::kill(child as libc::pid_t, libc::SIGKILL) };
    } else {
        eventually("the plugin's child to go", || !process_alive(child)).await;
    }
}
