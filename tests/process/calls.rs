//! Calls, errors, health, large messages.

use super::*;

/// How long a call that failed in its transport waits for the plugin's exit to be noticed (the
/// runtime's `RESET_GRACE`) before it reports the transport's error.
const EXIT_WAIT: Duration = Duration::from_millis(500);

#[tokio::test]
async fn calls_cross_the_process_boundary_with_errors_intact() {
    let client = start("").await;
    client.ping().await.expect("health \"plugin\" is SERVING");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester.echo(vec![1, 2, 3]).await.expect("echo"),
        vec![1, 2, 3]
    );
    let err: PluginError = tester
        .fail(Code::NotFound as i32, "no such thing".into())
        .await
        .expect_err("fails");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.message(), "no such thing");
    // Errors the plugin returns, even with the code of a broken transport (`Unknown`), are
    // reported at once: only transport failures wait (up to `EXIT_WAIT`) to learn whether the
    // plugin died. Each error is timed next to an echo, under the same load: errors that waited
    // would each take that wait plus a round trip, so the fastest would trail the fastest echo
    // by more than half the wait, which errors that do not wait never do, even on a busy machine.
    let (mut fastest_echo, mut fastest_error) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let started = Instant::now();
        tester.echo(vec![1]).await.expect("echo");
        fastest_echo = fastest_echo.min(started.elapsed());
        let started = Instant::now();
        let err = tester
            .fail(Code::Unknown as i32, "plain error".into())
            .await
            .expect_err("fails");
        fastest_error = fastest_error.min(started.elapsed());
        assert_eq!((err.code(), err.message()), (Code::Unknown, "plain error"));
    }
    assert!(
        fastest_error < fastest_echo + EXIT_WAIT / 2,
        "the fastest plain error took {fastest_error:?}, the fastest echo {fastest_echo:?}: \
         the errors waited to learn whether the plugin exited"
    );
    assert_eq!(
        tester
            .env("BASIC_PLUGIN_HOST_ONLY".into())
            .await
            .expect("env"),
        None
    );
    client.kill().await;
}

#[tokio::test]
async fn messages_far_beyond_4_mib_go_both_ways() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let big: Vec<u8> = (0..64 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let back = tester.echo(big.clone()).await.expect("64 MiB echo");
    assert!(back == big, "64 MiB round trip intact");
    client.kill().await;
}

#[tokio::test]
async fn host_environment_is_passed_unless_skipped() {
    // SAFETY: no other thread of this test binary reads this variable.
    unsafe { std::env::set_var("PLUGIN_RS_TEST_HOST_VAR", "from-host") };
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester
            .env("PLUGIN_RS_TEST_HOST_VAR".into())
            .await
            .expect("env")
            .as_deref(),
        Some("from-host")
    );
    assert_eq!(
        tester
            .env("PLUGIN_PROTOCOL_VERSIONS".into())
            .await
            .expect("env")
            .as_deref(),
        Some("1")
    );
    client.kill().await;

    let config = ClientConfig::new(HANDSHAKE, plugin("")).skip_host_env(true);
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester
            .env("PLUGIN_RS_TEST_HOST_VAR".into())
            .await
            .expect("env"),
        None
    );
    assert_eq!(
        tester.env(MODE.into()).await.expect("env").as_deref(),
        Some(""),
        "the command's own environment is kept"
    );
    client.kill().await;
}

#[tokio::test]
async fn a_panicking_method_fails_with_its_message_and_the_plugin_serves_on() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    for _ in 0..3 {
        // The code and the message show that the panic was caught and answered as an error the
        // plugin returned, which is reported without waiting (see the test above).
        let err = tester
            .panic("the plugin broke".into())
            .await
            .expect_err("panics");
        assert_eq!(err.code(), Code::Internal, "{err:?}");
        assert_eq!(err.message(), "plugin panicked: the plugin broke");
        assert_eq!(
            tester.echo(b"still here".to_vec()).await.expect("echo"),
            b"still here"
        );
    }
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
}

#[tokio::test]
async fn an_interface_the_plugin_does_not_serve_is_named_in_the_error() {
    use tests::{AddHelper, AddHelperPlugin};

    let client = start("").await;
    let stranger = client.dispense::<AddHelperPlugin>().expect("dispense");
    let err = stranger.sum(1, 2).await.expect_err("not served");
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    assert_eq!(err.message(), "unknown service plugintest.AddHelper");
    assert_eq!(err.to_string(), "unknown service plugintest.AddHelper");
    assert_eq!(
        PluginError::with_code(Code::Unimplemented, "").to_string(),
        "Unimplemented (no message)"
    );
    client.kill().await;
}

/// `google.rpc.Status` and `google.protobuf.Any`, as grpc-go's `status.WithDetails` encodes them
/// into `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

#[tokio::test]
async fn status_details_cross_the_process_boundary_both_ways() {
    use prost::Message as _;
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let sent = RpcStatus {
        code: Code::InvalidArgument as i32,
        message: "bad rule config".into(),
        details: vec![Any {
            type_url: "type.googleapis.com/proto.ErrorDetail".into(),
            value: vec![8, 2, 18, 5, b'r', b'a', b'n', b'g', b'e'],
        }],
    };
    let err: PluginError = tester
        .fail_with_details(
            Code::InvalidArgument as i32,
            "bad rule config".into(),
            sent.encode_to_vec(),
        )
        .await
        .expect_err("fails");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.message(), "bad rule config");
    let received = RpcStatus::decode(err.details()).expect("a google.rpc.Status");
    assert_eq!(received, sent);

    // An error without details has none.
    let err: PluginError = tester
        .fail(Code::NotFound as i32, "no such thing".into())
        .await
        .expect_err("fails");
    assert!(err.details().is_empty(), "{:?}", err.details());
    client.kill().await;
}
