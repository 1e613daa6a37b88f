//! The command itself, run as users run it: usage errors and `--help`. (Its checks on real
//! plugins are `tests/doctor.rs` in the `tests` package.)

use std::process::Command;

fn doctor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plugin-doctor"))
        .args(args)
        .output()
        .expect("run plugin-doctor")
}

#[test]
fn no_plugin_command_is_a_usage_error() {
    let output = doctor(&["--json"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("plugin-doctor: "), "{stderr}");
    assert!(stderr.contains("usage: plugin-doctor"), "{stderr}");
    assert!(output.stdout.is_empty(), "{output:?}");
}

#[test]
fn help_prints_the_usage_on_stdout_and_succeeds() {
    let output = doctor(&["--help"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("usage: plugin-doctor"));
}
