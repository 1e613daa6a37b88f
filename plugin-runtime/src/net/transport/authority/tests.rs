use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use super::*;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Hands out its bytes at most `step` at a time, as a socket may.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self
            .step
            .min(buf.remaining())
            .min(self.bytes.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.bytes[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

/// The connection as [`Inbound`] passes it on.
struct Rewritten<R> {
    io: R,
    inbound: Inbound,
}

impl<R: AsyncRead + Unpin> AsyncRead for Rewritten<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.inbound.poll_read(Pin::new(&mut this.io), cx, buf)
    }
}

async fn rewrite(bytes: Vec<u8>, step: usize) -> io::Result<Vec<u8>> {
    let mut rewritten = Rewritten {
        io: Trickle { bytes, at: 0, step },
        inbound: Inbound::default(),
    };
    let mut out = Vec::new();
    rewritten.read_to_end(&mut out).await?;
    Ok(out)
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame_header(&mut out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
    out
}

/// One parsed frame: kind, flags, stream, payload.
type Frame = (u8, u8, u32, Vec<u8>);

fn frames(mut bytes: &[u8]) -> Vec<Frame> {
    assert!(bytes.starts_with(PREFACE), "the preface passes first");
    bytes = &bytes[PREFACE.len()..];
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = payload_len(bytes);
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
        out.push((bytes[3], bytes[4], stream, bytes[9..9 + len].to_vec()));
        bytes = &bytes[9 + len..];
    }
    out
}

fn request_headers(authority: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/proto.KV/Get"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        (
            "user-agent",
            "grpc-python/1.66.1 grpc-c/43.0.0 (linux; chttp2)",
        ),
    ]
    .iter()
    .map(|(name, value)| (name.as_bytes().to_vec(), value.as_bytes().to_vec()))
    .collect()
}

fn decode_all(
    decoder: &mut loona_hpack::Decoder<'static>,
    block: &[u8],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut headers = Vec::new();
    decoder
        .decode_with_cb(block, |name, value| {
            headers.push((name.into_owned(), value.into_owned()));
        })
        .expect("the rewritten block decodes");
    headers
}

/// Two requests from a client whose encoder uses its dynamic table (the second one refers to
/// entries the first inserted), a data frame and a settings frame between them.
fn two_requests(authority: &str) -> Vec<u8> {
    let mut encoder = loona_hpack::Encoder::new();
    let headers = request_headers(authority);
    let pairs = || headers.iter().map(|(n, v)| (&n[..], &v[..]));
    let first = encoder.encode(pairs());
    let second = encoder.encode(pairs());
    assert!(second.len() < first.len(), "the second block is indexed");
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]));
    bytes.extend(frame(HEADERS, END_HEADERS, 1, &first));
    bytes.extend(frame(0x0, END_STREAM, 1, &[0, 0, 0, 0, 2, 8, 1]));
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &second));
    bytes
}

#[tokio::test]
async fn an_unparseable_authority_becomes_localhost_and_everything_else_passes() {
    let socket = "/tmp/plugin-dir123/plugin456";
    for step in [1, 7, 9, 10, 4096, usize::MAX] {
        let out = rewrite(two_requests(socket), step).await.expect("rewrite");
        let frames = frames(&out);
        assert_eq!(frames.len(), 4, "step {step}");
        assert_eq!(frames[0], (0x4, 0, 0, vec![0, 3, 0, 0, 0, 100]));
        assert_eq!(frames[2], (0x0, END_STREAM, 1, vec![0, 0, 0, 0, 2, 8, 1]));
        // A fresh decoder, as h2's: the rewritten blocks need no dynamic table.
        let mut decoder = loona_hpack::Decoder::new();
        for (index, flags, stream) in [(1, END_HEADERS, 1), (3, END_HEADERS | END_STREAM, 3)] {
            let (kind, got_flags, got_stream, block) = &frames[index];
            assert_eq!((*kind, *got_flags, *got_stream), (HEADERS, flags, stream));
            assert_eq!(
                decode_all(&mut decoder, block),
                request_headers("localhost"),
                "step {step}"
            );
        }
    }
}

