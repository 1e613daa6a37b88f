//! Turns the model into Rust: the trait with `Send` futures, then one file per generated item.

mod client;
mod dynamic;
mod messages;
mod plugin;
pub(crate) mod proto;
mod server;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemTrait, ReturnType, TraitItem, Visibility};

use crate::model::{Element, Field, Interface, Label};

/// Everything `#[plugin_interface]` puts in place of the trait.
pub(crate) fn expand(interface: &Interface) -> TokenStream {
    let trait_def = trait_def(interface);
    let messages = messages::module(interface);
    let client = client::client(interface);
    let server = server::server(interface);
    let plugin = plugin::plugin(interface);
    let dynamic = dynamic::dynamic(interface);
    quote! {
        #trait_def
        #messages
        #client
        #server
        #plugin
        #dynamic
    }
}

/// What the macro emits when the trait has errors: the trait as written and the errors, so the
/// user sees those and not a cascade about missing generated items.
pub(crate) fn fallback(item: &ItemTrait, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let mut item = item.clone();
    strip_inert_attributes(&mut item);
    quote! {
        #[allow(async_fn_in_trait)]
        #item
        #errors
    }
}

/// The trait with each `async fn m(&self, …) -> R` declared as
/// `fn m(&self, …) -> impl Future<Output = R> + Send`, so generic servers can spawn its futures.
/// Implementations still write `async fn`.
fn trait_def(interface: &Interface) -> ItemTrait {
    let mut item = interface.item.clone();
    // One implementation serves concurrent calls from many tasks, and a callback argument
    // (`impl OtherInterface`) is served from a task of its own.
    if item.colon_token.is_none() {
        item.colon_token = Some(syn::Token![:](Span::call_site()));
    }
    item.supertraits
        .push(syn::parse_quote!(::core::marker::Send));
    item.supertraits
        .push(syn::parse_quote!(::core::marker::Sync));
    item.supertraits.push(syn::parse_quote!('static));
    strip_inert_attributes(&mut item);
    for trait_item in &mut item.items {
        let TraitItem::Fn(function) = trait_item else {
            continue;
        };
        let output = match &function.sig.output {
            ReturnType::Type(_, ty) => quote!(#ty),
            ReturnType::Default => quote!(()),
        };
        let span = function.sig.output.span();
        function.sig.asyncness = None;
        function.sig.output = syn::parse_quote_spanned! {span=>
            -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
        };
    }
    item
}

/// Removes `#[rpc(…)]` from methods and `#[field(…)]` from arguments: they are this macro's,
/// and mean nothing to rustc.
fn strip_inert_attributes(item: &mut ItemTrait) {
    for trait_item in &mut item.items {
        let TraitItem::Fn(function) = trait_item else {
            continue;
        };
        function.attrs.retain(|attr| !attr.path().is_ident("rpc"));
        for input in &mut function.sig.inputs {
            if let syn::FnArg::Typed(typed) = input {
                // `#[field]` is ours; anything else was reported as unsupported.
                typed.attrs.clear();
            }
        }
    }
}

/// The visibility of items inside the generated messages module that makes them as visible as
/// the trait: one level further out for relative visibilities.
fn inner_visibility(vis: &Visibility) -> TokenStream {
    match vis {
        Visibility::Public(_) => quote!(pub),
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Restricted(restricted) => {
            let path = &restricted.path;
            let first = path
                .segments
                .first()
                .map(|segment| segment.ident.to_string());
            match first.as_deref() {
                _ if path.leading_colon.is_some() => quote!(#vis),
                Some("crate") => quote!(#vis),
                Some("self") => {
                    let rest = path.segments.iter().skip(1);
                    quote!(pub(in super #(::#rest)*))
                }
                _ => quote!(pub(in super::#path)),
            }
        }
    }
}

/// A path as seen from inside the messages module: `self::` and `super::` move one level up;
/// `crate::`, `::` and plain names (found through the module's glob import) stay.
fn rebase(path: &syn::Path) -> syn::Path {
    let mut rebased = path.clone();
    let first = path
        .segments
        .first()
        .map(|segment| segment.ident.to_string());
    if path.leading_colon.is_none() {
        match first.as_deref() {
            Some("self") => rebased.segments[0].ident = syn::Ident::new("super", Span::call_site()),
            Some("super") => rebased
                .segments
                .insert(0, syn::Ident::new("super", Span::call_site()).into()),
            _ => {}
        }
    }
    rebased
}

/// Whether a path is found through the messages module's `use super::*`.
fn needs_glob_import(path: &syn::Path) -> bool {
    let first = path
        .segments
        .first()
        .map(|segment| segment.ident.to_string());
    path.leading_colon.is_none() && !matches!(first.as_deref(), Some("crate" | "self" | "super"))
}

/// The Rust type of a field in a generated message, as prost expects it.
fn field_type(field: &Field) -> TokenStream {
    let element = match &field.ty.element {
        Element::Scalar(scalar) => scalar.rust_type(),
        Element::Message(path) => {
            let path = rebase(path);
            quote!(#path)
        }
    };
    match (field.ty.label, &field.ty.element) {
        (Label::Singular, Element::Scalar(_)) => element,
        (Label::Singular | Label::Optional, _) => quote!(::core::option::Option<#element>),
        (Label::Repeated, _) => quote!(::std::vec::Vec<#element>),
        (Label::Map { key, btree }, _) => {
            let key = key.rust_type();
            if btree {
                quote!(::std::collections::BTreeMap<#key, #element>)
            } else {
                quote!(::std::collections::HashMap<#key, #element>)
            }
        }
    }
}

/// A value of the method's Rust type as the message field holds it, or `None` when the field
/// holds it as it is.
fn to_wire(field: &Field, value: TokenStream) -> Option<TokenStream> {
    match (field.ty.label, &field.ty.element) {
        (Label::Singular, Element::Message(path)) => {
            Some(quote_spanned!(path.span()=> ::core::option::Option::Some(#value)))
        }
        _ => None,
    }
}

/// A message field as the method's Rust type: an absent message becomes its default.
fn from_wire(field: &Field, value: TokenStream) -> TokenStream {
    match (field.ty.label, &field.ty.element) {
        (Label::Singular, Element::Message(path)) => {
            quote_spanned!(path.span()=> ::core::option::Option::unwrap_or_default(#value))
        }
        _ => value,
    }
}

/// A local variable name that cannot clash with the user's argument names.
fn local(name: &str) -> syn::Ident {
    syn::Ident::new(name, proc_macro2::Span::mixed_site())
}

/// `tokens` reported at `span`, so that errors about them point there; names still resolve
/// as they did (a local of the generated code stays one).
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            let located = tree.span().located_at(span);
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(located);
                tree = respanned.into();
            } else {
                tree.set_span(located);
            }
            tree
        })
        .collect()
}
