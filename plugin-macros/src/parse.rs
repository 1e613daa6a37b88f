//! Reads the attribute arguments and the trait into the model, rejecting what cannot travel over
//! gRPC. Rules that span several methods are in `check.rs`.

use proc_macro_crate::FoundCrate;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{
    Expr, ExprLit, FnArg, Ident, ItemTrait, Lit, LitStr, Meta, Pat, Path, ReturnType, Token,
    TraitItem, TraitItemFn, Type, TypeParamBound,
};

use crate::errors::Errors;
use crate::model::{
    Arg, Field, GeneratedItems, Interface, Messages, Method, MethodKind, Named, Output,
};
use crate::names;
use crate::types::{self, Mapped};

const RETURN_ADVICE: &str = "plugin interface methods return `Result<T, E>`, where \
                             `E: From<go_plugin::Error>` and `tonic::Status: From<E>`; \
                             `go_plugin::PluginError` is both";

/// Builds the model of `item`, or every error found in it.
pub(crate) fn interface(args: TokenStream, item: ItemTrait) -> syn::Result<Interface> {
    let mut errors = Errors::default();
    let args = attribute_args(args, &mut errors);
    trait_shape(&item, &mut errors);

    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(function) => {
                let mut method_errors = Errors::default();
                let method = method(function, &mut method_errors);
                if errors.append(method_errors) {
                    methods.extend(method);
                }
            }
            TraitItem::Type(ty) => errors.spanned(
                ty,
                "associated types are not supported in a plugin interface: every argument and \
                 return type must be concrete, so that it has one protobuf form",
            ),
            TraitItem::Const(constant) => errors.spanned(
                constant,
                "associated constants are not supported in a plugin interface: only methods \
                 travel over gRPC",
            ),
            TraitItem::Macro(mac) => errors.spanned(
                mac,
                "macro invocations are not supported in a plugin interface: write the methods out",
            ),
            other => errors.spanned(other, "only methods are supported in a plugin interface"),
        }
    }

    let package = args.package.unwrap_or_else(|| Named {
        value: names::default_package(&item.ident),
        span: item.ident.span(),
    });
    let service = args.service.unwrap_or_else(|| Named {
        value: names::plain(&item.ident),
        span: item.ident.span(),
    });
    let items = generated_items(&item.ident, &mut errors);
    let krate = args.krate.unwrap_or_else(runtime_path);
    let span = item.ident.span();
    let interface = items.map(|items| Interface {
        item,
        krate,
        package,
        service,
        items,
        methods,
    });
    // `generated_items` records why it found no names, so the fallback message never shows.
    errors
        .finish(interface)?
        .ok_or_else(|| syn::Error::new(span, "cannot name the generated items: rename the trait"))
}

#[derive(Default)]
struct Args {
    package: Option<Named>,
    service: Option<Named>,
    krate: Option<Path>,
}

/// `package = "…"`, `service = "…"`, `crate = "…"`, in any order, each at most once.
fn attribute_args(tokens: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let Some(metas) = errors.ok(Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens))
    else {
        return args;
    };
    for meta in metas {
        let key = meta.path();
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        if !matches!(name.as_str(), "package" | "service" | "crate") {
            errors.spanned(
                key,
                format!(
                    "unknown argument `{}`: #[plugin_interface] takes `package = \"…\"`, \
                     `service = \"…\"` and `crate = \"…\"`",
                    quote!(#key).to_string().replace(' ', "")
                ),
            );
            continue;
        }
        let Some(value) = string_value(&meta, &name, errors) else {
            continue;
        };
        let duplicate = match name.as_str() {
            "package" => set(&mut args.package, named(&value)),
            "service" => set(&mut args.service, named(&value)),
            _ => match value.parse_with(Path::parse_mod_style) {
                Ok(path) => set(&mut args.krate, path),
                Err(_) => {
                    errors.spanned(
                        &value,
                        "`crate` takes the path the runtime is reachable at, for example \
                         `crate = \"::my_runtime\"`",
                    );
                    false
                }
            },
        };
        if duplicate {
            errors.spanned(&meta, format!("`{name}` is given more than once"));
        }
    }
    args
}

