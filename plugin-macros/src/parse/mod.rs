//! Reads the attribute arguments and the trait into the model, rejecting what cannot travel over
//! gRPC: the trait here, each method in `method`, its arguments in `args` and its result in
//! `output`. Rules that span several methods are in `check.rs`.

mod args;
mod method;
mod output;

use proc_macro_crate::FoundCrate;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{
    Expr, ExprLit, Ident, ItemTrait, Lit, LitStr, Meta, Path, Token, TraitItem, TypeParamBound,
};

use crate::errors::Errors;
use crate::model::{GeneratedItems, Interface, Named};
use crate::names;

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
                let method = method::method(function, &mut method_errors);
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
