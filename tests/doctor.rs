//! `plugin-doctor` on real plugins: our `kv-plugin`, go-plugin v1.8.0's `plugin-go-grpc`, the
//! guide's minimal Python plugin, and `doctor/subject_plugin.py` with one defect at a time. Each
//! test runs the doctor with `--json` and checks which checks pass, warn and fail, and that the
//! doctor leaves no process behind.
//!
//! The Go and Python peers come from the interop set-up (`interop/setup.sh`, through the
//! interop harness): without Go or Python these tests fail, naming what to install.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

// The interop cells' set-up and paths; this target uses only part of the harness.
#[allow(dead_code, unused_imports)]
#[path = "interop/harness.rs"]
mod harness;

use harness::{GoPlugin, env, run};

/// One doctor run: the launches add up (a plugin without a controller costs go-plugin's 2 s, an
/// orphan that stays 3 s, a plugin without a cookie check 3 s), on a loaded 2-core machine.
const DOCTOR_TIMEOUT: Duration = Duration::from_secs(90);

/// The doctor's verdict: each check's status by id, and the whole document.
struct Verdict {
    statuses: BTreeMap<String, String>,
    json: Value,
    exit: Option<i32>,
}

impl Verdict {
    fn with(&self, status: &str) -> Vec<&str> {
        self.statuses
            .iter()
            .filter(|(_, s)| s.as_str() == status)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn evidence(&self, id: &str) -> String {
        self.json["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|check| check["id"] == id)
            .and_then(|check| check["evidence"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// Exactly `failing` fail and exactly `warning` warn; the exit status says whether any failed.
    fn expect(&self, failing: &[&str], warning: &[&str]) {
        let mut failing = failing.to_vec();
        failing.sort_unstable();
        let mut warning = warning.to_vec();
        warning.sort_unstable();
        assert_eq!(
            self.with("fail"),
            failing,
            "failing checks:\n{:#}",
            self.json
        );
        assert_eq!(
            self.with("warn"),
            warning,
            "warning checks:\n{:#}",
            self.json
        );
        let wanted = if failing.is_empty() { 0 } else { 1 };
        assert_eq!(self.exit, Some(wanted), "exit status:\n{:#}", self.json);
        assert_eq!(self.json["ok"], failing.is_empty());
    }
}

/// Runs `plugin-doctor --json FLAGS -- PLUGIN…` with `envs`.
fn doctor(flags: &[&str], plugin: &[String], envs: &[(&str, String)]) -> Verdict {
    let mut command = Command::new(tests::workspace_binary("plugin-doctor"));
    command.args(flags).arg("--json").arg("--").args(plugin);
    for (key, value) in envs {
        command.env(key, value);
    }
    let run = run(command, DOCTOR_TIMEOUT);
    assert!(!run.survivors, "the doctor left processes behind:\n{run}");
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("the doctor printed no JSON ({err}):\n{run}"));
    let statuses = json["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks:\n{run}"))
        .iter()
        .map(|check| {
            (
                check["id"].as_str().unwrap_or_default().to_owned(),
                check["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Verdict {
        statuses,
        json,
        exit: run.status.code(),
    }
}

fn python(script: &str, args: &[&str]) -> Vec<String> {
    let env = env();
    let mut command = vec![
        env.python.display().to_string(),
        // Relative to tests/.
        env.interop.join("..").join(script).display().to_string(),
    ];
    command.extend(args.iter().map(|arg| (*arg).to_owned()));
    command
}

fn python_env() -> Vec<(&'static str, String)> {
    vec![("PYTHONPATH", env().python_stubs.display().to_string())]
}

fn subject(defect: &str, flags: &[&str]) -> Verdict {
    doctor(
        flags,
        &python("doctor/subject_plugin.py", &[defect]),
        &python_env(),
    )
}

/// The doctor runs, in a module of their own so that `scripts/test-all` can run them apart (with
/// more threads: they mostly wait on plugins) and skip them in the main run
/// (`--skip doctor_reports::`).
mod doctor_reports {
    use super::*;

    #[test]
    fn kv_plugin_passes_every_check() {
        let plugin = vec![env().kv_plugin.display().to_string()];
        let verdict = doctor(&[], &plugin, &[]);
        verdict.expect(&[], &[]);
        assert_eq!(verdict.statuses["lifecycle.orphan"], "pass");
        assert_eq!(verdict.statuses["message.5mib"], "pass");
    }

    #[test]
    fn kv_plugin_passes_every_check_with_automtls_and_multiplexing() {
        let plugin = vec![env().kv_plugin.display().to_string()];
        let verdict = doctor(&["--auto-mtls", "--multiplex"], &plugin, &[]);
        verdict.expect(&[], &[]);
        assert_eq!(verdict.with("skip"), Vec::<&str>::new());
    }

    /// go-plugin's own plugin passes all but two checks, which warn about go-plugin's own
    /// behaviour: grpc-go's 4 MiB receive limit (vault#4957) and no exit on host death (#10, #210).
    #[test]
    fn go_plugin_v1_8_passes_but_for_its_known_limits() {
        let plugin = vec![
            env()
                .go(GoPlugin::V1_8, "plugin-go-grpc")
                .display()
                .to_string(),
        ];
        for flags in [&[][..], &["--auto-mtls", "--multiplex"]] {
            let verdict = doctor(flags, &plugin, &[]);
            verdict.expect(&[], &["lifecycle.orphan", "message.5mib"]);
            assert!(verdict.evidence("message.5mib").contains("4194304"));
            assert!(
                verdict
                    .evidence("services.list")
                    .contains("plugin.GRPCController")
            );
        }
    }

    /// The guide's minimal plugin lacks the controller, stdio and broker services: exactly those
    /// fail. It also checks no cookie, dies on SIGINT, outlives its host and keeps gRPC's 4 MiB
    /// limit, which the doctor warns about.
    #[test]
    fn minimal_python_plugin_fails_exactly_the_services_it_lacks() {
        let verdict = doctor(
            &[],
            &python("interop/python/plugin_minimal.py", &[]),
            &python_env(),
        );
        verdict.expect(
            &["broker.stream", "controller.shutdown", "stdio.stream"],
            &[
                "cookie.missing",
                "lifecycle.orphan",
                "message.5mib",
                "signal.sigint",
            ],
        );
        assert!(
            verdict
                .evidence("controller.shutdown")
                .contains("Unimplemented")
        );
    }

    #[test]
    fn healthy_subject_passes_every_check() {
        subject("healthy", &[]).expect(&[], &[]);
        subject("healthy", &["--auto-mtls"]).expect(&[], &[]);
    }

    #[test]
    fn garbage_before_the_handshake_fails_stdout_clean() {
        let verdict = subject("garbage", &[]);
        verdict.expect(&["handshake.stdout_clean"], &[]);
        assert!(
            verdict
                .evidence("handshake.stdout_clean")
                .contains("Unrecognized remote plugin message: subject plugin starting")
        );
    }

    #[test]
    fn padded_certificate_fails_the_certificate_check() {
        let verdict = subject("padded-cert", &["--auto-mtls"]);
        verdict.expect(&["handshake.certificate"], &[]);
        assert!(
            verdict
                .evidence("handshake.certificate")
                .contains("illegal base64 data at input byte")
        );
    }

    #[test]
    fn wrong_version_fails_the_version_checks() {
        let verdict = subject("wrong-version", &[]);
        verdict.expect(&["handshake.app_version", "version.negotiation"], &[]);
        assert!(verdict.evidence("handshake.app_version").contains(
            "incompatible API version with plugin. Plugin version: 2, Client versions: [1]"
        ));
    }

    #[test]
    fn no_controller_fails_shutdown() {
        let verdict = subject("no-controller", &[]);
        verdict.expect(&["controller.shutdown"], &[]);
        assert!(
            verdict
                .evidence("controller.shutdown")
                .contains("Unimplemented")
        );
    }

    #[test]
    fn never_exiting_fails_shutdown() {
        let verdict = subject("never-exits", &[]);
        verdict.expect(&["controller.shutdown"], &[]);
        assert!(
            verdict
                .evidence("controller.shutdown")
                .contains("still ran")
        );
    }

    #[test]
    fn plain_text_stderr_fails_the_log_check() {
        let verdict = subject("plain-stderr", &[]);
        verdict.expect(&["logs.hclog"], &[]);
        assert_eq!(verdict.statuses["logs.timestamp"], "skip");
    }
}
