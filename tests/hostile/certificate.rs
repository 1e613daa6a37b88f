//! Handshake field 6: the base64 (`inspect::decode_certificate`) and the DER inside it (what
//! `inspect::AutoMtls::pinned_to` reads when a host pins the plugin's certificate).

use std::time::Duration;

use go_plugin::inspect::{AutoMtls, decode_certificate, parse_handshake};

use crate::fuzz::{self, Gen, base64, bounded, corpus, inputs};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// What Go's `base64.RawStdEncoding.DecodeString` says about `input`, worked out the simple
/// way: the first byte outside the alphabet (line breaks are skipped) is blamed; otherwise a
/// lone symbol in the last group of four is, at the last byte; otherwise it decodes to three
/// bytes per four symbols.
fn go_decoded_len(input: &[u8]) -> Result<usize, usize> {
    if let Some(at) = input
        .iter()
        .position(|b| !ALPHABET.contains(b) && *b != b'\n' && *b != b'\r')
    {
        return Err(at);
    }
    let symbols = input.iter().filter(|b| ALPHABET.contains(b)).count();
    match symbols % 4 {
        1 => Err(input.len() - 1),
        _ => Ok(symbols * 3 / 4),
    }
}

fn base64_like(rng: &mut Gen) -> String {
    let len = rng.len(120);
    (0..len)
        .map(|_| match rng.below(20) {
            0 => '=',
            1 => '\n',
            2 => '\r',
            3 => rng.pick(&['-', '_', ' ', '.', 'é', '\0']),
            _ => char::from(rng.pick(ALPHABET)),
        })
        .collect()
}

#[test]
fn base64_is_decoded_or_blamed_at_gos_offset() {
    fuzz::run(
        "certificate base64 (random)",
        0x4236_3441,
        inputs(),
        base64_like,
        |field| match (decode_certificate(field), go_decoded_len(field.as_bytes())) {
            (Ok(der), Ok(len)) => assert_eq!(der.len(), len),
            (Err(err), Err(at)) => assert_eq!(
                err.to_string(),
                format!("error parsing server cert: illegal base64 data at input byte {at}")
            ),
            (ours, go) => panic!("decode_certificate: {ours:?}, Go: {go:?}"),
        },
    );
}

#[test]
fn base64_round_trips_and_padding_is_refused_as_go_refuses_it() {
    fuzz::run(
        "certificate base64 (round trip)",
        0x5254_5249,
        inputs(),
        |rng| {
            let len = rng.len(900);
            let bytes = rng.bytes(len);
            let mut encoded = base64(&bytes);
            let padded = rng.one_in(3) && !encoded.len().is_multiple_of(4);
            if padded {
                let pad = 4 - encoded.len() % 4;
                encoded.push_str(&"=".repeat(pad));
            }
            let mut field = String::new();
            for c in encoded.chars() {
                if rng.one_in(40) {
                    field.push_str(rng.pick(&["\n", "\r\n", "\r"]));
                }
                field.push(c);
            }
            (bytes, field, padded)
        },
        |(bytes, field, padded)| {
            let decoded = decode_certificate(field);
            if *padded {
                let at = field.find('=').expect("padding");
                let err = decoded
                    .expect_err("RawStdEncoding refuses padding")
                    .to_string();
                assert_eq!(
                    err,
                    format!("error parsing server cert: illegal base64 data at input byte {at}")
                );
            } else {
                assert_eq!(decoded.as_ref().ok(), Some(bytes), "{field:?}");
            }
        },
    );
}

/// The DER of the plugin certificates in the corpus.
fn real_certificates() -> Vec<Vec<u8>> {
    corpus("handshake-automtls")
        .iter()
        .map(|(name, bytes)| {
            let line = String::from_utf8_lossy(bytes);
            let parsed = parse_handshake(&line, &[1], false).expect(name);
            parsed.server_cert.expect("a certificate")
        })
        .collect()
}

#[test]
fn wrong_der_is_refused_with_a_reason_and_real_certificates_are_pinned() {
    let host = AutoMtls::generate().expect("an AutoMTLS identity");
    let real = real_certificates();
    for der in &real {
        host.pinned_to(der).expect("go-plugin's own certificate");
        // A certificate cut short, or followed by anything, is not one.
        for len in 0..der.len() {
            let err = host
                .pinned_to(&der[..len])
                .expect_err("a truncated certificate");
            assert!(
                err.to_string().starts_with("not an X.509 certificate: "),
                "{err}"
            );
        }
        let mut longer = der.clone();
        longer.push(0);
        let err = host.pinned_to(&longer).expect_err("trailing data");
        assert_eq!(
            err.to_string(),
            "not an X.509 certificate: trailing data after the certificate"
        );
    }
    fuzz::run(
        "certificate DER (mutated real certificates)",
        0x4445_5230,
        inputs(),
        |rng| {
            if rng.one_in(10) {
                let len = rng.len(600);
                return rng.bytes(len);
            }
            let seed = rng.pick_ref(&real).clone();
            rng.mutate(&seed, &real)
        },
        |der| {
            if let Err(err) = host.pinned_to(der) {
                let message = err.to_string();
                assert!(
                    message.starts_with("not an X.509 certificate: "),
                    "{message}"
                );
                assert!(message.len() > "not an X.509 certificate: ".len());
            }
        },
    );
}

#[test]
fn a_16_mib_certificate_field_decodes_in_linear_time() {
    let field = "QUJD".repeat(4 << 20);
    let der = bounded(
        "certificate: 16 MiB of base64",
        Duration::from_secs(60),
        || decode_certificate(&field),
    );
    assert_eq!(der.ok().map(|der| der.len()), Some(12 << 20));
    let host = AutoMtls::generate().expect("an AutoMTLS identity");
    let mut huge = vec![0x30, 0x84, 0x01, 0x00, 0x00, 0x00];
    huge.resize(6 + (16 << 20), 0);
    let err = bounded(
        "certificate: a 16 MiB DER SEQUENCE",
        Duration::from_secs(5),
        || host.pinned_to(&huge),
    )
    .expect_err("zeros are no certificate");
    assert!(
        err.to_string().starts_with("not an X.509 certificate: "),
        "{err}"
    );
}
