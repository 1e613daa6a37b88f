//! Object values of a schema, in the two encodings the provider protocol uses: go-cty's msgpack
//! (every `DynamicValue`) and JSON (stored states, `RawState.json`).
//!
//! The rules are go-cty's: null is msgpack `nil`; an unknown value is any msgpack extension
//! (refined unknowns are extension 12, whose refinements are ignored here) and is written as
//! `d4 00 00` (fixext1, type 0, one zero byte); an object is a map carrying every attribute of its
//! type. Attributes here are of primitive types (string, number, bool).

use std::collections::BTreeMap;
use std::fmt;

use rmpv::Value as Msgpack;

/// The extension go-cty writes for an unknown value without refinements: type 0, one zero byte.
const UNKNOWN_EXT: (i8, [u8; 1]) = (0, [0]);

/// A primitive attribute type, as a schema names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `string`.
    String,
    /// `number`: integers and floats.
    Number,
    /// `bool`.
    Bool,
}

impl Type {
    /// The type as a schema writes it, in JSON (`Schema.Attribute.type`).
    pub fn json(self) -> &'static [u8] {
        match self {
            Type::String => b"\"string\"",
            Type::Number => b"\"number\"",
            Type::Bool => b"\"bool\"",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Number => "number",
            Type::Bool => "bool",
        }
    }
}

/// The name and type of an attribute of an object type; the codec needs nothing else of a
/// schema.
pub trait AttributeType {
    /// The attribute's name.
    fn name(&self) -> &str;
    /// The attribute's type.
    fn ty(&self) -> Type;
}

impl AttributeType for (&str, Type) {
    fn name(&self) -> &str {
        self.0
    }

    fn ty(&self) -> Type {
        self.1
    }
}

/// A number: go-cty writes integers that fit 64 bits as msgpack integers, other numbers as
/// float64 or as a decimal string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Float(n) => write!(f, "{n}"),
        }
    }
}

/// The value of a primitive attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Not known until apply.
    Unknown,
    /// Not set.
    Null,
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// A bool.
    Bool(bool),
}

impl Value {
    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// The known attributes of an object; an attribute never set reads as null.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    attributes: BTreeMap<String, Value>,
}

impl Object {
    /// An object whose attributes are all null.
    pub fn new() -> Self {
        Object::default()
    }

    /// The value of attribute `name` (null when not set).
    pub fn get(&self, name: &str) -> &Value {
        self.attributes.get(name).unwrap_or(&Value::Null)
    }

    /// Sets attribute `name` to `value`.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.attributes.insert(name.to_owned(), value.into());
    }

    /// [`Object::set`], chained.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }
}

/// An object-typed value as a whole: null (no resource), unknown, or known.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectValue {
    /// No object (a resource that does not exist yet, or any more).
    Null,
    /// Not known until apply.
    Unknown,
    /// An object.
    Known(Object),
}

/// Why a value could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not msgpack.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// The bytes are msgpack, followed by more bytes.
    #[error("{0} bytes after the msgpack value")]
    TrailingBytes(usize),
    /// The bytes are not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// An object was expected.
    #[error("an object is required, found {0}")]
    NotAnObject(&'static str),
    /// An object key that is not a string.
    #[error("object keys must be strings")]
    KeyNotString,
    /// An attribute the type does not have (go-cty's words).
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    /// An attribute of the wrong type.
    #[error("attribute {attribute:?}: a {expected} is required, found {found}")]
    WrongType {
        /// The attribute's name.
        attribute: String,
        /// Its type.
        expected: &'static str,
        /// What was there.
        found: &'static str,
    },
    /// Writing msgpack failed.
    #[error("cannot encode msgpack: {0}")]
    Encode(String),
}

impl Error {
    /// The attribute the error is about, if any.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            Error::UnsupportedAttribute(name)
            | Error::WrongType {
                attribute: name, ..
            } => Some(name),
            _ => None,
        }
    }
}

