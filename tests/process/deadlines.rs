//! Deadlines and cancellation: per call and per client, sent as `grpc-timeout` and enforced on
//! both sides; a dropped call cancels the plugin's handler.

use super::*;

/// How long a `hold` call's handler sleeps: a deadline, not the handler, ends the calls that
/// use it, and tests tell the two apart with [`BEFORE_THE_HANDLER`].
const HOLD: u64 = 60_000;

/// An upper bound for a call that its deadline (of at most a second) ends: far above what a
/// loaded machine adds, far below the handler's [`HOLD`].
const BEFORE_THE_HANDLER: Duration = Duration::from_secs(20);

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
    assert!(waited < BEFORE_THE_HANDLER, "{waited:?}");
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
        started.elapsed() < BEFORE_THE_HANDLER,
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

/// A call in a task of its own, which notes when it ended.
fn timed(
    call: impl std::future::Future<Output = Result<(), PluginError>> + Send + 'static,
) -> tokio::task::JoinHandle<(Result<(), PluginError>, Instant)> {
    tokio::spawn(async move { (call.await, Instant::now()) })
}

/// Awaits `call` (started at `started`) and checks that it failed with `DeadlineExceeded`, not
/// before `deadline` (so a shorter deadline did not end it) and not never (the plugin is
/// stopped, so only a deadline can end it); returns how late it was.
async fn fails_at_deadline(
    what: &str,
    call: tokio::task::JoinHandle<(Result<(), PluginError>, Instant)>,
    started: Instant,
    deadline: Duration,
) -> Duration {
    let (result, ended) = tokio::time::timeout_at((started + BEFORE_THE_HANDLER).into(), call)
        .await
        .unwrap_or_else(|_| panic!("{what}: hangs past its deadline"))
        .expect("task");
    let err = result.expect_err("the plugin is stopped");
    let took = ended.duration_since(started);
    assert_eq!(err.code(), Code::DeadlineExceeded, "{what}: {err:?}");
    assert!(
        took >= deadline,
        "{what}: failed after {took:?}, before its deadline {deadline:?}"
    );
    took - deadline
}

/// A plugin stopped with SIGSTOP in the middle of calls: each call fails at its own deadline
/// (the client's `call_timeout`, a call's `with_timeout`, and a call made after the stop), and
/// `kill` still returns, ending the stopped process with SIGKILL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_plugin_fails_calls_at_their_deadlines_and_kill_still_ends_it() {
    let grace = Duration::from_millis(500);
    let client_deadline = Duration::from_millis(600);
    let call_deadline = Duration::from_millis(900);
    let config = ClientConfig::new(HANDSHAKE, plugin(""))
        .shutdown_grace(grace)
        .call_timeout(client_deadline);
    let client = Client::start(config).await.expect("start");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    tester.echo(b"awake".to_vec()).await.expect("echo");

    let started = Instant::now();
    let by_client = timed({
        let tester = tester.clone();
        async move { tester.hold(HOLD).await }
    });
    let by_call = timed({
        let tester = tester.clone();
        async move { tester.with_timeout(call_deadline).hold(HOLD).await }
    });
    // Both handlers are running in the plugin (`hold` sleeps) when it is stopped.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // SAFETY: plain signal delivery to the child we started.
    assert_eq!(unsafe { libc::kill(client.pid() as i32, libc::SIGSTOP) }, 0);
    let after_stop = Instant::now();
    let after = timed({
        let tester = tester.clone();
        async move { tester.hold(10).await }
    });

    let late = [
        fails_at_deadline("call_timeout", by_client, started, client_deadline).await,
        fails_at_deadline("with_timeout", by_call, started, call_deadline).await,
        fails_at_deadline("a call after the stop", after, after_stop, client_deadline).await,
    ];
    assert!(!client.exited(), "a stopped process has not exited");

    // Kill returns at most a second after the grace (its documented bound, kept by timers); the
    // test only tells returning from hanging, so it leaves a loaded machine 10 s past the grace.
    let killing = Instant::now();
    tokio::time::timeout(grace + Duration::from_secs(10), client.kill())
        .await
        .expect("kill returns after the shutdown grace");
    let took = killing.elapsed();
    assert!(
        client
            .wait()
            .await
            .unwrap_or_default()
            .contains("signal: 9"),
        "a stopped plugin cannot shut down by itself; kill must SIGKILL it"
    );
    eprintln!("calls failed {late:?} after their deadlines; kill took {took:?} (grace {grace:?})");
}
