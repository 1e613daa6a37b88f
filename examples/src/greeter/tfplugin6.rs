//! The messages of the Terraform/OpenTofu provider protocol, version 6 (`tfplugin6`), that a
//! provider with managed resources and data sources needs, declared from the protocol's field
//! numbers and types (as of tfplugin6.10, OpenTofu 1.12). Only numbers and types reach the wire;
//! fields a peer sends that are not declared here are skipped when decoding.
//!
//! The protocol's nested messages (`GetProviderSchema.Request`) are flattened into one name
//! (`GetProviderSchemaRequest`).

use std::collections::HashMap;

/// A value of a schema's type: msgpack (what OpenTofu sends and expects), or JSON.
/// Both empty means null.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct DynamicValue {
    /// The value in go-cty's msgpack encoding.
    #[prost(bytes = "vec", tag = "1")]
    pub msgpack: Vec<u8>,
    /// The value as JSON.
    #[prost(bytes = "vec", tag = "2")]
    pub json: Vec<u8>,
}

/// A problem or warning shown to the user; an error fails the operation.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Diagnostic {
    /// A [`Severity`].
    #[prost(enumeration = "Severity", tag = "1")]
    pub severity: i32,
    /// One line.
    #[prost(string, tag = "2")]
    pub summary: String,
    /// More lines.
    #[prost(string, tag = "3")]
    pub detail: String,
    /// The attribute it is about, if any.
    #[prost(message, optional, tag = "4")]
    pub attribute: Option<AttributePath>,
}

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Severity {
    /// Not set.
    Invalid = 0,
    /// The operation fails.
    Error = 1,
    /// Shown; the operation goes on.
    Warning = 2,
}

/// A path into a value: attribute names and element keys.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct AttributePath {
    /// From the outermost value inwards.
    #[prost(message, repeated, tag = "1")]
    pub steps: Vec<AttributePathStep>,
}

/// One step of an [`AttributePath`].
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct AttributePathStep {
    /// Which attribute or element.
    #[prost(oneof = "Selector", tags = "1, 2, 3")]
    pub selector: Option<Selector>,
}

/// What an [`AttributePathStep`] selects.
#[derive(Clone, PartialEq, Eq, Hash, prost::Oneof)]
pub enum Selector {
    /// An attribute of an object.
    #[prost(string, tag = "1")]
    AttributeName(String),
    /// An element of a map.
    #[prost(string, tag = "2")]
    ElementKeyString(String),
    /// An element of a list.
    #[prost(int64, tag = "3")]
    ElementKeyInt(i64),
}

/// A stored resource state as the state file holds it, before the provider upgrades it.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RawState {
    /// The state's attributes as a JSON object.
    #[prost(bytes = "vec", tag = "1")]
    pub json: Vec<u8>,
    /// Terraform 0.11's flat map form.
    #[prost(map = "string, string", tag = "2")]
    pub flatmap: HashMap<String, String>,
}

/// How a description is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum StringKind {
    /// Plain text.
    Plain = 0,
    /// Markdown.
    Markdown = 1,
}

/// The schema of a provider's configuration, a resource type or a data source.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Schema {
    /// The schema version; states of an older version are upgraded.
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// The top-level block; must be present even when empty.
    #[prost(message, optional, tag = "2")]
    pub block: Option<SchemaBlock>,
}

/// A block: attributes and nested blocks.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SchemaBlock {
    /// The schema version (as in [`Schema`]).
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// Its attributes.
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<SchemaAttribute>,
    /// Its nested blocks.
    #[prost(message, repeated, tag = "3")]
    pub block_types: Vec<SchemaNestedBlock>,
    /// What it is.
    #[prost(string, tag = "4")]
    pub description: String,
    /// A [`StringKind`].
    #[prost(enumeration = "StringKind", tag = "5")]
    pub description_kind: i32,
    /// Whether it is deprecated.
    #[prost(bool, tag = "6")]
    pub deprecated: bool,
    /// Why, when it is.
    #[prost(string, tag = "7")]
    pub deprecation_message: String,
}

