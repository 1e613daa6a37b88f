//! The fuzz targets, one function each, shared by the libFuzzer binaries (`fuzz_targets/`) and
//! the corpus replay in the test command (`tests/fuzz_corpus.rs`). Each reads bytes another
//! process could have written and checks that nothing panics, plus what should hold of any
//! input: a connection reads the same through the `:authority` rewriter in reads of any size,
//! and what decodes re-encodes to itself.

use std::collections::HashMap;

use go_plugin::inspect::{self, LogLines};
use go_plugin::{PluginError, Proto, ReattachConfig, plugin_interface};
use prost::Message;

/// A target: one input, checked.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("authority", authority),
    ("handshake", handshake),
    ("hclog", hclog),
    ("reattach", reattach),
    ("certificate", certificate),
    ("messages", messages),
];

/// The HTTP/2 client preface, which every connection the rewriter reads starts with.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The plugin server's `:authority` rewriter on a whole connection: the preface, then `data`
/// as frames. Read whole, and in reads of 1 and 7 bytes, it gives the same bytes or fails.
pub fn authority(data: &[u8]) {
    let mut connection = PREFACE.to_vec();
    connection.extend_from_slice(data);
    let whole = inspect::rewrite_authority(&connection, usize::MAX);
    for step in [1, 7] {
        let stepped = inspect::rewrite_authority(&connection, step);
        match (&whole, &stepped) {
            (Ok(whole), Ok(stepped)) => assert!(whole == stepped, "reads of {step} differ"),
            (Err(_), Err(_)) => {}
            (whole, stepped) => panic!(
                "reads of {step} changed the outcome: {:?} whole, {:?} stepped",
                whole.as_ref().map(Vec::len),
                stepped.as_ref().map(Vec::len)
            ),
        }
    }
}

/// A handshake line, as a host offering versions 1 and 2 reads it, with and without
/// multiplexing.
pub fn handshake(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    for multiplex in [false, true] {
        if let Ok(parsed) = inspect::parse_handshake(&line, &[1, 2], multiplex) {
            assert!(parsed.app_version == 1 || parsed.app_version == 2);
        }
    }
}

/// A plugin's log channel, line by line.
pub fn hclog(data: &[u8]) {
    let mut lines = LogLines::default();
    for line in data.split(|&byte| byte == b'\n') {
        lines.classify(line);
    }
}

/// Reattach JSON, one configuration and Terraform's map of them; what parses writes back to
/// itself.
pub fn reattach(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = ReattachConfig::from_json(&text) {
        assert_eq!(
            ReattachConfig::from_json(&config.to_json()).as_ref(),
            Ok(&config)
        );
    }
    let _ = ReattachConfig::from_json_map(&text);
}

/// Handshake field 6: base64 of a DER certificate.
pub fn certificate(data: &[u8]) {
    let _ = inspect::decode_certificate(&String::from_utf8_lossy(data));
}

/// The first byte picks a message type, the rest is its encoding: go-plugin's own messages and
/// one `#[plugin_interface]` generates (through the runtime's field codecs). What decodes
/// re-encodes to a message that decodes to itself.
pub fn messages(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 5 {
        0 => round_trip::<inspect::proto::ConnInfo>(bytes),
        1 => round_trip::<inspect::proto::StdioData>(bytes),
        2 => round_trip::<inspect::proto::Empty>(bytes),
        3 => round_trip::<shapes_messages::DescribeRequest>(bytes),
        _ => round_trip::<shapes_messages::DescribeResponse>(bytes),
    }
}

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(message) = M::decode(bytes) {
        let again = M::decode(message.encode_to_vec().as_slice()).expect("re-encoded decodes");
        assert_eq!(again, message);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, prost::Enumeration, Proto)]
pub enum Tone {
    Unspecified = 0,
    Warm = 1,
    Cold = 2,
}

#[derive(Clone, PartialEq, prost::Message, Proto)]
pub struct Point {
    #[prost(sint64, tag = "1")]
    pub x: i64,
    #[prost(enumeration = "Tone", tag = "2")]
    pub tone: i32,
    #[prost(map = "string, bytes", tag = "3")]
    pub extra: HashMap<String, Vec<u8>>,
}

/// An interface of every kind of argument the macro maps, for its generated messages.
#[plugin_interface(package = "fuzz", service = "Shapes")]
pub trait Shapes {
    #[allow(clippy::too_many_arguments, reason = "One of each kind of argument.")]
    async fn describe(
        &self,
        points: Vec<Point>,
        tone: Tone,
        tags: HashMap<String, Tone>,
        maybe: Option<Point>,
        tones: Vec<Tone>,
        weights: HashMap<u32, u64>,
        name: Option<String>,
    ) -> Result<Vec<Point>, PluginError>;
}
