//! Cell 6 (and issue 2's check): clients in Go and Python that know nothing of go-plugin or of
//! our runtime, only the stubs protoc generates from the `.proto` text `kv proto` prints, call
//! `kv-plugin` after speaking the go-plugin handshake themselves. protoc is grpcio-tools'
//! (from PyPI), the Go plugins are pinned in tests/interop/gotools.

use std::path::Path;
use std::process::Command;

use crate::harness::{RUN_TIMEOUT, env, run, rust_command, workdir};

const STORED: &str = "world\n\nWritten from plugin-rust";

/// `kv proto`, written to `dir/kv.proto`.
fn exported_proto(dir: &Path) {
    let mut command = rust_command(&env().kv, dir);
    command.arg("proto");
    let proto = run(command, RUN_TIMEOUT).success();
    assert!(proto.stdout.contains("service KV"), "{proto}");
    std::fs::write(dir.join("kv.proto"), proto.stdout).expect("write kv.proto");
}

fn protoc(dir: &Path, args: &[&str]) {
    protoc_files(dir, args, &["kv.proto"]);
}

/// grpcio-tools' protoc on `files` in `dir`.
fn protoc_files(dir: &Path, args: &[&str], files: &[&str]) {
    let mut command = Command::new(&env().python);
    command
        .current_dir(dir)
        .args(["-m", "grpc_tools.protoc", "-I."])
        .args(args)
        .args(files);
    run(command, RUN_TIMEOUT).success();
}