/// Decodes a msgpack object of the type `attributes`: `nil` is [`ObjectValue::Null`], any
/// extension [`ObjectValue::Unknown`]. Attributes missing from the map read as null (go-cty
/// itself always writes them all); an attribute the type lacks is an error.
pub fn decode_msgpack<A: AttributeType>(
    bytes: &[u8],
    attributes: &[A],
) -> Result<ObjectValue, Error> {
    let mut rest = bytes;
    let value = rmpv::decode::read_value(&mut rest).map_err(|e| Error::Msgpack(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes(rest.len()));
    }
    let entries = match value {
        Msgpack::Nil => return Ok(ObjectValue::Null),
        Msgpack::Ext(..) => return Ok(ObjectValue::Unknown),
        Msgpack::Map(entries) => entries,
        other => return Err(Error::NotAnObject(msgpack_kind(&other))),
    };
    let mut object = Object::new();
    for (key, value) in entries {
        let Msgpack::String(key) = key else {
            return Err(Error::KeyNotString);
        };
        let key = key.into_str().ok_or(Error::KeyNotString)?;
        let ty = attribute_type(attributes, &key)?;
        let value = primitive_from_msgpack(&key, ty, value)?;
        object.attributes.insert(key, value);
    }
    Ok(ObjectValue::Known(object))
}

/// Encodes `value` as a msgpack object of the type `attributes`, every attribute present (in
/// name order, as go-cty writes them); attributes of the object that the type lacks are left out.
pub fn encode_msgpack<A: AttributeType>(
    value: &ObjectValue,
    attributes: &[A],
) -> Result<Vec<u8>, Error> {
    let value = match value {
        ObjectValue::Null => Msgpack::Nil,
        ObjectValue::Unknown => Msgpack::Ext(UNKNOWN_EXT.0, UNKNOWN_EXT.1.to_vec()),
        ObjectValue::Known(object) => {
            let mut names: Vec<&str> = attributes.iter().map(AttributeType::name).collect();
            names.sort_unstable();
            Msgpack::Map(
                names
                    .into_iter()
                    .map(|name| (Msgpack::from(name), primitive_to_msgpack(object.get(name))))
                    .collect(),
            )
        }
    };
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &value).map_err(|e| Error::Encode(e.to_string()))?;
    Ok(bytes)
}

/// Decodes a stored state (`RawState.json`) of the type `attributes`: a JSON object (or `null`),
/// missing attributes null, attributes the type lacks an error. JSON has no unknowns.
pub fn decode_json<A: AttributeType>(json: &[u8], attributes: &[A]) -> Result<ObjectValue, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
    let entries = match value {
        serde_json::Value::Null => return Ok(ObjectValue::Null),
        serde_json::Value::Object(entries) => entries,
        other => return Err(Error::NotAnObject(json_kind(&other))),
    };
    let mut object = Object::new();
    for (key, value) in entries {
        let ty = attribute_type(attributes, &key)?;
        let value = primitive_from_json(&key, ty, value)?;
        object.attributes.insert(key, value);
    }
    Ok(ObjectValue::Known(object))
}

fn attribute_type<A: AttributeType>(attributes: &[A], name: &str) -> Result<Type, Error> {
    attributes
        .iter()
        .find(|a| a.name() == name)
        .map(AttributeType::ty)
        .ok_or_else(|| Error::UnsupportedAttribute(name.to_owned()))
}

