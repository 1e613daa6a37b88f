//! Reattach JSON: one `ReattachConfig` (`from_json`) and Terraform's `TF_REATTACH_PROVIDERS`
//! map of them (`from_json_map`).

use std::time::Duration;

use go_plugin::{ReattachAddress, ReattachConfig};
use serde_json::{Map, Value, json};

use crate::fuzz::{self, Gen, bounded, corpus, inputs};

/// Every rejection says it is about the reattach configuration, and what is wrong.
fn check_error(message: &str) {
    assert!(
        message.starts_with("reattach configuration ")
            || message.starts_with("unsupported plugin protocol \""),
        "{message}"
    );
    assert!(!message.ends_with(": "), "{message}");
}

fn check(text: &str) {
    match ReattachConfig::from_json(text) {
        Ok(config) => {
            assert_eq!(config.protocol, "grpc");
            let address = match &config.address {
                ReattachAddress::Unix(path) => path.as_os_str().len(),
                ReattachAddress::Tcp(address) => address.len(),
            };
            assert!(address > 0);
            assert_eq!(ReattachConfig::from_json(&config.to_json()), Ok(config));
        }
        Err(err) => check_error(&err.to_string()),
    }
    match ReattachConfig::from_json_map(text) {
        Ok(configs) => assert!(configs.iter().all(|(_, config)| config.protocol == "grpc")),
        Err(err) => check_error(&err.to_string()),
    }
}

fn real() -> Vec<Vec<u8>> {
    corpus("handshake-debug")
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect()
}

#[test]
fn real_reattach_json_reads_as_terraform_passes_it() {
    for text in real() {
        let text = String::from_utf8(text).expect("UTF-8");
        let config = ReattachConfig::from_json(&text).expect("go-plugin's own JSON");
        assert_eq!(config.protocol, "grpc");
        assert_eq!(config.protocol_version, 1);
        assert!(config.test);
        assert!(config.pid > 0);
        assert!(matches!(&config.address, ReattachAddress::Unix(path) if path.starts_with("/tmp")));
        let providers = format!(r#"{{"registry.terraform.io/hashicorp/kv":{text}}}"#);
        let configs = ReattachConfig::from_json_map(&providers).expect("TF_REATTACH_PROVIDERS");
        assert_eq!(
            configs,
            vec![("registry.terraform.io/hashicorp/kv".to_owned(), config)]
        );
    }
}

/// A configuration, and its JSON written as a Go program might: any key order, keys in any
/// case, unknown keys, white space.
fn written(rng: &mut Gen) -> (ReattachConfig, String) {
    let address = if rng.one_in(2) {
        ReattachAddress::Unix(format!("/{}", rng.text(60)).into())
    } else {
        ReattachAddress::Tcp(format!(
            "{}:{}",
            rng.pick(&["127.0.0.1", "", "[::1]"]),
            rng.u32()
        ))
    };
    let config = ReattachConfig {
        protocol: "grpc".to_owned(),
        protocol_version: rng.u32(),
        address,
        pid: rng.u32(),
        test: rng.one_in(2),
    };
    let (network, addr) = match &config.address {
        ReattachAddress::Unix(path) => ("unix", path.to_str().expect("str").to_owned()),
        ReattachAddress::Tcp(address) => ("tcp", address.clone()),
    };
    let mut recase = |name: &str| -> String {
        match rng.below(4) {
            0 => name.to_lowercase(),
            1 => name.to_uppercase(),
            _ => name.to_owned(),
        }
    };
    let mut members = vec![
        (recase("Protocol"), json!("grpc")),
        (recase("ProtocolVersion"), json!(config.protocol_version)),
        (recase("Pid"), json!(config.pid)),
        (recase("Test"), json!(config.test)),
        (
            recase("Addr"),
            json!({ recase("Network"): network, recase("String"): addr }),
        ),
    ];
    for _ in 0..rng.below(3) {
        members.push((format!("x{}", rng.text(8)), json!([1, {"a": null}])));
    }
    for i in (1..members.len()).rev() {
        let j = rng.below(i + 1);
        members.swap(i, j);
    }
    let text = if rng.one_in(2) {
        Value::Object(members.into_iter().collect::<Map<_, _>>()).to_string()
    } else {
        serde_json::to_string_pretty(&Value::Object(members.into_iter().collect())).expect("JSON")
    };
    (config, text)
}

#[test]
fn generated_configurations_round_trip() {
    fuzz::run(
        "reattach (generated configurations)",
        0x5245_4154,
        inputs(),
        written,
        |(config, text)| {
            assert_eq!(
                ReattachConfig::from_json(text).as_ref(),
                Ok(config),
                "{text}"
            );
            assert_eq!(
                ReattachConfig::from_json(&config.to_json()).as_ref(),
                Ok(config)
            );
        },
    );
}

#[test]
fn mutated_json_is_read_or_refused_with_a_reason() {
    let mut seeds = real();
    let mut seed_rng = Gen::new(7);
    seeds.extend((0..32).map(|_| written(&mut seed_rng).1.into_bytes()));
    fuzz::run(
        "reattach (mutated JSON)",
        0x4d55_5441,
        inputs(),
        |rng| {
            let seed = rng.pick_ref(&seeds).clone();
            let mutated = rng.mutate(&seed, &seeds);
            let text = String::from_utf8_lossy(&mutated).into_owned();
            if rng.one_in(4) {
                // Terraform's form: a map of them, some broken.
                format!(r#"{{"a":{text},"b":{}}}"#, String::from_utf8_lossy(&seed))
            } else {
                text
            }
        },
        |text| check(text),
    );
}

#[test]
fn deep_and_huge_json_is_quick() {
    for depth in [1_000, 100_000] {
        let text = format!(
            r#"{{"Protocol":"grpc","X":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let err = bounded(
            &format!("reattach JSON {depth} deep"),
            Duration::from_secs(2),
            || ReattachConfig::from_json(&text),
        )
        .expect_err("too deep for serde_json");
        assert!(
            err.to_string().contains("recursion limit exceeded"),
            "{err}"
        );
    }
    let path = format!("/tmp/{}", "p".repeat(16 << 20));
    let text = json!({"Protocol": "grpc", "Addr": {"Network": "unix", "String": path}}).to_string();
    let config = bounded(
        "reattach JSON with a 16 MiB path",
        Duration::from_secs(15),
        || ReattachConfig::from_json(&text),
    )
    .expect("valid");
    assert_eq!(config.address, ReattachAddress::Unix(path.into()));
    // 100 000 keys that differ from `Pid` only in case are looked up once, not once per key.
    let mut text = String::from(r#"{"Protocol":"grpc","Addr":{"Network":"tcp","String":":1"}"#);
    for i in 0..100_000 {
        text.push_str(&format!(r#","pid{i}":{i}"#));
    }
    text.push('}');
    let config = bounded(
        "reattach JSON with 100 000 keys",
        Duration::from_secs(45),
        || ReattachConfig::from_json(&text),
    )
    .expect("valid");
    assert_eq!(config.pid, 0);
}
