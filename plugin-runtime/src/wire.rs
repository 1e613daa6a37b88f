//! How the messages `#[plugin_interface]` generates are written and read: one codec per
//! protobuf field kind, chosen by the macro from how a type is written, and [`Element`] for the
//! types it cannot tell apart by their spelling — message structs and enums.
//!
//! The generated messages implement `prost::Message` by hand through these codecs, rather than
//! with prost's derive, because the derive needs each field's kind written out (`message` or
//! `enumeration`) and a trait signature says only `point: Point` or `kind: Kind`. The scalar
//! codecs delegate to `prost::encoding`, so the bytes are the ones prost writes.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::marker::PhantomData;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};

/// A type that travels as one protobuf value: a message struct (any `prost::Message`) or an
/// enum deriving `go_plugin::Proto` beside `prost::Enumeration`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel in a plugin interface",
    label = "not a protobuf message or enum",
    note = "derive `prost::Message` for a struct, or `prost::Enumeration` and `go_plugin::Proto` \
            for an enum of unit variants"
)]
pub trait Element: Default + PartialEq + Send + Sync + Sized {
    /// Writes `value` as field `tag`.
    fn encode(tag: u32, value: &Self, buf: &mut impl BufMut);

    /// Reads one occurrence of the field into `value`.
    fn merge(
        wire_type: WireType,
        value: &mut Self,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError>;

    /// The bytes `encode` writes.
    fn encoded_len(tag: u32, value: &Self) -> usize;

    /// Writes a list: one field per value (enums override this to pack it).
    fn encode_repeated(tag: u32, values: &[Self], buf: &mut impl BufMut) {
        for value in values {
            Self::encode(tag, value, buf);
        }
    }

    /// Reads one occurrence of a repeated field, packed or not, into `values`.
    fn merge_repeated(
        wire_type: WireType,
        values: &mut Vec<Self>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut value = Self::default();
        Self::merge(wire_type, &mut value, buf, ctx)?;
        values.push(value);
        Ok(())
    }

    /// The bytes `encode_repeated` writes.
    fn encoded_len_repeated(tag: u32, values: &[Self]) -> usize {
        values
            .iter()
            .map(|value| Self::encoded_len(tag, value))
            .sum()
    }
}

// A type that is neither is reported as not an `Element`, with the note above, rather than as
// not a `prost::Message`, which hides that an enum would do.
#[diagnostic::do_not_recommend]
impl<T: Message + Default + PartialEq> Element for T {
    fn encode(tag: u32, value: &Self, buf: &mut impl BufMut) {
        prost::encoding::message::encode(tag, value, buf);
    }

    fn merge(
        wire_type: WireType,
        value: &mut Self,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        prost::encoding::message::merge(wire_type, value, buf, ctx)
    }

    fn encoded_len(tag: u32, value: &Self) -> usize {
        prost::encoding::message::encoded_len(tag, value)
    }
}

/// An enum's [`Element`] methods, written once here for the impl `go_plugin::Proto` derives.
pub mod enumeration {
    use super::*;

    /// Writes the enum's number as an `int32`.
    pub fn encode<E: Clone + Into<i32>>(tag: u32, value: &E, buf: &mut impl BufMut) {
        prost::encoding::int32::encode(tag, &value.clone().into(), buf);
    }

    /// Reads a number and takes it as the enum; a number the enum lacks is an error, since a
    /// Rust enum has no value to keep it in.
    pub fn merge<E: TryFrom<i32>>(
        wire_type: WireType,
        value: &mut E,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut number = 0;
        prost::encoding::int32::merge(wire_type, &mut number, buf, ctx)?;
        *value = known::<E>(number)?;
        Ok(())
    }

    /// Reads a packed or unpacked list of numbers.
    pub fn merge_repeated<E: TryFrom<i32>>(
        wire_type: WireType,
        values: &mut Vec<E>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let mut numbers = Vec::new();
        prost::encoding::int32::merge_repeated(wire_type, &mut numbers, buf, ctx)?;
        for number in numbers {
            values.push(known::<E>(number)?);
        }
        Ok(())
    }

    /// The bytes `encode` writes.
    pub fn encoded_len<E: Clone + Into<i32>>(tag: u32, value: &E) -> usize {
        prost::encoding::int32::encoded_len(tag, &value.clone().into())
    }

