//! TFLint loads `tflint-ruleset-rust` (the examples' ruleset, a go-plugin plugin in Rust whose
//! `Runner` arrives as a callback through the broker) and reports exactly what its bundled
//! `terraform` ruleset reports for the same rules, on the configurations of `tests/tflint/corpus`.
//!
//! TFLint v0.64.0 is built from its Go module once per machine (`tests/tflint/build.sh`); a
//! missing Go fails these tests, naming what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tests::run::{Run, run};

/// The rules `tflint-ruleset-rust` has.
const RULES: [&str; 8] = [
    "terraform_deprecated_interpolation",
    "terraform_documented_outputs",
    "terraform_documented_variables",
    "terraform_module_pinned_source",
    "terraform_naming_convention",
    "terraform_required_version",
    "terraform_typed_variables",
    "terraform_unused_declarations",
];

/// Every configuration of the corpus.
const CASES: [&str; 14] = [
    "empty",
    "interpolation",
    "interpolation_fix",
    "modules",
    "naming",
    "pinned",
    "pinned_version",
    "root",
    "terraform_block",
    "two_files_main",
    "two_files_other",
    "unused",
    "unused_fix",
    "versioned",
];

/// How long one TFLint run may take (a run takes well under a second).
const TIMEOUT: Duration = Duration::from_secs(60);

/// The built TFLint.
fn tflint() -> &'static Path {
    static TFLINT: OnceLock<PathBuf> = OnceLock::new();
    TFLINT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tflint/build.sh");
        let output = Command::new("bash")
            .arg(&script)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run bash tests/tflint/build.sh (is bash installed?)");
        assert!(
            output.status.success(),
            "tests/tflint/build.sh failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let path = stdout
            .lines()
            .find_map(|line| line.strip_prefix("tflint "))
            .expect("build.sh prints `tflint PATH`");
        PathBuf::from(path)
    })
}

/// Which ruleset a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ruleset {
    /// TFLint's bundled `terraform` ruleset (Go).
    Bundled,
    /// `tflint-ruleset-rust`, with the bundled one disabled.
    Rust,
}

/// A TFLint run on a corpus case: `settings` is the ruleset's `plugin` block body beside
/// `enabled`, `extra` more `.tflint.hcl` text, `args` the command line after the format.
struct Lint<'a> {
    case: &'a str,
    settings: &'a str,
    extra: &'a str,
    format: &'a str,
    args: &'a [&'a str],
}

impl Lint<'_> {
    fn run(&self, ruleset: Ruleset) -> Run {
        self.run_in(ruleset, &corpus(self.case))
    }

    /// Runs in `dir` instead of the case's directory.
    fn run_in(&self, ruleset: Ruleset, dir: &Path) -> Run {
        let scratch = tempfile::tempdir().expect("temporary directory");
        let plugins = scratch.path().join("plugins");
        std::fs::create_dir(&plugins).expect("plugin directory");
        std::os::unix::fs::symlink(
            tests::workspace_binary("tflint-ruleset-rust"),
            plugins.join("tflint-ruleset-rust"),
        )
        .expect("link the plugin");
        let plugin_blocks = match ruleset {
            Ruleset::Bundled => format!(
                "plugin \"terraform\" {{\n  enabled = true\n  {}\n}}\n",
                self.settings
            ),
            Ruleset::Rust => format!(
                "plugin \"terraform\" {{\n  enabled = false\n}}\n\
                 plugin \"rust\" {{\n  enabled = true\n  {}\n}}\n",
                self.settings
            ),
        };
        let config = scratch.path().join("tflint.hcl");
        std::fs::write(&config, format!("{plugin_blocks}{}", self.extra)).expect("config");
        let home = scratch.path().join("home");
        std::fs::create_dir(&home).expect("home");
        let mut command = Command::new(tflint());
        command
            .current_dir(dir)
            .env("HOME", &home)
            .env("TFLINT_DISABLE_VERSION_CHECK", "1")
            .env("TFLINT_PLUGIN_DIR", &plugins)
            .env_remove("TFLINT_LOG")
            .env_remove("TFLINT_CONFIG_FILE")
            .arg("--config")
            .arg(&config)
            .arg("--format")
            .arg(self.format)
            .args(self.args);
        run(command, TIMEOUT)
    }

    /// Runs with both rulesets; returns the bundled run and the Rust one.
    fn both(&self) -> (Run, Run) {
        (self.run(Ruleset::Bundled), self.run(Ruleset::Rust))
    }
}

