//! What the greeter provider does, as pure functions from protocol requests to responses: the
//! schemas, validation, the plan and apply rules of `greeter_hello`, state upgrade, read and
//! import, and the `greeter_info` data source. Problems become diagnostics, never panics.
//!
//! `greeter_hello` has `name` (required), `greeting` (optional, default `"hello"`) and `id`
//! (computed, `"<greeting>-<name>"`). A greeting may not contain `-`, so that an id names exactly
//! one pair and `tofu import greeter_hello.x hello-world` can recover it.

use std::collections::HashMap;

use super::tfplugin6::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, AttributePath, AttributePathStep,
    ConfigureProviderRequest, ConfigureProviderResponse, Diagnostic, DynamicValue,
    GetProviderSchemaResponse, GetResourceIdentitySchemasResponse, ImportResourceStateRequest,
    ImportResourceStateResponse, ImportedResource, PlanResourceChangeRequest,
    PlanResourceChangeResponse, ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, Schema, SchemaAttribute, SchemaBlock, Selector, ServerCapabilities,
    Severity, StringKind, UpgradeResourceStateRequest, UpgradeResourceStateResponse,
    ValidateDataResourceConfigRequest, ValidateDataResourceConfigResponse,
    ValidateProviderConfigRequest, ValidateProviderConfigResponse, ValidateResourceConfigRequest,
    ValidateResourceConfigResponse,
};
use super::value::{self, AttributeType, Number, Object, ObjectValue, Type, Value};

/// The managed resource type.
pub const HELLO: &str = "greeter_hello";
/// The data source.
pub const INFO: &str = "greeter_info";
/// `greeting` when the configuration leaves it out.
pub const DEFAULT_GREETING: &str = "hello";

/// One attribute of a schema.
#[derive(Clone, Copy, Debug)]
struct Attribute {
    name: &'static str,
    ty: Type,
    required: bool,
    optional: bool,
    computed: bool,
    description: &'static str,
}

impl AttributeType for Attribute {
    fn name(&self) -> &str {
        self.name
    }

    fn ty(&self) -> Type {
        self.ty
    }
}

/// `greeter_hello`'s attributes. `greeting` is optional and computed: a default set by the
/// provider's plan must be computed, or OpenTofu rejects the plan for changing a configured value.
const HELLO_ATTRIBUTES: [Attribute; 3] = [
    Attribute {
        name: "greeting",
        ty: Type::String,
        required: false,
        optional: true,
        computed: true,
        description: "How to greet; \"hello\" when not set. May not contain \"-\".",
    },
    Attribute {
        name: "id",
        ty: Type::String,
        required: false,
        optional: false,
        computed: true,
        description: "\"<greeting>-<name>\".",
    },
    Attribute {
        name: "name",
        ty: Type::String,
        required: true,
        optional: false,
        computed: false,
        description: "Whom to greet.",
    },
];

/// `greeter_info`'s attributes.
const INFO_ATTRIBUTES: [Attribute; 2] = [
    Attribute {
        name: "length",
        ty: Type::Number,
        required: false,
        optional: false,
        computed: true,
        description: "The name's length in characters.",
    },
    Attribute {
        name: "name",
        ty: Type::String,
        required: true,
        optional: false,
        computed: false,
        description: "A name.",
    },
];

/// The provider block has no attributes.
const PROVIDER_ATTRIBUTES: [Attribute; 0] = [];

/// Every schema: the (empty) provider block, `greeter_hello` and `greeter_info`.
pub fn provider_schema() -> GetProviderSchemaResponse {
    GetProviderSchemaResponse {
        provider: Some(schema(&PROVIDER_ATTRIBUTES, "The greeter provider.")),
        resource_schemas: HashMap::from([(
            HELLO.to_owned(),
            schema(&HELLO_ATTRIBUTES, "A greeting."),
        )]),
        data_source_schemas: HashMap::from([(
            INFO.to_owned(),
            schema(&INFO_ATTRIBUTES, "Facts about a name."),
        )]),
        server_capabilities: Some(ServerCapabilities::default()),
        ..Default::default()
    }
}

/// No resource type has an identity.
pub fn resource_identity_schemas() -> GetResourceIdentitySchemasResponse {
    GetResourceIdentitySchemasResponse::default()
}

/// The provider block must be an object of no attributes.
pub fn validate_provider_config(
    request: &ValidateProviderConfigRequest,
) -> ValidateProviderConfigResponse {
    ValidateProviderConfigResponse {
        diagnostics: check_provider_config(request.config.as_ref()),
    }
}