/// One attribute of a [`SchemaBlock`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SchemaAttribute {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type as JSON: `"string"`, `"number"`, `"bool"`, `["list","string"]`, …
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    /// What it is.
    #[prost(string, tag = "3")]
    pub description: String,
    /// The configuration must set it.
    #[prost(bool, tag = "4")]
    pub required: bool,
    /// The configuration may set it.
    #[prost(bool, tag = "5")]
    pub optional: bool,
    /// The provider may set it (alone: only the provider does).
    #[prost(bool, tag = "6")]
    pub computed: bool,
    /// Hidden in plans and output.
    #[prost(bool, tag = "7")]
    pub sensitive: bool,
    /// A [`StringKind`].
    #[prost(enumeration = "StringKind", tag = "8")]
    pub description_kind: i32,
    /// Whether it is deprecated.
    #[prost(bool, tag = "9")]
    pub deprecated: bool,
    /// Never stored in plans or state.
    #[prost(bool, tag = "11")]
    pub write_only: bool,
    /// Why, when it is deprecated.
    #[prost(string, tag = "12")]
    pub deprecation_message: String,
}

/// A block nested in a [`SchemaBlock`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SchemaNestedBlock {
    /// The block's name in the configuration.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Its content.
    #[prost(message, optional, tag = "2")]
    pub block: Option<SchemaBlock>,
    /// A [`NestingMode`].
    #[prost(enumeration = "NestingMode", tag = "3")]
    pub nesting: i32,
    /// The fewest blocks allowed.
    #[prost(int64, tag = "4")]
    pub min_items: i64,
    /// The most blocks allowed (0: no limit).
    #[prost(int64, tag = "5")]
    pub max_items: i64,
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum NestingMode {
    /// Not set.
    Invalid = 0,
    /// At most one.
    Single = 1,
    /// A list.
    List = 2,
    /// A set.
    Set = 3,
    /// A map keyed by label.
    Map = 4,
    /// Exactly one, always present.
    Group = 5,
}

/// What the provider can do beyond the basics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct ServerCapabilities {
    /// PlanResourceChange is also called for destroy.
    #[prost(bool, tag = "1")]
    pub plan_destroy: bool,
    /// The host may skip GetProviderSchema when it has the schema cached.
    #[prost(bool, tag = "2")]
    pub get_provider_schema_optional: bool,
    /// MoveResourceState is implemented.
    #[prost(bool, tag = "3")]
    pub move_resource_state: bool,
    /// GenerateResourceConfig is implemented.
    #[prost(bool, tag = "4")]
    pub generate_resource_config: bool,
}

/// What the host can do beyond the basics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct ClientCapabilities {
    /// The provider may defer an operation.
    #[prost(bool, tag = "1")]
    pub deferral_allowed: bool,
    /// The host understands write-only attributes.
    #[prost(bool, tag = "2")]
    pub write_only_attributes_allowed: bool,
}

/// `GetProviderSchema.Request`: asks for every schema of the provider.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct GetProviderSchemaRequest {}

/// `GetProviderSchema.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetProviderSchemaResponse {
    /// The provider block's schema.
    #[prost(message, optional, tag = "1")]
    pub provider: Option<Schema>,
    /// Managed resource types by name.
    #[prost(map = "string, message", tag = "2")]
    pub resource_schemas: HashMap<String, Schema>,
    /// Data sources by name.
    #[prost(map = "string, message", tag = "3")]
    pub data_source_schemas: HashMap<String, Schema>,
    /// Problems with the provider itself.
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    /// The schema of the `provider_meta` block.
    #[prost(message, optional, tag = "5")]
    pub provider_meta: Option<Schema>,
    /// What the provider can do beyond the basics.
    #[prost(message, optional, tag = "6")]
    pub server_capabilities: Option<ServerCapabilities>,
}

/// `GetResourceIdentitySchemas.Request`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct GetResourceIdentitySchemasRequest {}

