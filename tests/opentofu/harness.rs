//! What every OpenTofu test shares: the Go peers (`tofu`, `terraform-provider-time`, built once
//! per machine by `build.sh`), an isolated workspace per test that installs providers one of
//! three ways (dev_overrides, `init -plugin-dir`, reattach), and bounded `tofu` runs whose trace
//! log is checked after every command and whose wall time and provider processes are printed.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::run::{Background, Run, run};

/// How long one `tofu` command may take: far above what these commands need (under a second
/// each), and above go-plugin's 1-minute plugin start timeout, so that a provider that never
/// starts is reported by tofu itself rather than by our kill.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a provider started in debug mode may take to print its reattach line.
const DEBUG_START_TIMEOUT: Duration = Duration::from_secs(30);

/// Lines that must never appear in a trace log: go-plugin's kill after the 2 s grace period,
/// anything a provider sent on GRPCStdio (tofu logs it at WARN as `unexpected data`), and a
/// panic of tofu or of a provider.
const FORBIDDEN_LOG_LINES: [&str; 3] = [
    "plugin failed to exit gracefully",
    "unexpected data",
    "panic",
];

/// The OpenTofu and Go provider binaries, and OpenTofu's protocol definitions.
#[derive(Debug)]
pub(crate) struct Peers {
    pub(crate) tofu: PathBuf,
    pub(crate) time: PathBuf,
    /// OpenTofu v1.12.6's `docs/plugin-protocol` in Go's module cache (`tfplugin6.10.proto`, …).
    pub(crate) protocol: PathBuf,
}

/// Runs `tests/opentofu/build.sh` once per test binary (a cached build costs a fraction of a
/// second, a cold one minutes). Fails, never skips, when Go is missing, naming what to install.
pub(crate) fn peers() -> &'static Peers {
    static PEERS: OnceLock<Peers> = OnceLock::new();
    PEERS.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("opentofu/build.sh");
        let started = Instant::now();
        let build = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .expect("run bash tests/opentofu/build.sh (is bash installed?)");
        assert!(
            build.status.success(),
            "tests/opentofu/build.sh failed ({}):\n{}{}",
            build.status,
            String::from_utf8_lossy(&build.stdout),
            String::from_utf8_lossy(&build.stderr)
        );
        let stdout = String::from_utf8_lossy(&build.stdout);
        let path = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .map(PathBuf::from)
                .unwrap_or_else(|| panic!("build.sh printed no path for {name}:\n{stdout}"))
        };
        let peers = Peers {
            tofu: path("tofu"),
            time: path("terraform-provider-time"),
            protocol: path("plugin-protocol"),
        };
        perf(format_args!(
            "go peers ready in {:.1?}: {}",
            started.elapsed(),
            peers.tofu.display()
        ));
        peers
    })
}

/// A provider binary and the address and version OpenTofu knows it by.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    /// `[HOST/]NAMESPACE/TYPE`, as in `required_providers`.
    pub(crate) address: String,
    pub(crate) version: String,
    pub(crate) binary: PathBuf,
    /// The plugin protocol it answers (`using plugin: version=N` in the log).
    pub(crate) protocol: u32,
}

impl Provider {
    /// hashicorp/terraform-provider-time v0.14.2 (terraform-plugin-framework, protocol 5 only).
    pub(crate) fn time() -> Provider {
        Provider {
            address: "hashicorp/time".to_owned(),
            version: "0.14.2".to_owned(),
            binary: peers().time.clone(),
            protocol: 5,
        }
    }

    /// Our provider, `terraform-provider-greeter` (protocol 6), built with the workspace.
    pub(crate) fn greeter() -> Provider {
        let binary = tests::workspace_binary("terraform-provider-greeter");
        Provider {
            address: "example.com/acme/greeter".to_owned(),
            version: "0.1.0".to_owned(),
            binary,
            protocol: 6,
        }
    }

    /// The address with its host: a bare `NAMESPACE/TYPE` is on OpenTofu's default registry.
    pub(crate) fn full_address(&self) -> String {
        if self.address.split('/').count() == 2 {
            format!("registry.opentofu.org/{}", self.address)
        } else {
            self.address.clone()
        }
    }

    /// TYPE, the last segment of the address, which names the binary `terraform-provider-TYPE`.
    pub(crate) fn type_name(&self) -> &str {
        self.address.rsplit('/').next().unwrap_or(&self.address)
    }