/// Nothing to configure; the block is checked as in validation.
pub fn configure_provider(request: &ConfigureProviderRequest) -> ConfigureProviderResponse {
    tracing::info!(host_version = %request.terraform_version, "configuring the greeter provider");
    ConfigureProviderResponse {
        diagnostics: check_provider_config(request.config.as_ref()),
    }
}

fn check_provider_config(config: Option<&DynamicValue>) -> Vec<Diagnostic> {
    match decode(config, &PROVIDER_ATTRIBUTES, "provider configuration") {
        Ok(_) => Vec::new(),
        Err(diagnostic) => vec![diagnostic],
    }
}

/// Checks a `greeter_hello` block: a known `name` must not be empty, a known `greeting` must not
/// be empty nor contain `-`. Unknown values pass (they are checked again at plan).
pub fn validate_resource_config(
    request: &ValidateResourceConfigRequest,
) -> ValidateResourceConfigResponse {
    let diagnostics = match check_type(&request.type_name, HELLO, "resource type") {
        Err(diagnostic) => vec![diagnostic],
        Ok(()) => match decode(request.config.as_ref(), &HELLO_ATTRIBUTES, "configuration") {
            Err(diagnostic) => vec![diagnostic],
            Ok(ObjectValue::Known(config)) => check_hello(&config),
            Ok(_) => Vec::new(),
        },
    };
    ValidateResourceConfigResponse { diagnostics }
}

fn check_hello(config: &Object) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if config.get("name").as_str() == Some("") {
        diagnostics.push(error(
            "Empty name",
            "greeter_hello needs a name to greet.",
            Some("name"),
        ));
    }
    if let Some(greeting) = config.get("greeting").as_str() {
        if greeting.is_empty() {
            diagnostics.push(error(
                "Empty greeting",
                "Leave greeting out for the default, \"hello\".",
                Some("greeting"),
            ));
        } else if greeting.contains('-') {
            diagnostics.push(error(
                "Greeting contains \"-\"",
                &format!(
                    "The id is \"<greeting>-<name>\", so a greeting with \"-\" ({greeting:?}) \
                     would make ids ambiguous."
                ),
                Some("greeting"),
            ));
        }
    }
    diagnostics
}

/// `greeter_info` accepts any name (the empty name has length 0).
pub fn validate_data_resource_config(
    request: &ValidateDataResourceConfigRequest,
) -> ValidateDataResourceConfigResponse {
    let diagnostics = match check_type(&request.type_name, INFO, "data source")
        .and_then(|()| decode(request.config.as_ref(), &INFO_ATTRIBUTES, "configuration"))
    {
        Ok(_) => Vec::new(),
        Err(diagnostic) => vec![diagnostic],
    };
    ValidateDataResourceConfigResponse { diagnostics }
}

/// Converts a stored state (`raw_state.json`, schema version 0) into msgpack with every
/// attribute. OpenTofu calls it on every command that has state.
pub fn upgrade_resource_state(
    request: &UpgradeResourceStateRequest,
) -> UpgradeResourceStateResponse {
    let upgraded = (|| {
        check_type(&request.type_name, HELLO, "resource type")?;
        if request.version != 0 {
            return Err(error(
                "Unsupported state version",
                &format!(
                    "The state of this {HELLO} was written with schema version {}; this provider \
                     knows version 0 only.",
                    request.version
                ),
                None,
            ));
        }
        let raw = request
            .raw_state
            .as_ref()
            .map(|raw| raw.json.as_slice())
            .unwrap_or_default();
        if raw.is_empty() {
            return Err(error(
                "Unsupported state format",
                "The state has no JSON form (flatmap states predate this provider).",
                None,
            ));
        }
        let state = value::decode_json(raw, &HELLO_ATTRIBUTES)
            .map_err(|e| value_error("Invalid stored state", &e))?;
        encode(&state, &HELLO_ATTRIBUTES)
    })();
    match upgraded {
        Ok(state) => UpgradeResourceStateResponse {
            upgraded_state: Some(state),
            diagnostics: Vec::new(),
        },
        Err(diagnostic) => UpgradeResourceStateResponse {
            upgraded_state: None,
            diagnostics: vec![diagnostic],
        },
    }
}

