//! The `.proto` definitions of the structs and enums an interface uses, gathered at run time
//! from the types themselves, so `<Trait>Plugin::proto()` is a file that compiles as it is.
//!
//! `#[derive(go_plugin::Proto)]` implements [`ProtoType`] next to `prost::Message` or
//! `prost::Enumeration`. A type without it is still usable in an interface; the text then names
//! it in a comment for the reader to define, as `<TRAIT>_PROTO` does for every type.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt::Write;
use std::marker::PhantomData;

/// A message struct or enum whose `.proto` definition is known. Derive it with
/// `#[derive(go_plugin::Proto)]`.
pub trait ProtoType: 'static {
    /// The name in the `.proto` text: the Rust type's name.
    const NAME: &'static str;

    /// Whether it is an enum (whose `Option` fields are `optional` in proto3, as a message
    /// field need not be).
    const ENUM: bool = false;

    /// Adds this type's definition, then those of the types it refers to.
    fn define(definitions: &mut Definitions);
}

/// The definitions gathered so far, in the order they were first needed.
#[derive(Debug, Default)]
pub struct Definitions {
    defined: Vec<String>,
    by_name: HashMap<&'static str, TypeId>,
    clashes: Vec<String>,
    missing: Vec<(&'static str, &'static str)>,
}

impl Definitions {
    /// Adds `T` and what it refers to, once.
    pub fn add<T: ProtoType>(&mut self) {
        match self.by_name.get(T::NAME) {
            Some(id) if *id == TypeId::of::<T>() => {}
            Some(_) => self.clashes.push(format!(
                "two Rust types are named `{}`, and a .proto file can define only one; rename \
                 one (`{}`)",
                T::NAME,
                std::any::type_name::<T>()
            )),
            None => {
                self.by_name.insert(T::NAME, TypeId::of::<T>());
                T::define(self);
            }
        }
    }

    /// The text of one definition (`message … { … }` or `enum … { … }`), from the derive.
    pub fn text(&mut self, text: &str) {
        self.defined.push(text.to_owned());
    }

    /// A type whose definition is not known: it is named in a comment instead.
    pub fn missing(&mut self, name: &'static str, rust_type: &'static str) {
        if !self.missing.iter().any(|(known, _)| *known == name) {
            self.missing.push((name, rust_type));
        }
    }
}

/// The whole `.proto` file: the interface's own head (syntax, package, its messages), the
/// definitions of the types it uses, and its service.
pub fn file(head: &str, service: &str, gather: impl FnOnce(&mut Definitions)) -> String {
    let mut definitions = Definitions::default();
    gather(&mut definitions);
    let mut out = head.to_owned();
    for text in &definitions.defined {
        out.push('\n');
        out.push_str(text);
    }
    if !definitions.missing.is_empty() {
        out.push_str(
            "\n// These messages are Rust types without `#[derive(go_plugin::Proto)]`; define them \
             here with the same field numbers:\n",
        );
        for (name, rust_type) in &definitions.missing {
            let _ = writeln!(out, "//   {name}: the Rust type `{rust_type}`");
        }
    }
    for clash in &definitions.clashes {
        let _ = writeln!(out, "\n// Not a valid file: {clash}.");
    }
    out.push('\n');
    out.push_str(service);
    out
}

/// Picks [`ProtoType::define`] when `T` has it and a comment when not, for concrete types in
/// generated code: `(&&Describe::<T>::NEW).describe(definitions, "path::T")`.
#[derive(Debug)]
pub struct Describe<T>(PhantomData<T>);

impl<T> Describe<T> {
    /// The one value, to call `describe` on.
    pub const NEW: Self = Self(PhantomData);
}

/// The case of a type with a known definition.
pub trait Described {
    /// Adds the type's definition.
    fn describe(&self, definitions: &mut Definitions, rust_type: &'static str);
    /// The label of an `Option` field of the type.
    fn optional_label(&self) -> &'static str;
}

impl<T: ProtoType> Described for &Describe<T> {
    fn describe(&self, definitions: &mut Definitions, _rust_type: &'static str) {
        definitions.add::<T>();
    }
    fn optional_label(&self) -> &'static str {
        if T::ENUM { "optional " } else { "" }
    }
}

/// The case of a type without one.
pub trait Undescribed {
    /// Names the type in a comment.
    fn describe(&self, definitions: &mut Definitions, rust_type: &'static str);
    /// No label: a type without a definition is taken for a message.
    fn optional_label(&self) -> &'static str {
        ""
    }
}

impl<T> Undescribed for Describe<T> {
    fn describe(&self, definitions: &mut Definitions, rust_type: &'static str) {
        let name = rust_type.rsplit("::").next().unwrap_or(rust_type);
        definitions.missing(name, rust_type);
    }
}

#[cfg(test)]
// `&&` picks the impl, as in generated code: the borrow is the point.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    struct Point;
    impl ProtoType for Point {
        const NAME: &'static str = "Point";
        fn define(definitions: &mut Definitions) {
            definitions.text("message Point {\n  Point next = 1;\n}\n");
            (&&Describe::<Point>::NEW).describe(definitions, "Point");
        }
    }

    mod other {
        pub(super) struct Point;
        impl super::ProtoType for Point {
            const NAME: &'static str = "Point";
            fn define(definitions: &mut super::Definitions) {
                definitions.text("message Point {}\n");
            }
        }
    }

    struct Plain;

    #[test]
    fn definitions_come_once_and_unknown_types_are_named() {
        let text = file("HEAD\n", "SERVICE\n", |definitions| {
            (&&Describe::<Point>::NEW).describe(definitions, "Point");
            (&&Describe::<Point>::NEW).describe(definitions, "crate::Point");
            (&&Describe::<Plain>::NEW).describe(definitions, "crate::shapes::Plain");
        });
        assert_eq!(
            text,
            "HEAD\n\nmessage Point {\n  Point next = 1;\n}\n\n// These messages are Rust types \
             without `#[derive(go_plugin::Proto)]`; define them here with the same field \
             numbers:\n//   Plain: the Rust type `crate::shapes::Plain`\n\nSERVICE\n"
        );
    }

    #[test]
    fn two_types_of_one_name_are_reported() {
        let text = file("", "", |definitions| {
            definitions.add::<Point>();
            definitions.add::<other::Point>();
        });
        assert!(text.contains("two Rust types are named `Point`"), "{text}");
    }
}
