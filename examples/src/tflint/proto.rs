//! The messages of TFLint's plugin protocol (`proto` package of tflint-plugin-sdk v0.25.0,
//! `plugin/internal/proto/tflint.proto`) that the ruleset uses, declared from the protocol's field
//! numbers and types. Nested messages (`GetName.Request`) are flattened into one name
//! (`GetNameRequest`); only numbers and types reach the wire.

use std::collections::HashMap;

/// `GetName.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetNameRequest {}

/// `GetName.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetNameResponse {
    /// The ruleset's name, as `tflint --version` shows it.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `GetVersion.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetVersionRequest {}

/// `GetVersion.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetVersionResponse {
    /// The ruleset's version.
    #[prost(string, tag = "1")]
    pub version: String,
}

/// `GetVersionConstraint.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetVersionConstraintRequest {}

/// `GetVersionConstraint.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetVersionConstraintResponse {
    /// The TFLint versions the ruleset runs under, as a constraint (`>= 0.46`).
    #[prost(string, tag = "1")]
    pub constraint: String,
}

/// `GetSDKVersion.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetSdkVersionRequest {}

/// `GetSDKVersion.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetSdkVersionResponse {
    /// The plugin SDK version whose protocol the ruleset speaks.
    #[prost(string, tag = "1")]
    pub version: String,
}

/// `GetRuleNames.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRuleNamesRequest {}

/// `GetRuleNames.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRuleNamesResponse {
    /// Every rule the ruleset has.
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
}

/// `GetConfigSchema.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetConfigSchemaRequest {}

/// `GetConfigSchema.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetConfigSchemaResponse {
    /// What the ruleset's `plugin` block may hold besides TFLint's own attributes.
    #[prost(message, optional, tag = "1")]
    pub schema: Option<BodySchema>,
}

/// `ApplyGlobalConfig.Config`: the `.tflint.hcl` settings and flags about rules.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GlobalConfig {
    /// `rule "NAME" { enabled = … }` blocks and `--enable-rule`/`--disable-rule`/`--only`.
    #[prost(map = "string, message", tag = "1")]
    pub rules: HashMap<String, RuleConfig>,
    /// `config { disabled_by_default = true }`, or `--only`.
    #[prost(bool, tag = "2")]
    pub disabled_by_default: bool,
    /// `--only RULE`.
    #[prost(string, repeated, tag = "3")]
    pub only: Vec<String>,
    /// `--fix`.
    #[prost(bool, tag = "4")]
    pub fix: bool,
}

/// `ApplyGlobalConfig.RuleConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RuleConfig {
    /// The rule.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Whether it runs.
    #[prost(bool, tag = "2")]
    pub enabled: bool,
}

/// `ApplyGlobalConfig.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyGlobalConfigRequest {
    /// The settings.
    #[prost(message, optional, tag = "1")]
    pub config: Option<GlobalConfig>,
}

/// `ApplyGlobalConfig.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyGlobalConfigResponse {}

/// `ApplyConfig.Request`: the ruleset's `plugin` block, as its schema extracted it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyConfigRequest {
    /// The block's body.
    #[prost(message, optional, tag = "1")]
    pub content: Option<BodyContent>,
}

/// `ApplyConfig.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyConfigResponse {}

/// `GetModulePath.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModulePathRequest {}

/// `GetModulePath.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModulePathResponse {
    /// The module's path from the root module's calls; empty for the root module.
    #[prost(string, repeated, tag = "1")]
    pub path: Vec<String>,
}

/// `GetModuleContent.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModuleContentRequest {
    /// What to extract from every file of the module.
    #[prost(message, optional, tag = "1")]
    pub schema: Option<BodySchema>,
    /// How.
    #[prost(message, optional, tag = "2")]
    pub option: Option<GetModuleContentOption>,
}

/// `GetModuleContent.Option`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModuleContentOption {
    /// A [`ModuleCtxType`].
    #[prost(enumeration = "ModuleCtxType", tag = "1")]
    pub module_ctx: i32,
    /// Lets the host skip work.
    #[prost(message, optional, tag = "2")]
    pub hint: Option<GetModuleContentHint>,
    /// An [`ExpandMode`].
    #[prost(enumeration = "ExpandMode", tag = "4")]
    pub expand_mode: i32,
}

