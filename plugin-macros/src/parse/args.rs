//! A method's arguments: each one a field of the request message, a stream of them, or a
//! callback served through the broker.

use std::collections::HashMap;

use syn::{FnArg, Ident, LitStr, Pat, PatType, Path, Type};

use crate::errors::Errors;
use crate::model::{Arg, Element, Field, Label, ProtoType, Scalar};
use crate::names;
use crate::types::{self, Mapped};

/// The arguments after `&self`, and whether they are a request stream.
pub(super) fn arguments<'a>(
    sig: &syn::Signature,
    inputs: impl Iterator<Item = &'a FnArg>,
    errors: &mut Errors,
) -> (Vec<Arg>, bool) {
    let mut args = Vec::new();
    let mut streamed = false;
    let mut count = 0;
    for (position, input) in (1..).zip(inputs) {
        count += 1;
        let FnArg::Typed(typed) = input else {
            continue;
        };
        streamed |= types::stream_item(&typed.ty).is_some();
        args.extend(argument(position, typed, errors));
    }
    if streamed && count > 1 {
        errors.spanned(
            &sig.inputs,
            "a method that takes a `Stream<T>` takes nothing else, since each request message \
             carries one item: put the other values in the items, or in a method of their own",
        );
    }
    (args, streamed)
}

/// The argument at `position` (from 1): field number `position` unless `#[field]` says
/// otherwise.
fn argument(position: u32, typed: &PatType, errors: &mut Errors) -> Option<Arg> {
    let field_attr = field_attribute(&typed.attrs, errors);
    let name = argument_name(&typed.pat, errors);
    let callback = match &*typed.ty {
        Type::ImplTrait(bounds) => errors.ok(callback_trait(bounds)),
        _ => None,
    };
    let mapped = match (&callback, types::stream_item(&typed.ty)) {
        (_, Some(item)) => types::map(item),
        // The field carries the broker id the callback is served at.
        (Some(_), None) => Ok(Mapped::Field(ProtoType {
            label: Label::Singular,
            element: Element::Scalar(Scalar::Uint32),
        })),
        // Not a callback: `callback_trait` said why.
        (None, None) if matches!(&*typed.ty, Type::ImplTrait(_)) => return None,
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
    let (ident, proto) = (name?, ty?);
    let field_name = field_attr.name.unwrap_or_else(|| names::plain(&ident));
    Some(Arg {
        field: Field {
            ident: names::field_ident(&field_name, ident.span()),
            name: field_name,
            tag: field_attr.tag.unwrap_or(position),
            ty: proto,
        },
        ident,
        callback,
    })
}

/// The argument's name, which becomes its field's name.
fn argument_name(pat: &Pat, errors: &mut Errors) -> Option<Ident> {
    match pat {
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
                "arguments must be plain names, like `key: String`, since each name becomes a \
                 protobuf field name",
            );
            None
        }
    }
}

/// Field numbers must be distinct and ones protobuf allows.
pub(super) fn field_numbers(args: &[Arg], errors: &mut Errors) {
    let mut tags = HashMap::new();
    for arg in args {
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