fn primitive_from_msgpack(name: &str, ty: Type, value: Msgpack) -> Result<Value, Error> {
    let wrong = |found| Error::WrongType {
        attribute: name.to_owned(),
        expected: ty.name(),
        found,
    };
    match (ty, value) {
        (_, Msgpack::Nil) => Ok(Value::Null),
        (_, Msgpack::Ext(..)) => Ok(Value::Unknown),
        (Type::String, Msgpack::String(s)) => s
            .into_str()
            .map(Value::String)
            .ok_or_else(|| wrong("invalid UTF-8")),
        (Type::Bool, Msgpack::Boolean(b)) => Ok(Value::Bool(b)),
        (Type::Number, Msgpack::Integer(n)) => match n.as_i64() {
            Some(n) => Ok(Value::Number(Number::Int(n))),
            // An unsigned integer above i64::MAX: precise enough as a float for this codec.
            None => Ok(Value::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN)))),
        },
        (Type::Number, Msgpack::F64(n)) => Ok(Value::Number(Number::Float(n))),
        (Type::Number, Msgpack::F32(n)) => Ok(Value::Number(Number::Float(f64::from(n)))),
        (Type::Number, Msgpack::String(s)) => {
            // go-cty writes numbers beyond int64 and float64 as decimal strings.
            let text = s.as_str().ok_or_else(|| wrong("invalid UTF-8"))?;
            let parsed = text
                .parse::<f64>()
                .map_err(|_| wrong("a non-numeric string"))?;
            Ok(Value::Number(Number::Float(parsed)))
        }
        (_, other) => Err(wrong(msgpack_kind(&other))),
    }
}

fn primitive_to_msgpack(value: &Value) -> Msgpack {
    match value {
        Value::Unknown => Msgpack::Ext(UNKNOWN_EXT.0, UNKNOWN_EXT.1.to_vec()),
        Value::Null => Msgpack::Nil,
        Value::String(s) => Msgpack::from(s.as_str()),
        Value::Number(Number::Int(n)) => Msgpack::from(*n),
        Value::Number(Number::Float(n)) => Msgpack::F64(*n),
        Value::Bool(b) => Msgpack::Boolean(*b),
    }
}

fn primitive_from_json(name: &str, ty: Type, value: serde_json::Value) -> Result<Value, Error> {
    use serde_json::Value as Json;
    let wrong = |found| Error::WrongType {
        attribute: name.to_owned(),
        expected: ty.name(),
        found,
    };
    match (ty, value) {
        (_, Json::Null) => Ok(Value::Null),
        (Type::String, Json::String(s)) => Ok(Value::String(s)),
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Number, Json::Number(n)) => Ok(Value::Number(match n.as_i64() {
            Some(n) => Number::Int(n),
            None => Number::Float(n.as_f64().unwrap_or(f64::NAN)),
        })),
        (_, other) => Err(wrong(json_kind(&other))),
    }
}

