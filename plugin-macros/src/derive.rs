//! `#[derive(Proto)]`: the `.proto` definition of a prost message struct or enum, read from the
//! same `#[prost(…)]` attributes prost's derives read, and for an enum what lets it travel as a
//! protobuf enum in a `#[plugin_interface]` signature.

use std::fmt::Write;

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Expr, Fields, GenericArgument, LitStr, Path, PathArguments, Type};

use crate::codegen::proto::comment;
use crate::errors::Errors;
use crate::model::{docs, last_segment};

/// The expansion, or the errors.
pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let krate = crate_path(&input, &mut errors);
    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "`go_plugin::Proto` takes no generic types: a .proto message has one fixed shape",
        );
    }
    let ident = &input.ident;
    let name = crate::names::plain(ident);
    let expanded = match &input.data {
        Data::Struct(data) => message(&krate, &input, &name, &data.fields, &mut errors),
        Data::Enum(data) => enumeration(&krate, &input, &name, data, &mut errors),
        Data::Union(_) => {
            errors.spanned(
                ident,
                "`go_plugin::Proto` goes on a struct deriving `prost::Message` or an enum \
                 deriving `prost::Enumeration`",
            );
            TokenStream::new()
        }
    };
    errors.finish(expanded)
}

/// `#[proto(crate = "…")]`, else the runtime as Cargo.toml names it.
fn crate_path(input: &DeriveInput, errors: &mut Errors) -> Path {
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("proto"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value: LitStr = meta.value()?.parse()?;
                krate = Some(value.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error("the one `proto` option is `crate = \"…\"`"))
            }
        });
        errors.ok(result);
    }
    krate.unwrap_or_else(crate::parse::runtime_path)
}

/// A struct: its `message` text, and the types its fields refer to.
fn message(
    krate: &Path,
    input: &DeriveInput,
    name: &str,
    fields: &Fields,
    errors: &mut Errors,
) -> TokenStream {
    let Fields::Named(fields) = fields else {
        errors.spanned(
            &input.ident,
            "`go_plugin::Proto` needs named fields, as `prost::Message` does",
        );
        return TokenStream::new();
    };
    let mut lines = Vec::new();
    let mut refers_to: Vec<Path> = Vec::new();
    for field in &fields.named {
        let Some(attr) = field
            .attrs
            .iter()
            .find(|attr| attr.path().is_ident("prost"))
        else {
            continue;
        };
        let Some(prost) = errors.ok(ProstField::parse(attr)) else {
            continue;
        };
        let field_name = field
            .ident
            .as_ref()
            .map(crate::names::plain)
            .unwrap_or_default();
        let Some((line, types)) = errors.ok(prost.line(&field.ty, &field_name, attr)) else {
            continue;
        };
        for path in types {
            if !refers_to.iter().any(|known| known == &path) {
                refers_to.push(path);
            }
        }
        lines.push((prost.tag, docs(&field.attrs), line));
    }
    lines.sort_by_key(|(tag, _, _)| *tag);

    let mut text = String::new();
    comment(&mut text, "", &docs(&input.attrs));
    let _ = writeln!(text, "message {name} {{");
    for (_, docs, line) in &lines {
        comment(&mut text, "  ", docs);
        let _ = writeln!(text, "  {line}");
    }
    text.push_str("}\n");

    let ident = &input.ident;
    let describe = refers_to.iter().map(|path| {
        let path_text = crate::model::path_text(path);
        quote! {
            (&&#krate::__private::proto::Describe::<#path>::NEW).describe(definitions, #path_text);
        }
    });
    quote! {
        impl #krate::__private::proto::ProtoType for #ident {
            const NAME: &'static str = #name;

            fn define(definitions: &mut #krate::__private::proto::Definitions) {
                #[allow(unused_imports)]
                use #krate::__private::proto::{Described as _, Undescribed as _};
                definitions.text(#text);
                #(#describe)*
            }
        }
    }
}

/// What one field's `#[prost(…)]` says.
struct ProstField {
    kind: Kind,
    label: &'static str,
    tag: u32,
}

enum Kind {
    Scalar(String),
    Message,
    Enumeration(Path),
    Map { key: String, value: MapValue },
}

enum MapValue {
    Scalar(String),
    Message,
    Enumeration(Path),
}

const SCALARS: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];

