//! Rules about the interface as a whole: names that must be valid protobuf, and names that must
//! not collide once Rust names become protobuf names.

use std::collections::HashMap;

use crate::errors::Errors;
use crate::model::{Interface, last_segment};
use crate::names;

/// Every rule the model must satisfy before codegen, all errors at once.
pub(crate) fn interface(interface: &Interface) -> syn::Result<()> {
    let mut errors = Errors::default();
    wire_names(interface, &mut errors);
    rpc_names(interface, &mut errors);
    field_names(interface, &mut errors);
    message_names(interface, &mut errors);
    errors.finish(())
}

fn wire_names(interface: &Interface, errors: &mut Errors) {
    let package = &interface.package;
    if !names::is_proto_package(&package.value) {
        errors.push(syn::Error::new(
            package.span,
            format!(
                "`{}` is not a protobuf package name: use identifiers joined by dots, like \
                 `package = \"proto\"` or `package = \"hashicorp.plugin.v1\"`",
                package.value
            ),
        ));
    }
    let service = &interface.service;
    if !names::is_proto_identifier(&service.value) {
        errors.push(syn::Error::new(
            service.span,
            format!(
                "`{}` is not a protobuf service name: use letters, digits and `_`, like \
                 `service = \"KV\"`",
                service.value
            ),
        ));
    }
}

/// Two Rust methods must not become one gRPC method (`do_it` and `doIt` are both `DoIt`).
fn rpc_names(interface: &Interface, errors: &mut Errors) {
    let mut seen = HashMap::new();
    for method in &interface.methods {
        if let Some(first) = seen.insert(method.rpc.value.as_str(), &method.ident) {
            errors.spanned(
                &method.ident,
                format!(
                    "`{first}` and `{}` both become the gRPC method `{}`: rename one of them",
                    method.ident, method.rpc.value
                ),
            );
        }
    }
}

/// protoc rejects two fields of a message whose JSON names match (`foo_bar` and `fooBar`).
fn field_names(interface: &Interface, errors: &mut Errors) {
    for method in &interface.methods {
        let mut seen = HashMap::new();
        for arg in &method.args {
            let json = names::json_name(&arg.field.name);
            if let Some(first) = seen.insert(json.clone(), &arg.ident) {
                errors.spanned(
                    &arg.ident,
                    format!(
                        "arguments `{first}` and `{}` both become the protobuf field `{json}` in \
                         JSON: rename one of them",
                        arg.ident
                    ),
                );
            }
        }
    }
}

/// A user message type must not share a name with a generated message: in the generated module
/// the generated one would shadow it, and the `.proto` text would define the name twice.
fn message_names(interface: &Interface, errors: &mut Errors) {
    let mut generated = HashMap::new();
    let with_generated_messages = interface
        .methods
        .iter()
        .filter(|method| method.generates_messages());
    for method in with_generated_messages {
        generated.insert(method.request.to_string(), &method.ident);
        generated.insert(method.response.to_string(), &method.ident);
    }
    for method in &interface.methods {
        let fields = method.args.iter().map(|arg| &arg.field);
        for field in fields.chain(&method.output.value) {
            let Some(path) = field.ty.message() else {
                continue;
            };
            let name = last_segment(path);
            if let Some(owner) = generated.get(&name) {
                errors.spanned(
                    path,
                    format!(
                        "`{name}` is also the name of the message generated for method \
                         `{owner}`: rename the type or the method"
                    ),
                );
            }
        }
    }
}
