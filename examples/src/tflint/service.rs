//! TFLint's two services as Rust traits: `proto.RuleSet`, which a ruleset plugin serves, and
//! `proto.Runner`, which TFLint serves for each `Check` through the broker (the callback argument
//! of [`RuleSet::check`]). Methods take and return whole protocol messages (`#[rpc(whole)]`),
//! except `check`, whose request is the runner's broker id (`uint32 runner = 1`), as a callback
//! argument travels. Only the methods the ruleset uses are declared.

use go_plugin::{PluginError, plugin_interface};

use super::proto::{
    ApplyChangesRequest, ApplyChangesResponse, ApplyConfigRequest, ApplyConfigResponse,
    ApplyGlobalConfigRequest, ApplyGlobalConfigResponse, EmitIssueRequest, EmitIssueResponse,
    EvaluateExprRequest, EvaluateExprResponse, GetConfigSchemaRequest, GetConfigSchemaResponse,
    GetFilesRequest, GetFilesResponse, GetModuleContentRequest, GetModuleContentResponse,
    GetModulePathRequest, GetModulePathResponse, GetNameRequest, GetNameResponse,
    GetRuleConfigContentRequest, GetRuleConfigContentResponse, GetRuleNamesRequest,
    GetRuleNamesResponse, GetSdkVersionRequest, GetSdkVersionResponse, GetVersionConstraintRequest,
    GetVersionConstraintResponse, GetVersionRequest, GetVersionResponse,
};

/// `proto.RuleSet`: what TFLint asks of a ruleset plugin, in the order it asks.
#[plugin_interface(package = "proto", service = "RuleSet")]
pub trait RuleSet {
    /// The ruleset's name (`rust`).
    #[rpc(whole)]
    async fn get_name(&self, request: GetNameRequest) -> Result<GetNameResponse, PluginError>;

    /// The ruleset's version, for `tflint --version`.
    #[rpc(whole)]
    async fn get_version(
        &self,
        request: GetVersionRequest,
    ) -> Result<GetVersionResponse, PluginError>;

    /// The TFLint versions the ruleset accepts.
    #[rpc(whole)]
    async fn get_version_constraint(
        &self,
        request: GetVersionConstraintRequest,
    ) -> Result<GetVersionConstraintResponse, PluginError>;

    /// The SDK protocol version spoken.
    #[rpc(whole, name = "GetSDKVersion")]
    async fn get_sdk_version(
        &self,
        request: GetSdkVersionRequest,
    ) -> Result<GetSdkVersionResponse, PluginError>;

    /// Every rule's name.
    #[rpc(whole)]
    async fn get_rule_names(
        &self,
        request: GetRuleNamesRequest,
    ) -> Result<GetRuleNamesResponse, PluginError>;

    /// The schema of the ruleset's `plugin` block.
    #[rpc(whole)]
    async fn get_config_schema(
        &self,
        request: GetConfigSchemaRequest,
    ) -> Result<GetConfigSchemaResponse, PluginError>;

    /// The settings about rules from `.tflint.hcl` and the command line.
    #[rpc(whole)]
    async fn apply_global_config(
        &self,
        request: ApplyGlobalConfigRequest,
    ) -> Result<ApplyGlobalConfigResponse, PluginError>;

    /// The ruleset's `plugin` block.
    #[rpc(whole)]
    async fn apply_config(
        &self,
        request: ApplyConfigRequest,
    ) -> Result<ApplyConfigResponse, PluginError>;

    /// Runs the enabled rules on one module, through `runner`; called once per module instance,
    /// the child modules' calls at once.
    async fn check(&self, runner: impl Runner) -> Result<(), PluginError>;
}

/// `proto.Runner`: what a rule may ask TFLint about the module it checks, and how it reports.
#[plugin_interface(package = "proto", service = "Runner")]
pub trait Runner {
    /// The module's path of calls from the root module; empty for the root module.
    #[rpc(whole)]
    async fn get_module_path(
        &self,
        request: GetModulePathRequest,
    ) -> Result<GetModulePathResponse, PluginError>;

    /// What a schema extracts from every file of the module.
    #[rpc(whole)]
    async fn get_module_content(
        &self,
        request: GetModuleContentRequest,
    ) -> Result<GetModuleContentResponse, PluginError>;

    /// The module's files.
    #[rpc(whole)]
    async fn get_files(&self, request: GetFilesRequest) -> Result<GetFilesResponse, PluginError>;

    /// The rule's `rule "NAME"` block in `.tflint.hcl`, as a schema extracts it.
    #[rpc(whole)]
    async fn get_rule_config_content(
        &self,
        request: GetRuleConfigContentRequest,
    ) -> Result<GetRuleConfigContentResponse, PluginError>;

    /// The value of an expression of the module.
    #[rpc(whole)]
    async fn evaluate_expr(
        &self,
        request: EvaluateExprRequest,
    ) -> Result<EvaluateExprResponse, PluginError>;

    /// Reports an issue.
    #[rpc(whole)]
    async fn emit_issue(&self, request: EmitIssueRequest)
    -> Result<EmitIssueResponse, PluginError>;

    /// Rewrites files with a rule's fixes (`--fix`).
    #[rpc(whole)]
    async fn apply_changes(
        &self,
        request: ApplyChangesRequest,
    ) -> Result<ApplyChangesResponse, PluginError>;
}