/// A greeting lives only in the state, so refreshing it changes nothing: the state is returned
/// as stored (with every attribute), and so is the private data.
pub fn read_resource(request: &ReadResourceRequest) -> ReadResourceResponse {
    let read = check_type(&request.type_name, HELLO, "resource type")
        .and_then(|()| {
            decode(
                request.current_state.as_ref(),
                &HELLO_ATTRIBUTES,
                "current state",
            )
        })
        .and_then(|state| encode(&state, &HELLO_ATTRIBUTES));
    match read {
        Ok(state) => ReadResourceResponse {
            new_state: Some(state),
            diagnostics: Vec::new(),
            private: request.private.clone(),
        },
        Err(diagnostic) => ReadResourceResponse {
            diagnostics: vec![diagnostic],
            ..Default::default()
        },
    }
}

/// Plans `greeter_hello`: `greeting` defaults to `"hello"` when the configuration leaves it null;
/// `id` becomes unknown on create and whenever `name` or `greeting` changes, and keeps its prior
/// value otherwise (an update in place: nothing requires replacement). Destroy (a null proposal)
/// plans null.
pub fn plan_resource_change(request: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
    let planned = (|| {
        check_type(&request.type_name, HELLO, "resource type")?;
        let prior = decode(
            request.prior_state.as_ref(),
            &HELLO_ATTRIBUTES,
            "prior state",
        )?;
        let proposed = decode(
            request.proposed_new_state.as_ref(),
            &HELLO_ATTRIBUTES,
            "proposed state",
        )?;
        let config = decode(request.config.as_ref(), &HELLO_ATTRIBUTES, "configuration")?;
        let mut planned = match proposed {
            ObjectValue::Known(planned) => planned,
            other => return encode(&other, &HELLO_ATTRIBUTES),
        };
        let configured_greeting = match &config {
            ObjectValue::Known(config) => config.get("greeting").clone(),
            _ => Value::Unknown,
        };
        if configured_greeting.is_null() {
            planned.set("greeting", DEFAULT_GREETING);
        }
        let id = match &prior {
            ObjectValue::Known(prior)
                if prior.get("name") == planned.get("name")
                    && prior.get("greeting") == planned.get("greeting") =>
            {
                prior.get("id").clone()
            }
            _ => Value::Unknown,
        };
        tracing::debug!(
            create = matches!(prior, ObjectValue::Null),
            id_known = !id.is_unknown(),
            "planned greeter_hello"
        );
        planned.set("id", id);
        encode(&ObjectValue::Known(planned), &HELLO_ATTRIBUTES)
    })();
    match planned {
        Ok(state) => PlanResourceChangeResponse {
            planned_state: Some(state),
            planned_private: request.prior_private.clone(),
            ..Default::default()
        },
        Err(diagnostic) => PlanResourceChangeResponse {
            diagnostics: vec![diagnostic],
            ..Default::default()
        },
    }
}

/// Applies a plan: `id = "<greeting>-<name>"` on create and update; a null planned state
/// (destroy) gives a null new state. The plan's private data is kept.
pub fn apply_resource_change(request: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
    let applied = (|| {
        check_type(&request.type_name, HELLO, "resource type")?;
        let planned = decode(
            request.planned_state.as_ref(),
            &HELLO_ATTRIBUTES,
            "planned state",
        )?;
        let mut state = match planned {
            ObjectValue::Known(state) => state,
            ObjectValue::Null => {
                tracing::info!("destroyed greeter_hello");
                return encode(&ObjectValue::Null, &HELLO_ATTRIBUTES);
            }
            ObjectValue::Unknown => {
                return Err(error(
                    "Unknown planned state",
                    "OpenTofu sent a wholly unknown planned state to apply.",
                    None,
                ));
            }
        };
        let known = |name: &str| {
            state.get(name).as_str().map(str::to_owned).ok_or_else(|| {
                error(
                    "Incomplete plan",
                    &format!("{name} must be a known string at apply."),
                    Some(name),
                )
            })
        };
        let (greeting, name) = (known("greeting")?, known("name")?);
        if state.get("id").is_unknown() {
            let id = format!("{greeting}-{name}");
            tracing::info!(id = %id, "applied greeter_hello");
            state.set("id", id);
        }
        encode(&ObjectValue::Known(state), &HELLO_ATTRIBUTES)
    })();
    match applied {
        Ok(state) => ApplyResourceChangeResponse {
            new_state: Some(state),
            private: request.planned_private.clone(),
            ..Default::default()
        },
        Err(diagnostic) => ApplyResourceChangeResponse {
            diagnostics: vec![diagnostic],
            ..Default::default()
        },
    }
}

