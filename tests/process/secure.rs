//! SecureConfig: the host checks the plugin's executable against a checksum before running it.

use std::os::unix::fs::PermissionsExt;

use go_plugin::{ChecksumError, Hash, SecureConfig};

use super::*;

/// An executable script that leaves a mark when it runs, then becomes the test plugin.
fn marking_plugin(dir: &Path) -> (PathBuf, PathBuf) {
    let mark = dir.join("ran");
    let script = dir.join("plugin.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\nexec '{TEST_PLUGIN}'\n",
            mark.display()
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, mark)
}

/// `sha256sum`/`sha512sum` of `path`, as a user would compute the checksum.
fn checksum(tool: &str, path: &Path) -> Vec<u8> {
    let output = Command::new(tool)
        .arg(path)
        .output()
        .expect("run the checksum tool");
    let text = String::from_utf8_lossy(&output.stdout);
    let hex = text.split_whitespace().next().expect("a checksum");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn a_plugin_whose_checksum_differs_is_never_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (script, mark) = marking_plugin(dir.path());
    let mut wrong = checksum("sha256sum", &script);
    wrong[0] ^= 1;
    let err = Client::start(
        ClientConfig::new(HANDSHAKE, Command::new(&script))
            .secure_config(SecureConfig::sha256(wrong)),
    )
    .await
    .expect_err("refused");
    assert_eq!(err.to_string(), "checksums did not match");
    assert!(
        matches!(&err, Error::Checksum(ChecksumError::Mismatch { path, .. }) if *path == script),
        "{err:?}"
    );
    assert!(!mark.exists(), "the plugin ran despite its checksum");
}

#[tokio::test]
async fn a_plugin_whose_checksum_matches_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (script, mark) = marking_plugin(dir.path());
    for secure in [
        SecureConfig::sha256(checksum("sha256sum", &script)),
        SecureConfig::new(checksum("sha512sum", &script), Hash::Sha512),
    ] {
        let client = Client::start(
            ClientConfig::new(HANDSHAKE, Command::new(&script)).secure_config(secure),
        )
        .await
        .expect("the checksum matches");
        client.ping().await.expect("ping");
        client.kill().await;
        assert!(mark.exists());
        std::fs::remove_file(&mark).expect("reset the mark");
    }
}

#[tokio::test]
async fn the_executable_checked_is_the_one_exec_would_find_in_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (script, mark) = marking_plugin(dir.path());
    // The command's own PATH, which is where exec looks.
    let mut command = Command::new("plugin.sh");
    command.env("PATH", dir.path());
    let err = Client::start(
        ClientConfig::new(HANDSHAKE, command).secure_config(SecureConfig::sha256([0u8; 32])),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(&err, Error::Checksum(ChecksumError::Mismatch { path, .. }) if *path == script),
        "{err:?}"
    );
    assert!(!mark.exists());
}
