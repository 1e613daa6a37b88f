//! Generated input for the host's stderr path: the line splitter, the mirror, the tail kept for
//! error messages, and the parser with its field rendering. Whatever a plugin writes, nothing
//! panics, every byte reaches the raw copy, and memory stays bounded by the buffers.

use std::io::Write;

use super::mirror::LineReader;
use super::tail::StderrTail;
use super::tests::{Trickle, mirror};
use crate::hostile::{inputs, run, stream};
use crate::protocol::hclog::StderrParser;

/// The lines Go's `bufio.Reader.ReadLine` makes of `data`: split at `\n`, one `\r` before it
/// removed, a last line without `\n` kept as it is.
fn go_lines(data: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let last = lines.pop().unwrap_or_default();
    for line in &mut lines {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if !last.is_empty() {
        lines.push(last);
    }
    lines
}

#[derive(Debug)]
struct Input {
    data: Vec<u8>,
    buffer: usize,
    step: usize,
}

fn input(rng: &mut fastrand::Rng) -> Input {
    Input {
        data: stream(rng),
        buffer: rng.usize(..300),
        step: 1 + rng.usize(..400),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

#[test]
fn lines_split_as_go_splits_them_whatever_the_bytes() {
    let runtime = runtime();
    run(
        "stderr line splitter",
        0x5350_4c54,
        inputs(),
        input,
        |input| {
            let pieces = {
                runtime.block_on(async {
                    let mut reader =
                        LineReader::new(Trickle::new(&input.data, input.step), input.buffer);
                    let mut pieces = Vec::new();
                    while let Some((piece, prefix)) =
                        reader.next_line().await.expect("no read error")
                    {
                        pieces.push((piece.to_vec(), prefix));
                    }
                    pieces
                })
            };
            let mut lines = Vec::new();
            let mut line = Vec::new();
            for (piece, prefix) in pieces {
                assert!(
                    piece.len() <= input.buffer.max(16),
                    "a piece longer than the buffer"
                );
                line.extend_from_slice(&piece);
                if !prefix {
                    lines.push(std::mem::take(&mut line));
                }
            }
            // A last line without a line end that fills the buffer exactly stays a prefix at the
            // end of the stream, as in Go.
            if !line.is_empty() {
                assert!(!input.data.ends_with(b"\n"), "a line left open");
                lines.push(line);
            }
            assert_eq!(lines, go_lines(&input.data));
        },
    );
}

#[test]
fn the_mirror_copies_every_byte_and_logs_every_line() {
    let runtime = runtime();
    run("stderr mirror", 0x4d49_5252, inputs(), input, |input| {
        let (events, raw) = runtime.block_on(mirror(&input.data, input.buffer, input.step));
        let lines = go_lines(&input.data);
        let expected: Vec<u8> = lines
            .iter()
            .flat_map(|line| [&line[..], b"\n"].concat())
            .collect();
        // go-plugin's `logStderr` adds no line end after a last line that ended the stream
        // as a prefix (see above); neither does the mirror.
        let open_end = !input.data.ends_with(b"\n") && raw.len() + 1 == expected.len();
        if open_end {
            assert_eq!(raw[..], expected[..raw.len()]);
        } else {
            assert_eq!(raw, expected);
        }
        assert!(
            events.len() >= lines.len(),
            "every line is logged, long ones in pieces"
        );
    });
}

#[tokio::test]
async fn a_16_mib_line_reaches_the_log_in_buffer_sized_pieces_quickly() {
    let mut data = vec![b'{'; 16 << 20];
    data.push(b'\n');
    let started = std::time::Instant::now();
    let (events, raw) = mirror(&data, super::DEFAULT_BUFFER, 1 << 20).await;
    // Some 20 times what an unoptimised build takes under a load of 8 on 2 cores (1.4 s).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // 256 full buffers, then the line end: an empty last piece, as Go's `ReadLine` has it.
    assert_eq!(events.len(), (16 << 20) / super::DEFAULT_BUFFER + 1);
    assert_eq!(raw, data);
}

/// What the tail shows after `written`: the last eight complete lines and the line being
/// written, each cut at 512 bytes.
fn expected_tail(written: &[u8]) -> String {
    let mut lines: Vec<&[u8]> = written.split(|&b| b == b'\n').collect();
    let current = lines.pop().unwrap_or_default();
    let start = lines.len().saturating_sub(8);
    let mut text = String::new();
    for line in lines[start..]
        .iter()
        .chain(Some(&current).filter(|c| !c.is_empty()))
    {
        text.push_str("  ");
        text.push_str(&String::from_utf8_lossy(&line[..line.len().min(512)]));
        text.push('\n');
    }
    text
}

#[test]
fn the_stderr_tail_keeps_the_last_lines_and_nothing_more() {
    run(
        "stderr tail",
        0x5441_494c,
        inputs(),
        |rng| {
            let data = stream(rng);
            let cuts: Vec<usize> = (0..rng.usize(..6))
                .map(|_| rng.usize(..=data.len()))
                .collect();
            (data, cuts)
        },
        |(data, cuts)| {
            let tail = StderrTail::default();
            let mut writer = tail.writer(None);
            let mut cuts = cuts.clone();
            cuts.sort_unstable();
            let mut from = 0;
            for to in cuts.into_iter().chain([data.len()]) {
                writer.write_all(&data[from..to]).expect("in memory");
                from = to;
                assert_eq!(tail.render(), expected_tail(&data[..to]));
            }
        },
    );
    // Sixteen MiB without a line end is kept as its first 512 bytes.
    let tail = StderrTail::default();
    let mut writer = tail.writer(None);
    for _ in 0..256 {
        writer.write_all(&[b'y'; 64 * 1024]).expect("in memory");
    }
    assert_eq!(tail.render(), format!("  {}\n", "y".repeat(512)));
}

#[test]
fn any_line_parses_and_renders_without_panicking() {
    run("stderr parser", 0x5041_5253, inputs(), stream, |data| {
        let mut parser = StderrParser::new();
        for line in data.split(|&b| b == b'\n') {
            let record = parser.parse(line);
            let rendered = record.rendered_fields();
            assert_eq!(rendered.is_some(), !record.fields.is_empty());
            if record.timestamp.is_none() {
                assert_eq!(record.message, String::from_utf8_lossy(line));
            }
        }
    });
}
