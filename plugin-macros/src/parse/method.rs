//! One trait method, `async fn name(&self, arg: T, …) -> Result<U, E>;`, into a `Method` of
//! the model: its signature, its `#[rpc]` attribute, and the messages it travels in.

use proc_macro2::Span;
use quote::quote;
use syn::{FnArg, Ident, LitStr, Path, TraitItemFn};

use super::args::{arguments, field_numbers};
use super::output::output;
use crate::errors::Errors;
use crate::model::{Arg, Label, Messages, Method, MethodKind, Named, Output, last_segment};
use crate::names;

/// One method, or `None` when it has errors (recorded in `errors`).
pub(super) fn method(function: &TraitItemFn, errors: &mut Errors) -> Option<Method> {
    let sig = &function.sig;
    let ident = &sig.ident;
    signature_shape(function, errors);
    let mut inputs = sig.inputs.iter();
    receiver(sig, inputs.next(), errors);
    let (args, streams_requests) = arguments(sig, inputs, errors);
    let output = output(sig, errors);
    let kind = kind(streams_requests, output.as_ref());
    callbacks_are_unary(kind, &args, errors);
    field_numbers(&args, errors);
    let rpc_attr = rpc_attribute(&function.attrs, errors);
    let rpc = rpc_name(ident, rpc_attr.name, errors)?;
    let output = output?;
    let messages = if rpc_attr.whole {
        whole_messages(ident, kind, &args, &output, errors)?
    } else {
        Messages::Generated
    };
    let (request, response) = match &messages {
        Messages::Generated => {
            let message =
                |suffix: &str| Ident::new(&format!("{}{suffix}", rpc.value), Span::call_site());
            (message("Request"), message("Response"))
        }
        Messages::Whole { request, response } => {
            let message = |path: &Path| Ident::new(&last_segment(path), Span::call_site());
            (message(request), message(response))
        }
    };
    Some(Method {
        ident: ident.clone(),
        sig: client_signature(sig),
        request,
        response,
        rpc,
        kind,
        args,
        output,
        messages,
        docs: crate::model::docs(&function.attrs),
    })
}

/// What the signature says besides its arguments and result: an `async fn` and nothing more,
/// since the generated client implements it with one gRPC call.
fn signature_shape(function: &TraitItemFn, errors: &mut Errors) {
    let sig = &function.sig;
    let ident = &sig.ident;
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, "plugin interface methods cannot be `const`");
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "plugin interface methods cannot be `unsafe`: they are called from another process",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "plugin interface methods cannot have an `extern` ABI");
    }
    if sig.asyncness.is_none() {
        let fn_token = &sig.fn_token;
        errors.spanned(
            quote!(#fn_token #ident),
            format!(
                "plugin interface methods must be `async`, since every call goes over gRPC: \
                 write `async fn {ident}`"
            ),
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "generic methods are not supported: every argument needs one concrete protobuf type \
             (lifetime and const parameters too)",
        );
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(
            where_clause,
            "where clauses are not supported on plugin interface methods",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "variadic methods are not supported");
    }
    if let Some(body) = &function.default {
        errors.spanned(
            body,
            "plugin interface methods cannot have a default body: the generated client \
             implements every method by calling the plugin",
        );
    }
}

/// `&self`: one implementation serves concurrent calls.
fn receiver(sig: &syn::Signature, first: Option<&FnArg>, errors: &mut Errors) {
    let ident = &sig.ident;
    match first {
        Some(FnArg::Receiver(receiver)) => {
            let advice = if receiver.colon_token.is_some() {
                Some("write the receiver as `&self`")
            } else if receiver.reference.is_none() {
                Some(
                    "take `&self` instead of `self`: one implementation serves concurrent calls, \
                     so no call can consume it",
                )
            } else if receiver.mutability.is_some() {
                Some(
                    "take `&self` instead of `&mut self`: one implementation serves concurrent \
                     calls; keep mutable state behind a `Mutex` or an atomic",
                )
            } else if receiver.lifetime().is_some() {
                Some("write `&self` without a lifetime")
            } else {
                None
            };
            if let Some(advice) = advice {
                errors.spanned(receiver, advice);
            }
        }
        _ => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!(
                "plugin interface methods take `&self` first, since they are called on a client \
                 or an implementation: write `{ident}(&self, …)`"
            ),
        )),
    }
}

