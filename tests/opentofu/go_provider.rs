//! The harness proven on a Go provider: hashicorp/terraform-provider-time v0.14.2 (protocol 5)
//! through each route and TLS mode, so a failure of the Rust provider's cells is about the Rust
//! provider, not about the harness.

use crate::harness::{Provider, Route, Tls, Workspace};

/// A `time_static` whose `triggers` (a change replaces it) come from `name`.
fn config(name: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    time = {{ source = "hashicorp/time" }}
  }}
}}

resource "time_static" "t" {{
  triggers = {{ name = "{name}" }}
}}

output "year" {{
  value = time_static.t.year
}}
"#
    )
}

/// validate, plan, apply, a no-op plan, a change (replacement), destroy.
fn lifecycle(route: Route, tls: Tls) {
    let mut workspace = Workspace::new("Go time provider", route, tls, &[Provider::time()]);
    workspace.write("main.tf", &config("a"));
    if route != Route::DevOverrides {
        let init = workspace.init().success();
        if route == Route::PluginDir {
            init.stdout_has(&["Installed hashicorp/time v0.14.2 (unauthenticated)"]);
            assert!(workspace.work().join(".terraform.lock.hcl").exists());
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
            "time_static.t will be created",
            "+ id       = (known after apply)",
            "Plan: 1 to add, 0 to change, 0 to destroy.",
        ]);
    let apply = workspace
        .tofu(&["apply", "create.tfplan"])
        .success()
        .stdout_has(&["Apply complete! Resources: 1 added, 0 changed, 0 destroyed."]);
    let created = workspace.state_attributes("time_static.t");
    assert_eq!(created["triggers"]["name"], "a", "{created:#}");
    let year = created["year"].as_i64().expect("a year in the state");
    assert!(
        apply.run.stdout.contains(&format!("year = {year}")),
        "the output shows the year:\n{apply}"
    );

    workspace
        .tofu(&["plan", "-detailed-exitcode"])
        .exit_code(0)
        .stdout_has(&["No changes."]);

    workspace.write("main.tf", &config("b"));
    workspace
        .tofu(&["plan", "-detailed-exitcode"])
        .exit_code(2)
        .stdout_has(&[
            "must be replaced",
            "Plan: 1 to add, 0 to change, 1 to destroy.",
        ]);
    workspace
        .tofu(&["apply", "-auto-approve"])
        .success()
        .stdout_has(&["Apply complete! Resources: 1 added, 0 changed, 1 destroyed."]);
    assert_eq!(
        workspace.state_attributes("time_static.t")["triggers"]["name"],
        "b"
    );

    workspace
        .tofu(&["destroy", "-auto-approve"])
        .success()
        .stdout_has(&["Destroy complete! Resources: 1 destroyed."]);
    let state = workspace.state();
    assert_eq!(state["resources"], serde_json::json!([]), "{state:#}");
}

#[test]
fn go_time_provider_through_dev_overrides_with_auto_mtls() {
    lifecycle(Route::DevOverrides, Tls::AutoMtls);
}

#[test]
fn go_time_provider_through_dev_overrides_without_tls() {
    lifecycle(Route::DevOverrides, Tls::Disabled);
}

#[test]
fn go_time_provider_through_init_plugin_dir_with_auto_mtls() {
    lifecycle(Route::PluginDir, Tls::AutoMtls);
}

#[test]
fn go_time_provider_through_init_plugin_dir_without_tls() {
    lifecycle(Route::PluginDir, Tls::Disabled);
}

#[test]
fn go_time_provider_reattached_in_debug_mode() {
    lifecycle(Route::Reattach, Tls::AutoMtls);
}
