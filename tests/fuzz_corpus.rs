//! The fuzz targets' saved corpus (`tests/fuzz/corpus/TARGET/`, what `scripts/fuzz` found and
//! kept, minimised, and every crash it found once) replayed through the same target functions
//! (`tests/fuzz/targets.rs`) without libFuzzer: an input that once crashed a parser stays a
//! regression test, in every run of the test command.

#[path = "fuzz/targets.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "The fuzz crate's library: public for its binaries, its interface only for messages."
)]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn every_saved_input_of_every_fuzz_target_passes() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut failures = Vec::new();
    for (name, target) in targets::TARGETS {
        let dir = corpus.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{}: no saved inputs", dir.display());
        for path in inputs {
            let data = std::fs::read(&path).expect("corpus file");
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "inputs that fail: {failures:#?}");
}