/// How the messages flow, from whether the arguments and the result are streams.
fn kind(streams_requests: bool, output: Option<&Output>) -> MethodKind {
    match (
        streams_requests,
        output.is_some_and(|output| output.streaming),
    ) {
        (false, false) => MethodKind::Unary,
        (false, true) => MethodKind::ServerStreaming,
        (true, false) => MethodKind::ClientStreaming,
        (true, true) => MethodKind::Streaming,
    }
}

fn callbacks_are_unary(kind: MethodKind, args: &[Arg], errors: &mut Errors) {
    if kind != MethodKind::Unary
        && let Some(arg) = args.iter().find(|arg| arg.callback.is_some())
    {
        errors.spanned(
            &arg.ident,
            "callback arguments are for unary methods: a streaming method cannot hold a \
             brokered service for the length of its streams",
        );
    }
}

/// The gRPC method name: `#[rpc(name = "…")]`, else the UpperCamelCase of the Rust name.
fn rpc_name(ident: &Ident, name: Option<Named>, errors: &mut Errors) -> Option<Named> {
    let named = name.unwrap_or_else(|| Named {
        value: names::rpc_name(ident),
        span: ident.span(),
    });
    if !names::is_proto_identifier(&named.value) {
        errors.spanned(
            ident,
            format!(
                "`{ident}` gives no usable gRPC method name (`{}`): rename the method",
                named.value
            ),
        );
        return None;
    }
    Some(named)
}

/// `#[rpc(whole)]`: the one argument is the request message and the result the response
/// message, each a struct of the user's.
fn whole_messages(
    ident: &Ident,
    kind: MethodKind,
    args: &[Arg],
    output: &Output,
    errors: &mut Errors,
) -> Option<Messages> {
    let request = match args {
        [arg] if arg.callback.is_none() && arg.field.ty.label == Label::Singular => {
            arg.field.ty.message().cloned()
        }
        _ => None,
    };
    let response = output
        .value
        .as_ref()
        .filter(|value| value.ty.label == Label::Singular)
        .and_then(|value| value.ty.message().cloned());
    match (request, response) {
        (Some(request), Some(response)) if kind == MethodKind::Unary => {
            Some(Messages::Whole { request, response })
        }
        _ => {
            errors.spanned(
                ident,
                "`#[rpc(whole)]` methods take one message struct (deriving `prost::Message`) \
                 as the whole request and return one as the whole response: \
                 `async fn m(&self, request: MRequest) -> Result<MResponse, E>`",
            );
            None
        }
    }
}

/// The signature the client implements: the user's, without this macro's `#[field]`.
fn client_signature(sig: &syn::Signature) -> syn::Signature {
    let mut sig = sig.clone();
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            typed.attrs.retain(|attr| !attr.path().is_ident("field"));
        }
    }
    sig
}

/// What `#[rpc(…)]` on a method says.
#[derive(Default)]
struct RpcAttribute {
    name: Option<Named>,
    whole: bool,
}

/// `#[rpc(name = "GetThing", whole)]`: the gRPC method name, and whether the one argument and
/// the result are whole messages.
fn rpc_attribute(attrs: &[syn::Attribute], errors: &mut Errors) -> RpcAttribute {
    let mut found = RpcAttribute::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("rpc")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("whole") {
                found.whole = true;
                Ok(())
            } else if meta.path.is_ident("name") {
                let value: LitStr = meta.value()?.parse()?;
                if !names::is_proto_identifier(&value.value()) {
                    return Err(meta.error("the gRPC method name must be a protobuf identifier"));
                }
                found.name = Some(Named {
                    value: value.value(),
                    span: value.span(),
                });
                Ok(())
            } else {
                Err(meta.error("#[rpc] takes `name = \"…\"` and `whole`"))
            }
        });
        if let Err(err) = parsed {
            errors.push(err);
        }
    }
    found
}
