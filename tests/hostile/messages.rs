//! Message decoders: those `#[plugin_interface]` generates (the catalog's, with nested structs,
//! enums, maps, options and lists; they decode through the runtime's field codecs) and those of
//! go-plugin's own services (`inspect::proto`, prost's derive).

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use go_plugin::inspect::proto::{ConnInfo, Empty, StdioData};
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use tests::catalog::catalog_messages::{
    DescribeRequest, DescribeResponse, ListRequest, ListResponse, TotalRequest, TotalResponse,
};
use tests::catalog::{Item, Part, Shade};

use crate::fuzz::{self, Gen, bounded, inputs};

fn shade(rng: &mut Gen) -> Shade {
    rng.pick(&[Shade::Unspecified, Shade::Light, Shade::Dark])
}

fn part(rng: &mut Gen) -> Part {
    Part {
        id: rng.u32(),
        shade: shade(rng).into(),
    }
}

fn item(rng: &mut Gen) -> Item {
    Item {
        name: rng.text(30),
        parts: (0..rng.len(6)).map(|_| part(rng)).collect(),
        counts: (0..rng.len(4))
            .map(|_| (rng.text(8), rng.u64() as i64))
            .collect(),
        main: rng.one_in(2).then(|| part(rng)),
        labels: (0..rng.len(4))
            .map(|_| (rng.text(8), shade(rng).into()))
            .collect(),
    }
}

fn describe(rng: &mut Gen) -> DescribeRequest {
    DescribeRequest {
        item: (!rng.one_in(4)).then(|| item(rng)),
        shade: rng.one_in(2).then(|| shade(rng)),
        tags: (0..rng.len(4))
            .map(|_| (rng.text(8), shade(rng)))
            .collect::<HashMap<_, _>>(),
        also: (0..rng.len(8)).map(|_| shade(rng)).collect(),
        maybe: rng.one_in(2).then(|| shade(rng)),
    }
}

