//! Load: many concurrent callers on one plugin, every answer checked.

use super::*;

/// 64 callers × `LOAD_CALLS` calls each (1 000 in the default run; `LOAD_CALLS=10000` for the
/// full load, ~110 s in a debug build) through one connection, Rust host → Rust plugin: no
/// errors, and every answer is the caller's own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_callers_all_answered() {
    const CALLERS: u32 = 64;
    let calls: u32 = std::env::var("LOAD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let tester = tester.clone();
            tokio::spawn(async move {
                for call in 0..calls {
                    let request = format!("{caller}:{call}").into_bytes();
                    let answer = tester.echo(request.clone()).await.expect("echo");
                    assert_eq!(answer, request, "caller {caller} call {call}");
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("caller");
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{} calls in {elapsed:.2?}: {:.0} calls/s",
        CALLERS * calls,
        f64::from(CALLERS * calls) / elapsed.as_secs_f64()
    );
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
}