    fn binary_name(&self) -> String {
        format!("terraform-provider-{}", self.type_name())
    }
}

/// How OpenTofu finds the providers of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `dev_overrides` in the CLI config, pointing at a directory holding only the binary; no
    /// `tofu init` (it fails offline with overrides).
    DevOverrides,
    /// A real `tofu init -plugin-dir=DIR` from an unpacked mirror
    /// `DIR/HOST/NS/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_vVERSION`.
    PluginDir,
    /// Each provider started once by the harness with `-debug`; tofu attaches to it through
    /// `TF_REATTACH_PROVIDERS` and starts no provider process.
    Reattach,
}

/// Transport security between tofu and the providers it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tls {
    /// go-plugin's AutoMTLS, tofu's default.
    AutoMtls,
    /// `TF_DISABLE_PLUGIN_TLS=1`: plaintext.
    Disabled,
}

/// The wall time and provider processes of one `tofu` command.
#[derive(Debug, Clone)]
struct Timing {
    subcommand: String,
    elapsed: Duration,
    processes: usize,
}

/// A fresh, isolated place to run tofu: its own working directory, `HOME`, CLI config file,
/// temporary directory and a trace log per command. Kept on disk (and its path printed) when
/// the test fails, for the logs.
#[derive(Debug)]
pub(crate) struct Workspace {
    root: Option<tempfile::TempDir>,
    label: String,
    route: Route,
    tls: Tls,
    providers: Vec<Provider>,
    reattach: Option<String>,
    debug_servers: Vec<Background>,
    commands: usize,
    timings: Vec<Timing>,
}

impl Workspace {
    /// A workspace whose tofu finds `providers` through `route`. `label` names it in the
    /// performance lines.
    pub(crate) fn new(label: &str, route: Route, tls: Tls, providers: &[Provider]) -> Workspace {
        let root = tempfile::Builder::new()
            .prefix("opentofu-")
            .tempdir()
            .expect("create a temporary directory");
        for dir in ["work", "home", "tmp", "logs"] {
            std::fs::create_dir(root.path().join(dir)).expect("create a workspace directory");
        }
        let mut workspace = Workspace {
            root: Some(root),
            label: format!("{label}, {}, {}", route.name(), tls.name()),
            route,
            tls,
            providers: providers.to_vec(),
            reattach: None,
            debug_servers: Vec::new(),
            commands: 0,
            timings: Vec::new(),
        };
        workspace.install();
        workspace
    }

    fn root(&self) -> &Path {
        self.root
            .as_ref()
            .map_or(Path::new("/nonexistent"), |dir| dir.path())
    }

    /// The working directory tofu runs in.
    pub(crate) fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    /// The unpacked mirror `tofu init -plugin-dir` installs from.
    pub(crate) fn mirror(&self) -> PathBuf {
        self.root().join("mirror")
    }

    fn cli_config(&self) -> PathBuf {
        self.root().join("cli.tfrc")
    }

    /// Writes `file` (such as `main.tf`) in the working directory.
    pub(crate) fn write(&self, file: &str, text: &str) {
        std::fs::write(self.work().join(file), text).expect("write a file in the workspace");
    }

    /// The state file, `{}` when there is none.
    pub(crate) fn state(&self) -> Value {
        match std::fs::read_to_string(self.work().join("terraform.tfstate")) {
            Ok(text) => serde_json::from_str(&text).expect("the state file is JSON"),
            Err(_) => Value::Object(Default::default()),
        }
    }

