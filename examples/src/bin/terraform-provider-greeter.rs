//! `terraform-provider-greeter`: the greeter provider (`example.com/acme/greeter` 0.1.0) for
//! OpenTofu and Terraform, over the provider protocol version 6. Started by tofu, never by hand
//! (without tofu's magic cookie it explains itself and exits 1).
//!
//! `-debug` starts it without a host, for `TF_REATTACH_PROVIDERS`, like providers built with
//! HashiCorp's plugin frameworks.

use std::process::ExitCode;

use examples::greeter::service::{Greeter, ProviderPlugin};
use examples::greeter::{ADDRESS, HANDSHAKE};
use go_plugin::{ServeConfig, serve};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    /// Serve the host that started us.
    Plugin,
    /// Serve without a host and print how to reattach.
    Debug,
}

fn mode(args: impl IntoIterator<Item = String>) -> Result<Mode, String> {
    let mut mode = Mode::Plugin;
    for arg in args {
        match arg.as_str() {
            "-debug" | "--debug" | "-debug=true" | "--debug=true" => mode = Mode::Debug,
            "-debug=false" | "--debug=false" => mode = Mode::Plugin,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; the only flag is -debug"
                ));
            }
        }
    }
    Ok(mode)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mode = match mode(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(err) => {
            eprintln!("terraform-provider-greeter: {err}");
            return ExitCode::from(2);
        }
    };
    let mut config = ServeConfig::new(HANDSHAKE).plugin(ProviderPlugin::server(Greeter));
    if mode == Mode::Debug {
        // As providers built with HashiCorp's frameworks do: serve with no host, and print the
        // value of TF_REATTACH_PROVIDERS that points tofu at this process.
        config = config.on_debug_ready(|reattach| {
            println!(
                "Provider started. To attach OpenTofu or Terraform, set:\n\n\
                 \tTF_REATTACH_PROVIDERS='{{\"{ADDRESS}\":{}}}'\n",
                reattach.to_json()
            );
        });
    }
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "terraform-provider-greeter failed");
            ExitCode::FAILURE
        }
    }
}