/// `GetModuleContent.Hint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModuleContentHint {
    /// Only resources of this type are asked for.
    #[prost(string, tag = "1")]
    pub resource_type: String,
}

/// `GetModuleContent.ExpandMode`: whether `count`, `for_each` and dynamic blocks are expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ExpandMode {
    /// The host's default (expand).
    Unspecified = 0,
    /// As written.
    None = 1,
    /// Expanded.
    Expand = 2,
}

/// `ModuleCtxType`: which module's context expressions are evaluated in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ModuleCtxType {
    /// The host's default (self).
    Unspecified = 0,
    /// The module being checked.
    SelfModule = 1,
    /// The root module.
    Root = 2,
}

/// `GetModuleContent.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetModuleContentResponse {
    /// What the schema extracted.
    #[prost(message, optional, tag = "1")]
    pub content: Option<BodyContent>,
}

/// `GetFiles.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetFilesRequest {}

/// `GetFiles.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetFilesResponse {
    /// The module's files by the names TFLint gives them, with their bytes.
    #[prost(map = "string, bytes", tag = "1")]
    pub files: HashMap<String, Vec<u8>>,
}

/// `EmitIssue.Severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Severity {
    /// Not set (the host takes it for an error).
    Unspecified = 0,
    /// `error`.
    Error = 1,
    /// `warning`.
    Warning = 2,
    /// `info` in JSON, `Notice` in text.
    Notice = 3,
}

/// `EmitIssue.Rule`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IssueRule {
    /// The rule's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Whether it is enabled.
    #[prost(bool, tag = "2")]
    pub enabled: bool,
    /// A [`Severity`].
    #[prost(enumeration = "Severity", tag = "3")]
    pub severity: i32,
    /// Its documentation.
    #[prost(string, tag = "4")]
    pub link: String,
}

/// `EmitIssue.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EmitIssueRequest {
    /// The rule that found it.
    #[prost(message, optional, tag = "1")]
    pub rule: Option<IssueRule>,
    /// What is wrong.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Where.
    #[prost(message, optional, tag = "3")]
    pub range: Option<Range>,
    /// Whether `--fix` can fix it.
    #[prost(bool, tag = "4")]
    pub fixable: bool,
}

/// `EmitIssue.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EmitIssueResponse {
    /// False when an annotation (`# tflint-ignore`) silenced it.
    #[prost(bool, tag = "1")]
    pub applied: bool,
}

/// `SchemaMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SchemaMode {
    /// The default.
    Unspecified = 0,
    /// Attributes and blocks as the schema says.
    Default = 1,
    /// Every attribute, whatever its name.
    JustAttributes = 2,
}

/// `BodySchema`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BodySchema {
    /// The attributes wanted.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<AttributeSchema>,
    /// The blocks wanted.
    #[prost(message, repeated, tag = "2")]
    pub blocks: Vec<BlockSchema>,
    /// A [`SchemaMode`] (the protocol's field is named `Mode`).
    #[prost(enumeration = "SchemaMode", tag = "3")]
    pub mode: i32,
}

/// `BodySchema.Attribute`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeSchema {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Whether it must be there.
    #[prost(bool, tag = "2")]
    pub required: bool,
}

/// `BodySchema.Block`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockSchema {
    /// Its type (`variable`).
    #[prost(string, tag = "1")]
    pub r#type: String,
    /// The names of its labels.
    #[prost(string, repeated, tag = "2")]
    pub label_names: Vec<String>,
    /// What to extract from its body.
    #[prost(message, optional, tag = "3")]
    pub body: Option<BodySchema>,
}

/// `BodyContent`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BodyContent {
    /// Attributes by name.
    #[prost(map = "string, message", tag = "1")]
    pub attributes: HashMap<String, Attribute>,
    /// Blocks in file order.
    #[prost(message, repeated, tag = "2")]
    pub blocks: Vec<Block>,
}

/// `BodyContent.Attribute`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Attribute {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The whole attribute.
    #[prost(message, optional, tag = "4")]
    pub range: Option<Range>,
    /// Its name.
    #[prost(message, optional, tag = "5")]
    pub name_range: Option<Range>,
    /// Its value.
    #[prost(message, optional, tag = "6")]
    pub expression: Option<Expression>,
}

