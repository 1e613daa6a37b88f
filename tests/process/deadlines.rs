//! Deadlines and cancellation: per call and per client, sent as `grpc-timeout` and enforced on
//! both sides; a dropped call cancels the plugin's handler.

use super::*;

const HOLD: u64 = 10_000;

/// Waits up to 5 s for the plugin to have counted `expected` cancelled calls.
async fn cancelled_reaches(tester: &tests::TesterClient, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let cancelled = tester.cancelled().await.expect("cancelled");
        if cancelled >= expected {
            assert_eq!(cancelled, expected);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{cancelled} of {expected} cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_call_past_its_deadline_fails_and_its_handler_is_cancelled() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let started = Instant::now();
    let err = tester
        .with_timeout(Duration::from_millis(200))
        .hold(HOLD)
        .await
        .expect_err("past its deadline");
    let waited = started.elapsed();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(waited < Duration::from_secs(1), "{waited:?}");
    cancelled_reaches(&tester, 1).await;
    // The client without the deadline still waits as long as a call takes.
    tester.hold(300).await.expect("no deadline");
    client.kill().await;
}

#[tokio::test]
async fn a_client_wide_deadline_applies_to_every_call() {
    let config = ClientConfig::new(HANDSHAKE, plugin("")).call_timeout(Duration::from_millis(200));
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    tester.hold(10).await.expect("inside the deadline");
    let err = tester.hold(HOLD).await.expect_err("past the deadline");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    // A call's own deadline overrides the client's.
    tester
        .with_timeout(Duration::from_secs(5))
        .hold(400)
        .await
        .expect("its own, longer deadline");
    client.kill().await;
}

#[tokio::test]
async fn the_plugin_enforces_the_deadline_it_is_sent() {
    // A caller that sends `grpc-timeout` but does not give up itself: the plugin answers.
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let mut grpc = tonic::client::Grpc::new(client.connection().channel());
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(tests::tester_messages::HoldRequest { millis: HOLD });
    request.set_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let status = grpc
        .unary::<_, tests::tester_messages::HoldResponse, _>(
            request,
            go_plugin::__private::http::uri::PathAndQuery::from_static("/plugintest.Tester/Hold"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("the plugin gives up");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), tonic::Code::Cancelled, "{status:?}");
    cancelled_reaches(&tester, 1).await;
    client.kill().await;
}

#[tokio::test]
async fn dropping_a_call_cancels_the_plugins_handler() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let call = tokio::spawn({
        let tester = tester.clone();
        async move { tester.hold(HOLD).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    call.abort();
    cancelled_reaches(&tester, 1).await;
    client.kill().await;
}
