//! Load: many concurrent callers on one plugin, every answer checked.

use super::*;

/// 64 callers × `LOAD_CALLS` calls each (1 000 in the default run; `LOAD_CALLS=10000` for the
/// full load, ~110 s in a debug build) through one connection, Rust host → Rust plugin: no
/// errors, and every answer is the caller's own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_callers_all_answered() {
    const CALLERS: u32 = 64;
    let calls = tests::load_calls(1_000);
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

/// How long after a SIGKILL a call may take to fail. Calls fail within milliseconds (the test
/// prints the slowest); the bound only tells failing from hanging, so it leaves a loaded
/// machine 10 s.
const HANG: Duration = Duration::from_secs(10);

/// The plugin SIGKILLed under the load of 64 callers: every call in flight and every later call
/// fails with "plugin exited … signal: 9", nothing hangs or panics, and the same host keeps
/// serving a second plugin throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_killed_under_load_fails_every_call_and_the_host_serves_on() {
    const CALLERS: u64 = 64;
    const OTHER_CALLERS: u64 = 8;
    let doomed = start("").await;
    let other = start("").await;
    let doomed_tester = doomed.dispense::<TesterPlugin>().expect("dispense");
    let other_tester = other.dispense::<TesterPlugin>().expect("dispense");

    let answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let (tester, answered) = (doomed_tester.clone(), Arc::clone(&answered));
            tokio::spawn(async move {
                for call in 0u64.. {
                    let request = format!("{caller}:{call}").into_bytes();
                    match tester.echo(request.clone()).await {
                        Ok(answer) => assert_eq!(answer, request, "caller {caller} call {call}"),
                        Err(err) => return (err, Instant::now()),
                    }
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                unreachable!("a caller ends with an error")
            })
        })
        .collect();
    // The second plugin's callers run until told to stop, before, during and after the kill.
    let other_answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other_callers: Vec<_> = (0..OTHER_CALLERS)
        .map(|caller| {
            let (tester, answered, stop) = (
                other_tester.clone(),
                Arc::clone(&other_answered),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut call = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let request = format!("other {caller}:{call}").into_bytes();
                    let answer = tester.echo(request.clone()).await.expect("other plugin");
                    assert_eq!(answer, request);
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    call += 1;
                }
            })
        })
        .collect();

    let load =
        |count: &std::sync::atomic::AtomicU64| count.load(std::sync::atomic::Ordering::Relaxed);
    eventually("the load to run", || load(&answered) >= CALLERS * 20).await;
    let answered_before = load(&answered);
    // SAFETY: plain signal delivery to the child we started.
    assert_eq!(unsafe { libc::kill(doomed.pid() as i32, libc::SIGKILL) }, 0);
    let killed = Instant::now();
    let other_at_kill = load(&other_answered);

    let mut slowest = Duration::ZERO;
    for caller in callers {
        let (err, failed_at) = tokio::time::timeout_at((killed + HANG).into(), caller)
            .await
            .expect("no caller hangs")
            .expect("no caller panics");
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(err.message().starts_with("plugin exited"), "{err:?}");
        assert!(err.message().contains("signal: 9"), "{err:?}");
        slowest = slowest.max(failed_at.saturating_duration_since(killed));
    }

    // A later call fails the same way.
    let err = tokio::time::timeout(HANG, doomed_tester.echo(vec![1]))
        .await
        .expect("a later call does not hang")
        .expect_err("the plugin is gone");
    assert!(err.message().starts_with("plugin exited"), "{err:?}");
    assert!(
        doomed
            .wait()
            .await
            .unwrap_or_default()
            .contains("signal: 9"),
        "the kill ended the plugin"
    );

    // The other plugin served throughout, and still does.
    let other_after = load(&other_answered);
    eventually("the other plugin to keep answering", || {
        load(&other_answered) > other_after + OTHER_CALLERS * 10
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for caller in other_callers {
        tokio::time::timeout(Duration::from_secs(5), caller)
            .await
            .expect("no caller hangs")
            .expect("every answer of the other plugin checked");
    }
    assert_eq!(
        other_tester.echo(b"still".to_vec()).await.expect("echo"),
        b"still"
    );
    eprintln!(
        "{answered_before} calls answered before the kill; every one of {CALLERS} callers failed \
         within {slowest:.2?} of it; the other plugin answered {} calls ({other_at_kill} before)",
        load(&other_answered)
    );
    other.kill().await;
    assert_eq!(other.wait().await.as_deref(), Some("exit status: 0"));
}
