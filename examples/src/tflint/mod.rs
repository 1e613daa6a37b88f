//! `tflint-ruleset-rust`: a TFLint ruleset written in Rust. TFLint (terraform-linters/tflint)
//! loads rulesets as go-plugin gRPC plugins and hands each `Check` its `Runner` service through the
//! broker. This one implements rules of TFLint's bundled `terraform` ruleset (tflint-ruleset-terraform
//! v0.15.0, bundled with TFLint v0.64.0) with the same names, defaults, severities, messages and
//! ranges, so that TFLint reports the same issues with either:
//!
//! - [`service`]: the `proto.RuleSet` and `proto.Runner` services as traits;
//! - [`proto`]: their messages;
//! - [`RustRuleSet`]: the ruleset, which decides which rules run as the bundled one does (the
//!   `plugin "rust"` block's `preset`, `rule` blocks, `--only`, `disabled_by_default`);
//! - `rules`: the rules.
//!
//! Its binary is `tflint-ruleset-rust`; TFLint finds it in `TFLINT_PLUGIN_DIR` (or
//! `./.tflint.d/plugins`, `~/.tflint.d/plugins`) when `.tflint.hcl` has
//! `plugin "rust" { enabled = true }`.

mod hcl;
mod interpolation;
mod naming;
mod pinned;
pub mod proto;
mod rules;
mod schema;
pub mod service;
mod tokens;
mod unused;

use std::sync::Mutex;

use go_plugin::{Code, HandshakeConfig, PluginError};

use proto::{
    ApplyConfigRequest, ApplyConfigResponse, ApplyGlobalConfigRequest, ApplyGlobalConfigResponse,
    AttributeSchema, BodySchema, GetConfigSchemaRequest, GetConfigSchemaResponse, GetNameRequest,
    GetNameResponse, GetRuleNamesRequest, GetRuleNamesResponse, GetSdkVersionRequest,
    GetSdkVersionResponse, GetVersionConstraintRequest, GetVersionConstraintResponse,
    GetVersionRequest, GetVersionResponse, GlobalConfig,
};
use rules::{RULES, Rule};
pub use service::{RuleSet, RuleSetPlugin, Runner};

/// TFLint's handshake for ruleset plugins: protocol version 11 and the cookie of tflint-plugin-sdk.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(
    11,
    "TFLINT_RULESET_PLUGIN",
    "5adSn1bX8nrDfgBqiAqqEkC6OE1h3iD8SqbMc5UUONx8x3xCF0KlPDsBRNDjoYDP",
);

/// The presets of the bundled ruleset, restricted to the rules this one has.
const RECOMMENDED: [&str; 5] = [
    "terraform_deprecated_interpolation",
    "terraform_module_pinned_source",
    "terraform_required_version",
    "terraform_typed_variables",
    "terraform_unused_declarations",
];

/// The ruleset: the rules it runs, once TFLint has applied its configuration.
#[derive(Debug, Default)]
pub struct RustRuleSet {
    global: Mutex<GlobalConfig>,
    enabled: Mutex<Vec<&'static Rule>>,
}

impl RustRuleSet {
    /// A ruleset with every rule enabled, until TFLint configures it.
    pub fn new() -> Self {
        RustRuleSet {
            global: Mutex::default(),
            enabled: Mutex::new(RULES.iter().collect()),
        }
    }

    fn enabled_rules(&self) -> Vec<&'static Rule> {
        self.enabled.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// Which rules run, as the bundled ruleset decides after its `preset` is known: `--only` first,
/// then a `rule` block, then the preset, then `disabled_by_default`.
fn enabled_rules(
    global: &GlobalConfig,
    preset: Option<&str>,
) -> Result<Vec<&'static Rule>, String> {
    let preset_rules: Option<&[&str]> = match preset {
        None => None,
        Some("all") => Some(&[]),
        Some("recommended") => Some(&RECOMMENDED),
        Some(other) => {
            return Err(format!(
                "preset \"{other}\" is not found. Valid presets are all, recommended"
            ));
        }
    };
    Ok(RULES
        .iter()
        .filter(|rule| {
            if !global.only.is_empty() {
                global.only.iter().any(|name| name == rule.name)
            } else if let Some(config) = global.rules.get(rule.name) {
                config.enabled
            } else if let Some(preset_rules) = preset_rules {
                preset == Some("all") || preset_rules.contains(&rule.name)
            } else {
                !global.disabled_by_default
            }
        })
        .collect())
}