    /// Writes a list of enums packed, as protobuf does for every numeric list.
    pub fn encode_repeated<E: Clone + Into<i32>>(tag: u32, values: &[E], buf: &mut impl BufMut) {
        prost::encoding::int32::encode_packed(tag, &numbers(values), buf);
    }

    /// The bytes `encode_repeated` writes.
    pub fn encoded_len_repeated<E: Clone + Into<i32>>(tag: u32, values: &[E]) -> usize {
        prost::encoding::int32::encoded_len_packed(tag, &numbers(values))
    }

    fn numbers<E: Clone + Into<i32>>(values: &[E]) -> Vec<i32> {
        values.iter().map(|value| value.clone().into()).collect()
    }

    fn known<E: TryFrom<i32>>(number: i32) -> Result<E, DecodeError> {
        E::try_from(number).map_err(|_| {
            #[allow(deprecated)] // prost offers no other way to say why a value is invalid
            DecodeError::new(format!(
                "{number} is not a value of the enum `{}`",
                std::any::type_name::<E>()
            ))
        })
    }
}

/// How one Rust value is written: a scalar, or an [`Element`] through [`User`].
pub trait Codec {
    /// The Rust type of the value.
    type Value: Default + PartialEq;

    /// Writes `value` as field `tag`.
    fn encode(tag: u32, value: &Self::Value, buf: &mut impl BufMut);
    /// Reads one occurrence of the field into `value`.
    fn merge(
        wire_type: WireType,
        value: &mut Self::Value,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError>;
    /// The bytes `encode` writes.
    fn encoded_len(tag: u32, value: &Self::Value) -> usize;
    /// Writes a list: packed for numbers and enums, one field each for the rest.
    fn encode_repeated(tag: u32, values: &[Self::Value], buf: &mut impl BufMut);
    /// Reads one occurrence of a repeated field, packed or not.
    fn merge_repeated(
        wire_type: WireType,
        values: &mut Vec<Self::Value>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError>;
    /// The bytes `encode_repeated` writes.
    fn encoded_len_repeated(tag: u32, values: &[Self::Value]) -> usize;
}

macro_rules! scalar {
    ($(#[$doc:meta])* $codec:ident, $ty:ty, $module:ident, packed) => {
        scalar!(@codec $(#[$doc])* $codec, $ty, $module, encode_packed, encoded_len_packed);
    };
    ($(#[$doc:meta])* $codec:ident, $ty:ty, $module:ident, unpacked) => {
        scalar!(@codec $(#[$doc])* $codec, $ty, $module, encode_repeated, encoded_len_repeated);
    };
    (@codec $(#[$doc:meta])* $codec:ident, $ty:ty, $module:ident, $encode_list:ident,
     $len_list:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $codec;

        impl Codec for $codec {
            type Value = $ty;

            fn encode(tag: u32, value: &$ty, buf: &mut impl BufMut) {
                prost::encoding::$module::encode(tag, value, buf);
            }
            fn merge(
                wire_type: WireType,
                value: &mut $ty,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                prost::encoding::$module::merge(wire_type, value, buf, ctx)
            }
            fn encoded_len(tag: u32, value: &$ty) -> usize {
                prost::encoding::$module::encoded_len(tag, value)
            }
            fn encode_repeated(tag: u32, values: &[$ty], buf: &mut impl BufMut) {
                prost::encoding::$module::$encode_list(tag, values, buf);
            }
            fn merge_repeated(
                wire_type: WireType,
                values: &mut Vec<$ty>,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                prost::encoding::$module::merge_repeated(wire_type, values, buf, ctx)
            }
            fn encoded_len_repeated(tag: u32, values: &[$ty]) -> usize {
                prost::encoding::$module::$len_list(tag, values)
            }
        }
    };
}

scalar!(
    /// `string` as `String`.
    Str, String, string, unpacked
);
scalar!(
    /// `bytes` as `Vec<u8>`.
    Bytes, Vec<u8>, bytes, unpacked
);
scalar!(
    /// `bool`.
    Bool, bool, bool, packed
);
scalar!(
    /// `int32` as `i32`.
    Int32, i32, int32, packed
);
scalar!(
    /// `int64` as `i64`.
    Int64, i64, int64, packed
);
scalar!(
    /// `uint32` as `u32`.
    Uint32, u32, uint32, packed
);
scalar!(
    /// `uint64` as `u64`.
    Uint64, u64, uint64, packed
);
scalar!(
    /// `float` as `f32`.
    Float, f32, float, packed
);
scalar!(
    /// `double` as `f64`.
    Double, f64, double, packed
);

/// A message struct or enum, through its [`Element`] impl.
#[derive(Debug)]
pub struct User<T>(PhantomData<T>);

impl<T: Element> Codec for User<T> {
    type Value = T;

    fn encode(tag: u32, value: &T, buf: &mut impl BufMut) {
        T::encode(tag, value, buf);
    }
    fn merge(
        wire_type: WireType,
        value: &mut T,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        T::merge(wire_type, value, buf, ctx)
    }
    fn encoded_len(tag: u32, value: &T) -> usize {
        T::encoded_len(tag, value)
    }
    fn encode_repeated(tag: u32, values: &[T], buf: &mut impl BufMut) {
        T::encode_repeated(tag, values, buf);
    }
    fn merge_repeated(
        wire_type: WireType,
        values: &mut Vec<T>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        T::merge_repeated(wire_type, values, buf, ctx)
    }
    fn encoded_len_repeated(tag: u32, values: &[T]) -> usize {
        T::encoded_len_repeated(tag, values)
    }
}

/// One field of a generated message, by its label.
pub trait Field {
    /// The Rust type of the field.
    type Value;

    /// Writes the field (nothing when proto3 leaves it out).
    fn encode(tag: u32, value: &Self::Value, buf: &mut impl BufMut);
    /// Reads one occurrence of the field.
    fn merge(
        wire_type: WireType,
        value: &mut Self::Value,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError>;
    /// The bytes `encode` writes.
    fn encoded_len(tag: u32, value: &Self::Value) -> usize;
}

/// A proto3 field without presence: left out when it holds its default.
#[derive(Debug)]
pub struct Singular<C>(PhantomData<C>);

impl<C: Codec> Field for Singular<C> {
    type Value = C::Value;

    fn encode(tag: u32, value: &C::Value, buf: &mut impl BufMut) {
        if *value != C::Value::default() {
            C::encode(tag, value, buf);
        }
    }
    fn merge(
        wire_type: WireType,
        value: &mut C::Value,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        C::merge(wire_type, value, buf, ctx)
    }
    fn encoded_len(tag: u32, value: &C::Value) -> usize {
        if *value == C::Value::default() {
            0
        } else {
            C::encoded_len(tag, value)
        }
    }
}

/// A field with presence (`optional`, or any message field): written whenever it is `Some`.
///
/// `V` is `C`'s value type, spelled out (the macro writes `_`) so that the field's type is not a
/// projection through the codec: a type that cannot travel is then reported once, at the type,
/// rather than once more for each projection. [`Repeated`] and the map fields do the same.
#[derive(Debug)]
pub struct Optional<C, V>(PhantomData<(C, V)>);

impl<V: Default + PartialEq, C: Codec<Value = V>> Field for Optional<C, V> {
    type Value = Option<V>;

    fn encode(tag: u32, value: &Option<V>, buf: &mut impl BufMut) {
        if let Some(value) = value {
            C::encode(tag, value, buf);
        }
    }
    fn merge(
        wire_type: WireType,
        value: &mut Option<V>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        C::merge(
            wire_type,
            value.get_or_insert_with(Default::default),
            buf,
            ctx,
        )
    }
    fn encoded_len(tag: u32, value: &Option<V>) -> usize {
        value.as_ref().map_or(0, |value| C::encoded_len(tag, value))
    }
}

/// A `repeated` field.
#[derive(Debug)]
pub struct Repeated<C, V>(PhantomData<(C, V)>);

impl<V: Default + PartialEq, C: Codec<Value = V>> Field for Repeated<C, V> {
    type Value = Vec<V>;

    fn encode(tag: u32, value: &Vec<V>, buf: &mut impl BufMut) {
        C::encode_repeated(tag, value, buf);
    }
    fn merge(
        wire_type: WireType,
        value: &mut Vec<V>,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        C::merge_repeated(wire_type, value, buf, ctx)
    }
    fn encoded_len(tag: u32, value: &Vec<V>) -> usize {
        C::encoded_len_repeated(tag, value)
    }
}

macro_rules! map_field {
    ($(#[$doc:meta])* $field:ident, $map:ident, $module:ident, $($bound:path),*) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $field<K, C, V>(PhantomData<(K, C, V)>);

        impl<K: Codec, C: Codec<Value = V>, V: Default + PartialEq> Field for $field<K, C, V>
        where
            K::Value: $($bound +)*,
        {
            type Value = $map<K::Value, V>;

            fn encode(tag: u32, value: &Self::Value, buf: &mut impl BufMut) {
                prost::encoding::$module::encode(
                    |tag, key, buf| K::encode(tag, key, buf),
                    K::encoded_len,
                    |tag, value, buf| C::encode(tag, value, buf),
                    C::encoded_len,
                    tag,
                    value,
                    buf,
                );
            }
            fn merge(
                wire_type: WireType,
                value: &mut Self::Value,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                prost::encoding::wire_type::check_wire_type(WireType::LengthDelimited, wire_type)?;
                prost::encoding::$module::merge(
                    |wire_type, key, buf, ctx| K::merge(wire_type, key, buf, ctx),
                    |wire_type, value, buf, ctx| C::merge(wire_type, value, buf, ctx),
                    value,
                    buf,
                    ctx,
                )
            }
            fn encoded_len(tag: u32, value: &Self::Value) -> usize {
                prost::encoding::$module::encoded_len(K::encoded_len, C::encoded_len, tag, value)
            }
        }
    };
}

map_field!(
    /// A `map<K, V>` field as a `HashMap`.
    HashMapOf, HashMap, hash_map, Eq, Hash, Ord
);
map_field!(
    /// A `map<K, V>` field as a `BTreeMap`.
    BTreeMapOf, BTreeMap, btree_map, Eq, Hash, Ord
);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use prost::Message;

    use super::*;

    /// What prost's derive writes for the same fields, to compare bytes with.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Reference {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(int32, repeated, tag = "2")]
        numbers: Vec<i32>,
        #[prost(message, optional, tag = "3")]
        inner: Option<Inner>,
        #[prost(map = "string, int64", tag = "4")]
        counts: HashMap<String, i64>,
        #[prost(enumeration = "Color", repeated, tag = "5")]
        colors: Vec<i32>,
        #[prost(uint32, optional, tag = "6")]
        maybe: Option<u32>,
        #[prost(message, repeated, tag = "7")]
        inners: Vec<Inner>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Inner {
        #[prost(bytes = "vec", tag = "1")]
        data: Vec<u8>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
    enum Color {
        Red = 0,
        Green = 1,
        Blue = 2,
    }

    impl Element for Color {
        fn encode(tag: u32, value: &Self, buf: &mut impl BufMut) {
            enumeration::encode(tag, value, buf);
        }
        fn merge(
            wire_type: WireType,
            value: &mut Self,
            buf: &mut impl Buf,
            ctx: DecodeContext,
        ) -> Result<(), DecodeError> {
            enumeration::merge(wire_type, value, buf, ctx)
        }
        fn encoded_len(tag: u32, value: &Self) -> usize {
            enumeration::encoded_len(tag, value)
        }
        fn merge_repeated(
            wire_type: WireType,
            values: &mut Vec<Self>,
            buf: &mut impl Buf,
            ctx: DecodeContext,
        ) -> Result<(), DecodeError> {
            enumeration::merge_repeated(wire_type, values, buf, ctx)
        }
        fn encode_repeated(tag: u32, values: &[Self], buf: &mut impl BufMut) {
            enumeration::encode_repeated(tag, values, buf);
        }
        fn encoded_len_repeated(tag: u32, values: &[Self]) -> usize {
            enumeration::encoded_len_repeated(tag, values)
        }
    }

    type NameF = Singular<Str>;
    type NumbersF = Repeated<Int32, i32>;
    type InnerF = Optional<User<Inner>, Inner>;
    type CountsF = HashMapOf<Str, Int64, i64>;
    type ColorsF = Repeated<User<Color>, Color>;
    type MaybeF = Optional<Uint32, u32>;
    type InnersF = Repeated<User<Inner>, Inner>;

    struct Ours {
        name: String,
        numbers: Vec<i32>,
        inner: Option<Inner>,
        counts: HashMap<String, i64>,
        colors: Vec<Color>,
        maybe: Option<u32>,
        inners: Vec<Inner>,
    }

    fn encode(ours: &Ours) -> Vec<u8> {
        let mut buf = Vec::new();
        NameF::encode(1, &ours.name, &mut buf);
        NumbersF::encode(2, &ours.numbers, &mut buf);
        InnerF::encode(3, &ours.inner, &mut buf);
        CountsF::encode(4, &ours.counts, &mut buf);
        ColorsF::encode(5, &ours.colors, &mut buf);
        MaybeF::encode(6, &ours.maybe, &mut buf);
        InnersF::encode(7, &ours.inners, &mut buf);
        let len = NameF::encoded_len(1, &ours.name)
            + NumbersF::encoded_len(2, &ours.numbers)
            + InnerF::encoded_len(3, &ours.inner)
            + CountsF::encoded_len(4, &ours.counts)
            + ColorsF::encoded_len(5, &ours.colors)
            + MaybeF::encoded_len(6, &ours.maybe)
            + InnersF::encoded_len(7, &ours.inners);
        assert_eq!(len, buf.len());
        buf
    }

    fn decode(mut buf: &[u8]) -> Result<Ours, DecodeError> {
        let mut ours = Ours {
            name: String::new(),
            numbers: Vec::new(),
            inner: None,
            counts: HashMap::new(),
            colors: Vec::new(),
            maybe: None,
            inners: Vec::new(),
        };
        while !buf.is_empty() {
            let (tag, wire_type) = prost::encoding::decode_key(&mut buf)?;
            let ctx = DecodeContext::default();
            match tag {
                1 => NameF::merge(wire_type, &mut ours.name, &mut buf, ctx)?,
                2 => NumbersF::merge(wire_type, &mut ours.numbers, &mut buf, ctx)?,
                3 => InnerF::merge(wire_type, &mut ours.inner, &mut buf, ctx)?,
                4 => CountsF::merge(wire_type, &mut ours.counts, &mut buf, ctx)?,
                5 => ColorsF::merge(wire_type, &mut ours.colors, &mut buf, ctx)?,
                6 => MaybeF::merge(wire_type, &mut ours.maybe, &mut buf, ctx)?,
                7 => InnersF::merge(wire_type, &mut ours.inners, &mut buf, ctx)?,
                _ => prost::encoding::skip_field(wire_type, tag, &mut buf, ctx)?,
            }
        }
        Ok(ours)
    }

    #[test]
    fn the_bytes_are_the_ones_prost_writes() {
        let inner = Inner {
            data: vec![1, 2, 3],
        };
        let reference = Reference {
            name: "kv".into(),
            numbers: vec![1, -1, 300],
            inner: Some(inner.clone()),
            counts: HashMap::from([("a".into(), 5)]),
            colors: vec![2, 0, 1],
            maybe: Some(0),
            inners: vec![inner.clone(), Inner::default()],
        };
        let ours = Ours {
            name: "kv".into(),
            numbers: vec![1, -1, 300],
            inner: Some(inner.clone()),
            counts: HashMap::from([("a".into(), 5)]),
            colors: vec![Color::Blue, Color::Red, Color::Green],
            maybe: Some(0),
            inners: vec![inner, Inner::default()],
        };
        let bytes = encode(&ours);
        assert_eq!(bytes, reference.encode_to_vec());
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.colors, ours.colors);
        assert_eq!(back.counts, ours.counts);
        assert_eq!(back.maybe, Some(0));
        assert_eq!(back.inners, ours.inners);

        let empty = Ours {
            name: String::new(),
            numbers: Vec::new(),
            inner: None,
            counts: HashMap::new(),
            colors: Vec::new(),
            maybe: None,
            inners: Vec::new(),
        };
        assert!(encode(&empty).is_empty());
    }

    #[test]
    fn an_unknown_enum_value_is_an_error_that_names_the_enum() {
        let reference = Reference {
            colors: vec![1, 7],
            ..Reference::default()
        };
        let error = decode(&reference.encode_to_vec())
            .err()
            .expect("7 is no color");
        assert!(
            error.to_string().contains("7 is not a value of the enum"),
            "{error}"
        );
        assert!(error.to_string().contains("Color"), "{error}");
    }
}
