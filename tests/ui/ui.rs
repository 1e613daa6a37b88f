//! The compile-fail cases of `#[plugin_interface]`, one diagnostic per case. (The compile-pass
//! cases in `pass/` are test targets of this crate: see its `Cargo.toml`.)
//!
//! Diagnostics differ between compiler versions, so the `.stderr` files are checked on the
//! toolchain they were written with and skipped elsewhere. Regenerate them with
//! `TRYBUILD=overwrite cargo test -p ui-tests --test ui`.

#[test]
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "compiler messages are checked on Rust 1.95"
)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("fail/*.rs");
}
