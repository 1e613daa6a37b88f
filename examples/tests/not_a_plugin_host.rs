//! Each example plugin run by hand, without its host's magic cookie: it prints go-plugin's
//! message on stderr, nothing on stdout, and exits 1, as go-plugin's own plugins do.

use std::process::Command;

const PLUGINS: [&str; 5] = [
    env!("CARGO_BIN_EXE_kv-plugin"),
    env!("CARGO_BIN_EXE_counter-plugin"),
    env!("CARGO_BIN_EXE_streamer-plugin"),
    env!("CARGO_BIN_EXE_negotiated-plugin"),
    env!("CARGO_BIN_EXE_terraform-provider-greeter"),
];

#[test]
fn every_example_plugin_refuses_to_run_without_its_cookie() {
    for plugin in PLUGINS {
        let output = Command::new(plugin)
            .env_clear()
            .output()
            .unwrap_or_else(|err| panic!("run {plugin}: {err}"));
        assert_eq!(output.status.code(), Some(1), "{plugin}: {output:?}");
        assert!(output.stdout.is_empty(), "{plugin}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).starts_with(
                "This binary is a plugin. These are not meant to be executed directly."
            ),
            "{plugin}: {output:?}"
        );
    }
}
