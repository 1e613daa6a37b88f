//! The generators: a seeded random source with the moves that find parser bugs (mutating real
//! seeds, splicing in tokens a parser cares about, lengths at the edges), a loop that runs a
//! check on many generated inputs and names the one that failed, and the corpus of real
//! go-plugin output.

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Inputs per target: `HOSTILE_INPUTS`, or 20 000 (a few seconds in all, unoptimised).
pub(crate) fn inputs() -> usize {
    match std::env::var("HOSTILE_INPUTS") {
        Ok(count) => count
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("HOSTILE_INPUTS={count:?} is not a number of inputs")),
        Err(_) => 20_000,
    }
}

/// The seed of a target: its own fixed one, or `HOSTILE_SEED` to explore others.
fn seed(fixed: u64) -> u64 {
    match std::env::var("HOSTILE_SEED") {
        Ok(seed) => seed
            .trim()
            .parse::<u64>()
            .map(|seed| seed ^ fixed)
            .unwrap_or_else(|_| panic!("HOSTILE_SEED={seed:?} is not a u64")),
        Err(_) => fixed,
    }
}

/// Runs `check` on `count` inputs made by `generate`, each from a random source of its own (so
/// one failing case can be regenerated alone), and reports how long it took. A panic in `check`
/// is reported with the input that caused it; the slowest input must take under a second, which
/// no input of a linear parser comes near. It is timed again, three times, and judged by its
/// fastest run: a case that was slow because the machine was busy elsewhere is fast again, one
/// whose input is slow to handle is not.
pub(crate) fn run<I: Debug>(
    target: &str,
    fixed_seed: u64,
    count: usize,
    mut generate: impl FnMut(&mut Gen) -> I,
    mut check: impl FnMut(&I),
) {
    let base = seed(fixed_seed);
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, 0);
    for case in 0..count {
        let mut rng = Gen::new(base.wrapping_add(case as u64));
        let input = generate(&mut rng);
        let one = Instant::now();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            eprintln!(
                "hostile {target}: case {case} (seed {base}) failed on input {}",
                shown(&input)
            );
            resume_unwind(panic);
        }
        slowest = slowest.max((one.elapsed(), case));
    }
    let (_, case) = slowest;
    let again = if count == 0 {
        Duration::ZERO
    } else {
        let input = generate(&mut Gen::new(base.wrapping_add(case as u64)));
        (0..3)
            .map(|_| {
                let one = Instant::now();
                check(&input);
                one.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    eprintln!(
        "hostile {target}: {count} inputs in {:.2?} (slowest: case {case} in {:.2?}, then \
         {again:.2?})",
        started.elapsed(),
        slowest.0
    );
    assert!(
        again < Duration::from_secs(1),
        "hostile {target}: case {case} took {:?}, then at best {again:?} in three more runs",
        slowest.0
    );
}

/// Runs `f` once and fails when it takes longer than `limit`: a check against quadratic work on
/// one huge input. Each limit is some 20 times what an unoptimised build takes while both cores
/// are busy with other work (a load of 8 on 2 cores), and still far below what quadratic work
/// on its input would take (hours for 16 MiB), so only that, not a loaded machine, misses it.
pub(crate) fn bounded<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = f();
    let took = started.elapsed();
    eprintln!("hostile {what}: {took:.2?}");
    assert!(took < limit, "{what} took {took:?}, over {limit:?}");
    result
}

fn shown(input: &impl Debug) -> String {
    let text = format!("{input:?}");
    if text.len() <= 2000 {
        return text;
    }
    let cut = (0..=2000)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    format!("{}… ({} characters)", &text[..cut], text.len())
}

/// A seeded random source with the moves of a mutation fuzzer.
#[derive(Debug)]
pub(crate) struct Gen(fastrand::Rng);

/// Bytes that make parsers take other paths: separators, quotes, escapes, line ends, bytes that
/// are never UTF-8, overlong and surrogate encodings, and numbers at the edges.
const TOKENS: &[&[u8]] = &[
    b"|",
    b"||",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b" ",
    b"\t",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"=",
    b"==",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"-",
    b"+",
    b"0",
    b"-0",
    b"1e999",
    b"18446744073709551616",
    b"9223372036854775808",
    b"4294967296",
    b"-1",
    b"null",
    b"true",
    b"\xef\xbb\xbf",
    b"\xe2\x80\xae",
];

impl Gen {
    pub(crate) fn new(seed: u64) -> Gen {
        Gen(fastrand::Rng::with_seed(seed))
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    /// True one time in `n`.
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(crate) fn u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    pub(crate) fn u32(&mut self) -> u32 {
        self.0.u32(..)
    }

    /// A length skewed to small values, up to `max`, with the edges (0, `max`) often.
    pub(crate) fn len(&mut self, max: usize) -> usize {
        match self.below(8) {
            0 => 0,
            1 => max,
            2..=5 => self.below(max.min(16) + 1),
            _ => self.below(max + 1),
        }
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub(crate) fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.0.u8(..)).collect()
    }

    /// Text as people and file systems write it: ASCII, spaces, quotes, control characters,
    /// and characters from outside ASCII.
    pub(crate) fn text(&mut self, max: usize) -> String {
        const ODD: &[char] = &[
            ' ', '"', '\\', '|', '\n', '\t', '\u{0}', '\u{7f}', 'é', '✓', '\u{feff}', '\u{202e}',
            '😀', '=', '/', ':',
        ];
        let len = self.len(max);
        (0..len)
            .map(|_| match self.below(4) {
                0 => self.pick(ODD),
                _ => char::from(b' ' + self.0.u8(..95)),
            })
            .collect()
    }

    /// `seed` changed by one to four mutations: bit flips, interesting bytes and tokens
    /// inserted or overwritten, ranges removed, repeated or swapped in from `others`,
    /// truncation.
    pub(crate) fn mutate(&mut self, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(data.len() + 1);
            match self.below(9) {
                0 if !data.is_empty() => {
                    let i = self.below(data.len());
                    data[i] ^= 1 << self.below(8);
                }
                1 if !data.is_empty() => {
                    let i = self.below(data.len());
                    data[i] = self.pick(&[0, 0x7f, 0x80, 0xff, b'|', b'"', b'\n', b'0', b'9']);
                }
                2 => {
                    let token = self.pick(TOKENS);
                    data.splice(at..at, token.iter().copied());
                }
                3 => {
                    let end = (at + self.len(16)).min(data.len());
                    data.drain(at..end);
                }
                4 => {
                    let end = (at + self.len(32)).min(data.len());
                    let piece = data[at..end].to_vec();
                    let times = 1 + self.below(8);
                    for _ in 0..times {
                        data.splice(at..at, piece.iter().copied());
                    }
                }
                5 if !others.is_empty() => {
                    let other = self.pick_ref(others);
                    let from = self.below(other.len() + 1);
                    let to = (from + self.len(64)).min(other.len());
                    data.splice(at..at, other[from..to].iter().copied());
                }
                6 => data.truncate(at),
                7 => {
                    let noise = self.len(8);
                    let noise = self.bytes(noise);
                    data.splice(at..at, noise);
                }
                _ => {
                    let token = self.pick(TOKENS);
                    let end = (at + token.len()).min(data.len());
                    data.splice(at..end, token.iter().copied());
                }
            }
        }
        data
    }
}

/// Every file of the corpus (`tests/corpus/go18/` and `go14/`) whose name starts with
/// `prefix`, with its name.
pub(crate) fn corpus(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files = Vec::new();
    for version in ["go18", "go14"] {
        let dir = root.join(version);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("reading the corpus {}: {err}", dir.display()));
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with(prefix) {
                let bytes = std::fs::read(&path).expect("corpus file");
                files.push((format!("{version}/{name}"), bytes));
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no corpus files named {prefix}*");
    files
}

/// The corpus files named `prefix*`, split into lines (without their line ends).
pub(crate) fn corpus_lines(prefix: &str) -> Vec<Vec<u8>> {
    corpus(prefix)
        .iter()
        .flat_map(|(_, bytes)| bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec))
        .filter(|line| !line.is_empty())
        .collect()
}

/// Unpadded standard base64 (Go's `RawStdEncoding`), to make certificate fields with.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, byte) in chunk.iter().enumerate() {
            n |= u32::from(*byte) << (16 - 8 * i);
        }
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
        }
    }
    out
}
