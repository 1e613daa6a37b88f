//! Hostile input: generated and mutated input for every parser that reads what a plugin, a
//! host or a user wrote — the handshake line, handshake field 6 (base64 and DER), hclog stderr
//! lines, reattach JSON, and message decoders. Each target checks that nothing panics, that
//! every rejection says why (in go-plugin's words where it has them), that valid input still
//! reads right, and that huge or deeply nested input is handled in linear time.
//!
//! The seeds include real go-plugin v1.8.0 and v1.4.10 output (`tests/corpus/`). Every target
//! runs `HOSTILE_INPUTS` inputs (default 20 000, a few seconds in all); a dedicated run with a
//! million per target, optimised:
//!
//! ```sh
//! HOSTILE_INPUTS=1000000 cargo test --release -p tests --test hostile -- --nocapture
//! HOSTILE_INPUTS=1000000 cargo test --release -p go-plugin --lib hostile -- --nocapture
//! ```
//!
//! (`--nocapture` shows each target's count and time.) The seeds are fixed; `HOSTILE_SEED=N`
//! explores others. A failure names the target, the case and the seed, and prints the input.

#[path = "hostile/certificate.rs"]
mod certificate;
#[path = "hostile/fuzz.rs"]
mod fuzz;
#[path = "hostile/handshake.rs"]
mod handshake;
#[path = "hostile/logs.rs"]
mod logs;
#[path = "hostile/messages.rs"]
mod messages;
#[path = "hostile/reattach.rs"]
mod reattach;