fn corpus(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tflint/corpus")
        .join(case)
}

/// Asserts that the Rust ruleset printed what the bundled one printed, and exited as it did.
fn assert_same_output(what: &str, bundled: &Run, rust: &Run) {
    assert_eq!(
        (rust.stdout.trim(), rust.status.code()),
        (bundled.stdout.trim(), bundled.status.code()),
        "{what}: the Rust ruleset's output and exit code, then the bundled one's\n\
         --- rust:\n{rust}\n--- bundled:\n{bundled}"
    );
}

/// Runs `rule` alone on `case` with each of `settings` in its `rule` block: the same output.
fn same_output_with_rule_settings(case: &str, rule: &str, settings: &[&str]) {
    for setting in settings {
        let extra = format!("rule \"{rule}\" {{\n  enabled = true\n  {setting}\n}}\n");
        let lint = Lint {
            case,
            settings: "preset = \"all\"",
            extra: &extra,
            format: "json",
            args: &["--only", rule],
        };
        let (bundled, rust) = lint.both();
        assert_same_output(&format!("`{setting}`"), &bundled, &rust);
    }
}

/// A run's JSON output, its issues kept to the rules the Rust ruleset has.
fn issues_of_our_rules(run: &Run) -> Value {
    let mut json: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|err| panic!("TFLint printed no JSON ({err}):\n{run}"));
    if let Some(issues) = json["issues"].as_array_mut() {
        issues.retain(|issue| {
            issue["rule"]["name"]
                .as_str()
                .is_some_and(|name| RULES.contains(&name))
        });
    }
    json
}

/// One rule at a time (`--only`), preset "all": the same JSON, byte for byte, and exit code.
#[test]
fn each_rule_reports_what_the_bundled_ruleset_reports() {
    let mut compared = 0;
    for case in CASES {
        for rule in RULES {
            for modules in ["local", "all"] {
                let module_flag = format!("--call-module-type={modules}");
                let lint = Lint {
                    case,
                    settings: "preset = \"all\"",
                    extra: "",
                    format: "json",
                    args: &["--only", rule, &module_flag],
                };
                let (bundled, rust) = lint.both();
                assert_same_output(&format!("{case}, {rule}, {module_flag}"), &bundled, &rust);
                compared += 1;
            }
        }
    }
    assert_eq!(compared, CASES.len() * RULES.len() * 2);
}

