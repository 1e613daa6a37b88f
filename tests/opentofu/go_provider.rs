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

/// Just what cell 6 reads of `tfplugin5.Provider/GetSchema`, declared from the protocol's field
/// numbers (OpenTofu's `docs/plugin-protocol/tfplugin5.10.proto`); prost skips the rest.
mod tfplugin5 {
    use std::collections::HashMap;

    use go_plugin::{PluginError, plugin_interface};

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct GetProviderSchemaRequest {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct GetProviderSchemaResponse {
        #[prost(map = "string, message", tag = "2")]
        pub(crate) resource_schemas: HashMap<String, Schema>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Schema {
        #[prost(int64, tag = "1")]
        pub(crate) version: i64,
        #[prost(message, optional, tag = "2")]
        pub(crate) block: Option<Block>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Block {
        #[prost(message, repeated, tag = "2")]
        pub(crate) attributes: Vec<Attribute>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Attribute {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
    }

    /// `tfplugin5.Provider`, as far as this cell calls it.
    #[plugin_interface(package = "tfplugin5", service = "Provider")]
    pub(crate) trait Provider {
        #[rpc(whole, name = "GetSchema")]
        async fn get_schema(
            &self,
            request: GetProviderSchemaRequest,
        ) -> Result<GetProviderSchemaResponse, PluginError>;
    }
}

/// Cell 6, the other direction, as OpenTofu itself does it: our host starts the Go provider
/// with OpenTofu's cookie, offering protocol versions 5 and 6 with AutoMTLS on, dispenses a
/// `tfplugin5.Provider` client and reads its schema, then stops it gracefully.
#[tokio::test]
async fn rust_host_loads_the_go_time_provider_as_opentofu_does() {
    use tfplugin5::{GetProviderSchemaRequest, Provider as _, ProviderPlugin};

    let peers = crate::harness::peers();
    let handshake = go_plugin::HandshakeConfig::new(
        5,
        "TF_PLUGIN_MAGIC_COOKIE",
        "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
    );
    // The host's log (ours, with the provider's mirrored), to look through at the end.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let writer = {
        let log = std::sync::Arc::clone(&log);
        move || SharedLog(std::sync::Arc::clone(&log))
    };
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(writer)
            .finish(),
    );
    let config = go_plugin::ClientConfig::new(handshake, std::process::Command::new(&peers.time))
        .versions([5, 6])
        .auto_mtls(true);
    let client = go_plugin::Client::start(config)
        .await
        .expect("start the time provider");
    assert_eq!(
        client.negotiated_version(),
        5,
        "terraform-provider-time speaks protocol 5 only"
    );
    let provider = client.dispense::<ProviderPlugin>().expect("dispense");
    let schema = provider
        .get_schema(GetProviderSchemaRequest {})
        .await
        .expect("GetSchema");
    let time_static = schema
        .resource_schemas
        .get("time_static")
        .expect("the time_static resource");
    let attributes: Vec<&str> = time_static
        .block
        .as_ref()
        .map(|block| block.attributes.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    assert!(attributes.contains(&"rfc3339"), "{attributes:?}");
    client.kill().await;
    assert_eq!(
        client.wait().await.as_deref(),
        Some("exit status: 0"),
        "stopped through Shutdown, not killed"
    );
    let log = String::from_utf8_lossy(&log.lock().expect("log")).into_owned();
    assert!(!log.is_empty(), "the host logged nothing");
    for bad in [
        "plugin failed to exit gracefully",
        "unexpected data",
        "panic",
    ] {
        assert!(!log.contains(bad), "{bad:?} in the host's log:\n{log}");
    }
}

/// A writer appending to a shared buffer.
struct SharedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
