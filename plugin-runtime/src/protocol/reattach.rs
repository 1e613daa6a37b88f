//! go-plugin's `ReattachConfig`: everything a host needs to connect to a plugin that is already
//! running, and its JSON form, the value format of Terraform's `TF_REATTACH_PROVIDERS`:
//! `{"Protocol":"grpc","ProtocolVersion":6,"Pid":1234,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}}`.
//!
//! Pure: formatting and parsing only. The JSON is read the way Go's `encoding/json` reads it into
//! go-plugin's struct, so any JSON a Go host accepts is accepted here: field names match without
//! regard to case, and unknown fields are ignored.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::handshake::{Network, PROTOCOL_GRPC};
use crate::error::ReattachError;

/// How to reach a running plugin without launching it (go-plugin's `ReattachConfig`).
///
/// A running [`Client`](crate::Client) tells its own with
/// [`Client::reattach_config`](crate::Client::reattach_config); a plugin in
/// [debug mode](crate::ServeConfig::debug) prints its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReattachConfig {
    /// The wire protocol: always `grpc` for this crate's hosts and plugins.
    pub protocol: String,
    /// The app protocol version the plugin serves.
    pub protocol_version: u32,
    /// Where the plugin listens.
    pub address: ReattachAddress,
    /// The plugin's process id; 0 when unknown.
    pub pid: u32,
    /// Whether the plugin runs on its own (go-plugin's test mode, a plugin in debug mode): a
    /// host that reattaches never stops it.
    pub test: bool,
}

/// Where a plugin listens, as Go's `net.Addr` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReattachAddress {
    /// A Unix socket path (`"Network":"unix"`).
    Unix(PathBuf),
    /// A TCP address such as `127.0.0.1:10000` (`"Network":"tcp"`).
    Tcp(String),
}

impl ReattachConfig {
    /// The configuration's JSON, in go-plugin's field order and spelling.
    pub fn to_json(&self) -> String {
        let (network, address) = match &self.address {
            ReattachAddress::Unix(path) => ("unix", path.to_string_lossy().into_owned()),
            ReattachAddress::Tcp(address) => ("tcp", address.clone()),
        };
        format!(
            "{{\"Protocol\":{},\"ProtocolVersion\":{},\"Pid\":{},\"Test\":{},\"Addr\":{{\"Network\":{},\"String\":{}}}}}",
            json_string(&self.protocol),
            self.protocol_version,
            self.pid,
            self.test,
            json_string(network),
            json_string(&address),
        )
    }

    /// Reads one configuration from its JSON, as a Go host does. An empty `Protocol` means
    /// go-plugin's default, net/rpc, which this crate does not speak.
    pub fn from_json(text: &str) -> Result<ReattachConfig, ReattachError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|err| ReattachError::NotAnObject(err.to_string()))?;
        Self::from_value(&value)
    }

    /// Reads Terraform's `TF_REATTACH_PROVIDERS` form, an object of configurations keyed by
    /// provider address, and returns each with its key.
    pub fn from_json_map(text: &str) -> Result<Vec<(String, ReattachConfig)>, ReattachError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|err| ReattachError::NotAnObject(err.to_string()))?;
        let Value::Object(map) = value else {
            return Err(ReattachError::NotAnObject(format!(
                "found {}",
                kind(&value)
            )));
        };
        map.iter()
            .map(|(key, value)| Ok((key.clone(), Self::from_value(value)?)))
            .collect()
    }

    fn from_value(value: &Value) -> Result<ReattachConfig, ReattachError> {
        let Value::Object(fields) = value else {
            return Err(ReattachError::NotAnObject(format!("found {}", kind(value))));
        };
        let protocol = string(fields, "Protocol")?.unwrap_or_default();
        if protocol != PROTOCOL_GRPC {
            let shown = if protocol.is_empty() {
                "netrpc"
            } else {
                &protocol
            };
            return Err(ReattachError::Protocol(shown.to_owned()));
        }
        let protocol_version = unsigned(fields, "ProtocolVersion")?;
        let pid = unsigned(fields, "Pid")?;
        let test = match get(fields, "Test") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(test)) => *test,
            Some(other) => {
                return Err(ReattachError::Field {
                    field: "Test",
                    problem: format!("expected a boolean, found {}", kind(other)),
                });
            }
        };
        let address = match get(fields, "Addr") {
            Some(Value::Object(addr)) => {
                let network = string(addr, "Network")?.unwrap_or_default();
                let address = string(addr, "String")?.unwrap_or_default();
                if address.is_empty() {
                    return Err(ReattachError::Address("Addr.String is empty".to_owned()));
                }
                match network.as_str() {
                    "unix" => ReattachAddress::Unix(PathBuf::from(address)),
                    "tcp" => ReattachAddress::Tcp(address),
                    other => {
                        return Err(ReattachError::Address(format!(
                            "unknown address type: {other:?}"
                        )));
                    }
                }
            }
            None | Some(Value::Null) => {
                return Err(ReattachError::Address("Addr is missing".to_owned()));
            }
            Some(other) => {
                return Err(ReattachError::Field {
                    field: "Addr",
                    problem: format!("expected an object, found {}", kind(other)),
                });
            }
        };
        Ok(ReattachConfig {
            protocol,
            protocol_version,
            address,
            pid,
            test,
        })
    }

    /// The address as the transport dials it.
    pub(crate) fn network(&self) -> Network {
        match &self.address {
            ReattachAddress::Unix(path) => Network::Unix(path.clone()),
            ReattachAddress::Tcp(address) => Network::Tcp(address.clone()),
        }
    }
}