/// The string of `name = "…"`, or an error that shows the expected form.
fn string_value(meta: &Meta, name: &str, errors: &mut Errors) -> Option<LitStr> {
    let example = match name {
        "package" => "package = \"proto\"",
        "service" => "service = \"KV\"",
        _ => "crate = \"::go_plugin\"",
    };
    match meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(value),
                ..
            }) => Some(value.clone()),
            other => {
                errors.spanned(
                    other,
                    format!("`{name}` takes a string, for example `{example}`"),
                );
                None
            }
        },
        other => {
            errors.spanned(
                other,
                format!("`{name}` takes a string, for example `{example}`"),
            );
            None
        }
    }
}

fn named(value: &LitStr) -> Named {
    Named {
        value: value.value(),
        span: value.span(),
    }
}

/// Stores `value` in an empty slot; `true` when the slot was already taken.
fn set<T>(slot: &mut Option<T>, value: T) -> bool {
    let taken = slot.is_some();
    if !taken {
        *slot = Some(value);
    }
    taken
}

/// Where generated code finds the runtime: as the user's Cargo.toml names `go-plugin`.
///
/// Falls back to `::go_plugin` when the manifest does not say (a re-exporting facade crate,
/// or the runtime's own doctests); `crate = "…"` covers what detection cannot.
pub(crate) fn runtime_path() -> Path {
    match proc_macro_crate::crate_name("go-plugin") {
        Ok(FoundCrate::Name(name)) => match syn::parse_str::<Ident>(&name) {
            Ok(ident) => syn::parse_quote!(::#ident),
            Err(_) => syn::parse_quote!(::go_plugin),
        },
        Ok(FoundCrate::Itself) | Err(_) => syn::parse_quote!(::go_plugin),
    }
}

/// The trait itself: no generics, no `unsafe`, no supertraits the client could not implement.
fn trait_shape(item: &ItemTrait, errors: &mut Errors) {
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(
            unsafety,
            "a plugin interface cannot be an `unsafe trait`: its implementation is called from \
             another process, which cannot uphold any safety contract",
        );
    }
    if let Some(auto) = &item.auto_token {
        errors.spanned(auto, "a plugin interface cannot be an `auto trait`");
    }
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "generic traits are not supported: a plugin interface has one wire format, so every \
             type in it must be concrete",
        );
    }
    if let Some(where_clause) = &item.generics.where_clause {
        errors.spanned(
            where_clause,
            "where clauses are not supported on a plugin interface",
        );
    }
    for bound in &item.supertraits {
        let allowed = match bound {
            TypeParamBound::Trait(bound) => {
                bound.lifetimes.is_none()
                    && (bound.path.is_ident("Send") || bound.path.is_ident("Sync"))
            }
            TypeParamBound::Lifetime(lifetime) => lifetime.ident == "static",
            _ => false,
        };
        if !allowed {
            errors.spanned(
                bound,
                "supertraits other than `Send`, `Sync` and `'static` are not supported: the \
                 generated client could not implement them",
            );
        }
    }
}

fn generated_items(trait_name: &Ident, errors: &mut Errors) -> Option<GeneratedItems> {
    let plain = names::plain(trait_name);
    let mut ident = |name: String| match syn::parse_str::<Ident>(&name) {
        Ok(mut ident) => {
            ident.set_span(trait_name.span());
            Some(ident)
        }
        Err(_) => {
            errors.spanned(
                trait_name,
                format!("cannot name the generated item `{name}`: rename the trait"),
            );
            None
        }
    };
    Some(GeneratedItems {
        client: ident(format!("{plain}Client"))?,
        server: ident(format!("{plain}Server"))?,
        plugin: ident(format!("{plain}Plugin"))?,
        dynamic: ident(format!("Dyn{plain}"))?,
        messages: ident(names::messages_module(trait_name))?,
        proto: ident(names::proto_const(trait_name))?,
    })
}

