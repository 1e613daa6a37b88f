//! Which protobuf type a Rust argument or return type travels as.
//!
//! Types are recognised by how they are written (the last path segment), since a macro cannot
//! see through type aliases: `Vec<u8>` is `bytes`, but an alias of it is taken for a message.

use syn::{GenericArgument, PathArguments, Type, TypePath};

use crate::model::{Element, Label, ProtoType, Scalar};

/// The protobuf form of a Rust type.
pub(crate) enum Mapped {
    /// `()`: nothing to send.
    Unit,
    /// A field of this type.
    Field(ProtoType),
}

const SUPPORTED: &str = "supported types are String, Vec<u8>, bool, i32, i64, u32, u64, f32, \
                         f64, Option<T>, Vec<T>, HashMap<K, V> and BTreeMap<K, V>, and structs \
                         deriving `prost::Message`";

/// Maps `ty` to its protobuf form, or explains why it has none.
pub(crate) fn map(ty: &Type) -> syn::Result<Mapped> {
    match ty {
        Type::Paren(inner) => map(&inner.elem),
        Type::Group(inner) => map(&inner.elem),
        Type::Tuple(tuple) if tuple.elems.is_empty() => Ok(Mapped::Unit),
        Type::Tuple(_) => Err(error(
            ty,
            "tuples have no protobuf form: pass the parts as separate arguments, or use a struct \
             deriving `prost::Message`",
        )),
        Type::Reference(reference) => Err(error(
            ty,
            format!(
                "values travel over the network, so they must be owned: write `{}` instead",
                owned(&reference.elem)
            ),
        )),
        Type::Array(_) | Type::Slice(_) => Err(error(
            ty,
            "arrays and slices have no protobuf form: use `Vec<T>` (or `Vec<u8>` for bytes)",
        )),
        Type::Path(path) if path.qself.is_none() => map_path(path),
        _ => Err(error(
            ty,
            format!("this type has no protobuf form; {SUPPORTED}"),
        )),
    }
}

fn map_path(ty: &TypePath) -> syn::Result<Mapped> {
    let Some(last) = ty.path.segments.last() else {
        return Err(error(
            ty,
            format!("this type has no protobuf form; {SUPPORTED}"),
        ));
    };
    let name = last.ident.to_string();
    let generic = match &last.arguments {
        PathArguments::None => None,
        PathArguments::AngleBracketed(args) => match (args.args.len(), args.args.first()) {
            (1, Some(GenericArgument::Type(inner))) => Some(inner),
            _ => None,
        },
        PathArguments::Parenthesized(_) => None,
    };
    let has_arguments = !matches!(last.arguments, PathArguments::None);

    if ty
        .path
        .segments
        .first()
        .is_some_and(|first| first.ident == "Self")
    {
        return Err(error(
            ty,
            format!("`Self` types have no protobuf form; {SUPPORTED}"),
        ));
    }
    if let Some(advice) = unsupported(&name) {
        return Err(error(ty, advice));
    }
    if matches!(name.as_str(), "HashMap" | "BTreeMap") {
        return map_type(ty, &last.arguments, name == "BTreeMap");
    }
    let scalar = |scalar| Ok(field(Label::Singular, Element::Scalar(scalar)));
    match (name.as_str(), generic) {
        ("Vec", Some(inner)) => vec(ty, inner),
        ("Option", Some(inner)) => option(ty, inner),
        _ if has_arguments => Err(generic_error(ty)),
        ("String", _) => scalar(Scalar::String),
        ("bool", _) => scalar(Scalar::Bool),
        ("i32", _) => scalar(Scalar::Int32),
        ("i64", _) => scalar(Scalar::Int64),
        ("u32", _) => scalar(Scalar::Uint32),
        ("u64", _) => scalar(Scalar::Uint64),
        ("f32", _) => scalar(Scalar::Float),
        ("f64", _) => scalar(Scalar::Double),
        ("Self", _) => Err(error(
            ty,
            format!("`Self` has no protobuf form; {SUPPORTED}"),
        )),
        _ => Ok(field(Label::Singular, Element::Message(ty.path.clone()))),
    }
}

