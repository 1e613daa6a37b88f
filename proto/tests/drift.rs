//! The checked-in `plugin-runtime/src/generated/` must be exactly what the generator produces
//! from the protos today.

#[test]
fn generated_code_is_up_to_date() {
    let fresh = tempfile::tempdir().expect("create a temp dir");
    let files = plugin_proto::generate(fresh.path()).expect("generate from the protos");
    let drift = plugin_proto::compare(fresh.path(), &files, &plugin_proto::generated_dir())
        .expect("read the generated files");

    let details: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(
        drift.is_empty(),
        "generated code is stale: run `cargo run -p plugin-proto`\n{}",
        details.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let first = tempfile::tempdir().expect("create a temp dir");
    let second = tempfile::tempdir().expect("create a temp dir");
    let files = plugin_proto::generate(first.path()).expect("generate from the protos");
    assert_eq!(
        plugin_proto::generate(second.path()).expect("generate from the protos"),
        files
    );
    let drift = plugin_proto::compare(first.path(), &files, second.path())
        .expect("read the generated files");
    assert!(drift.is_empty(), "two runs differ: {drift:?}");
}