/// One method: `async fn name(&self, arg: T, …) -> Result<U, E>;`.
fn method(function: &TraitItemFn, errors: &mut Errors) -> Option<Method> {
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

    let mut inputs = sig.inputs.iter();
    match inputs.next() {
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

    let mut args = Vec::new();
    let mut streamed_args = 0;
    let mut arg_count = 0;
    for (position, input) in (1..).zip(inputs) {
        arg_count += 1;
        let FnArg::Typed(typed) = input else {
            continue;
        };
        let field_attr = field_attribute(&typed.attrs, errors);
        let name = match &*typed.pat {
            Pat::Ident(pat)
                if pat.by_ref.is_none() && pat.mutability.is_none() && pat.subpat.is_none() =>
            {
                Some(pat.ident.clone())
            }
            Pat::Wild(wild) => {
                errors.spanned(
                    wild,
                    "name the argument: its name becomes the protobuf field name",
                );
                None
            }
            other => {
                errors.spanned(
                    other,
                    "arguments must be plain names, like `key: String`, since each name becomes \
                     a protobuf field name",
                );
                None
            }
        };
        let callback = match &*typed.ty {
            Type::ImplTrait(bounds) => errors.ok(callback_trait(bounds)),
            _ => None,
        };
        let stream_item = types::stream_item(&typed.ty);
        if stream_item.is_some() {
            streamed_args += 1;
        }
        let mapped = match (&callback, stream_item) {
            (_, Some(item)) => types::map(item),
            (Some(_), None) => Ok(Mapped::Field(crate::model::ProtoType {
                label: crate::model::Label::Singular,
                element: crate::model::Element::Scalar(crate::model::Scalar::Uint32),
            })),
            (None, None) if matches!(&*typed.ty, Type::ImplTrait(_)) => continue,
            (None, None) => types::map(&typed.ty),
        };
        let ty = match errors.ok(mapped) {
            Some(Mapped::Field(ty)) => Some(ty),
            Some(Mapped::Unit) => {
                errors.spanned(&typed.ty, "`()` carries nothing: remove the argument");
                None
            }
            None => None,
        };
        if let (Some(ident), Some(proto)) = (name, ty) {
            let field_name = field_attr
                .name
                .clone()
                .unwrap_or_else(|| names::plain(&ident));
            args.push(Arg {
                field: Field {
                    ident: names::field_ident(&field_name, ident.span()),
                    name: field_name,
                    tag: field_attr.tag.unwrap_or(position),
                    ty: proto,
                },
                ident,
                callback,
            });
        }
    }

    if streamed_args > 0 && arg_count > 1 {
        errors.spanned(
            &sig.inputs,
            "a method that takes a `Stream<T>` takes nothing else, since each request message \
             carries one item: put the other values in the items, or in a method of their own",
        );
    }
    let output = output(sig, errors);
    let kind = match (
        streamed_args > 0,
        output.as_ref().is_some_and(|output| output.streaming),
    ) {
        (false, false) => MethodKind::Unary,
        (false, true) => MethodKind::ServerStreaming,
        (true, false) => MethodKind::ClientStreaming,
        (true, true) => MethodKind::Streaming,
    };
    if kind != MethodKind::Unary
        && let Some(arg) = args.iter().find(|arg| arg.callback.is_some())
    {
        errors.spanned(
            &arg.ident,
            "callback arguments are for unary methods: a streaming method cannot hold a \
             brokered service for the length of its streams",
        );
    }
    let mut tags = std::collections::HashMap::new();
    for arg in &args {
        if let Some(first) = tags.insert(arg.field.tag, &arg.ident) {
            errors.spanned(
                &arg.ident,
                format!(
                    "arguments `{first}` and `{}` both have field number {}: give each its own \
                     `#[field(tag = …)]`",
                    arg.ident, arg.field.tag
                ),
            );
        }
        if arg.field.tag == 0
            || arg.field.tag > 536_870_911
            || (19_000..20_000).contains(&arg.field.tag)
        {
            errors.spanned(
                &arg.ident,
                format!(
                    "field number {} is not allowed in protobuf: use 1 to 536870911, outside \
                     19000 to 19999",
                    arg.field.tag
                ),
            );
        }
    }
    let rpc_attr = rpc_attribute(&function.attrs, errors);
    let rpc = rpc_attr
        .name
        .as_ref()
        .map_or_else(|| names::rpc_name(ident), |name| name.value.clone());
    if !names::is_proto_identifier(&rpc) {
        errors.spanned(
            ident,
            format!("`{ident}` gives no usable gRPC method name (`{rpc}`): rename the method"),
        );
        return None;
    }
    let output = output?;
    let message = |suffix: &str| Ident::new(&format!("{rpc}{suffix}"), Span::call_site());
    let (mut request, mut response) = (message("Request"), message("Response"));
    let mut messages = Messages::Generated;
    if rpc_attr.whole {
        // The one argument is the request message, the result the response message.
        let arg_message = match args.as_slice() {
            [arg]
                if arg.callback.is_none()
                    && arg.field.ty.label == crate::model::Label::Singular
                    && kind == MethodKind::Unary =>
            {
                arg.field.ty.message().cloned()
            }
            _ => None,
        };
        let result_message = output
            .value
            .as_ref()
            .filter(|value| value.ty.label == crate::model::Label::Singular)
            .and_then(|value| value.ty.message().cloned());
        match (arg_message, result_message) {
            (Some(arg), Some(result)) => {
                request = Ident::new(&crate::model::last_segment(&arg), Span::call_site());
                response = Ident::new(&crate::model::last_segment(&result), Span::call_site());
                messages = Messages::Whole {
                    request: arg,
                    response: result,
                };
            }
            _ => {
                errors.spanned(
                    ident,
                    "`#[rpc(whole)]` methods take one message struct (deriving `prost::Message`) \
                     as the whole request and return one as the whole response: \
                     `async fn m(&self, request: MRequest) -> Result<MResponse, E>`",
                );
                return None;
            }
        }
    }
    let mut sig = sig.clone();
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            typed.attrs.retain(|attr| !attr.path().is_ident("field"));
        }
    }
    Some(Method {
        ident: ident.clone(),
        sig,
        request,
        response,
        rpc: Named {
            value: rpc,
            span: rpc_attr.name.map_or(ident.span(), |name| name.span),
        },
        kind,
        args,
        output,
        messages,
        docs: crate::model::docs(&function.attrs),
    })
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