impl RuleSet for RustRuleSet {
    async fn get_name(&self, _: GetNameRequest) -> Result<GetNameResponse, PluginError> {
        Ok(GetNameResponse {
            name: "rust".to_owned(),
        })
    }

    async fn get_version(&self, _: GetVersionRequest) -> Result<GetVersionResponse, PluginError> {
        Ok(GetVersionResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    async fn get_version_constraint(
        &self,
        _: GetVersionConstraintRequest,
    ) -> Result<GetVersionConstraintResponse, PluginError> {
        // What tflint-plugin-sdk v0.25.0 answers: the TFLint versions that speak its protocol.
        Ok(GetVersionConstraintResponse {
            constraint: ">= 0.46".to_owned(),
        })
    }

    async fn get_sdk_version(
        &self,
        _: GetSdkVersionRequest,
    ) -> Result<GetSdkVersionResponse, PluginError> {
        // The protocol spoken is tflint-plugin-sdk v0.25.0's.
        Ok(GetSdkVersionResponse {
            version: "0.25.0".to_owned(),
        })
    }

    async fn get_rule_names(
        &self,
        _: GetRuleNamesRequest,
    ) -> Result<GetRuleNamesResponse, PluginError> {
        Ok(GetRuleNamesResponse {
            names: RULES.iter().map(|rule| rule.name.to_owned()).collect(),
        })
    }

    async fn get_config_schema(
        &self,
        _: GetConfigSchemaRequest,
    ) -> Result<GetConfigSchemaResponse, PluginError> {
        Ok(GetConfigSchemaResponse {
            schema: Some(BodySchema {
                attributes: vec![AttributeSchema {
                    name: "preset".to_owned(),
                    required: false,
                }],
                ..BodySchema::default()
            }),
        })
    }

    async fn apply_global_config(
        &self,
        request: ApplyGlobalConfigRequest,
    ) -> Result<ApplyGlobalConfigResponse, PluginError> {
        let config = request.config.ok_or_else(|| {
            PluginError::with_code(Code::InvalidArgument, "config should not be null")
        })?;
        // As the bundled ruleset does, rules are chosen once the preset is known (apply_config);
        // until then, by the global settings alone.
        let enabled = enabled_rules(&config, None).map_err(PluginError::new)?;
        *self
            .enabled
            .lock()
            .map_err(|_| PluginError::new("poisoned"))? = enabled;
        *self
            .global
            .lock()
            .map_err(|_| PluginError::new("poisoned"))? = config;
        Ok(ApplyGlobalConfigResponse {})
    }

    async fn apply_config(
        &self,
        request: ApplyConfigRequest,
    ) -> Result<ApplyConfigResponse, PluginError> {
        let content = request.content.unwrap_or_default();
        let preset = match content.attributes.get("preset") {
            Some(attribute) => {
                let bytes = attribute
                    .expression
                    .as_ref()
                    .map(|e| e.bytes.as_slice())
                    .unwrap_or_default();
                Some(
                    hcl::string(bytes)
                        .map_err(|err| PluginError::with_code(Code::FailedPrecondition, err))?,
                )
            }
            None => None,
        };
        let global = self
            .global
            .lock()
            .map_err(|_| PluginError::new("poisoned"))?
            .clone();
        let enabled = enabled_rules(&global, preset.as_deref())
            .map_err(|err| PluginError::with_code(Code::FailedPrecondition, err))?;
        *self
            .enabled
            .lock()
            .map_err(|_| PluginError::new("poisoned"))? = enabled;
        Ok(ApplyConfigResponse {})
    }

    async fn check(&self, runner: impl Runner) -> Result<(), PluginError> {
        let fix = self.global.lock().map(|g| g.fix).unwrap_or_default();
        for rule in self.enabled_rules() {
            rule.check(&runner, fix).await.map_err(|err| {
                PluginError::with_code(
                    Code::Aborted,
                    format!("failed to check \"{}\" rule: {}", rule.name, err.message()),
                )
            })?;
        }
        Ok(())
    }
}
