//! A method's return type, `Result<T, E>`: what the response carries, and whether `E` can
//! travel as a gRPC status.

use proc_macro2::Span;
use syn::{Ident, ReturnType, Type};

use crate::errors::Errors;
use crate::model::{Field, Output};
use crate::types::{self, Mapped};

const RETURN_ADVICE: &str = "plugin interface methods return `Result<T, E>`, where \
                             `E: From<go_plugin::Error>` and `tonic::Status: From<E>`; \
                             `go_plugin::PluginError` is both";

/// `Result<T, E>`: `T` travels as the response's `value`, `E` carries failures.
pub(super) fn output(sig: &syn::Signature, errors: &mut Errors) -> Option<Output> {
    let ty = match &sig.output {
        ReturnType::Type(_, ty) => ty,
        ReturnType::Default => {
            errors.spanned(
                sig,
                format!("{RETURN_ADVICE}: add `-> Result<(), PluginError>`"),
            );
            return None;
        }
    };
    let Some((ok, error)) = result_types(ty) else {
        errors.spanned(ty, RETURN_ADVICE);
        return None;
    };
    if let Some(advice) = not_an_error_type(error) {
        errors.spanned(error, advice);
        return None;
    }
    let streamed = types::stream_item(ok);
    let value = match errors.ok(types::map(streamed.unwrap_or(ok)))? {
        Mapped::Unit if streamed.is_some() => {
            errors.spanned(
                ok,
                "a stream of `()` carries nothing: return `Result<(), E>`",
            );
            return None;
        }
        Mapped::Unit => None,
        Mapped::Field(proto) => Some(Field {
            name: "value".to_owned(),
            ident: Ident::new("value", Span::call_site()),
            tag: 1,
            ty: proto,
        }),
    };
    Some(Output {
        streaming: streamed.is_some(),
        error: error.clone(),
        value,
    })
}

/// Advice for error types that obviously cannot carry a gRPC status: they implement neither
/// `From<go_plugin::Error>` nor `Into<Status>`, and rustc's own message would not say why both
/// are needed.
fn not_an_error_type(error: &Type) -> Option<String> {
    let name = match error {
        Type::Reference(_) => "a reference".to_owned(),
        Type::Tuple(tuple) if tuple.elems.is_empty() => "`()`".to_owned(),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?.ident.to_string();
            let foreign_error = last == "Error" && is_foreign_error(path);
            if !(matches!(last.as_str(), "String" | "str" | "Box") || foreign_error) {
                return None;
            }
            format!("`{}`", quote::quote!(#error).to_string().replace(' ', ""))
        }
        _ => return None,
    };
    Some(format!(
        "{name} cannot be a plugin method's error: a failed call travels as a gRPC status, so \
         `E` must implement `From<go_plugin::Error>` (for the client) and `Into<go_plugin::Status>` \
         (for the server); use `go_plugin::PluginError` (for example \
         `PluginError::internal(message)`), or an error type of yours with those two conversions"
    ))
}

/// `std::io::Error`, `anyhow::Error` and the like, written with their crate's path.
fn is_foreign_error(path: &syn::TypePath) -> bool {
    let first = path
        .path
        .segments
        .first()
        .map(|segment| segment.ident.to_string());
    path.path.segments.len() > 1
        && matches!(
            first.as_deref(),
            Some("std" | "io" | "anyhow" | "eyre" | "fmt")
        )
}

/// `T` and `E` of a type written `Result<T, E>` (with any path before `Result`).
fn result_types(ty: &Type) -> Option<(&Type, &Type)> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(Some(ok)), Some(Some(error)), None) => Some((ok, error)),
        _ => None,
    }
}