/// Valid encodings of `M`, cut, spliced, flipped and prefixed with lengths that lie: decoding
/// never panics, a failure says why, and whatever decodes re-encodes to bytes that decode to
/// the same value.
fn battery<M: Message + Default + PartialEq + Debug>(
    name: &str,
    fixed_seed: u64,
    sample: impl Fn(&mut Gen) -> M,
) {
    fuzz::run(
        &format!("{name} (round trip)"),
        fixed_seed,
        inputs(),
        &sample,
        |message| {
            let bytes = message.encode_to_vec();
            assert_eq!(bytes.len(), message.encoded_len());
            assert_eq!(&M::decode(&bytes[..]).expect("own encoding"), message);
        },
    );
    let seeds: Vec<Vec<u8>> = (0..64)
        .map(|i| sample(&mut Gen::new(fixed_seed ^ i)).encode_to_vec())
        .collect();
    fuzz::run(
        &format!("{name} (hostile bytes)"),
        fixed_seed ^ 0xffff,
        inputs(),
        |rng| hostile_bytes(rng, &seeds),
        |bytes| match M::decode(&bytes[..]) {
            Ok(message) => {
                let again = M::decode(&message.encode_to_vec()[..]).expect("re-encoded");
                assert_eq!(again, message);
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        },
    );
}

fn hostile_bytes(rng: &mut Gen, seeds: &[Vec<u8>]) -> Vec<u8> {
    let seed = rng.pick_ref(seeds).clone();
    match rng.below(6) {
        // A frame cut short.
        0 => {
            let at = rng.below(seed.len() + 1);
            seed[..at].to_vec()
        }
        // A length-delimited field whose length claims more than there is (up to 2^64 - 1).
        1 => {
            let mut bytes = seed;
            let mut field = Vec::new();
            encode_key(
                1 + rng.below(8) as u32,
                WireType::LengthDelimited,
                &mut field,
            );
            encode_varint(
                rng.pick(&[u64::MAX, 1 << 31, u64::from(u32::MAX), 1 << 40]),
                &mut field,
            );
            let at = rng.below(bytes.len() + 1);
            bytes.splice(at..at, field);
            bytes
        }
        // Random bytes.
        2 => {
            let len = rng.len(200);
            rng.bytes(len)
        }
        // Varints of every wire type with every tag, and unknown fields.
        3 => {
            let mut bytes = Vec::new();
            for _ in 0..rng.below(10) {
                let wire = rng.pick(&[
                    WireType::Varint,
                    WireType::SixtyFourBit,
                    WireType::LengthDelimited,
                    WireType::StartGroup,
                    WireType::EndGroup,
                    WireType::ThirtyTwoBit,
                ]);
                encode_key(1 + rng.below(20) as u32, wire, &mut bytes);
                let len = rng.len(12);
                bytes.extend(rng.bytes(len));
            }
            bytes
        }
        _ => rng.mutate(&seed, seeds),
    }
}

#[test]
fn catalog_describe_request() {
    battery("DescribeRequest", 0x4445_5343, describe);
}

#[test]
fn catalog_describe_response_and_item() {
    battery("DescribeResponse", 0x4445_5352, |rng| DescribeResponse {
        value: Some(item(rng)),
    });
}

#[test]
fn catalog_list_and_total() {
    battery("ListRequest", 0x4c49_5354, |rng| ListRequest {
        prefix: rng.text(20),
        count: rng.u32(),
    });
    battery("ListResponse", 0x4c49_5352, |rng| ListResponse {
        value: Some(item(rng)),
    });
    battery("TotalRequest", 0x544f_5441, |rng| TotalRequest {
        scorer: rng.u32(),
        items: (0..rng.len(4)).map(|_| item(rng)).collect(),
    });
    battery("TotalResponse", 0x544f_5452, |rng| TotalResponse {
        value: rng.u64() as i64,
    });
}

#[test]
fn go_plugin_internal_messages() {
    battery("plugin.ConnInfo", 0x434f_4e4e, |rng| ConnInfo {
        service_id: rng.u32(),
        network: rng.pick(&["unix", "tcp", ""]).to_string(),
        address: rng.text(40),
        knock: None,
    });
    battery("plugin.StdioData", 0x5354_4449, |rng| {
        let len = rng.len(300);
        StdioData {
            channel: rng.below(4) as i32,
            data: rng.bytes(len),
        }
    });
    battery("plugin.Empty", 0x454d_5054, |_| Empty {});
}

#[test]
fn an_unknown_enum_value_is_refused_with_the_enums_name() {
    for bytes in [
        // shade = 7
        vec![0x10, 0x07],
        // also = [1, 9], packed
        vec![0x22, 0x02, 0x01, 0x09],
        // tags = {"a": 5}
        vec![0x1a, 0x05, 0x0a, 0x01, b'a', 0x10, 0x05],
    ] {
        let err = DescribeRequest::decode(&bytes[..]).expect_err("no such shade");
        assert!(
            err.to_string().contains("is not a value of the enum"),
            "{err}"
        );
        assert!(err.to_string().contains("Shade"), "{err}");
    }
}

#[test]
fn huge_and_deep_frames_fail_fast() {
    // 16 MiB of nested groups in an unknown field: prost stops at its recursion limit.
    let mut groups = Vec::new();
    for _ in 0..(1 << 20) {
        encode_key(15, WireType::StartGroup, &mut groups);
    }
    let err = bounded(
        "message: a million nested groups",
        Duration::from_secs(2),
        || DescribeRequest::decode(&groups[..]),
    )
    .expect_err("too deep");
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // A length of 2^64 - 1 before 16 MiB of data: refused without allocating it.
    let mut lying = Vec::new();
    encode_key(1, WireType::LengthDelimited, &mut lying);
    encode_varint(u64::MAX, &mut lying);
    lying.resize(lying.len() + (16 << 20), 0);
    let err = bounded(
        "message: a length of 2^64 - 1",
        Duration::from_secs(2),
        || DescribeRequest::decode(&lying[..]),
    )
    .expect_err("lies");
    assert!(!err.to_string().is_empty());

    // 16 MiB of valid parts decode in linear time.
    let many = TotalRequest {
        scorer: 1,
        items: vec![Item {
            parts: vec![Part { id: 1, shade: 2 }; 4 << 20],
            ..Item::default()
        }],
    };
    let bytes = many.encode_to_vec();
    let back = bounded("message: 4 Mi parts", Duration::from_secs(180), || {
        TotalRequest::decode(&bytes[..])
    });
    assert_eq!(back.expect("valid").items[0].parts.len(), 4 << 20);
}
