//! `tflint-ruleset-rust`: the ruleset of [`examples::tflint`] as a TFLint plugin. Put it in
//! `TFLINT_PLUGIN_DIR` (or `./.tflint.d/plugins`) and enable it in `.tflint.hcl`:
//!
//! ```hcl
//! plugin "rust" {
//!   enabled = true
//!   preset  = "recommended"
//! }
//! ```

use std::process::ExitCode;

use examples::tflint::{HANDSHAKE, RuleSetPlugin, RustRuleSet};
use go_plugin::{ServeConfig, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let config = ServeConfig::new(HANDSHAKE).plugin(RuleSetPlugin::server(RustRuleSet::new()));
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tflint-ruleset-rust: {err}");
            ExitCode::FAILURE
        }
    }
}