    /// The attributes of the only instance of resource `address` (`TYPE.NAME`) in the state.
    pub(crate) fn state_attributes(&self, address: &str) -> Value {
        let state = self.state();
        let (kind, name) = address.split_once('.').expect("a TYPE.NAME address");
        let resource = state["resources"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["type"] == kind && r["name"] == name))
            .unwrap_or_else(|| panic!("no {address} in the state:\n{state:#}"));
        resource["instances"][0]["attributes"].clone()
    }

    /// Puts the binaries where `route` makes tofu look, and writes the CLI config.
    fn install(&mut self) {
        let mut config = String::from("disable_checkpoint = true\n");
        match self.route {
            Route::DevOverrides => {
                config.push_str("provider_installation {\n  dev_overrides {\n");
                for provider in &self.providers {
                    let dir = self.root().join("overrides").join(provider.type_name());
                    place(&provider.binary, &dir.join(provider.binary_name()));
                    config.push_str(&format!(
                        "    {:?} = {:?}\n",
                        provider.address,
                        dir.display().to_string()
                    ));
                }
                config.push_str("  }\n}\n");
            }
            Route::PluginDir => {
                for provider in &self.providers {
                    let dir = self
                        .mirror()
                        .join(provider.full_address())
                        .join(&provider.version)
                        .join(platform());
                    let file = format!("{}_v{}", provider.binary_name(), provider.version);
                    place(&provider.binary, &dir.join(file));
                }
            }
            Route::Reattach => self.start_debug_servers(),
        }
        std::fs::write(self.cli_config(), config).expect("write the CLI config");
    }

    /// Starts every provider with `-debug` and collects their reattach configurations, keyed by
    /// the address as written in the configuration (a provider prints its own idea of it, such
    /// as `registry.terraform.io/…`, which tofu would not match).
    fn start_debug_servers(&mut self) {
        let mut reattach = serde_json::Map::new();
        for provider in self.providers.clone() {
            let mut command = Command::new(&provider.binary);
            command.arg("-debug").current_dir(self.work());
            self.isolate(&mut command);
            let mut server = Background::start(command);
            let line = server.wait_for_line(
                |l| l.contains("TF_REATTACH_PROVIDERS="),
                DEBUG_START_TIMEOUT,
            );
            let json = reattach_json(&line)
                .unwrap_or_else(|| panic!("no reattach JSON in {line:?}:\n{}", server.stderr()));
            let config: serde_json::Map<String, Value> = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("reattach JSON {json:?}: {e}"));
            let [(_, value)] =
                <[(String, Value); 1]>::try_from(config.into_iter().collect::<Vec<_>>())
                    .unwrap_or_else(|all| panic!("one provider per debug server, got {all:?}"));
            reattach.insert(provider.full_address(), value);
            self.debug_servers.push(server);
        }
        self.reattach = Some(Value::Object(reattach).to_string());
    }

    /// The environment every process of the workspace gets, and nothing else: the machine's
    /// variables (`TF_CLI_CONFIG_FILE` pointing at a missing file, `TF_LOG`, a `HOME` with a
    /// `.terraformrc`) must not reach tofu.
    fn isolate(&self, command: &mut Command) {
        command
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("HOME", self.root().join("home"))
            .env("TMPDIR", self.root().join("tmp"))
            .env("TF_CLI_CONFIG_FILE", self.cli_config())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        if self.tls == Tls::Disabled {
            command.env("TF_DISABLE_PLUGIN_TLS", "1");
        }
    }

    /// `tofu init`, after removing `.terraform` and the lock file (a rebuilt binary of the same
    /// version fails the lock file's checksum). With [`Route::PluginDir`] it installs from the
    /// mirror; with [`Route::Reattach`] it skips the reattached providers.
    pub(crate) fn init(&mut self) -> TofuRun {
        assert!(
            self.route != Route::DevOverrides,
            "tofu init fails offline with dev_overrides: skip it"
        );
        let _ = std::fs::remove_dir_all(self.work().join(".terraform"));
        let _ = std::fs::remove_file(self.work().join(".terraform.lock.hcl"));
        let plugin_dir = format!("-plugin-dir={}", self.mirror().display());
        match self.route {
            Route::PluginDir => self.tofu(&["init", &plugin_dir]),
            _ => self.tofu(&["init"]),
        }
    }

    /// Runs `tofu SUBCOMMAND ARGS` in the working directory, isolated, with `-no-color` and
    /// `-input=false` where the subcommand takes them, `TF_LOG=trace` and a log file of its
    /// own. Prints its wall time and provider processes, then checks its log (see
    /// [`TofuRun::check_log`]) whatever its exit status.
    pub(crate) fn tofu(&mut self, args: &[&str]) -> TofuRun {
        let (subcommand, rest) = args.split_first().expect("a tofu subcommand");
        self.commands += 1;
        let log = self
            .root()
            .join("logs")
            .join(format!("{:02}-{subcommand}.log", self.commands));

        let mut command = Command::new(&peers().tofu);
        command.current_dir(self.work()).arg(subcommand);
        if NO_COLOR.contains(subcommand) {
            command.arg("-no-color");
        }
        if NO_INPUT.contains(subcommand) {
            command.arg("-input=false");
        }
        command.args(rest);
        self.isolate(&mut command);
        command.env("TF_LOG", "trace").env("TF_LOG_PATH", &log);
        if let Some(reattach) = &self.reattach {
            command.env("TF_REATTACH_PROVIDERS", reattach);
        }

        let run = run(command, COMMAND_TIMEOUT);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let result = TofuRun {
            processes: started_pids(&text).len(),
            subcommand: (*subcommand).to_owned(),
            log: text,
            log_path: log,
            run,
        };
        perf(format_args!(
            "[{}] tofu {}: {:.2} s, {} provider process(es)",
            self.label,
            args.join(" "),
            result.run.elapsed.as_secs_f64(),
            result.processes
        ));
        self.timings.push(Timing {
            subcommand: result.subcommand.clone(),
            elapsed: result.run.elapsed,
            processes: result.processes,
        });
        self.check_log(&result);
        self.check_debug_servers();
        result
    }

    /// The checks every command's log passes: none of [`FORBIDDEN_LOG_LINES`], no process of
    /// tofu's group left behind, each provider started at its protocol (`using plugin:
    /// version=N` once per start, so a v6 provider never falls back to v5) and called through
    /// that protocol's client, and AutoMTLS configured for every start exactly when it is on.
    /// Reattached providers are never started, and are reported as unmanaged.
    fn check_log(&self, run: &TofuRun) {
        let fail = |what: String| -> ! { panic!("{what}\n{run}") };
        for line in run.log.lines() {
            let lower = line.to_ascii_lowercase();
            if let Some(bad) = FORBIDDEN_LOG_LINES.iter().find(|bad| lower.contains(*bad)) {
                fail(format!("the log has {bad:?}: {line}"));
            }
        }
        if run.run.survivors {
            fail("a process of tofu's group outlived it".to_owned());
        }

        let starts = started_paths(&run.log);
        if self.route == Route::Reattach && !starts.is_empty() {
            fail(format!(
                "tofu started providers although they are reattached: {starts:?}"
            ));
        }
        for protocol in [5, 6] {
            let expected = starts
                .iter()
                .filter(|path| {
                    self.providers
                        .iter()
                        .any(|p| p.protocol == protocol && path.contains(&p.binary_name()))
                })
                .count();
            let found = count(&run.log, &format!("using plugin: version={protocol}"));
            if found != expected {
                fail(format!(
                    "{expected} start(s) of protocol-{protocol} providers, but {found} \
                     `using plugin: version={protocol}` line(s)"
                ));
            }
        }
        // tofu's v5 and v6 clients trace each RPC under their own names, which also shows
        // the protocol of a reattached provider (go-plugin logs no version for it).
        for (protocol, marker) in [(5, "GRPCProvider: "), (6, "GRPCProvider.v6: ")] {
            let used = count(&run.log, marker) > 0;
            let ours = self.providers.iter().any(|p| p.protocol == protocol);
            if used && !ours {
                fail(format!(
                    "tofu used its protocol-{protocol} client ({marker:?} lines)"
                ));
            }
            if self.route == Route::Reattach && ours && !used && run.subcommand != "init" {
                fail(format!(
                    "no {marker:?} line: tofu never called the reattached provider"
                ));
            }
        }
        if self.route == Route::Reattach {
            for provider in &self.providers {
                let unmanaged = format!(
                    "Provider {} is overridden as an \"unmanaged provider\"",
                    provider.full_address()
                );
                if run.subcommand != "init" && count(&run.log, &unmanaged) == 0 {
                    fail(format!("no `{unmanaged}` line"));
                }
            }
        }
        let mtls = count(&run.log, "configuring client automatic mTLS");
        let expected = match self.tls {
            Tls::AutoMtls => starts.len(),
            Tls::Disabled => 0,
        };
        if mtls != expected {
            fail(format!(
                "{} provider start(s) with {:?}, but {mtls} `configuring client automatic mTLS` line(s)",
                starts.len(),
                self.tls
            ));
        }
    }

    /// A reattached provider serves every command: tofu must not have stopped it.
    fn check_debug_servers(&mut self) {
        for server in &mut self.debug_servers {
            assert!(
                !server.exited(),
                "a provider in debug mode exited under tofu:\n{}",
                server.stderr()
            );
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.debug_servers.clear();
        if std::thread::panicking() {
            if let Some(root) = self.root.take() {
                let kept = root.keep();
                perf(format_args!(
                    "[{}] kept for inspection: {}",
                    self.label,
                    kept.display()
                ));
            }
            return;
        }
        let summary: Vec<String> = self
            .timings
            .iter()
            .map(|t| {
                format!(
                    "{} {:.2} s/{}",
                    t.subcommand,
                    t.elapsed.as_secs_f64(),
                    t.processes
                )
            })
            .collect();
        perf(format_args!(
            "[{}] summary (wall time/provider processes): {}",
            self.label,
            summary.join(", ")
        ));
    }
}