/// `--fix` rewrites the files to the same bytes, and reports the same issues as fixed.
#[test]
fn fix_rewrites_the_same_bytes() {
    let cases = [
        ("interpolation", "terraform_deprecated_interpolation"),
        ("interpolation_fix", "terraform_deprecated_interpolation"),
        ("unused", "terraform_unused_declarations"),
        ("unused_fix", "terraform_unused_declarations"),
    ];
    for (case, rule) in cases {
        let lint = Lint {
            case,
            settings: "preset = \"all\"",
            extra: "",
            format: "json",
            args: &["--fix", "--only", rule],
        };
        let fixed = |ruleset| {
            let copy = tempfile::tempdir().expect("temporary directory");
            copy_dir(&corpus(case), copy.path());
            let run = lint.run_in(ruleset, copy.path());
            let text = std::fs::read_to_string(copy.path().join("main.tf")).expect("main.tf");
            (run, text)
        };
        let (bundled, bundled_text) = fixed(Ruleset::Bundled);
        let (rust, rust_text) = fixed(Ruleset::Rust);
        assert_ne!(
            bundled_text,
            std::fs::read_to_string(corpus(case).join("main.tf")).expect("main.tf"),
            "{case}: the bundled ruleset fixed something"
        );
        assert_eq!(
            rust_text, bundled_text,
            "{case}: the fixed main.tf, ours then the bundled one"
        );
        assert_same_output(case, &bundled, &rust);
    }
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("a directory") {
        let path = entry.expect("an entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            std::fs::create_dir(&target).expect("a directory");
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// `terraform_module_pinned_source`'s settings: the semver style, other default branches, and the
/// error of an unknown style.
#[test]
fn pinned_source_settings_are_read_as_the_bundled_rule_reads_them() {
    let settings = [
        "style = \"semver\"",
        "default_branches = [\"feature\", \"develop\"]",
        "style = \"strict\"",
    ];
    same_output_with_rule_settings("pinned", "terraform_module_pinned_source", &settings);
}

/// `terraform_naming_convention`'s settings: formats, custom patterns and formats, per block type,
/// `none`, and the errors of a bad setting.
#[test]
fn naming_settings_are_read_as_the_bundled_rule_reads_them() {
    let settings = [
        "format = \"mixed_snake_case\"\n  custom_formats = {\n    upper = {\n      regex       = \"^[A-Z_]+$\"\n      description = \"UPPER words\"\n    }\n  }\n  variable {\n    format = \"upper\"\n  }\n  output {\n    custom = \"^o\"\n  }\n  locals {\n    format = \"none\"\n  }",
        "custom = \"^[a-z_]+$\"",
        "format = \"none\"\n  resource {\n    format = \"snake_case\"\n  }",
        "data {\n    custom = \"^[A-Z]\"\n  }\n  check {\n    format = \"MIXED_SNAKE_CASE\"\n  }",
        "format = \"kebab\"",
        "module {}",
    ];
    same_output_with_rule_settings("naming", "terraform_naming_convention", &settings);
}

/// Without `--only`: the presets, `rule` blocks and `disabled_by_default` pick the same rules.
#[test]
fn presets_rule_blocks_and_defaults_choose_the_same_rules() {
    let settings = [
        ("preset = \"all\"", ""),
        ("preset = \"recommended\"", ""),
        ("", ""),
        ("", "config {\n  disabled_by_default = true\n}\n"),
        (
            "preset = \"all\"",
            "rule \"terraform_typed_variables\" {\n  enabled = false\n}\n",
        ),
        (
            "preset = \"recommended\"",
            "rule \"terraform_documented_outputs\" {\n  enabled = true\n}\n",
        ),
        (
            "",
            "config {\n  disabled_by_default = true\n}\nrule \"terraform_required_version\" {\n  enabled = true\n}\n",
        ),
    ];
    for case in ["root", "terraform_block", "two_files_other"] {
        for (plugin, extra) in settings {
            let lint = Lint {
                case,
                settings: plugin,
                extra,
                format: "json",
                args: &[],
            };
            let (bundled, rust) = lint.both();
            assert_eq!(
                issues_of_our_rules(&rust),
                issues_of_our_rules(&bundled),
                "{case} with `{plugin}` and `{extra}`: the Rust ruleset's issues, then the \
                 bundled one's\n--- rust:\n{rust}\n--- bundled:\n{bundled}"
            );
        }
    }
}

/// `--format compact` (its lines in emission order, so compared sorted) and the exit code, for a
/// configuration with issues (2) and a clean one (0).
#[test]
fn compact_output_and_exit_codes_match() {
    for (case, exit) in [("root", 2), ("versioned", 0)] {
        let only: Vec<&str> = RULES.iter().flat_map(|rule| ["--only", rule]).collect();
        let lint = Lint {
            case,
            settings: "preset = \"all\"",
            extra: "",
            format: "compact",
            args: &only,
        };
        let (bundled, rust) = lint.both();
        assert_eq!(bundled.status.code(), Some(exit), "{bundled}");
        assert_eq!(rust.status.code(), Some(exit), "{rust}");
        let sorted = |run: &Run| {
            let mut lines: Vec<String> = run.stdout.lines().map(str::to_owned).collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted(&rust), sorted(&bundled), "{case}\n{rust}\n{bundled}");
    }
}

/// An unknown preset fails as the bundled ruleset's does, naming it.
#[test]
fn an_unknown_preset_is_refused() {
    let lint = Lint {
        case: "root",
        settings: "preset = \"strict\"",
        extra: "",
        format: "json",
        args: &[],
    };
    let rust = lint.run(Ruleset::Rust);
    assert_eq!(rust.status.code(), Some(1), "{rust}");
    assert!(
        rust.stdout.contains(
            "Failed to apply config to \\\"rust\\\" plugin; preset \\\"strict\\\" is not found."
        ),
        "{rust}"
    );
}