/// `GetResourceIdentitySchemas.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetResourceIdentitySchemasResponse {
    /// Identity schemas by resource type; resource types without identity are absent.
    #[prost(map = "string, message", tag = "1")]
    pub identity_schemas: HashMap<String, ResourceIdentitySchema>,
    /// Problems.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// The identity attributes of a resource type.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ResourceIdentitySchema {
    /// The identity schema version.
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// Its attributes.
    #[prost(message, repeated, tag = "2")]
    pub identity_attributes: Vec<IdentityAttribute>,
}

/// One attribute of a [`ResourceIdentitySchema`].
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct IdentityAttribute {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type as JSON.
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    /// Import needs it.
    #[prost(bool, tag = "3")]
    pub required_for_import: bool,
    /// Import may use it.
    #[prost(bool, tag = "4")]
    pub optional_for_import: bool,
    /// What it is.
    #[prost(string, tag = "5")]
    pub description: String,
}

/// `ValidateProviderConfig.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateProviderConfigRequest {
    /// The provider block.
    #[prost(message, optional, tag = "1")]
    pub config: Option<DynamicValue>,
}

/// `ValidateProviderConfig.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateProviderConfigResponse {
    /// Problems with the configuration.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `UpgradeResourceState.Request`: a stored state to bring to the current schema.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct UpgradeResourceStateRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The schema version the state was written with.
    #[prost(int64, tag = "2")]
    pub version: i64,
    /// The stored state.
    #[prost(message, optional, tag = "3")]
    pub raw_state: Option<RawState>,
}

/// `UpgradeResourceState.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct UpgradeResourceStateResponse {
    /// The state under the current schema, every attribute present.
    #[prost(message, optional, tag = "1")]
    pub upgraded_state: Option<DynamicValue>,
    /// Problems.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ValidateResourceConfig.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateResourceConfigRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The resource block; values may be unknown.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    /// What the host can do.
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ValidateResourceConfig.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateResourceConfigResponse {
    /// Problems with the configuration.
    #[prost(message, repeated, tag = "1")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ValidateDataResourceConfig.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateDataResourceConfigRequest {
    /// The data source.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The data block; values may be unknown.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
}

/// `ValidateDataResourceConfig.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ValidateDataResourceConfigResponse {
    /// Problems with the configuration.
    #[prost(message, repeated, tag = "1")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ConfigureProvider.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConfigureProviderRequest {
    /// The host's version, such as `1.12.6`.
    #[prost(string, tag = "1")]
    pub terraform_version: String,
    /// The provider block, wholly known.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    /// What the host can do.
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ConfigureProvider.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConfigureProviderResponse {
    /// Problems.
    #[prost(message, repeated, tag = "1")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ReadResource.Request`: refresh a resource's state.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ReadResourceRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The state as last stored (after UpgradeResourceState).
    #[prost(message, optional, tag = "2")]
    pub current_state: Option<DynamicValue>,
    /// The provider's private data stored with it.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
    /// The module's `provider_meta` block.
    #[prost(message, optional, tag = "4")]
    pub provider_meta: Option<DynamicValue>,
    /// What the host can do.
    #[prost(message, optional, tag = "5")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ReadResource.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ReadResourceResponse {
    /// The state now; null when the resource is gone.
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    /// Problems.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    /// Private data to store with it.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
}

/// `PlanResourceChange.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PlanResourceChangeRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The current state; null on create.
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    /// The host's proposal: the configuration, with prior values for unset computed
    /// attributes; null on destroy.
    #[prost(message, optional, tag = "3")]
    pub proposed_new_state: Option<DynamicValue>,
    /// The resource block.
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    /// The provider's private data from the prior state.
    #[prost(bytes = "vec", tag = "5")]
    pub prior_private: Vec<u8>,
    /// The module's `provider_meta` block.
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
    /// What the host can do.
    #[prost(message, optional, tag = "7")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `PlanResourceChange.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PlanResourceChangeResponse {
    /// The planned state: unknown where apply will decide.
    #[prost(message, optional, tag = "1")]
    pub planned_state: Option<DynamicValue>,
    /// Attributes whose change replaces the resource.
    #[prost(message, repeated, tag = "2")]
    pub requires_replace: Vec<AttributePath>,
    /// Private data handed to apply.
    #[prost(bytes = "vec", tag = "3")]
    pub planned_private: Vec<u8>,
    /// Problems.
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    /// Only for providers of the legacy SDK: relaxes the host's plan checks.
    #[prost(bool, tag = "5")]
    pub legacy_type_system: bool,
}