impl ReattachAddress {
    pub(crate) fn from_network(network: &Network) -> Self {
        match network {
            Network::Unix(path) => ReattachAddress::Unix(path.clone()),
            Network::Tcp(address) => ReattachAddress::Tcp(address.clone()),
        }
    }
}

/// A field by name, matched as Go's `encoding/json` matches struct fields: an exact match first,
/// then any that differs only in case.
fn get<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn string(
    fields: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, ReattachError> {
    match get(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ReattachError::Field {
            field: name,
            problem: format!("expected a string, found {}", kind(other)),
        }),
    }
}

fn unsigned(fields: &Map<String, Value>, name: &'static str) -> Result<u32, ReattachError> {
    match get(fields, name) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| ReattachError::Field {
                field: name,
                problem: format!("{number} is not a whole number from 0 to {}", u32::MAX),
            }),
        Some(other) => Err(ReattachError::Field {
            field: name,
            problem: format!("expected a number, found {}", kind(other)),
        }),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReattachConfig {
        ReattachConfig {
            protocol: "grpc".to_owned(),
            protocol_version: 6,
            address: ReattachAddress::Unix(PathBuf::from("/tmp/plugin123")),
            pid: 4242,
            test: true,
        }
    }

    #[test]
    fn json_is_terraforms_form_exactly() {
        assert_eq!(
            sample().to_json(),
            r#"{"Protocol":"grpc","ProtocolVersion":6,"Pid":4242,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin123"}}"#
        );
    }

    #[test]
    fn json_round_trips_including_odd_paths() {
        let mut config = sample();
        config.address = ReattachAddress::Unix(PathBuf::from("/tmp/a \"quoted\"\\ dir/plugin1"));
        assert_eq!(ReattachConfig::from_json(&config.to_json()), Ok(config));
        let tcp = ReattachConfig {
            address: ReattachAddress::Tcp("127.0.0.1:10000".to_owned()),
            test: false,
            ..sample()
        };
        assert_eq!(ReattachConfig::from_json(&tcp.to_json()), Ok(tcp));
    }

    #[test]
    fn field_names_match_without_case_as_in_go() {
        let text = r#"{"protocol":"grpc","PROTOCOLVERSION":5,"pid":7,"addr":{"network":"tcp","string":":1234"},"Extra":1}"#;
        let config = ReattachConfig::from_json(text).expect("Go accepts this");
        assert_eq!(config.protocol_version, 5);
        assert_eq!(config.pid, 7);
        assert!(!config.test);
        assert_eq!(config.address, ReattachAddress::Tcp(":1234".to_owned()));
    }

    #[test]
    fn terraforms_map_form_is_read_with_its_keys() {
        let text = format!(
            r#"{{"registry.opentofu.org/acme/greeter":{}}}"#,
            sample().to_json()
        );
        let configs = ReattachConfig::from_json_map(&text).expect("map");
        assert_eq!(
            configs,
            vec![("registry.opentofu.org/acme/greeter".to_owned(), sample())]
        );
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let cases = [
            (
                "[1]",
                "reattach configuration is not a JSON object: found an array",
            ),
            (
                "{",
                "reattach configuration is not a JSON object: EOF while parsing an object at line 1 column 1",
            ),
            (
                r#"{"Protocol":"netrpc","Addr":{"Network":"unix","String":"/x"}}"#,
                "unsupported plugin protocol \"netrpc\". Supported: [grpc]",
            ),
            (
                r#"{"Addr":{"Network":"unix","String":"/x"}}"#,
                "unsupported plugin protocol \"netrpc\". Supported: [grpc]",
            ),
            (
                r#"{"Protocol":"grpc","Pid":-1,"Addr":{"Network":"unix","String":"/x"}}"#,
                "reattach configuration field Pid: -1 is not a whole number from 0 to 4294967295",
            ),
            (
                r#"{"Protocol":"grpc","Pid":"12","Addr":{"Network":"unix","String":"/x"}}"#,
                "reattach configuration field Pid: expected a number, found a string",
            ),
            (
                r#"{"Protocol":"grpc","Test":"yes","Addr":{"Network":"unix","String":"/x"}}"#,
                "reattach configuration field Test: expected a boolean, found a string",
            ),
            (
                r#"{"Protocol":"grpc"}"#,
                "reattach configuration has no usable address: Addr is missing",
            ),
            (
                r#"{"Protocol":"grpc","Addr":{"Network":"udp","String":"/x"}}"#,
                "reattach configuration has no usable address: unknown address type: \"udp\"",
            ),
            (
                r#"{"Protocol":"grpc","Addr":{"Network":"unix","String":""}}"#,
                "reattach configuration has no usable address: Addr.String is empty",
            ),
        ];
        for (text, message) in cases {
            let err = ReattachConfig::from_json(text).expect_err(text);
            assert_eq!(err.to_string(), message, "{text}");
        }
    }
}