/// `HashMap<K, V>` / `BTreeMap<K, V>`: a string, bool or integer key, and a singular value.
fn map_type(ty: &TypePath, arguments: &PathArguments, btree: bool) -> syn::Result<Mapped> {
    let types: Vec<&Type> = match arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let [key, value] = types.as_slice() else {
        return Err(error(
            ty,
            "a map takes a key type and a value type: `HashMap<K, V>`",
        ));
    };
    let key = match map(key)? {
        Mapped::Field(ProtoType {
            label: Label::Singular,
            element: Element::Scalar(scalar),
        }) if !matches!(scalar, Scalar::Bytes | Scalar::Float | Scalar::Double) => scalar,
        _ => {
            return Err(error(
                key,
                "protobuf map keys are strings, bools or integers: use `String`, `bool`, `i32`, \
                 `i64`, `u32` or `u64`",
            ));
        }
    };
    match map(value)? {
        Mapped::Field(ProtoType {
            label: Label::Singular,
            element,
        }) => Ok(field(Label::Map { key, btree }, element)),
        _ => Err(error(
            value,
            "a map value is one value: no `Option`, `Vec` or nested map (wrap it in a struct \
             deriving `prost::Message`)",
        )),
    }
}

/// `Vec<u8>` is bytes; `Vec<T>` repeats a singular `T`.
fn vec(ty: &TypePath, inner: &Type) -> syn::Result<Mapped> {
    if is_u8(inner) {
        return Ok(field(Label::Singular, Element::Scalar(Scalar::Bytes)));
    }
    match map(inner)? {
        Mapped::Field(ProtoType {
            label: Label::Singular,
            element,
        }) => Ok(field(Label::Repeated, element)),
        Mapped::Field(ProtoType {
            label: Label::Optional,
            ..
        }) => Err(error(
            ty,
            "a repeated field cannot hold missing elements: use `Vec<T>`, or a `Vec` of a struct \
             deriving `prost::Message` with an `Option` field",
        )),
        Mapped::Field(ProtoType {
            label: Label::Repeated | Label::Map { .. },
            ..
        }) => Err(error(
            ty,
            "lists of lists or maps have no protobuf form: use a `Vec` of a struct deriving \
             `prost::Message` that holds the inner one",
        )),
        Mapped::Unit => Err(error(ty, "a list of `()` carries nothing: remove it")),
    }
}

/// `Option<T>` of a singular `T`: proto3 `optional` for scalars, a message field for messages.
fn option(ty: &TypePath, inner: &Type) -> syn::Result<Mapped> {
    match map(inner)? {
        Mapped::Field(ProtoType {
            label: Label::Singular,
            element,
        }) => Ok(field(Label::Optional, element)),
        Mapped::Field(ProtoType {
            label: Label::Optional,
            ..
        }) => Err(error(
            ty,
            "`Option<Option<T>>` has no protobuf form, since a field is either set or not: use \
             `Option<T>`",
        )),
        Mapped::Field(ProtoType {
            label: Label::Repeated | Label::Map { .. },
            ..
        }) => Err(error(
            ty,
            "lists and maps have no presence in protobuf: use the `Vec` or map itself, where \
             empty means none",
        )),
        Mapped::Unit => Err(error(ty, "`Option<()>` carries nothing: use `bool`")),
    }
}

/// Advice for Rust types that look like they could travel but have no protobuf form.
fn unsupported(name: &str) -> Option<String> {
    let advice = match name {
        "u8" | "u16" => format!("protobuf has no `{name}`: use `u32`"),
        "i8" | "i16" => format!("protobuf has no `{name}`: use `i32`"),
        "usize" => "protobuf has no `usize`: use `u64`".to_owned(),
        "isize" => "protobuf has no `isize`: use `i64`".to_owned(),
        "u128" | "i128" => {
            "protobuf has no 128-bit integers: use `Vec<u8>`, or two 64-bit fields".to_owned()
        }
        "char" => "protobuf has no `char`: use `String` or `u32`".to_owned(),
        "str" => "use `String`".to_owned(),
        "IndexMap" => "use `HashMap<K, V>` or `BTreeMap<K, V>`".to_owned(),
        "HashSet" | "BTreeSet" | "IndexSet" | "VecDeque" | "LinkedList" => {
            format!("use `Vec<T>` instead of `{name}`")
        }
        "Box" | "Rc" | "Arc" | "Cow" => format!("pass the value itself instead of a `{name}`"),
        "Result" => "a `Result` can only be the return type of a method".to_owned(),
        "Stream" => "a `Stream<T>` can only be a method's one argument or what its `Result` \
                     holds"
            .to_owned(),
        _ => return None,
    };
    Some(advice)
}

