//! Cell 8: streaming methods against go-plugin v1.8.0's examples/streaming: its host, unchanged
//! (it runs `./plugin/streamer` from its working directory), drives our `streamer-plugin`, and
//! our `streamer` drives its Go plugin. Client and server streams, 10-byte chunks.

use std::process::Command;

use crate::harness::{GoPlugin, RUN_TIMEOUT, env, quote, rust_command, workdir};
use tests::run::run;

const TEXT: &str = "Lorem ipsum dolor sit amet";

#[test]
fn go_streaming_host_v1_8_streams_through_rust_plugin() {
    let dir = workdir();
    std::fs::create_dir(dir.path().join("plugin")).expect("mkdir plugin");
    std::os::unix::fs::symlink(
        tests::workspace_binary("streamer-plugin"),
        dir.path().join("plugin/streamer"),
    )
    .expect("symlink the plugin where the Go host looks");
    let mut command = Command::new(env().go(GoPlugin::V1_8, "streaming/streaming"));
    command.current_dir(dir.path()).arg("myfile");
    let host = run(command, RUN_TIMEOUT).success();
    // Written through our plugin's client stream, read back through its server stream.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("myfile")).expect("the plugin wrote myfile"),
        TEXT
    );
    assert!(
        host.stderr.contains(r#""@message":"received 26 bytes""#)
            && host
                .stderr
                .contains(r#""bytes":"Lorem ipsum dolor sit amet""#),
        "{host}"
    );
    assert!(!host.survivors, "{host}");
}

#[test]
fn rust_streamer_streams_through_go_streaming_plugin_v1_8() {
    let dir = workdir();
    let plugin = quote(&env().go(GoPlugin::V1_8, "streaming/plugin/streamer"));
    let mut command = rust_command(&tests::workspace_binary("streamer"), dir.path());
    command.env("STREAMER_PLUGIN", plugin).arg("myfile");
    let host = run(command, RUN_TIMEOUT).success();
    assert_eq!(host.stdout, format!("{TEXT}\n"), "{host}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("myfile")).expect("the Go plugin wrote myfile"),
        TEXT
    );
    // The Go plugin's logs, mirrored into our host's tracing.
    assert!(
        host.stderr.contains("FileStreamer: Write finished"),
        "{host}"
    );
    assert!(!host.survivors, "{host}");
}