#[tokio::test]
async fn a_valid_authority_is_kept() {
    for authority in ["localhost", "127.0.0.1:1234", "plugin"] {
        let out = rewrite(two_requests(authority), 5).await.expect("rewrite");
        let frames = frames(&out);
        let mut decoder = loona_hpack::Decoder::new();
        assert_eq!(
            decode_all(&mut decoder, &frames[1].3),
            request_headers(authority)
        );
    }
}

#[tokio::test]
async fn padding_priority_and_continuations_are_handled() {
    let mut encoder = loona_hpack::Encoder::new();
    let mut headers = request_headers("%2Ftmp%2Fplugin.sock");
    // Big enough to need CONTINUATION frames on the way out.
    headers.push((b"x-big".to_vec(), vec![b'a'; 40_000]));
    let block = encoder.encode(headers.iter().map(|(n, v)| (&n[..], &v[..])));
    let (one, rest) = block.split_at(100);
    let (two, three) = rest.split_at(20_000);
    let mut first = vec![3]; // pad length
    first.extend_from_slice(&[0x80, 0, 0, 1, 15]); // exclusive dependency on 1, weight 15
    first.extend_from_slice(one);
    first.extend_from_slice(&[0, 0, 0]);
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(HEADERS, PADDED | PRIORITY | END_STREAM, 5, &first));
    bytes.extend(frame(CONTINUATION, 0, 5, two));
    bytes.extend(frame(CONTINUATION, END_HEADERS, 5, three));

    let out = rewrite(bytes, 3000).await.expect("rewrite");
    let frames = frames(&out);
    assert!(
        frames.len() >= 3,
        "split into continuations: {}",
        frames.len()
    );
    let (kind, flags, stream, payload) = &frames[0];
    assert_eq!(
        (*kind, *flags, *stream),
        (HEADERS, PRIORITY | END_STREAM, 5)
    );
    assert_eq!(&payload[..5], &[0x80, 0, 0, 1, 15], "the priority is kept");
    let mut block = payload[5..].to_vec();
    for (index, (kind, flags, stream, payload)) in frames.iter().enumerate().skip(1) {
        assert_eq!((*kind, *stream), (CONTINUATION, 5));
        let last = index == frames.len() - 1;
        assert_eq!(*flags, if last { END_HEADERS } else { 0 });
        assert!(payload.len() <= MAX_FRAME);
        block.extend_from_slice(payload);
    }
    headers[3].1 = b"localhost".to_vec();
    let mut decoder = loona_hpack::Decoder::new();
    assert_eq!(decode_all(&mut decoder, &block), headers);
}

#[tokio::test]
async fn broken_header_blocks_end_the_connection_with_an_error() {
    let mut interrupted = PREFACE.to_vec();
    interrupted.extend(frame(HEADERS, 0, 1, &[0x82]));
    interrupted.extend(frame(0x0, 0, 1, b"data"));
    let mut garbage = PREFACE.to_vec();
    garbage.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &[0xff, 0xff, 0xff, 0xff, 0xff],
    ));
    let mut bad_padding = PREFACE.to_vec();
    bad_padding.extend(frame(HEADERS, PADDED | END_HEADERS, 1, &[9, 0x82]));
    for (name, bytes) in [
        ("interrupted", interrupted),
        ("garbage", garbage),
        ("bad padding", bad_padding),
    ] {
        let err = rewrite(bytes, 4).await.expect_err(name);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{name}: {err}");
        assert!(
            err.to_string()
                .starts_with("HTTP/2 protocol error from the client")
        );
    }
}

#[tokio::test]
async fn a_truncated_stream_ends_without_a_panic() {
    let bytes = two_requests("/tmp/x");
    for cut in 0..bytes.len() {
        let out = rewrite(bytes[..cut].to_vec(), 13)
            .await
            .expect("no error before the end");
        assert!(out.len() <= bytes.len() + 64, "cut {cut}");
    }
}

#[test]
fn integers_use_hpack_prefix_coding() {
    // RFC 7541 C.1: 10 and 1337 (here with a 7-bit prefix).
    let mut out = Vec::new();
    integer(&mut out, 10);
    assert_eq!(out, [10]);
    out.clear();
    integer(&mut out, 127);
    assert_eq!(out, [127, 0]);
    out.clear();
    integer(&mut out, 1337);
    assert_eq!(out, [127, 0xba, 0x09]);
}