impl ProstField {
    fn parse(attr: &syn::Attribute) -> syn::Result<Self> {
        let mut kind = None;
        let mut label = "";
        let mut tag = None;
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "optional" => label = "optional ",
                "boxed" => {}
                "repeated" => label = "repeated ",
                "required" => {
                    return Err(meta.error("proto3 has no `required` fields: leave it out"));
                }
                "packed" | "default" | "json_name" => {
                    let _: Expr = meta.value()?.parse()?;
                }
                "tag" => {
                    let value: LitStr = meta.value()?.parse()?;
                    tag = Some(value.value().parse::<u32>().map_err(|_| {
                        syn::Error::new_spanned(&value, "a tag is a positive number")
                    })?);
                }
                "message" => kind = Some(Kind::Message),
                "enumeration" => {
                    let value: LitStr = meta.value()?.parse()?;
                    kind = Some(Kind::Enumeration(value.parse()?));
                }
                "map" | "hash_map" | "btree_map" => {
                    let value: LitStr = meta.value()?.parse()?;
                    kind = Some(map_kind(&value)?);
                }
                "oneof" | "group" | "tags" => {
                    return Err(meta.error(format!(
                        "`go_plugin::Proto` does not describe `{key}` fields yet: use a message \
                         field, or leave this type without `go_plugin::Proto` and define it in \
                         the .proto text yourself"
                    )));
                }
                scalar if SCALARS.contains(&scalar) => {
                    if meta.input.peek(syn::Token![=]) {
                        let _: Expr = meta.value()?.parse()?;
                    }
                    kind = Some(Kind::Scalar(scalar.to_owned()));
                }
                _ => return Err(meta.error("not a `prost` field option this derive knows")),
            }
            Ok(())
        })?;
        let (Some(kind), Some(tag)) = (kind, tag) else {
            return Err(syn::Error::new_spanned(
                attr,
                "a prost field says its type and its tag: `#[prost(string, tag = \"1\")]`",
            ));
        };
        Ok(Self { kind, label, tag })
    }

    /// The field's line in the message, and the message and enum types it refers to.
    fn line(
        &self,
        ty: &Type,
        name: &str,
        attr: &syn::Attribute,
    ) -> syn::Result<(String, Vec<Path>)> {
        let (ty_text, label, refers_to) = match &self.kind {
            Kind::Scalar(scalar) => (scalar.clone(), self.label, Vec::new()),
            Kind::Enumeration(path) => (last_segment(path), self.label, vec![path.clone()]),
            Kind::Message => {
                let path = innermost(ty).ok_or_else(|| {
                    syn::Error::new_spanned(ty, "a message field's type is a message struct")
                })?;
                // Message fields have presence already; proto3 `optional` is for scalars.
                let label = if self.label == "repeated " {
                    "repeated "
                } else {
                    ""
                };
                (last_segment(&path), label, vec![path])
            }
            Kind::Map { key, value } => {
                let (value_text, refers_to) = match value {
                    MapValue::Scalar(scalar) => (scalar.clone(), Vec::new()),
                    MapValue::Enumeration(path) => (last_segment(path), vec![path.clone()]),
                    MapValue::Message => {
                        let path = map_value(ty).ok_or_else(|| {
                            syn::Error::new_spanned(
                                attr,
                                "a map of messages is a `HashMap<K, V>` or `BTreeMap<K, V>` of a \
                                 message struct",
                            )
                        })?;
                        (last_segment(&path), vec![path])
                    }
                };
                (format!("map<{key}, {value_text}>"), "", refers_to)
            }
        };
        Ok((
            format!("{label}{ty_text} {name} = {};", self.tag),
            refers_to,
        ))
    }
}

/// `"string, int64"`, `"string, message"`, `"uint32, enumeration(Kind)"`.
fn map_kind(value: &LitStr) -> syn::Result<Kind> {
    let text = value.value();
    let Some((key, map_value)) = text.split_once(',') else {
        return Err(syn::Error::new_spanned(
            value,
            "a map says `\"key, value\"`",
        ));
    };
    let map_value = map_value.trim();
    let map_value = if map_value == "message" {
        MapValue::Message
    } else if let Some(path) = map_value
        .strip_prefix("enumeration(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        MapValue::Enumeration(syn::parse_str(path.trim())?)
    } else {
        MapValue::Scalar(map_value.to_owned())
    };
    Ok(Kind::Map {
        key: key.trim().to_owned(),
        value: map_value,
    })
}

/// The message type inside `Option<…>`, `Vec<…>` and `Box<…>`.
fn innermost(ty: &Type) -> Option<Path> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if matches!(last.ident.to_string().as_str(), "Option" | "Vec" | "Box")
        && let PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(GenericArgument::Type(inner)) = args.args.first()
    {
        return innermost(inner);
    }
    Some(path.path.clone())
}

/// `V` of a `HashMap<K, V>` or `BTreeMap<K, V>`.
fn map_value(ty: &Type) -> Option<Path> {
    let Type::Path(path) = ty else {
        return None;
    };
    let PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.iter().nth(1)? {
        GenericArgument::Type(value) => innermost(value),
        _ => None,
    }
}

