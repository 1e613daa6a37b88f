//! The request and response messages of every method, in one module named after the trait.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::{field_type, inner_visibility, needs_glob_import, rebase};
use crate::model::{Element, Field, Interface, Label, Method, Scalar, path_text};

/// `pub mod kv_messages { pub struct GetRequest { … } … }`.
pub(super) fn module(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let module = &interface.items.messages;
    let trait_name = &interface.item.ident;
    let inner_vis = inner_visibility(vis);
    let krate = rebase(&interface.krate);
    let prost_path = format!("{}::__private::prost", path_text(&krate));

    let structs = interface
        .methods
        .iter()
        .filter(|method| !method.whole)
        .map(|method| {
            let request = message(
                &krate,
                &method.request,
                &format!(
                    " The request of [`{trait_name}::{}`](super::{trait_name}::{0}).",
                    method.ident
                ),
                method
                    .args
                    .iter()
                    .map(|arg| (&arg.field, format!(" The argument `{}`.", arg.field.name))),
                &inner_vis,
                &prost_path,
            );
            let response = message(
                &krate,
                &method.response,
                &response_doc(trait_name, method),
                method
                    .output
                    .value
                    .iter()
                    .map(|value| (value, " The method's result.".to_owned())),
                &inner_vis,
                &prost_path,
            );
            quote!(#request #response)
        });

    let uses_outer_names = needs_glob_import(&interface.krate)
        || interface.methods.iter().any(|method| {
            let fields = method.args.iter().map(|arg| &arg.field);
            fields
                .chain(&method.output.value)
                .filter_map(|field| field.ty.message())
                .any(needs_glob_import)
        });
    let import = uses_outer_names.then(|| {
        quote! {
            #[allow(unused_imports)]
            use super::*;
        }
    });
    // prost-derive 0.14 writes `Some` unqualified for message fields; without this import they
    // would not compile under `#![no_implicit_prelude]`.
    let has_message_field = interface.methods.iter().any(|method| {
        let mut fields = method.args.iter().map(|arg| &arg.field);
        fields.any(is_optional_message)
            || method
                .output
                .value
                .as_ref()
                .is_some_and(is_optional_message)
    });
    let some = has_message_field.then(|| {
        quote! {
            #[allow(unused_imports)]
            use ::core::option::Option::Some;
        }
    });

    let doc = format!(
        " The protobuf messages of [`{trait_name}`](super::{trait_name}): a request and a \
         response for each method."
    );
    quote! {
        #[doc = #doc]
        #vis mod #module {
            #import
            #some
            #(#structs)*
        }
    }
}

/// A field prost declares `message, optional`.
fn is_optional_message(field: &Field) -> bool {
    matches!(field.ty.element, Element::Message(_))
        && matches!(field.ty.label, Label::Singular | Label::Optional)
}

fn response_doc(trait_name: &Ident, method: &Method) -> String {
    let link = format!(
        "[`{trait_name}::{}`](super::{trait_name}::{0})",
        method.ident
    );
    match method.output.value {
        Some(_) => format!(" The response of {link}: its successful result."),
        None => format!(" The response of {link}, which returns nothing on success."),
    }
}

fn message<'a>(
    krate: &syn::Path,
    name: &Ident,
    doc: &str,
    fields: impl Iterator<Item = (&'a Field, String)>,
    vis: &TokenStream,
    prost_path: &str,
) -> TokenStream {
    let fields = fields.map(|(field, doc)| {
        let ident = &field.ident;
        let ty = field_type(field);
        let attr = prost_attribute(field);
        quote! {
            #[doc = #doc]
            #attr
            #vis #ident: #ty,
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::clone::Clone,
            ::core::cmp::PartialEq,
            #krate::__private::prost::Message,
        )]
        #[prost(prost_path = #prost_path)]
        #vis struct #name {
            #(#fields)*
        }
    }
}

/// `#[prost(string, tag = "1")]`, `#[prost(message, optional, tag = "2")]`, ….
fn prost_attribute(field: &Field) -> TokenStream {
    let tag = field.tag.to_string();
    if let Label::Map { key, btree } = field.ty.label {
        let value = match &field.ty.element {
            Element::Scalar(scalar) => scalar.proto_name(),
            Element::Message(_) => "message",
        };
        let types = format!("{}, {value}", key.proto_name());
        return if btree {
            quote!(#[prost(btree_map = #types, tag = #tag)])
        } else {
            quote!(#[prost(map = #types, tag = #tag)])
        };
    }
    let kind = match &field.ty.element {
        Element::Scalar(Scalar::Bytes) => quote!(bytes = "vec"),
        Element::Scalar(scalar) => {
            let kind = Ident::new(scalar.proto_name(), proc_macro2::Span::call_site());
            quote!(#kind)
        }
        Element::Message(_) => quote!(message),
    };
    let label = match (field.ty.label, &field.ty.element) {
        (Label::Singular, Element::Scalar(_)) => None,
        (Label::Singular | Label::Optional, _) => Some(quote!(optional)),
        (Label::Repeated, _) => Some(quote!(repeated)),
        (Label::Map { .. }, _) => None,
    };
    let parts = [Some(kind), label, Some(quote!(tag = #tag))];
    let parts = parts.iter().flatten();
    quote!(#[prost(#(#parts),*)])
}