/// protoc's Go and Go-gRPC stubs of `files` (in `dir`), as package main of
/// `tests/interop/go18/<package>`.
fn go_stubs(dir: &Path, package: &str, files: &[&str]) {
    let env = env();
    let mappings: Vec<String> = files
        .iter()
        .map(|file| format!("M{file}=interop/go18/{package};main"))
        .collect();
    let mut args = vec![
        format!(
            "--plugin=protoc-gen-go={}",
            env.tool("protoc-gen-go").display()
        ),
        format!(
            "--plugin=protoc-gen-go-grpc={}",
            env.tool("protoc-gen-go-grpc").display()
        ),
        "--go_out=.".to_owned(),
        "--go_opt=paths=source_relative".to_owned(),
        "--go-grpc_out=.".to_owned(),
        "--go-grpc_opt=paths=source_relative".to_owned(),
    ];
    for mapping in &mappings {
        args.push(format!("--go_opt={mapping}"));
        args.push(format!("--go-grpc_opt={mapping}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    protoc_files(dir, &args, files);
}

/// `go build` of `tests/interop/go18/<package>` with the generated `stubs` (files in `dir`)
/// joining its package main without entering the source tree.
fn go_build_with(dir: &Path, package: &str, stubs: &[String]) -> std::path::PathBuf {
    let env = env();
    let source = env.interop.join("go18").join(package);
    let replace: serde_json::Map<String, serde_json::Value> = stubs
        .iter()
        .map(|stub| {
            (
                source.join(stub).display().to_string(),
                dir.join(stub).display().to_string().into(),
            )
        })
        .collect();
    let overlay = serde_json::json!({ "Replace": replace });
    let overlay_path = dir.join(format!("{package}-overlay.json"));
    std::fs::write(&overlay_path, overlay.to_string()).expect("write overlay");
    let binary = dir.join(package);
    let mut build = Command::new("go");
    build
        .current_dir(env.interop.join("go18"))
        .env("GOFLAGS", "-mod=readonly -buildvcs=false")
        .arg("build")
        .arg(format!("-overlay={}", overlay_path.display()))
        .arg("-o")
        .arg(&binary)
        .arg(format!("./{package}"));
    run(build, RUN_TIMEOUT).success();
    binary
}

/// grpcio with its default channel options, as a Python host would use it: on a Unix socket it
/// sends the socket path as `:authority`, which h2 rejected before our server's connection path
/// accepted any authority (hyperium/h2#487). (Not under AutoMTLS: grpcio's BoringSSL offers no
/// P-521 signatures, so it cannot do go-plugin's AutoMTLS with Go plugins either.)
#[test]
fn python_client_with_default_options_and_stubs_from_exported_proto_calls_rust_plugin() {
    let env = env();
    let dir = workdir();
    exported_proto(dir.path());
    std::fs::create_dir(dir.path().join("stubs")).expect("mkdir stubs");
    protoc(
        dir.path(),
        &["--python_out=stubs", "--grpc_python_out=stubs"],
    );

    let work = dir.path().join("run");
    std::fs::create_dir(&work).expect("mkdir run");
    let mut command = Command::new(&env.python);
    command
        .current_dir(&work)
        .env("PYTHONPATH", dir.path().join("stubs"))
        .arg(env.python_peer("kv_client.py"))
        .arg(&env.kv_plugin)
        .args(["hello", "world"]);
    let client = run(command, RUN_TIMEOUT).success();
    assert_eq!(client.stdout, STORED, "{client}");
}

#[test]
fn go_client_with_stubs_from_exported_proto_calls_rust_plugin() {
    let env = env();
    let dir = workdir();
    exported_proto(dir.path());
    go_stubs(dir.path(), "stubclient", &["kv.proto"]);
    let binary = go_build_with(
        dir.path(),
        "stubclient",
        &["kv.pb.go".to_owned(), "kv_grpc.pb.go".to_owned()],
    );

    let work = dir.path().join("run");
    std::fs::create_dir(&work).expect("mkdir run");
    let mut command = Command::new(&binary);
    command
        .current_dir(&work)
        .arg(&env.kv_plugin)
        .args(["hello", "world"]);
    let client = run(command, RUN_TIMEOUT).success();
    assert_eq!(client.stdout, STORED, "{client}");
}

/// grpcurl (v1.8.9, built from its Go module in tests/interop/grpcurl) calls `kv-plugin` on its
/// Unix socket with only the exported `.proto`, in the clear and under AutoMTLS, sending the
/// socket path as `:authority` as grpc-core and grpc-java do (h2 rejected that before our
/// server accepted any authority).
#[test]
fn grpcurl_calls_rust_plugin_on_its_socket_plain_and_under_automtls() {
    let env = env();
    let dir = workdir();
    exported_proto(dir.path());
    let pki = tests::pki::Pki::generate(dir.path());
    for auto_mtls in [false, true] {
        let work = tempfile::tempdir_in(dir.path()).expect("mkdir");
        let mut plugin = Command::new(&env.kv_plugin);
        plugin
            .current_dir(work.path())
            .env("BASIC_PLUGIN", "hello")
            .env("PLUGIN_PROTOCOL_VERSIONS", "1");
        if auto_mtls {
            let cert = std::fs::read_to_string(&pki.client.0).expect("client certificate");
            plugin.env("PLUGIN_CLIENT_CERT", cert);
        }
        let mut plugin = tests::run::Background::start(plugin);
        let line = plugin.wait_for_line(|l| l.starts_with("1|"), RUN_TIMEOUT);
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(fields[2], "unix", "{line}");
        let mut tls_args: Vec<String> = vec!["-plaintext".to_owned()];
        if auto_mtls {
            // The plugin's certificate from the handshake is the only root grpcurl trusts.
            let server_pem = work.path().join("server.pem");
            write_pem(fields[5], &server_pem);
            tls_args = vec![
                "-cacert".to_owned(),
                server_pem.display().to_string(),
                "-cert".to_owned(),
                pki.client.0.display().to_string(),
                "-key".to_owned(),
                pki.client.1.display().to_string(),
                "-servername".to_owned(),
                "localhost".to_owned(),
            ];
        }
        let grpcurl = |data: &str, method: &str| {
            let mut command = Command::new(env.tool("grpcurl"));
            command
                .args(&tls_args)
                .args(["-unix", "-import-path"])
                .arg(dir.path())
                .args([
                    "-proto", "kv.proto", "-format", "text", "-d", data, fields[3], method,
                ]);
            run(command, RUN_TIMEOUT).success()
        };
        grpcurl(r#"key: "hello" value: "world""#, "proto.KV/Put");
        let got = grpcurl(r#"key: "hello""#, "proto.KV/Get");
        // Protobuf text format, the stored newlines escaped as Rust's Debug escapes them.
        let expected = format!("value: {STORED:?}");
        assert_eq!(got.stdout.trim(), expected, "AutoMTLS {auto_mtls}: {got}");
        drop(plugin);
    }
}

/// The handshake's certificate field (unpadded standard base64 of the DER), written to `path`
/// as PEM by openssl.
fn write_pem(field: &str, path: &Path) {
    let padded = format!("{field}{}", "=".repeat((4 - field.len() % 4) % 4));
    let b64 = path.with_extension("b64");
    let der = path.with_extension("der");
    std::fs::write(&b64, padded).expect("write the certificate field");
    let mut decode = Command::new("openssl");
    decode
        .args(["base64", "-d", "-A", "-in"])
        .arg(&b64)
        .arg("-out")
        .arg(&der);
    run(decode, RUN_TIMEOUT).success();
    let mut to_pem = Command::new("openssl");
    to_pem
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&der)
        .arg("-out")
        .arg(path);
    run(to_pem, RUN_TIMEOUT).success();
}

/// The catalog's files, `catalog.proto` and `scorer.proto`, as `catalog-plugin` prints them.
fn catalog_protos(dir: &Path) {
    for (command, file) in [("proto", "catalog.proto"), ("scorer-proto", "scorer.proto")] {
        let mut print = rust_command(Path::new(CATALOG_PLUGIN), dir);
        print.arg(command);
        let proto = run(print, RUN_TIMEOUT).success();
        std::fs::write(dir.join(file), proto.stdout).expect("write the .proto");
    }
}

const CATALOG_PLUGIN: &str = env!("CARGO_BIN_EXE_catalog-plugin");

/// What both clients print for the catalog's calls: nested messages, enums (in messages, maps,
/// lists and `optional`), maps and a server stream, each value as the plugin changed it.
const CATALOG_CALLS: &str = "describe: box/SHADE_DARK parts=[2:SHADE_LIGHT,1:SHADE_DARK] \
     counts={a=1,also=3,also_dark=2,maybe=0} main=9:SHADE_DARK \
     labels={old=SHADE_LIGHT,x=SHADE_LIGHT,y=SHADE_DARK}
list: it-0 parts=[0:SHADE_LIGHT] counts={} main=none labels={} | it-1 parts=[1:SHADE_DARK] \
     counts={} main=none labels={} | it-2 parts=[2:SHADE_LIGHT] counts={} main=none labels={}
";

/// A go-plugin v1.8.0 host written only from the catalog's exported `.proto` files (protoc's
/// Go stubs, no Rust-side knowledge) dispenses `catalog-plugin`, makes the calls and serves the
/// `Scorer` callback through go-plugin's broker, as examples/bidirectional does.
#[test]
fn go_plugin_host_with_stubs_from_exported_protos_drives_a_rich_rust_interface() {
    let dir = workdir();
    catalog_protos(dir.path());
    go_stubs(
        dir.path(),
        "cataloghost",
        &["catalog.proto", "scorer.proto"],
    );
    let stubs: Vec<String> = ["catalog", "scorer"]
        .iter()
        .flat_map(|name| [format!("{name}.pb.go"), format!("{name}_grpc.pb.go")])
        .collect();
    let binary = go_build_with(dir.path(), "cataloghost", &stubs);
    let mut command = Command::new(&binary);
    command.current_dir(dir.path()).arg(CATALOG_PLUGIN);
    let host = run(command, RUN_TIMEOUT).success();
    // Scores: 10 per letter of the name plus one per part, summed by the plugin.
    assert_eq!(host.stdout, format!("{CATALOG_CALLS}total: 43\n"), "{host}");
}

/// grpcio with stubs generated only from the catalog's exported `.proto` text calls
/// `catalog-plugin`, and prints what the Go host prints.
#[test]
fn python_client_with_stubs_from_exported_proto_calls_a_rich_rust_interface() {
    let env = env();
    let dir = workdir();
    catalog_protos(dir.path());
    std::fs::create_dir(dir.path().join("stubs")).expect("mkdir stubs");
    protoc_files(
        dir.path(),
        &["--python_out=stubs", "--grpc_python_out=stubs"],
        &["catalog.proto"],
    );
    let mut command = Command::new(&env.python);
    command
        .current_dir(dir.path())
        .env("PYTHONPATH", dir.path().join("stubs"))
        .arg(env.python_peer("catalog_client.py"))
        .arg(CATALOG_PLUGIN);
    let client = run(command, RUN_TIMEOUT).success();
    assert_eq!(client.stdout, CATALOG_CALLS, "{client}");
}