/// An enum of unit variants numbered from 0: its `enum` text, and the codec that sends it as
/// its number (through the conversions `prost::Enumeration` derives).
fn enumeration(
    krate: &Path,
    input: &DeriveInput,
    name: &str,
    data: &syn::DataEnum,
    errors: &mut Errors,
) -> TokenStream {
    let prefix = name.to_shouty_snake_case();
    let mut text = String::new();
    comment(&mut text, "", &docs(&input.attrs));
    let _ = writeln!(text, "enum {name} {{");
    for (index, variant) in data.variants.iter().enumerate() {
        if !matches!(variant.fields, Fields::Unit) {
            errors.spanned(
                variant,
                "a protobuf enum is a list of names: variants take no fields (use a message \
                 struct for data)",
            );
            continue;
        }
        let Some(number) = discriminant(variant) else {
            errors.spanned(
                variant,
                format!(
                    "give each variant its number, as `prost::Enumeration` needs: `{} = {index}`",
                    variant.ident
                ),
            );
            continue;
        };
        if index == 0 && number != 0 {
            errors.spanned(
                variant,
                "a proto3 enum's first value is 0, the value of a field that was not sent: add a \
                 first variant `= 0` (for example `Unspecified = 0`)",
            );
        }
        comment(&mut text, "  ", &docs(&variant.attrs));
        let variant_name = crate::names::plain(&variant.ident).to_shouty_snake_case();
        let _ = writeln!(text, "  {prefix}_{variant_name} = {number};");
    }
    text.push_str("}\n");

    let ident = &input.ident;
    let wire = quote!(#krate::__private::wire);
    let prost = quote!(#krate::__private::prost);
    quote! {
        impl #wire::Element for #ident {
            fn encode(tag: u32, value: &Self, buf: &mut impl #prost::bytes::BufMut) {
                #wire::enumeration::encode(tag, value, buf);
            }
            fn merge(
                wire_type: #prost::encoding::WireType,
                value: &mut Self,
                buf: &mut impl #prost::bytes::Buf,
                ctx: #prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), #prost::DecodeError> {
                #wire::enumeration::merge(wire_type, value, buf, ctx)
            }
            fn encoded_len(tag: u32, value: &Self) -> usize {
                #wire::enumeration::encoded_len(tag, value)
            }
            fn encode_repeated(tag: u32, values: &[Self], buf: &mut impl #prost::bytes::BufMut) {
                #wire::enumeration::encode_repeated(tag, values, buf);
            }
            fn merge_repeated(
                wire_type: #prost::encoding::WireType,
                values: &mut ::std::vec::Vec<Self>,
                buf: &mut impl #prost::bytes::Buf,
                ctx: #prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), #prost::DecodeError> {
                #wire::enumeration::merge_repeated(wire_type, values, buf, ctx)
            }
            fn encoded_len_repeated(tag: u32, values: &[Self]) -> usize {
                #wire::enumeration::encoded_len_repeated(tag, values)
            }
        }

        impl #krate::__private::proto::ProtoType for #ident {
            const NAME: &'static str = #name;
            const ENUM: bool = true;

            fn define(definitions: &mut #krate::__private::proto::Definitions) {
                definitions.text(#text);
            }
        }
    }
}

/// A variant's number when it is written as an integer literal, possibly negative.
fn discriminant(variant: &syn::Variant) -> Option<i64> {
    let (_, expr) = variant.discriminant.as_ref()?;
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(int),
                ..
            }) => int.base10_parse::<i64>().ok().map(|value| -value),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    fn expand(input: proc_macro2::TokenStream) -> String {
        match super::expand(syn::parse2(input).expect("test input parses")) {
            Ok(tokens) => tokens.to_string(),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn a_message_is_described_from_its_prost_attributes() {
        let out = expand(quote::quote! {
            /// A point.
            struct Point {
                #[prost(sint64, tag = "2")]
                y: i64,
                #[prost(int32, tag = "1")]
                x: i32,
                #[prost(string, optional, tag = "3")]
                label: Option<String>,
                #[prost(message, repeated, tag = "4")]
                children: Vec<crate::Point>,
                #[prost(map = "string, enumeration(Color)", tag = "5")]
                colors: HashMap<String, i32>,
                #[prost(enumeration = "Color", tag = "6")]
                color: i32,
                #[prost(message, optional, boxed, tag = "7")]
                next: Option<Box<Point>>,
                #[prost(bytes = "vec", tag = "8")]
                data: Vec<u8>,
            }
        });
        assert!(!out.starts_with("error"), "{out}");
        assert!(
            out.contains(
                "\"// A point.\\nmessage Point {\\n  int32 x = 1;\\n  sint64 y = 2;\\n  optional \
                 string label = 3;\\n  repeated Point children = 4;\\n  map<string, Color> \
                 colors = 5;\\n  Color color = 6;\\n  Point next = 7;\\n  bytes data = 8;\\n}\\n\""
            ),
            "{out}"
        );
    }

    #[test]
    fn enums_are_numbered_from_zero_with_prefixed_names() {
        let out = expand(quote::quote! {
            enum Color { Unspecified = 0, DarkRed = 1, Blue = -2 }
        });
        assert!(
            out.contains(
                "\"enum Color {\\n  COLOR_UNSPECIFIED = 0;\\n  COLOR_DARK_RED = 1;\\n  COLOR_BLUE \
                 = -2;\\n}\\n\""
            ),
            "{out}"
        );
        let out = expand(quote::quote! { enum Color { Red = 1 } });
        assert!(out.contains("first value is 0"), "{out}");
        let out = expand(quote::quote! { enum Color { Red } });
        assert!(out.contains("give each variant its number"), "{out}");
        let out = expand(quote::quote! { enum Shape { Circle(f64) } });
        assert!(out.contains("variants take no fields"), "{out}");
    }
}
