//! The broker between our host and our plugin: brokered services served by either side and
//! dialed by the other, over sockets of their own and multiplexed on one connection, in the
//! clear and under AutoMTLS.

use tests::{AddHelper, AddHelperClient, AddHelperPlugin, Adder, Summer};

use super::*;

/// The ways a host can connect: plain, AutoMTLS, multiplexed, both.
fn configs() -> Vec<(&'static str, ClientConfig)> {
    let base = || ClientConfig::new(HANDSHAKE, plugin(""));
    vec![
        ("plain", base()),
        ("AutoMTLS", base().auto_mtls(true)),
        ("multiplexed", base().grpc_broker_multiplex(true)),
        (
            "multiplexed AutoMTLS",
            base().grpc_broker_multiplex(true).auto_mtls(true),
        ),
    ]
}

#[tokio::test]
async fn the_plugin_calls_a_service_the_host_serves_through_the_broker() {
    for (name, config) in configs() {
        let client = Client::start(config).await.expect("start");
        let broker = client.broker();
        let id = broker.next_id();
        assert_eq!(id, 1, "{name}: ids count from 1 on each side");
        let helper = broker
            .accept_and_serve(id, [AddHelperPlugin::server(Adder { offset: 0 })])
            .await
            .expect("serve");
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        assert_eq!(
            tester.add_through(id, 20, 22).await.expect(name),
            42,
            "{name}"
        );
        // A second service: as in go-plugin, each id's connection information is claimed by one
        // dial.
        let second = broker.next_id();
        assert_eq!(second, 2, "{name}");
        let other = broker
            .accept_and_serve(second, [AddHelperPlugin::server(Adder { offset: 100 })])
            .await
            .expect("serve");
        assert_eq!(
            tester.add_through(second, 1, 2).await.expect(name),
            103,
            "{name}"
        );
        helper.stop().await;
        drop(other);
        client.kill().await;
        assert_eq!(
            client.wait().await.as_deref(),
            Some("exit status: 0"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_host_calls_a_service_the_plugin_serves_through_the_broker() {
    for (name, config) in configs() {
        let client = Client::start(config).await.expect("start");
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        let id = tester.serve_adder().await.expect(name);
        assert_eq!(id, 1, "{name}: the plugin's ids count from 1 too");
        let adder = AddHelperClient::new(client.broker().dial(id).await.expect(name));
        assert_eq!(
            adder.sum(1, 2).await.expect(name),
            1003,
            "{name}: the plugin's adder"
        );
        let second = tester.serve_adder().await.expect(name);
        assert_eq!(second, 2);
        let other = AddHelperClient::new(client.broker().dial(second).await.expect(name));
        assert_eq!(other.sum(5, 5).await.expect(name), 1010, "{name}");
        client.kill().await;
    }
}

#[tokio::test]
async fn dialing_an_id_nobody_serves_times_out_after_5_s_with_go_plugins_words() {
    let client = start("").await;
    let started = Instant::now();
    let err = client
        .broker()
        .dial(77)
        .await
        .expect_err("nobody serves 77");
    assert_eq!(err.to_string(), "timeout waiting for connection info");
    // go-plugin waits 5 s: never less, whatever the load. The upper bound only tells that
    // timer from a wait for something else or for ever, so it leaves a loaded machine 10 s.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(15),
        "go-plugin waits 5 s: {waited:?}"
    );
    client.kill().await;
}

#[tokio::test]
async fn brokered_services_end_with_the_plugin() {
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let id = tester.serve_adder().await.expect("serve");
    let adder = AddHelperClient::new(client.broker().dial(id).await.expect("dial"));
    assert_eq!(adder.sum(0, 0).await.expect("sum"), 1000);
    client.kill().await;
    let err = adder.sum(0, 0).await.expect_err("the plugin is gone");
    assert!(err.message().contains("plugin exited"), "{err}");
}

/// The host's `Summer`: sums through the plugin's adder it is handed, and adds 1.
struct HostSummer;

impl Summer for HostSummer {
    async fn sum_with(&self, helper: impl AddHelper, a: i64, b: i64) -> Result<i64, PluginError> {
        Ok(helper.sum(a, b).await? + 1)
    }
}

#[tokio::test]
async fn callback_arguments_are_served_through_the_broker_and_may_take_callbacks() {
    for (name, config) in configs() {
        let client = Client::start(config).await.expect("start");
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        for round in 0..3 {
            assert_eq!(
                tester
                    .add_with(Adder { offset: 10 }, 20, round)
                    .await
                    .expect(name),
                30 + round,
                "{name}: the host's adder, called from the plugin"
            );
        }
        // Host → plugin → host's Summer → plugin's adder.
        assert_eq!(
            tester.add_via(HostSummer, 2, 3).await.expect(name),
            1006,
            "{name}"
        );
        client.kill().await;
        assert_eq!(
            client.wait().await.as_deref(),
            Some("exit status: 0"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_callback_that_fails_fails_the_call_with_its_status() {
    struct Refusing;
    impl AddHelper for Refusing {
        async fn sum(&self, _a: i64, _b: i64) -> Result<i64, PluginError> {
            Err(PluginError::with_code(
                go_plugin::Code::PermissionDenied,
                "no sums today",
            ))
        }
    }
    let client = start("").await;
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let err = tester.add_with(Refusing, 1, 1).await.expect_err("refused");
    assert_eq!(err.code(), go_plugin::Code::PermissionDenied, "{err:?}");
    assert_eq!(err.message(), "no sums today");
    client.kill().await;
}