/// What `#[field(…)]` on an argument says.
#[derive(Default)]
struct FieldAttribute {
    tag: Option<u32>,
    name: Option<String>,
}

/// `#[field(tag = 3, name = "value")]`: the argument's field number and name in the request.
fn field_attribute(attrs: &[syn::Attribute], errors: &mut Errors) -> FieldAttribute {
    let mut found = FieldAttribute::default();
    for attr in attrs {
        if !attr.path().is_ident("field") {
            errors.spanned(
                attr,
                "the only attribute plugin interface arguments take is \
                 `#[field(tag = N, name = \"…\")]`",
            );
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("tag") {
                let value: syn::LitInt = meta.value()?.parse()?;
                found.tag = Some(value.base10_parse()?);
                Ok(())
            } else if meta.path.is_ident("name") {
                let value: LitStr = meta.value()?.parse()?;
                if !names::is_proto_identifier(&value.value()) {
                    return Err(meta.error("the field name must be a protobuf identifier"));
                }
                found.name = Some(value.value());
                Ok(())
            } else {
                Err(meta.error("#[field] takes `tag = N` and `name = \"…\"`"))
            }
        });
        if let Err(err) = parsed {
            errors.push(err);
        }
    }
    found
}

/// The interface of a callback argument, `impl OtherInterface` (`Send`, `Sync` and `'static` may
/// be repeated; every interface trait has them already).
fn callback_trait(bounds: &syn::TypeImplTrait) -> syn::Result<Path> {
    let mut interface = None;
    for bound in &bounds.bounds {
        match bound {
            syn::TypeParamBound::Trait(bound)
                if bound.path.is_ident("Send") || bound.path.is_ident("Sync") => {}
            syn::TypeParamBound::Lifetime(lifetime) if lifetime.ident == "static" => {}
            syn::TypeParamBound::Trait(bound)
                if interface.is_none()
                    && bound.lifetimes.is_none()
                    && matches!(bound.modifier, syn::TraitBoundModifier::None)
                    && bound
                        .path
                        .segments
                        .last()
                        .is_some_and(|last| last.arguments.is_empty()) =>
            {
                interface = Some(bound.path.clone());
            }
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "a callback argument is `impl Interface`, where `Interface` is another \
                     #[plugin_interface] trait (served by the caller through the broker)",
                ));
            }
        }
    }
    interface.ok_or_else(|| {
        syn::Error::new_spanned(
            bounds,
            "name the #[plugin_interface] trait of the callback: `impl Interface`",
        )
    })
}

/// `Result<T, E>`: `T` travels as the response's `value`, `E` carries failures.
fn output(sig: &syn::Signature, errors: &mut Errors) -> Option<Output> {
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
