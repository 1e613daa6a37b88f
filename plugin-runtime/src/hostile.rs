//! What the runtime's hostile-input unit tests share (the `tests` crate's `tests/hostile.rs`
//! covers the public parsers the same way): a count of inputs, `HOSTILE_INPUTS` or 20 000, and
//! a loop that names the case that failed. A dedicated run, optimised:
//! `HOSTILE_INPUTS=1000000 cargo test --release -p go-plugin --lib hostile -- --nocapture`.

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Instant;

pub(crate) fn inputs() -> usize {
    std::env::var("HOSTILE_INPUTS")
        .ok()
        .and_then(|count| count.trim().replace('_', "").parse().ok())
        .unwrap_or(20_000)
}

/// Runs `check` on `count` inputs, each from a random source seeded with `seed` plus its
/// number, and reports the failing input and the time taken.
pub(crate) fn run<I: Debug>(
    target: &str,
    seed: u64,
    count: usize,
    mut generate: impl FnMut(&mut fastrand::Rng) -> I,
    mut check: impl FnMut(&I),
) {
    let started = Instant::now();
    for case in 0..count {
        let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(case as u64));
        let input = generate(&mut rng);
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            let shown = format!("{input:?}");
            let cut = (0..=shown.len().min(2000))
                .rev()
                .find(|&at| shown.is_char_boundary(at))
                .unwrap_or(0);
            eprintln!(
                "hostile {target}: case {case} (seed {seed}) failed on {}",
                &shown[..cut]
            );
            resume_unwind(panic);
        }
    }
    eprintln!(
        "hostile {target}: {count} inputs in {:.2?}",
        started.elapsed()
    );
}

/// Bytes shaped like a plugin's output: runs of text, line ends (`\n`, `\r\n`, a lone `\r`),
/// invalid UTF-8, hclog JSON, and now and then a line longer than any buffer.
pub(crate) fn stream(rng: &mut fastrand::Rng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"\n",
        b"\r\n",
        b"\r",
        b"\n\n",
        b"\xff\xfe",
        b"\xe2\x9c",
        b"[ERROR] ",
        b"panic: ",
        br#"{"@level":"info","@message":"m","@timestamp":"2026-01-02T03:04:05.000006Z","k":[1]}"#,
        br#"{"@level":"warn","@message":7}"#,
        b"plain text ",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.usize(..12) {
        match rng.u8(..8) {
            0 => out.extend(std::iter::repeat_n(b'x', rng.usize(..600))),
            1 => out.extend((0..rng.usize(..20)).map(|_| rng.u8(..))),
            _ => out.extend_from_slice(PIECES[rng.usize(..PIECES.len())]),
        }
    }
    out
}