/// Splits an import id `"<greeting>-<name>"` at its first `-`: `"hello-world"` is greeting
/// `"hello"`, name `"world"`; `"hi-big-world"` is greeting `"hi"`, name `"big-world"`.
pub fn parse_id(id: &str) -> Result<(&str, &str), String> {
    match id.split_once('-') {
        Some((greeting, name)) if !greeting.is_empty() && !name.is_empty() => Ok((greeting, name)),
        _ => Err(format!(
            "The id {id:?} is not \"<greeting>-<name>\": expected a greeting and a name \
             joined by \"-\", such as \"hello-world\"."
        )),
    }
}

/// Imports `greeter_hello` from its id (see [`parse_id`]); a malformed id is an error
/// diagnostic.
pub fn import_resource_state(request: &ImportResourceStateRequest) -> ImportResourceStateResponse {
    let imported = (|| {
        check_type(&request.type_name, HELLO, "resource type")?;
        let (greeting, name) =
            parse_id(&request.id).map_err(|detail| error("Invalid import id", &detail, None))?;
        let state = Object::new()
            .with("greeting", greeting)
            .with("id", request.id.as_str())
            .with("name", name);
        encode(&ObjectValue::Known(state), &HELLO_ATTRIBUTES)
    })();
    match imported {
        Ok(state) => ImportResourceStateResponse {
            imported_resources: vec![ImportedResource {
                type_name: HELLO.to_owned(),
                state: Some(state),
                private: Vec::new(),
            }],
            diagnostics: Vec::new(),
        },
        Err(diagnostic) => ImportResourceStateResponse {
            imported_resources: Vec::new(),
            diagnostics: vec![diagnostic],
        },
    }
}

/// Reads `greeter_info`: `length` is the number of characters (Unicode scalar values) of
/// `name`.
pub fn read_data_source(request: &ReadDataSourceRequest) -> ReadDataSourceResponse {
    let read = (|| {
        check_type(&request.type_name, INFO, "data source")?;
        let config = decode(request.config.as_ref(), &INFO_ATTRIBUTES, "configuration")?;
        let ObjectValue::Known(mut state) = config else {
            return Err(error(
                "Missing configuration",
                "greeter_info has no configuration.",
                None,
            ));
        };
        let Some(name) = state.get("name").as_str() else {
            return Err(error(
                "Name not known",
                "greeter_info needs a known name to read.",
                Some("name"),
            ));
        };
        let length = i64::try_from(name.chars().count()).unwrap_or(i64::MAX);
        state.set("length", Value::Number(Number::Int(length)));
        encode(&ObjectValue::Known(state), &INFO_ATTRIBUTES)
    })();
    match read {
        Ok(state) => ReadDataSourceResponse {
            state: Some(state),
            diagnostics: Vec::new(),
        },
        Err(diagnostic) => ReadDataSourceResponse {
            state: None,
            diagnostics: vec![diagnostic],
        },
    }
}

fn schema(attributes: &[Attribute], description: &str) -> Schema {
    Schema {
        version: 0,
        block: Some(SchemaBlock {
            attributes: attributes
                .iter()
                .map(|a| SchemaAttribute {
                    name: a.name.to_owned(),
                    r#type: a.ty.json().to_vec(),
                    description: a.description.to_owned(),
                    required: a.required,
                    optional: a.optional,
                    computed: a.computed,
                    description_kind: StringKind::Plain as i32,
                    ..Default::default()
                })
                .collect(),
            description: description.to_owned(),
            ..Default::default()
        }),
    }
}

fn check_type(type_name: &str, expected: &str, kind: &str) -> Result<(), Diagnostic> {
    if type_name == expected {
        Ok(())
    } else {
        Err(error(
            &format!("Unknown {kind}"),
            &format!("This provider has no {kind} {type_name:?}."),
            None,
        ))
    }
}