fn msgpack_kind(value: &Msgpack) -> &'static str {
    match value {
        Msgpack::Nil => "null",
        Msgpack::Boolean(_) => "a bool",
        Msgpack::Integer(_) | Msgpack::F32(_) | Msgpack::F64(_) => "a number",
        Msgpack::String(_) => "a string",
        Msgpack::Binary(_) => "binary data",
        Msgpack::Array(_) => "an array",
        Msgpack::Map(_) => "a map",
        Msgpack::Ext(..) => "an unknown value",
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value as Json;
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: [(&str, Type); 3] = [
        ("greeting", Type::String),
        ("id", Type::String),
        ("name", Type::String),
    ];

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn known(value: ObjectValue) -> Object {
        match value {
            ObjectValue::Known(object) => object,
            other => panic!("not a known object: {other:?}"),
        }
    }

    #[test]
    fn null_and_unknown_objects() {
        assert_eq!(encode_msgpack(&ObjectValue::Null, &HELLO).unwrap(), [0xc0]);
        assert_eq!(
            encode_msgpack(&ObjectValue::Unknown, &HELLO).unwrap(),
            [0xd4, 0x00, 0x00]
        );
        assert_eq!(decode_msgpack(&[0xc0], &HELLO).unwrap(), ObjectValue::Null);
        assert_eq!(
            decode_msgpack(&[0xd4, 0x00, 0x00], &HELLO).unwrap(),
            ObjectValue::Unknown
        );
        // Refined unknown (ext 12) and the empty ext tf-provider writes (c7 00 00).
        assert_eq!(
            decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &HELLO).unwrap(),
            ObjectValue::Unknown
        );
        assert_eq!(
            decode_msgpack(&[0xc7, 0x00, 0x00], &HELLO).unwrap(),
            ObjectValue::Unknown
        );
    }

    #[test]
    fn every_attribute_is_written_unknown_as_d4_00_00_null_as_c0() {
        let planned = Object::new()
            .with("name", "world")
            .with("id", Value::Unknown);
        let bytes = encode_msgpack(&ObjectValue::Known(planned), &HELLO).unwrap();
        // {greeting: nil, id: unknown, name: "world"}, keys in name order.
        assert_eq!(
            hex(&bytes),
            "83 a8 67 72 65 65 74 69 6e 67 c0 a2 69 64 d4 00 00 a4 6e 61 6d 65 a5 77 6f 72 6c 64"
        );
    }

    #[test]
    fn the_reference_bytes_of_a_create_plan() {
        let two = [("id", Type::String), ("name", Type::String)];
        let proposed = [
            0x82, 0xa2, 0x69, 0x64, 0xc0, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xa5, 0x77, 0x6f, 0x72,
            0x6c, 0x64,
        ];
        let mut object = known(decode_msgpack(&proposed, &two).unwrap());
        assert_eq!(object.get("id"), &Value::Null);
        assert_eq!(object.get("name"), &Value::from("world"));
        object.set("id", Value::Unknown);
        assert_eq!(
            hex(&encode_msgpack(&ObjectValue::Known(object), &two).unwrap()),
            "82 a2 69 64 d4 00 00 a4 6e 61 6d 65 a5 77 6f 72 6c 64"
        );
    }

    #[test]
    fn decoded_objects_round_trip_and_missing_attributes_read_as_null() {
        let object = Object::new()
            .with("greeting", "hi")
            .with("id", "hi-x")
            .with("name", "x");
        let bytes = encode_msgpack(&ObjectValue::Known(object.clone()), &HELLO).unwrap();
        assert_eq!(known(decode_msgpack(&bytes, &HELLO).unwrap()), object);

        // An empty map (go-cty's special case) and a partial one.
        let empty = known(decode_msgpack(&[0x80], &HELLO).unwrap());
        assert!(HELLO.iter().all(|(name, _)| empty.get(name).is_null()));
        let partial = known(
            decode_msgpack(&[0x81, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'x'], &HELLO).unwrap(),
        );
        assert_eq!(partial.get("name"), &Value::from("x"));
        assert!(partial.get("id").is_null());
    }

    #[test]
    fn attribute_values_null_and_unknown() {
        // {name: unknown (refined, ext 12), greeting: nil}
        let bytes = [
            0x82, 0xa4, b'n', b'a', b'm', b'e', 0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2, 0xa8, b'g',
            b'r', b'e', b'e', b't', b'i', b'n', b'g', 0xc0,
        ];
        let object = known(decode_msgpack(&bytes, &HELLO).unwrap());
        assert!(object.get("name").is_unknown());
        assert!(object.get("greeting").is_null());
    }

    #[test]
    fn numbers_and_bools() {
        let info = [
            ("length", Type::Number),
            ("name", Type::String),
            ("ok", Type::Bool),
        ];
        let object = Object::new()
            .with("length", Value::Number(Number::Int(5)))
            .with("name", "world")
            .with("ok", Value::Bool(true));
        let bytes = encode_msgpack(&ObjectValue::Known(object.clone()), &info).unwrap();
        assert_eq!(
            hex(&bytes),
            "83 a6 6c 65 6e 67 74 68 05 a4 6e 61 6d 65 a5 77 6f 72 6c 64 a2 6f 6b c3"
        );
        assert_eq!(known(decode_msgpack(&bytes, &info).unwrap()), object);

        // float64 and go-cty's decimal string for big numbers.
        let float = [
            0x81, 0xa6, b'l', b'e', b'n', b'g', b't', b'h', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            known(decode_msgpack(&float, &info).unwrap()).get("length"),
            &Value::Number(Number::Float(1.5))
        );
        let big = [
            0x81, 0xa6, b'l', b'e', b'n', b'g', b't', b'h', 0xa4, b'1', b'e', b'3', b'0',
        ];
        assert_eq!(
            known(decode_msgpack(&big, &info).unwrap()).get("length"),
            &Value::Number(Number::Float(1e30))
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        // An attribute the type lacks, as go-cty says it.
        let extra = [0x81, 0xa1, b'x', 0xc0];
        assert_eq!(
            decode_msgpack(&extra, &HELLO).unwrap_err().to_string(),
            "unsupported attribute \"x\""
        );
        // A number where a string belongs.
        let wrong = [0x81, 0xa4, b'n', b'a', b'm', b'e', 0x05];
        let err = decode_msgpack(&wrong, &HELLO).unwrap_err();
        assert_eq!(
            err.to_string(),
            "attribute \"name\": a string is required, found a number"
        );
        assert_eq!(err.attribute(), Some("name"));
        // Not an object, not msgpack, truncated, trailing bytes, integer keys.
        assert_eq!(
            decode_msgpack(&[0x05], &HELLO).unwrap_err(),
            Error::NotAnObject("a number")
        );
        assert!(matches!(
            decode_msgpack(&[], &HELLO),
            Err(Error::Msgpack(_))
        ));
        assert!(matches!(
            decode_msgpack(&[0x82, 0xa1], &HELLO),
            Err(Error::Msgpack(_))
        ));
        assert_eq!(
            decode_msgpack(&[0xc0, 0xc0], &HELLO).unwrap_err(),
            Error::TrailingBytes(1)
        );
        assert_eq!(
            decode_msgpack(&[0x81, 0x01, 0xc0], &HELLO).unwrap_err(),
            Error::KeyNotString
        );
        // Invalid UTF-8 in a string.
        let utf8 = [0x81, 0xa4, b'n', b'a', b'm', b'e', 0xa1, 0xff];
        assert!(matches!(
            decode_msgpack(&utf8, &HELLO),
            Err(Error::WrongType { .. })
        ));
    }

    #[test]
    fn raw_json_state_becomes_msgpack_with_every_attribute() {
        let state = decode_json(br#"{"greeting":"hello","name":"world"}"#, &HELLO).unwrap();
        let bytes = encode_msgpack(&state, &HELLO).unwrap();
        let object = known(decode_msgpack(&bytes, &HELLO).unwrap());
        assert_eq!(object.get("greeting"), &Value::from("hello"));
        assert_eq!(object.get("name"), &Value::from("world"));
        assert!(object.get("id").is_null());
        // All three keys are on the wire.
        assert_eq!(bytes[0], 0x83);

        assert_eq!(decode_json(b"null", &HELLO).unwrap(), ObjectValue::Null);
        let info = [("length", Type::Number), ("name", Type::String)];
        let numbers = known(decode_json(br#"{"length":5,"name":null}"#, &info).unwrap());
        assert_eq!(numbers.get("length"), &Value::Number(Number::Int(5)));
        assert!(numbers.get("name").is_null());

        assert_eq!(
            decode_json(br#"{"nope":1}"#, &HELLO).unwrap_err(),
            Error::UnsupportedAttribute("nope".into())
        );
        assert!(matches!(
            decode_json(br#"{"name":5}"#, &HELLO),
            Err(Error::WrongType { .. })
        ));
        assert_eq!(
            decode_json(b"[]", &HELLO).unwrap_err(),
            Error::NotAnObject("an array")
        );
        assert!(matches!(decode_json(b"{", &HELLO), Err(Error::Json(_))));
    }
}
