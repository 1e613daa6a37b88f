//! Streaming methods between our host and our plugin: server, client and bidirectional streams,
//! errors and cancellation in both directions, and backpressure with a bounded producer.

use go_plugin::Stream;
use tests::{Streams, StreamsPlugin};

use super::*;

#[tokio::test]
async fn server_client_and_bidirectional_streams_carry_every_item_in_order() {
    let client = start("").await;
    let streams = client.dispense::<StreamsPlugin>().expect("dispense");

    let counted: Vec<i64> = streams
        .count(1, 1001, None)
        .await
        .expect("count")
        .collect()
        .await
        .expect("every item");
    assert_eq!(counted, (1..1001).collect::<Vec<_>>());

    let sum = streams
        .sum_all(Stream::iter(1..=100))
        .await
        .expect("sum_all");
    assert_eq!(sum, 5050);
    assert_eq!(streams.sum_all(Stream::iter([])).await.expect("empty"), 0);

    // Bidirectional, in lock step: each answer arrives before the next number is sent.
    let (numbers, input) = Stream::channel(1);
    let mut doubled = streams.double(input).await.expect("double");
    for n in 0..50 {
        numbers.send(Ok(n)).await.expect("send");
        assert_eq!(doubled.next().await.transpose().expect("item"), Some(2 * n));
    }
    drop(numbers);
    assert!(doubled.next().await.is_none(), "ends when the input ends");
    client.kill().await;
}

#[tokio::test]
async fn an_error_mid_stream_reaches_the_other_side() {
    let client = start("").await;
    let streams = client.dispense::<StreamsPlugin>().expect("dispense");

    // The plugin's error item: the items before it, then its code and message.
    let mut counted = streams.count(0, 10, Some(3)).await.expect("count");
    for n in 0..3 {
        assert_eq!(counted.next().await.transpose().expect("item"), Some(n));
    }
    let err = counted
        .next()
        .await
        .expect("an item")
        .expect_err("the error");
    assert_eq!(err.code(), Code::DataLoss, "{err:?}");
    assert_eq!(err.message(), "failed at 3");
    assert!(counted.next().await.is_none(), "nothing after the error");

    // The host's error item cancels the call: the plugin's stream ends with Cancelled, and
    // the host gets its own error back.
    let (sender, numbers) = Stream::channel(4);
    tokio::spawn(async move {
        for n in [1, 2] {
            sender.send(Ok(n)).await.expect("send");
        }
        // The plugin's handler is waiting for more when the error comes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = sender
            .send(Err(PluginError::invalid_argument("bad number")))
            .await;
    });
    let err = streams
        .sum_all(numbers)
        .await
        .expect_err("the host's error");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(err.message(), "bad number");
    let seen = wait_for(|| async { streams.last_error().await.expect("last_error") }).await;
    assert!(seen.starts_with("Cancelled"), "the plugin saw: {seen}");
    client.kill().await;
}

#[tokio::test]
async fn dropping_a_call_whose_request_stream_is_still_open_cancels_the_plugins_handler() {
    let client = start("").await;
    let streams = client.dispense::<StreamsPlugin>().expect("dispense");
    let (sender, numbers) = Stream::channel(4);
    sender.send(Ok(1)).await.expect("send");
    let call = tokio::spawn({
        let streams = streams.clone();
        async move { streams.sum_all(numbers).await }
    });
    // The call is under way, its request stream open and idle; then the caller gives up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    call.abort();
    let seen = wait_for(|| async { streams.last_error().await.expect("last_error") }).await;
    assert!(seen.starts_with("Cancelled"), "the plugin saw: {seen}");
    // Held until here: the stream never ended on its own.
    drop(sender);
    client.kill().await;
}

#[tokio::test]
async fn a_slow_consumer_holds_the_producer_back_and_dropping_cancels_it() {
    let client = start("").await;
    let streams = client.dispense::<StreamsPlugin>().expect("dispense");
    const MIB: u32 = 1 << 20;
    let mut flood = streams.flood(MIB).await.expect("flood");
    let first = flood
        .next()
        .await
        .transpose()
        .expect("chunk")
        .expect("a chunk");
    assert_eq!(first.len(), MIB as usize);
    // Without backpressure the producer would run on without bound; with it, it stops once
    // the HTTP/2 windows (16 MiB per connection) and its channel of 4 are full.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = streams.flood_state().await.expect("state");
    assert!(
        state[0] < 40,
        "{} MiB produced for a consumer that took 1",
        state[0]
    );
    assert_eq!(state[1], 0, "not cancelled yet");
    drop(flood);
    let state = wait_for(|| async {
        let state = streams.flood_state().await.expect("state");
        (state[1] == 1).then_some(state)
    })
    .await;
    assert_eq!(state[1], 1, "the producer saw the cancellation");
    client.kill().await;
}

/// Polls `check` until it gives a value, for up to 5 s.
async fn wait_for<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