/// `BodyContent.Block`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    /// Its type.
    #[prost(string, tag = "1")]
    pub r#type: String,
    /// Its labels.
    #[prost(string, repeated, tag = "2")]
    pub labels: Vec<String>,
    /// What the schema extracted from its body.
    #[prost(message, optional, tag = "3")]
    pub body: Option<BodyContent>,
    /// From its type to its last label.
    #[prost(message, optional, tag = "4")]
    pub def_range: Option<Range>,
    /// Its type.
    #[prost(message, optional, tag = "5")]
    pub type_range: Option<Range>,
    /// Each label.
    #[prost(message, repeated, tag = "6")]
    pub label_ranges: Vec<Range>,
}

/// `Expression`: source text and where it is.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Expression {
    /// The expression's source.
    #[prost(bytes = "vec", tag = "1")]
    pub bytes: Vec<u8>,
    /// Where.
    #[prost(message, optional, tag = "2")]
    pub range: Option<Range>,
    /// A bound value (expanded blocks), go-cty msgpack.
    #[prost(bytes = "vec", tag = "3")]
    pub value: Vec<u8>,
}

/// `Range`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Range {
    /// The file, as TFLint names it.
    #[prost(string, tag = "1")]
    pub filename: String,
    /// The first character.
    #[prost(message, optional, tag = "2")]
    pub start: Option<Pos>,
    /// Just after the last.
    #[prost(message, optional, tag = "3")]
    pub end: Option<Pos>,
}

/// `Range.Pos`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Pos {
    /// From 1.
    #[prost(int64, tag = "1")]
    pub line: i64,
    /// From 1, in characters.
    #[prost(int64, tag = "2")]
    pub column: i64,
    /// From 0, in bytes.
    #[prost(int64, tag = "3")]
    pub byte: i64,
}

/// `GetRuleConfigContent.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRuleConfigContentRequest {
    /// The rule whose `rule "NAME"` block is wanted.
    #[prost(string, tag = "1")]
    pub name: String,
    /// What the block may hold.
    #[prost(message, optional, tag = "2")]
    pub schema: Option<BodySchema>,
}

/// `GetRuleConfigContent.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetRuleConfigContentResponse {
    /// The block's body, as the schema extracted it; empty when there is no block.
    #[prost(message, optional, tag = "1")]
    pub content: Option<BodyContent>,
}

/// `ApplyChanges.Request`: files rewritten by a rule's fixes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyChangesRequest {
    /// The new bytes of each changed file.
    #[prost(map = "string, bytes", tag = "1")]
    pub changes: HashMap<String, Vec<u8>>,
}

/// `ApplyChanges.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyChangesResponse {}

/// `EvaluateExpr.Option`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EvaluateExprOption {
    /// The wanted type, in go-cty's JSON type encoding (`"string"`, `"dynamic"`).
    #[prost(bytes = "vec", tag = "1")]
    pub r#type: Vec<u8>,
    /// A [`ModuleCtxType`].
    #[prost(enumeration = "ModuleCtxType", tag = "2")]
    pub module_ctx: i32,
}

/// `EvaluateExpr.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EvaluateExprRequest {
    /// How.
    #[prost(message, optional, tag = "3")]
    pub option: Option<EvaluateExprOption>,
    /// What.
    #[prost(message, optional, tag = "4")]
    pub expression: Option<Expression>,
}

/// `EvaluateExpr.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EvaluateExprResponse {
    /// The value, in go-cty's msgpack encoding of the wanted type.
    #[prost(bytes = "vec", tag = "1")]
    pub value: Vec<u8>,
    /// Marks on the value or parts of it (sensitive, ephemeral).
    #[prost(message, repeated, tag = "2")]
    pub marks: Vec<ValueMark>,
}

/// `ValueMark`: only its presence matters to these rules.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueMark {
    /// Sensitive.
    #[prost(bool, tag = "2")]
    pub sensitive: bool,
    /// Ephemeral.
    #[prost(bool, tag = "3")]
    pub ephemeral: bool,
}