/// Decodes a value OpenTofu sent; a missing value or one with both encodings empty is null, as
/// OpenTofu reads it.
fn decode(
    value: Option<&DynamicValue>,
    attributes: &[Attribute],
    what: &str,
) -> Result<ObjectValue, Diagnostic> {
    let Some(value) = value else {
        return Ok(ObjectValue::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        value::decode_msgpack(&value.msgpack, attributes)
    } else if !value.json.is_empty() {
        value::decode_json(&value.json, attributes)
    } else {
        return Ok(ObjectValue::Null);
    };
    decoded.map_err(|e| value_error(&format!("Invalid {what}"), &e))
}

fn encode(value: &ObjectValue, attributes: &[Attribute]) -> Result<DynamicValue, Diagnostic> {
    let msgpack = value::encode_msgpack(value, attributes)
        .map_err(|e| value_error("Cannot encode a value", &e))?;
    Ok(DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

fn value_error(summary: &str, err: &value::Error) -> Diagnostic {
    error(summary, &err.to_string(), err.attribute())
}

fn error(summary: &str, detail: &str, attribute: Option<&str>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error as i32,
        summary: summary.to_owned(),
        detail: detail.to_owned(),
        attribute: attribute.map(|name| AttributePath {
            steps: vec![AttributePathStep {
                selector: Some(Selector::AttributeName(name.to_owned())),
            }],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgpack(object: &ObjectValue) -> Option<DynamicValue> {
        Some(encode(object, &HELLO_ATTRIBUTES).unwrap())
    }

    fn hello(
        greeting: impl Into<Value>,
        id: impl Into<Value>,
        name: impl Into<Value>,
    ) -> ObjectValue {
        ObjectValue::Known(
            Object::new()
                .with("greeting", greeting)
                .with("id", id)
                .with("name", name),
        )
    }

    fn decoded(value: Option<&DynamicValue>) -> ObjectValue {
        decode(value, &HELLO_ATTRIBUTES, "test value").unwrap()
    }

    fn object(value: Option<&DynamicValue>) -> Object {
        match decoded(value) {
            ObjectValue::Known(object) => object,
            other => panic!("not a known object: {other:?}"),
        }
    }

    fn plan(
        prior: ObjectValue,
        proposed: ObjectValue,
        config: ObjectValue,
    ) -> PlanResourceChangeResponse {
        plan_resource_change(&PlanResourceChangeRequest {
            type_name: HELLO.into(),
            prior_state: msgpack(&prior),
            proposed_new_state: msgpack(&proposed),
            config: msgpack(&config),
            prior_private: b"private".to_vec(),
            ..Default::default()
        })
    }

    fn summaries(diagnostics: &[Diagnostic]) -> Vec<&str> {
        diagnostics.iter().map(|d| d.summary.as_str()).collect()
    }

    #[test]
    fn schema_has_the_attributes_and_their_modes() {
        let response = provider_schema();
        let provider = response
            .provider
            .and_then(|s| s.block)
            .expect("a provider block");
        assert!(provider.attributes.is_empty());

        let hello = &response.resource_schemas[HELLO]
            .block
            .as_ref()
            .expect("a block")
            .attributes;
        let modes: Vec<_> = hello
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.r#type.as_slice(),
                    a.required,
                    a.optional,
                    a.computed,
                )
            })
            .collect();
        assert_eq!(
            modes,
            [
                ("greeting", &b"\"string\""[..], false, true, true),
                ("id", &b"\"string\""[..], false, false, true),
                ("name", &b"\"string\""[..], true, false, false),
            ]
        );
        let info = &response.data_source_schemas[INFO]
            .block
            .as_ref()
            .expect("a block")
            .attributes;
        let info: Vec<_> = info
            .iter()
            .map(|a| (a.name.as_str(), a.r#type.as_slice(), a.computed))
            .collect();
        assert_eq!(
            info,
            [
                ("length", &b"\"number\""[..], true),
                ("name", &b"\"string\""[..], false)
            ]
        );
        assert_eq!(response.resource_schemas[HELLO].version, 0);
        assert!(response.diagnostics.is_empty());
    }

    #[test]
    fn create_plans_an_unknown_id_and_the_default_greeting() {
        let config = hello(Value::Null, Value::Null, "world");
        let response = plan(ObjectValue::Null, config.clone(), config);
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        let planned = response.planned_state.as_ref().expect("a planned state");
        // {greeting: "hello", id: unknown, name: "world"}: every attribute, unknown as d4 00 00.
        let mut expected = vec![0x83, 0xa8];
        expected.extend_from_slice(b"greeting");
        expected.push(0xa5);
        expected.extend_from_slice(b"hello");
        expected.extend_from_slice(&[0xa2, b'i', b'd', 0xd4, 0x00, 0x00, 0xa4]);
        expected.extend_from_slice(b"name");
        expected.push(0xa5);
        expected.extend_from_slice(b"world");
        assert_eq!(planned.msgpack, expected);
        assert_eq!(response.planned_private, b"private");
        assert!(response.requires_replace.is_empty());
    }

    #[test]
    fn a_configured_greeting_is_kept() {
        let config = hello("hi", Value::Null, "world");
        let response = plan(ObjectValue::Null, config.clone(), config);
        let planned = object(response.planned_state.as_ref());
        assert_eq!(planned.get("greeting"), &Value::from("hi"));
        assert!(planned.get("id").is_unknown());
    }

    #[test]
    fn no_change_keeps_the_prior_id() {
        let prior = hello("hello", "hello-world", "world");
        // The host proposes the prior id for the unset computed attribute, and the prior
        // greeting for the unset optional+computed one.
        let proposed = hello("hello", "hello-world", "world");
        let config = hello(Value::Null, Value::Null, "world");
        let response = plan(prior.clone(), proposed, config);
        assert_eq!(decoded(response.planned_state.as_ref()), prior);
    }

    #[test]
    fn changing_name_or_greeting_makes_the_id_unknown() {
        let prior = hello("hello", "hello-world", "world");
        let renamed = plan(
            prior.clone(),
            hello("hello", "hello-world", "there"),
            hello(Value::Null, Value::Null, "there"),
        );
        let planned = object(renamed.planned_state.as_ref());
        assert!(planned.get("id").is_unknown());
        assert_eq!(planned.get("name"), &Value::from("there"));

        let regreeted = plan(
            prior.clone(),
            hello("hi", "hello-world", "world"),
            hello("hi", Value::Null, "world"),
        );
        assert!(
            object(regreeted.planned_state.as_ref())
                .get("id")
                .is_unknown()
        );

        // Removing a configured greeting goes back to the default, which is a change too.
        let prior_hi = hello("hi", "hi-world", "world");
        let back = plan(
            prior_hi,
            hello("hi", "hi-world", "world"),
            hello(Value::Null, Value::Null, "world"),
        );
        let planned = object(back.planned_state.as_ref());
        assert_eq!(planned.get("greeting"), &Value::from("hello"));
        assert!(planned.get("id").is_unknown());

        // An unknown name (known only after another resource applies) is a change.
        let unknown = plan(
            prior,
            hello("hello", "hello-world", Value::Unknown),
            hello(Value::Null, Value::Null, Value::Unknown),
        );
        assert!(
            object(unknown.planned_state.as_ref())
                .get("id")
                .is_unknown()
        );
    }

    #[test]
    fn destroy_plans_null() {
        let prior = hello("hello", "hello-world", "world");
        let response = plan(prior, ObjectValue::Null, ObjectValue::Null);
        assert_eq!(response.planned_state.map(|v| v.msgpack), Some(vec![0xc0]));
    }

    #[test]
    fn apply_fills_in_the_id_and_destroy_returns_null() {
        let planned = hello("hello", Value::Unknown, "world");
        let response = apply_resource_change(&ApplyResourceChangeRequest {
            type_name: HELLO.into(),
            prior_state: msgpack(&ObjectValue::Null),
            planned_state: msgpack(&planned),
            planned_private: b"p".to_vec(),
            ..Default::default()
        });
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        assert_eq!(
            decoded(response.new_state.as_ref()),
            hello("hello", "hello-world", "world")
        );
        assert_eq!(response.private, b"p");

        let updated = apply_resource_change(&ApplyResourceChangeRequest {
            type_name: HELLO.into(),
            prior_state: msgpack(&hello("hello", "hello-world", "world")),
            planned_state: msgpack(&hello("hi", Value::Unknown, "there")),
            ..Default::default()
        });
        assert_eq!(
            object(updated.new_state.as_ref()).get("id"),
            &Value::from("hi-there")
        );

        let destroyed = apply_resource_change(&ApplyResourceChangeRequest {
            type_name: HELLO.into(),
            prior_state: msgpack(&hello("hello", "hello-world", "world")),
            planned_state: Some(DynamicValue {
                msgpack: vec![0xc0],
                json: Vec::new(),
            }),
            ..Default::default()
        });
        assert!(destroyed.diagnostics.is_empty());
        assert_eq!(destroyed.new_state.map(|v| v.msgpack), Some(vec![0xc0]));
    }

    #[test]
    fn apply_with_unknown_inputs_is_a_diagnostic() {
        let response = apply_resource_change(&ApplyResourceChangeRequest {
            type_name: HELLO.into(),
            planned_state: msgpack(&hello("hello", Value::Unknown, Value::Unknown)),
            ..Default::default()
        });
        assert_eq!(summaries(&response.diagnostics), ["Incomplete plan"]);
        assert!(response.new_state.is_none());
    }

    #[test]
    fn import_ids() {
        assert_eq!(parse_id("hello-world"), Ok(("hello", "world")));
        assert_eq!(parse_id("hi-big-world"), Ok(("hi", "big-world")));
        for bad in ["helloworld", "", "-world", "hello-", "-"] {
            assert!(parse_id(bad).is_err(), "{bad:?}");
        }

        let response = import_resource_state(&ImportResourceStateRequest {
            type_name: HELLO.into(),
            id: "hello-world".into(),
            ..Default::default()
        });
        assert!(response.diagnostics.is_empty());
        let [imported] = response.imported_resources.as_slice() else {
            panic!("one imported resource: {response:?}");
        };
        assert_eq!(imported.type_name, HELLO);
        assert_eq!(
            decoded(imported.state.as_ref()),
            hello("hello", "hello-world", "world")
        );
    }

    #[test]
    fn an_id_without_a_dash_is_a_diagnostic_not_a_panic() {
        let response = import_resource_state(&ImportResourceStateRequest {
            type_name: HELLO.into(),
            id: "helloworld".into(),
            ..Default::default()
        });
        assert!(response.imported_resources.is_empty());
        let [diagnostic] = response.diagnostics.as_slice() else {
            panic!("one diagnostic: {response:?}");
        };
        assert_eq!(diagnostic.severity, Severity::Error as i32);
        assert_eq!(diagnostic.summary, "Invalid import id");
        assert!(
            diagnostic.detail.contains("\"helloworld\""),
            "{}",
            diagnostic.detail
        );
    }

    #[test]
    fn upgrade_turns_raw_json_into_msgpack_with_every_attribute() {
        let request = |json: &[u8], version| UpgradeResourceStateRequest {
            type_name: HELLO.into(),
            version,
            raw_state: Some(super::super::tfplugin6::RawState {
                json: json.to_vec(),
                flatmap: HashMap::new(),
            }),
        };
        let response = upgrade_resource_state(&request(
            br#"{"greeting":"hello","id":"hello-world","name":"world"}"#,
            0,
        ));
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        assert_eq!(
            decoded(response.upgraded_state.as_ref()),
            hello("hello", "hello-world", "world")
        );

        // An attribute missing from an old state is written as null.
        let partial = upgrade_resource_state(&request(br#"{"name":"world"}"#, 0));
        let bytes = &partial.upgraded_state.as_ref().expect("a state").msgpack;
        assert_eq!(bytes[0], 0x83, "every attribute on the wire");
        assert_eq!(
            decoded(partial.upgraded_state.as_ref()),
            hello(Value::Null, Value::Null, "world")
        );

        let newer = upgrade_resource_state(&request(b"{}", 1));
        assert_eq!(summaries(&newer.diagnostics), ["Unsupported state version"]);
        let unknown = upgrade_resource_state(&request(br#"{"colour":"red"}"#, 0));
        assert_eq!(summaries(&unknown.diagnostics), ["Invalid stored state"]);
        assert!(unknown.upgraded_state.is_none());
        let garbage = upgrade_resource_state(&request(b"{", 0));
        assert_eq!(summaries(&garbage.diagnostics), ["Invalid stored state"]);
        let empty = upgrade_resource_state(&request(b"", 0));
        assert_eq!(summaries(&empty.diagnostics), ["Unsupported state format"]);
    }

    #[test]
    fn read_returns_the_state_and_private_data() {
        let state = hello("hello", "hello-world", "world");
        let response = read_resource(&ReadResourceRequest {
            type_name: HELLO.into(),
            current_state: msgpack(&state),
            private: b"kept".to_vec(),
            ..Default::default()
        });
        assert_eq!(decoded(response.new_state.as_ref()), state);
        assert_eq!(response.private, b"kept");
    }

    #[test]
    fn validation() {
        let validate = |config: ObjectValue| {
            validate_resource_config(&ValidateResourceConfigRequest {
                type_name: HELLO.into(),
                config: msgpack(&config),
                ..Default::default()
            })
            .diagnostics
        };
        assert!(validate(hello(Value::Null, Value::Null, "world")).is_empty());
        assert!(validate(hello(Value::Unknown, Value::Null, Value::Unknown)).is_empty());
        assert_eq!(
            summaries(&validate(hello(Value::Null, Value::Null, ""))),
            ["Empty name"]
        );
        let dashed = validate(hello("good-bye", Value::Null, "world"));
        assert_eq!(summaries(&dashed), ["Greeting contains \"-\""]);
        assert_eq!(
            dashed[0]
                .attribute
                .as_ref()
                .map(|p| p.steps[0].selector.clone()),
            Some(Some(Selector::AttributeName("greeting".into())))
        );
        assert_eq!(
            summaries(&validate(hello("", Value::Null, "world"))),
            ["Empty greeting"]
        );

        let wrong_type = validate_resource_config(&ValidateResourceConfigRequest {
            type_name: "greeter_bye".into(),
            ..Default::default()
        });
        assert_eq!(
            summaries(&wrong_type.diagnostics),
            ["Unknown resource type"]
        );

        let garbage = validate_resource_config(&ValidateResourceConfigRequest {
            type_name: HELLO.into(),
            config: Some(DynamicValue {
                msgpack: vec![0x82],
                json: Vec::new(),
            }),
            ..Default::default()
        });
        assert_eq!(summaries(&garbage.diagnostics), ["Invalid configuration"]);
    }

    #[test]
    fn provider_config_is_an_empty_object() {
        let empty = |msgpack: Vec<u8>| ValidateProviderConfigRequest {
            config: Some(DynamicValue {
                msgpack,
                json: Vec::new(),
            }),
        };
        assert!(
            validate_provider_config(&empty(vec![0x80]))
                .diagnostics
                .is_empty()
        );
        let extra = validate_provider_config(&empty(vec![0x81, 0xa1, b'x', 0xc0]));
        assert_eq!(
            summaries(&extra.diagnostics),
            ["Invalid provider configuration"]
        );
        let configured = configure_provider(&ConfigureProviderRequest {
            terraform_version: "1.12.6".into(),
            config: Some(DynamicValue {
                msgpack: vec![0x80],
                json: Vec::new(),
            }),
            ..Default::default()
        });
        assert!(configured.diagnostics.is_empty());
    }

    #[test]
    fn data_source_length_in_characters() {
        let read = |name: Value| {
            let config = ObjectValue::Known(Object::new().with("name", name));
            read_data_source(&ReadDataSourceRequest {
                type_name: INFO.into(),
                config: Some(encode(&config, &INFO_ATTRIBUTES).unwrap()),
                ..Default::default()
            })
        };
        let length = |response: &ReadDataSourceResponse| {
            let state = decode(response.state.as_ref(), &INFO_ATTRIBUTES, "state").unwrap();
            match state {
                ObjectValue::Known(state) => state.get("length").clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(length(&read("world".into())), Value::Number(Number::Int(5)));
        // Characters, not bytes: "größe" is 5 characters, 7 bytes.
        assert_eq!(length(&read("größe".into())), Value::Number(Number::Int(5)));
        assert_eq!(length(&read("".into())), Value::Number(Number::Int(0)));
        // Every attribute on the wire: {length: 5, name: "world"}.
        let bytes = &read("world".into()).state.expect("a state").msgpack;
        assert_eq!(bytes[..8], [0x82, 0xa6, b'l', b'e', b'n', b'g', b't', b'h']);
        assert_eq!(bytes[8], 0x05);

        let unknown = read(Value::Unknown);
        assert_eq!(summaries(&unknown.diagnostics), ["Name not known"]);
        let wrong = read_data_source(&ReadDataSourceRequest {
            type_name: "greeter_other".into(),
            ..Default::default()
        });
        assert_eq!(summaries(&wrong.diagnostics), ["Unknown data source"]);
        assert!(
            validate_data_resource_config(&ValidateDataResourceConfigRequest {
                type_name: INFO.into(),
                config: Some(
                    encode(
                        &ObjectValue::Known(Object::new().with("name", "x")),
                        &INFO_ATTRIBUTES
                    )
                    .unwrap()
                ),
            })
            .diagnostics
            .is_empty()
        );
    }

    #[test]
    fn empty_dynamic_values_are_null() {
        let both_empty = DynamicValue::default();
        assert_eq!(decoded(Some(&both_empty)), ObjectValue::Null);
        assert_eq!(decoded(None), ObjectValue::Null);
        let json = DynamicValue {
            msgpack: Vec::new(),
            json: br#"{"name":"x"}"#.to_vec(),
        };
        assert_eq!(object(Some(&json)).get("name"), &Value::from("x"));
    }
}