/// Subcommands that take `-no-color` / `-input=false`.
const NO_COLOR: [&str; 9] = [
    "init", "validate", "plan", "apply", "destroy", "import", "refresh", "show", "output",
];
const NO_INPUT: [&str; 6] = ["init", "plan", "apply", "destroy", "import", "refresh"];

/// One finished `tofu` command and its trace log.
#[derive(Debug)]
pub(crate) struct TofuRun {
    pub(crate) run: Run,
    pub(crate) subcommand: String,
    pub(crate) log: String,
    pub(crate) log_path: PathBuf,
    /// Provider processes tofu started (distinct pids of `plugin started` lines).
    pub(crate) processes: usize,
}

impl TofuRun {
    /// Panics with everything known about the run unless it exited 0.
    pub(crate) fn success(self) -> Self {
        self.exit_code(0)
    }

    /// Panics unless the run exited with `code` (`plan -detailed-exitcode`: 0 no changes,
    /// 2 changes).
    pub(crate) fn exit_code(self, code: i32) -> Self {
        assert_eq!(
            self.run.status.code(),
            Some(code),
            "tofu {} should have exited {code}:\n{self}",
            self.subcommand
        );
        self
    }

    /// Panics unless stdout contains every one of `parts`.
    pub(crate) fn stdout_has(self, parts: &[&str]) -> Self {
        for part in parts {
            assert!(
                self.run.stdout.contains(part),
                "tofu {}: no {part:?} in stdout:\n{self}",
                self.subcommand
            );
        }
        self
    }
}