/// `ApplyResourceChange.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ApplyResourceChangeRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The current state; null on create.
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    /// What the plan said; null on destroy.
    #[prost(message, optional, tag = "3")]
    pub planned_state: Option<DynamicValue>,
    /// The resource block.
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    /// The plan's private data.
    #[prost(bytes = "vec", tag = "5")]
    pub planned_private: Vec<u8>,
    /// The module's `provider_meta` block.
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
}

/// `ApplyResourceChange.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ApplyResourceChangeResponse {
    /// The state after the change, wholly known; null after destroy.
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    /// Private data to store with it.
    #[prost(bytes = "vec", tag = "2")]
    pub private: Vec<u8>,
    /// Problems.
    #[prost(message, repeated, tag = "3")]
    pub diagnostics: Vec<Diagnostic>,
    /// Only for providers of the legacy SDK.
    #[prost(bool, tag = "4")]
    pub legacy_type_system: bool,
}

/// `ImportResourceState.Request`: `tofu import ADDRESS ID`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ImportResourceStateRequest {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The user's import id.
    #[prost(string, tag = "2")]
    pub id: String,
    /// What the host can do.
    #[prost(message, optional, tag = "3")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// One resource an import found.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ImportedResource {
    /// Its type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Its state; the host reads it (ReadResource) before storing it.
    #[prost(message, optional, tag = "2")]
    pub state: Option<DynamicValue>,
    /// Private data to store with it.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
}

/// `ImportResourceState.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ImportResourceStateResponse {
    /// What the id names.
    #[prost(message, repeated, tag = "1")]
    pub imported_resources: Vec<ImportedResource>,
    /// Problems.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ReadDataSource.Request`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ReadDataSourceRequest {
    /// The data source.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The data block, wholly known.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    /// The module's `provider_meta` block.
    #[prost(message, optional, tag = "3")]
    pub provider_meta: Option<DynamicValue>,
    /// What the host can do.
    #[prost(message, optional, tag = "4")]
    pub client_capabilities: Option<ClientCapabilities>,
}

/// `ReadDataSource.Response`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ReadDataSourceResponse {
    /// The data source's value, wholly known.
    #[prost(message, optional, tag = "1")]
    pub state: Option<DynamicValue>,
    /// Problems.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `StopProvider.Request`: cancel what is in flight (sent on interrupt).
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct StopProviderRequest {}

