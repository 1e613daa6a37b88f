//! Every supported type, as arguments and as results.

// One argument of each type makes long signatures: the trait's, not the generated code's.
#![allow(clippy::too_many_arguments)]

use go_plugin::{PluginError, plugin_interface};

#[derive(Clone, PartialEq, prost::Message)]
pub struct Point {
    #[prost(int32, tag = "1")]
    pub x: i32,
}

pub mod shapes {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Circle {
        #[prost(double, tag = "1")]
        pub radius: f64,
    }
}

#[plugin_interface]
pub trait Everything {
    async fn scalars(
        &self,
        a: String,
        b: Vec<u8>,
        c: bool,
        d: i32,
        e: i64,
        f: u32,
        g: u64,
        h: f32,
        i: f64,
    ) -> Result<(), PluginError>;
    async fn optionals(
        &self,
        a: Option<String>,
        b: Option<Vec<u8>>,
        c: Option<bool>,
        d: Option<i32>,
        e: Option<i64>,
        f: Option<u32>,
        g: Option<u64>,
        h: Option<f32>,
        i: Option<f64>,
    ) -> Result<(), PluginError>;
    async fn repeated(
        &self,
        a: Vec<String>,
        b: Vec<Vec<u8>>,
        c: Vec<bool>,
        d: Vec<i32>,
        e: Vec<i64>,
        f: Vec<u32>,
        g: Vec<u64>,
        h: Vec<f32>,
        i: Vec<f64>,
    ) -> Result<(), PluginError>;
    async fn messages(
        &self,
        a: Point,
        b: Option<Point>,
        c: Vec<Point>,
        d: shapes::Circle,
        e: crate::shapes::Circle,
        f: self::Point,
        g: ::std::vec::Vec<::std::string::String>,
    ) -> Result<shapes::Circle, PluginError>;
    async fn string(&self) -> Result<String, PluginError>;
    async fn bytes(&self) -> Result<Vec<u8>, PluginError>;
    async fn float(&self) -> Result<f32, PluginError>;
    async fn optional(&self) -> Result<Option<u64>, PluginError>;
    async fn optional_message(&self) -> Result<Option<Point>, PluginError>;
    async fn list(&self) -> Result<Vec<Point>, PluginError>;
    async fn blobs(&self) -> Result<Vec<Vec<u8>>, PluginError>;
    async fn message(&self) -> Result<Point, PluginError>;
}

fn main() {
    let request = everything_messages::MessagesRequest {
        a: Some(Point { x: 1 }),
        b: None,
        c: vec![Point { x: 2 }],
        d: Some(shapes::Circle { radius: 1.0 }),
        e: None,
        f: None,
        g: vec![String::new()],
    };
    let _ = request.clone();
    let _: everything_messages::OptionalResponse =
        everything_messages::OptionalResponse { value: Some(0) };
    let _: everything_messages::ListResponse = everything_messages::ListResponse { value: vec![] };
    let _: Option<Point> = everything_messages::MessageResponse::default().value;
    assert!(EVERYTHING_PROTO.contains("  optional bytes b = 2;"));
    assert!(EVERYTHING_PROTO.contains("  repeated bytes b = 2;"));
    assert!(EVERYTHING_PROTO.contains("  Circle d = 4;"));
    assert!(
        EVERYTHING_PROTO.contains(
            "//   message Circle: the Rust type `shapes::Circle`, `crate::shapes::Circle`"
        )
    );
    let _ = EverythingClient::new;
}