fn is_u8(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_none() && path.path.is_ident("u8"),
        Type::Paren(inner) => is_u8(&inner.elem),
        Type::Group(inner) => is_u8(&inner.elem),
        _ => false,
    }
}

/// The owned type to suggest for a borrowed one.
fn owned(ty: &Type) -> String {
    match ty {
        Type::Path(path) if path.path.is_ident("str") => "String".to_owned(),
        Type::Slice(slice) if is_u8(&slice.elem) => "Vec<u8>".to_owned(),
        Type::Slice(slice) => format!("Vec<{}>", tokens(&slice.elem)),
        other => tokens(other),
    }
}

fn tokens(ty: &Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}

fn field(label: Label, element: Element) -> Mapped {
    Mapped::Field(ProtoType { label, element })
}

fn generic_error(ty: &TypePath) -> syn::Error {
    error(
        ty,
        format!(
            "generic types other than `Option` and `Vec` have no protobuf form; use a concrete \
             struct deriving `prost::Message`; {SUPPORTED}"
        ),
    )
}

fn error(tokens: impl quote::ToTokens, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new_spanned(tokens, message)
}

/// `T` of a type written `Stream<T>` (with any path before `Stream`).
pub(crate) fn stream_item(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != "Stream" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(item)) => Some(item),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(ty: &str) -> Result<(Label, String), String> {
        let ty: Type = syn::parse_str(ty).map_err(|e| e.to_string())?;
        match map(&ty).map_err(|e| e.to_string())? {
            Mapped::Unit => Ok((Label::Singular, "()".to_owned())),
            Mapped::Field(proto) => {
                let element = match &proto.element {
                    Element::Scalar(scalar) => scalar.proto_name().to_owned(),
                    Element::Message(path) => crate::model::path_text(path),
                };
                Ok((proto.label, element))
            }
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(mapped("String"), Ok((Label::Singular, "string".into())));
        assert_eq!(
            mapped("::std::string::String"),
            Ok((Label::Singular, "string".into()))
        );
        assert_eq!(mapped("Vec<u8>"), Ok((Label::Singular, "bytes".into())));
        assert_eq!(mapped("f64"), Ok((Label::Singular, "double".into())));
        assert_eq!(mapped("()"), Ok((Label::Singular, "()".into())));
    }

    #[test]
    fn labels() {
        assert_eq!(
            mapped("Option<u32>"),
            Ok((Label::Optional, "uint32".into()))
        );
        assert_eq!(
            mapped("Option<Vec<u8>>"),
            Ok((Label::Optional, "bytes".into()))
        );
        assert_eq!(
            mapped("Vec<Vec<u8>>"),
            Ok((Label::Repeated, "bytes".into()))
        );
        assert_eq!(
            mapped("Vec<crate::Point>"),
            Ok((Label::Repeated, "crate::Point".into()))
        );
        assert_eq!(
            mapped("Option<Point>"),
            Ok((Label::Optional, "Point".into()))
        );
    }

    #[test]
    fn maps() {
        assert!(
            mapped("HashMap<String, i32>").is_ok_and(|(label, _)| matches!(
                label,
                Label::Map {
                    key: Scalar::String,
                    btree: false
                }
            ))
        );
        assert!(
            mapped("std::collections::BTreeMap<u64, Point>").is_ok_and(|(label, _)| matches!(
                label,
                Label::Map {
                    key: Scalar::Uint64,
                    btree: true
                }
            ))
        );
    }

    #[test]
    fn unrepresentable() {
        for ty in [
            "Option<Option<i32>>",
            "Vec<Option<i32>>",
            "Option<Vec<i32>>",
            "Vec<Vec<i32>>",
            "HashMap<f64, i32>",
            "HashMap<String, Vec<i32>>",
            "Vec<HashMap<String, i32>>",
            "Option<BTreeMap<u32, i32>>",
            "HashMap<String>",
            "u8",
            "i16",
            "char",
            "(i32, i32)",
            "&str",
            "[u8; 4]",
            "Box<Point>",
            "Wrapper<i32>",
            "Self",
            "Self::Item",
        ] {
            assert!(mapped(ty).is_err(), "{ty} was accepted");
        }
        assert!(mapped("&str").is_err_and(|e| e.contains("`String`")));
    }
}