/// `StopProvider.Response`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct StopProviderResponse {
    /// Why stopping failed; empty on success. (The field is capitalised in the protocol.)
    #[prost(string, tag = "1")]
    pub error: String,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    /// Field numbers and wire types, checked against protobuf bytes written out by hand:
    /// key = (number << 3) | wire type (0 varint, 2 length-delimited).
    #[test]
    fn dynamic_value_and_diagnostic_bytes() {
        let value = DynamicValue {
            msgpack: vec![0xc0],
            json: b"null".to_vec(),
        };
        assert_eq!(
            value.encode_to_vec(),
            [0x0a, 0x01, 0xc0, 0x12, 0x04, b'n', b'u', b'l', b'l']
        );

        let diagnostic = Diagnostic {
            severity: Severity::Error as i32,
            summary: "s".into(),
            detail: "d".into(),
            attribute: Some(AttributePath {
                steps: vec![AttributePathStep {
                    selector: Some(Selector::AttributeName("n".into())),
                }],
            }),
        };
        assert_eq!(
            diagnostic.encode_to_vec(),
            [
                0x08, 0x01, // severity = ERROR
                0x12, 0x01, b's', // summary
                0x1a, 0x01, b'd', // detail
                0x22, 0x05, 0x0a, 0x03, 0x0a, 0x01, b'n', // attribute.steps[0].attribute_name
            ]
        );
    }

    #[test]
    fn schema_attribute_bytes() {
        let attribute = SchemaAttribute {
            name: "id".into(),
            r#type: b"\"string\"".to_vec(),
            computed: true,
            ..Default::default()
        };
        let mut expected = vec![0x0a, 0x02, b'i', b'd', 0x12, 0x08];
        expected.extend_from_slice(b"\"string\"");
        expected.extend_from_slice(&[0x30, 0x01]); // computed = 6
        assert_eq!(attribute.encode_to_vec(), expected);

        let write_only = SchemaAttribute {
            write_only: true,
            deprecation_message: "x".into(),
            ..Default::default()
        };
        assert_eq!(write_only.encode_to_vec(), [0x58, 0x01, 0x62, 0x01, b'x']);
    }

    #[test]
    fn responses_put_diagnostics_at_their_numbers() {
        let diagnostics = vec![Diagnostic::default()];
        // An empty Diagnostic is a zero-length message after its key.
        assert_eq!(
            ValidateProviderConfigResponse {
                diagnostics: diagnostics.clone()
            }
            .encode_to_vec(),
            [0x12, 0x00]
        );
        assert_eq!(
            PlanResourceChangeResponse {
                diagnostics: diagnostics.clone(),
                ..Default::default()
            }
            .encode_to_vec(),
            [0x22, 0x00]
        );
        assert_eq!(
            ApplyResourceChangeResponse {
                diagnostics: diagnostics.clone(),
                ..Default::default()
            }
            .encode_to_vec(),
            [0x1a, 0x00]
        );
        assert_eq!(
            GetProviderSchemaResponse {
                diagnostics,
                ..Default::default()
            }
            .encode_to_vec(),
            [0x22, 0x00]
        );
    }

    #[test]
    fn requests_decode_from_their_numbers() {
        // type_name = "greeter_hello", prior_state.msgpack = c0, proposed.msgpack = c0,
        // prior_private = "p", and an undeclared field 8 (prior_identity), which is skipped.
        let mut bytes = vec![0x0a, 13];
        bytes.extend_from_slice(b"greeter_hello");
        bytes.extend_from_slice(&[0x12, 0x03, 0x0a, 0x01, 0xc0]);
        bytes.extend_from_slice(&[0x1a, 0x03, 0x0a, 0x01, 0xc0]);
        bytes.extend_from_slice(&[0x2a, 0x01, b'p']);
        bytes.extend_from_slice(&[0x42, 0x00]);
        let request = PlanResourceChangeRequest::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(request.type_name, "greeter_hello");
        assert_eq!(request.prior_state.map(|v| v.msgpack), Some(vec![0xc0]));
        assert_eq!(
            request.proposed_new_state.map(|v| v.msgpack),
            Some(vec![0xc0])
        );
        assert!(request.config.is_none());
        assert_eq!(request.prior_private, b"p");

        // raw_state (3) { json (1) = "{}" }, version (2) = 0 omitted.
        let upgrade = UpgradeResourceStateRequest::decode(
            [0x0a, 0x01, b'x', 0x1a, 0x04, 0x0a, 0x02, b'{', b'}'].as_slice(),
        )
        .expect("decodes");
        assert_eq!(upgrade.type_name, "x");
        assert_eq!(upgrade.raw_state.map(|r| r.json), Some(b"{}".to_vec()));

        // id (2) = "hello-world".
        let mut bytes = vec![0x12, 11];
        bytes.extend_from_slice(b"hello-world");
        let import = ImportResourceStateRequest::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(import.id, "hello-world");
    }

    #[test]
    fn stop_provider_error_is_field_one() {
        let response = StopProviderResponse { error: "e".into() };
        assert_eq!(response.encode_to_vec(), [0x0a, 0x01, b'e']);
    }
}
