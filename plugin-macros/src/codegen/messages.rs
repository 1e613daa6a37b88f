//! The request and response messages of every method, in one module named after the trait.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::{field_type, inner_visibility, needs_glob_import, rebase};
use crate::model::{Element, Field, Interface, Label, Method, Scalar};

/// `pub mod kv_messages { pub struct GetRequest { … } … }`.
pub(super) fn module(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let module = &interface.items.messages;
    let trait_name = &interface.item.ident;
    let inner_vis = inner_visibility(vis);
    let krate = rebase(&interface.krate);

    let structs = interface
        .methods
        .iter()
        .filter(|method| method.generates_messages())
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
            );
            quote!(#request #response)
        });

    let uses_outer_names =
        needs_glob_import(&interface.krate) || interface.user_types().any(needs_glob_import);
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
) -> TokenStream {
    let fields: Vec<(&Field, String)> = fields.collect();
    let private = quote!(#krate::__private);
    let declarations = fields.iter().map(|(field, doc)| {
        let ident = &field.ident;
        let ty = field_type(field);
        quote! {
            #[doc = #doc]
            #vis #ident: #ty,
        }
    });
    // Written in tag order, as prost and protoc write them.
    let mut by_tag: Vec<&(&Field, String)> = fields.iter().collect();
    by_tag.sort_by_key(|(field, _)| field.tag);
    let message_name = name.to_string();
    let (buf, wire_type, ctx, tag, error) = (
        super::local("buf"),
        super::local("wire_type"),
        super::local("ctx"),
        super::local("tag"),
        super::local("error"),
    );
    // Each use of a message or enum field is reported at the field's type, so that a type
    // which cannot travel is named where the user wrote it.
    let at_type = |field: &Field, tokens: TokenStream| match field.ty.message() {
        Some(path) => super::respan(tokens, path.span()),
        None => tokens,
    };
    let field_codec = |field: &Field| {
        let codec = field_codec(&private, field);
        quote!(<#codec as #private::wire::Field>)
    };
    let encode = by_tag.iter().map(|(field, _)| {
        let (codec, ident, tag) = (field_codec(field), &field.ident, field.tag);
        at_type(field, quote!(#codec::encode(#tag, &self.#ident, #buf);))
    });
    let merge = by_tag.iter().map(|(field, _)| {
        let (codec, ident, tag, name) = (field_codec(field), &field.ident, field.tag, &field.name);
        let merge = at_type(
            field,
            quote!(#codec::merge(#wire_type, &mut self.#ident, #buf, #ctx)),
        );
        quote! {
            #tag => #merge.map_err(|mut #error| {
                #error.push(#message_name, #name);
                #error
            }),
        }
    });
    let encoded_len = by_tag.iter().map(|(field, _)| {
        let (codec, ident, tag) = (field_codec(field), &field.ident, field.tag);
        at_type(field, quote!(+ #codec::encoded_len(#tag, &self.#ident)))
    });
    // Field by field through the runtime's codecs rather than prost's derive: the derive needs
    // each field's kind written out, and `kind: Kind` may be a message or an enum.
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::clone::Clone,
            ::core::cmp::PartialEq,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #vis struct #name {
            #(#declarations)*
        }

        impl #private::prost::Message for #name {
            fn encode_raw(&self, #buf: &mut impl #private::prost::bytes::BufMut) {
                #(#encode)*
            }

            fn merge_field(
                &mut self,
                #tag: u32,
                #wire_type: #private::prost::encoding::WireType,
                #buf: &mut impl #private::prost::bytes::Buf,
                #ctx: #private::prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), #private::prost::DecodeError> {
                match #tag {
                    #(#merge)*
                    _ => #private::prost::encoding::skip_field(#wire_type, #tag, #buf, #ctx),
                }
            }

            fn encoded_len(&self) -> usize {
                0 #(#encoded_len)*
            }

            fn clear(&mut self) {
                *self = ::core::default::Default::default();
            }
        }
    }
}

/// The runtime codec of a field: `Singular<Str>`, `Optional<User<Point>, _>`, `HashMapOf<…>`, ….
/// The `_` is the value's Rust type, which the field's own type gives.
fn field_codec(private: &TokenStream, field: &Field) -> TokenStream {
    let element = element_codec(private, &field.ty.element);
    match (field.ty.label, &field.ty.element) {
        (Label::Singular, Element::Scalar(_)) => quote!(#private::wire::Singular<#element>),
        // A message or enum argument is held as `Option`, as prost holds message fields.
        (Label::Singular | Label::Optional, _) => quote!(#private::wire::Optional<#element, _>),
        (Label::Repeated, _) => quote!(#private::wire::Repeated<#element, _>),
        (Label::Map { key, btree }, _) => {
            let key = element_codec(private, &Element::Scalar(key));
            if btree {
                quote!(#private::wire::BTreeMapOf<#key, #element, _>)
            } else {
                quote!(#private::wire::HashMapOf<#key, #element, _>)
            }
        }
    }
}

fn element_codec(private: &TokenStream, element: &Element) -> TokenStream {
    let scalar = match element {
        Element::Message(path) => {
            let path = rebase(path);
            return quote_spanned!(path.span()=> #private::wire::User<#path>);
        }
        Element::Scalar(scalar) => scalar,
    };
    let codec = match scalar {
        Scalar::String => "Str",
        Scalar::Bytes => "Bytes",
        Scalar::Bool => "Bool",
        Scalar::Int32 => "Int32",
        Scalar::Int64 => "Int64",
        Scalar::Uint32 => "Uint32",
        Scalar::Uint64 => "Uint64",
        Scalar::Float => "Float",
        Scalar::Double => "Double",
    };
    let codec = Ident::new(codec, proc_macro2::Span::call_site());
    quote!(#private::wire::#codec)
}
