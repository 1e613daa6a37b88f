//! Our Rust provider, `terraform-provider-greeter` (`example.com/acme/greeter` 0.1.0, protocol
//! 6), under a real OpenTofu: every route and TLS mode, import, its logs, and its cost beside
//! the Go time provider.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Provider, Route, Tls, Workspace, perf};

/// `greeter_hello.x` greeting `name` (with `greeting` when given), `greeter_info.n` about `name`,
/// and outputs of both.
fn config(name: &str, greeting: Option<&str>) -> String {
    let greeting = greeting.map_or(String::new(), |g| format!("\n  greeting = \"{g}\""));
    format!(
        r#"terraform {{
  required_providers {{
    greeter = {{ source = "example.com/acme/greeter" }}
  }}
}}

resource "greeter_hello" "x" {{
  name = "{name}"{greeting}
}}

data "greeter_info" "n" {{
  name = "{name}"
}}

output "id" {{
  value = greeter_hello.x.id
}}

output "length" {{
  value = data.greeter_info.n.length
}}
"#
    )
}

/// validate, create (plan -out, apply), a no-op plan, an in-place update, destroy.
fn lifecycle(route: Route, tls: Tls) {
    let mut workspace = Workspace::new("Rust greeter provider", route, tls, &[Provider::greeter()]);
    workspace.write("main.tf", &config("world", None));
    if route != Route::DevOverrides {
        let init = workspace.init().success();
        if route == Route::PluginDir {
            init.stdout_has(&["Installed example.com/acme/greeter v0.1.0 (unauthenticated)"]);
        }
    }

    workspace
        .tofu(&["validate"])
        .success()
        .stdout_has(&["The configuration is valid"]);
    workspace
        .tofu(&["plan", "-out=create.tfplan"])
        .success()
        .stdout_has(&[
            "greeter_hello.x will be created",
            "+ greeting = \"hello\"",
            "+ id       = (known after apply)",
            "+ name     = \"world\"",
            "Plan: 1 to add, 0 to change, 0 to destroy.",
        ]);
    let apply = workspace
        .tofu(&["apply", "create.tfplan"])
        .success()
        .stdout_has(&[
            "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
            "id = \"hello-world\"",
            "length = 5",
        ]);
    assert_eq!(
        workspace.state_attributes("greeter_hello.x"),
        json!({"greeting": "hello", "id": "hello-world", "name": "world"}),
        "{apply}"
    );
    // The provider's tracing events reach tofu's log at their levels (a reattached provider
    // logs to its own stderr, which tofu does not read).
    let mirrored: &[(&str, &str)] = if route == Route::Reattach {
        &[]
    } else {
        &[
            ("[INFO]", "applied greeter_hello"),
            ("[DEBUG]", "planned greeter_hello"),
        ]
    };
    for &(level, message) in mirrored {
        assert!(
            apply.log.lines().any(|line| line.contains(level)
                && line.contains("provider.terraform-provider-greeter")
                && line.contains(message)),
            "no {level} {message:?} from the provider in {}",
            apply.log_path.display()
        );
    }

    workspace
        .tofu(&["plan", "-detailed-exitcode"])
        .exit_code(0)
        .stdout_has(&["No changes."]);

    workspace.write("main.tf", &config("there", Some("hi")));
    workspace
        .tofu(&["plan", "-detailed-exitcode"])
        .exit_code(2)
        .stdout_has(&[
            "greeter_hello.x will be updated in-place",
            "~ greeting = \"hello\" -> \"hi\"",
            "~ id       = \"hello-world\" -> (known after apply)",
            "~ name     = \"world\" -> \"there\"",
            "Plan: 0 to add, 1 to change, 0 to destroy.",
        ]);
    workspace
        .tofu(&["apply", "-auto-approve"])
        .success()
        .stdout_has(&[
            "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.",
            "id = \"hi-there\"",
            "length = 5",
        ]);
    assert_eq!(
        workspace.state_attributes("greeter_hello.x")["id"],
        "hi-there"
    );

    workspace
        .tofu(&["destroy", "-auto-approve"])
        .success()
        .stdout_has(&["Destroy complete! Resources: 1 destroyed."]);
    let state = workspace.state();
    assert_eq!(state["resources"], json!([]), "{state:#}");
}

#[test]
fn greeter_through_dev_overrides_with_auto_mtls() {
    lifecycle(Route::DevOverrides, Tls::AutoMtls);
}

#[test]
fn greeter_through_dev_overrides_without_tls() {
    lifecycle(Route::DevOverrides, Tls::Disabled);
}

#[test]
fn greeter_through_init_plugin_dir_with_auto_mtls() {
    lifecycle(Route::PluginDir, Tls::AutoMtls);
}

#[test]
fn greeter_through_init_plugin_dir_without_tls() {
    lifecycle(Route::PluginDir, Tls::Disabled);
}

#[test]
fn greeter_reattached_in_debug_mode() {
    lifecycle(Route::Reattach, Tls::Disabled);
}

#[test]
fn greeter_import() {
    let mut workspace = Workspace::new(
        "Rust greeter provider",
        Route::DevOverrides,
        Tls::Disabled,
        &[Provider::greeter()],
    );
    workspace.write("main.tf", &config("world", None));
    let bad = workspace
        .tofu(&["import", "greeter_hello.x", "helloworld"])
        .exit_code(1);
    assert!(
        bad.run.stderr.contains("Invalid import id") && bad.run.stderr.contains("\"helloworld\""),
        "tofu shows the provider's diagnostic:\n{bad}"
    );

    workspace
        .tofu(&["import", "greeter_hello.x", "hello-world"])
        .success()
        .stdout_has(&["Import successful!"]);
    assert_eq!(
        workspace.state_attributes("greeter_hello.x"),
        json!({"greeting": "hello", "id": "hello-world", "name": "world"})
    );
    workspace
        .tofu(&["plan", "-detailed-exitcode"])
        .exit_code(0)
        .stdout_has(&["No changes."]);
}

/// Prints (does not assert) what one resource costs with our provider and with the Go time
/// provider, each alone under the same conditions (dev_overrides, AutoMTLS as tofu defaults):
/// the median wall time of `plan` and `apply` of a create over several rounds, and the provider
/// processes tofu started for each.
#[test]
fn performance_beside_go_time_provider() {
    const ROUNDS: usize = 5;
    let time_config = r#"terraform {
  required_providers {
    time = { source = "hashicorp/time" }
  }
}

resource "time_static" "t" {}
"#;
    let cases = [
        ("Rust greeter", Provider::greeter(), config("world", None)),
        ("Go time", Provider::time(), time_config.to_owned()),
    ];
    for (label, provider, config) in cases {
        let mut workspace = Workspace::new(label, Route::DevOverrides, Tls::AutoMtls, &[provider]);
        workspace.write("main.tf", &config);
        let (mut plans, mut applies) = (Vec::new(), Vec::new());
        let mut processes = (0, 0);
        for _ in 0..ROUNDS {
            let plan = workspace.tofu(&["plan", "-out=create.tfplan"]).success();
            let apply = workspace.tofu(&["apply", "create.tfplan"]).success();
            plans.push(plan.run.elapsed);
            applies.push(apply.run.elapsed);
            processes = (plan.processes, apply.processes);
            workspace.tofu(&["destroy", "-auto-approve"]).success();
        }
        perf(format_args!(
            "performance, {label} provider: plan {:.0} ms ({} processes), apply {:.0} ms ({} processes), median of {ROUNDS}",
            millis(median(&mut plans)),
            processes.0,
            millis(median(&mut applies)),
            processes.1,
        ));
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