#[tokio::test]
async fn a_huffman_coded_authority_is_decoded_to_be_checked() {
    // RFC 7541 C.4.1: `:authority: www.example.com`, Huffman-coded, with incremental indexing
    // (static name index 1), after `:method: GET` (index 2).
    let block = [
        0x82, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
    ];
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(HEADERS, END_HEADERS, 1, &block));
    let out = rewrite(bytes.clone(), 5).await.expect("rewrite");
    assert_eq!(out, bytes, "a valid authority passes byte for byte");

    // A Huffman code that is not one: the error names it.
    let mut broken = PREFACE.to_vec();
    broken.extend(frame(HEADERS, END_HEADERS, 1, &[0x41, 0x82, 0xff, 0xff]));
    let err = rewrite(broken, 5).await.expect_err("bad Huffman");
    assert!(err.to_string().contains("Huffman"), "{err}");
}

#[tokio::test]
async fn blocks_without_a_bad_authority_pass_byte_for_byte() {
    let bytes = two_requests("localhost");
    assert_eq!(rewrite(bytes.clone(), 3).await.expect("rewrite"), bytes);
}

#[tokio::test]
async fn data_frames_between_header_blocks_pass_byte_for_byte_in_reads_of_any_size() {
    // A large message's DATA frames, then the next request's header block: reads that end
    // inside a payload, on a boundary, or run on into the next frames.
    let mut bytes = two_requests("localhost");
    for n in 0..5u8 {
        bytes.extend(frame(0x0, 0, 3, &vec![n; 16_384 - usize::from(n) * 1000]));
    }
    bytes.extend(two_requests("localhost")[PREFACE.len()..].iter());
    for step in [1, 9, 100, 16_393, 20_000, 65_536, usize::MAX] {
        assert_eq!(
            rewrite(bytes.clone(), step).await.expect("rewrite"),
            bytes,
            "step {step}"
        );
    }
}

/// Generated connections: a preface, then frames of every kind but header blocks (each a
/// request with a valid authority), in reads of every size. Without a bad authority, what h2
/// sees must be the bytes the client sent; with garbage spliced in, the rewriter must end
/// with an error or pass it on, never panic.
#[test]
fn hostile_frame_streams_pass_byte_for_byte_or_fail_cleanly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let block = two_requests("localhost")[PREFACE.len()..].to_vec();
    crate::hostile::run(
        "authority rewriter",
        0xa0_7401,
        crate::hostile::inputs(),
        |rng| {
            let mut bytes = PREFACE.to_vec();
            let mut garbage = false;
            for _ in 0..rng.usize(1..8) {
                match rng.u8(..10) {
                    0..=3 => {
                        let len = if rng.u8(..20) == 0 {
                            rng.usize(..20_000)
                        } else {
                            rng.usize(..1_500)
                        };
                        let payload: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
                        bytes.extend(frame(0x0, rng.u8(..2), 1 + 2 * rng.u32(..4), &payload));
                    }
                    4 => bytes.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100])),
                    5 => bytes.extend(frame(0x8, 0, 0, &[0, 1, 0, 0])),
                    6 => bytes.extend(frame(0x6, 0, 0, &[rng.u8(..); 8])),
                    7 | 8 => bytes.extend_from_slice(&block),
                    _ => {
                        garbage = true;
                        bytes.extend((0..rng.usize(..40)).map(|_| rng.u8(..)));
                    }
                }
            }
            let step = match rng.u8(..6) {
                0 if bytes.len() < 4_096 => 1,
                0 | 1 => rng.usize(1..40),
                2 => 9,
                3 => 16_393,
                4 => rng.usize(1..70_000),
                _ => usize::MAX,
            };
            (bytes, step, garbage)
        },
        |(bytes, step, garbage)| {
            let result = runtime.block_on(rewrite(bytes.clone(), *step));
            if !garbage {
                assert_eq!(result.expect("well-formed frames pass"), *bytes);
            }
        },
    );
}