impl fmt::Display for TofuRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n{} provider process(es); log: {}",
            self.run,
            self.processes,
            self.log_path.display()
        )
    }
}

/// Writes a performance line to the real stderr, past the test harness's capture, so that the
/// figures show in every run (they are printed, not asserted).
pub(crate) fn perf(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "opentofu: {line}");
}

/// Hard-links `binary` to `to` (a copy across file systems): tofu then sees a directory of its
/// own, free of cargo's `.d` files, whose file name it expects.
fn place(binary: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("a file in a directory"))
        .expect("create a provider directory");
    if std::fs::hard_link(binary, to).is_err() {
        std::fs::copy(binary, to)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", binary.display(), to.display()));
    }
}

/// OpenTofu's name for this machine's platform, as in the mirror layout (`linux_amd64`).
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// The JSON of a `TF_REATTACH_PROVIDERS='…'` line as providers print it in debug mode.
fn reattach_json(line: &str) -> Option<&str> {
    let value = line.split_once("TF_REATTACH_PROVIDERS=")?.1.trim();
    value.strip_prefix('\'')?.strip_suffix('\'')
}

/// go-plugin's `plugin started: path=… pid=N` lines.
fn started_lines(log: &str) -> impl Iterator<Item = &str> {
    log.lines()
        .filter(|line| line.contains("provider: plugin started: "))
}

fn started_paths(log: &str) -> Vec<&str> {
    started_lines(log)
        .filter_map(|line| line.split_once("path=")?.1.split_whitespace().next())
        .collect()
}

fn started_pids(log: &str) -> std::collections::BTreeSet<&str> {
    started_lines(log)
        .filter_map(|line| line.split_once("pid=")?.1.split_whitespace().next())
        .collect()
}

fn count(log: &str, text: &str) -> usize {
    log.lines().filter(|line| line.contains(text)).count()
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::DevOverrides => "dev_overrides",
            Route::PluginDir => "init -plugin-dir",
            Route::Reattach => "reattach",
        }
    }
}

impl Tls {
    fn name(self) -> &'static str {
        match self {
            Tls::AutoMtls => "AutoMTLS",
            Tls::Disabled => "TF_DISABLE_PLUGIN_TLS=1",
        }
    }
}
