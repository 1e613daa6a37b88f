//! An interface that uses every kind of type `#[plugin_interface]` maps — nested message
//! structs, enums, maps, `Option` and `Vec` of each, a server stream and a callback — for the
//! interop cell whose Go and Python clients are built only from its exported `.proto` text.

use std::collections::HashMap;

use go_plugin::{PluginError, Proto, Stream, plugin_interface};

/// How dark a part is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, prost::Enumeration, Proto)]
pub enum Shade {
    /// Not said.
    Unspecified = 0,
    /// Light.
    Light = 1,
    /// Dark.
    Dark = 2,
}

impl Shade {
    /// The value's name in the `.proto` text, as Go's and Python's stubs print it.
    pub fn proto_name(self) -> &'static str {
        match self {
            Shade::Unspecified => "SHADE_UNSPECIFIED",
            Shade::Light => "SHADE_LIGHT",
            Shade::Dark => "SHADE_DARK",
        }
    }
}

/// One part of an item.
#[derive(Clone, PartialEq, prost::Message, Proto)]
pub struct Part {
    /// Its number.
    #[prost(uint32, tag = "1")]
    pub id: u32,
    /// Its shade.
    #[prost(enumeration = "Shade", tag = "2")]
    pub shade: i32,
}

/// An item of the catalog.
#[derive(Clone, PartialEq, prost::Message, Proto)]
pub struct Item {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its parts.
    #[prost(message, repeated, tag = "2")]
    pub parts: Vec<Part>,
    /// Counters by name.
    #[prost(map = "string, int64", tag = "3")]
    pub counts: HashMap<String, i64>,
    /// The part that matters most, if any.
    #[prost(message, optional, tag = "4")]
    pub main: Option<Part>,
    /// Shades by label.
    #[prost(map = "string, enumeration(Shade)", tag = "5")]
    pub labels: HashMap<String, i32>,
}

/// What the host serves back to the plugin through the broker.
#[plugin_interface(package = "scorer", service = "Scorer")]
pub trait Scorer {
    /// A score for an item of this name and number of parts.
    async fn score(&self, name: String, parts: u32) -> Result<i64, PluginError>;
}

/// The catalog.
#[plugin_interface(package = "catalog", service = "Catalog")]
pub trait Catalog {
    /// `item` with `/SHADE` added to its name, its parts in reverse order, each tag added to
    /// its labels, and its main part (if any) given `shade`.
    async fn describe(
        &self,
        item: Item,
        shade: Shade,
        tags: HashMap<String, Shade>,
        also: Vec<Shade>,
        maybe: Option<Shade>,
    ) -> Result<Item, PluginError>;
    /// `count` items named `prefix-N`, each with one part numbered N, light when N is even.
    async fn list(&self, prefix: String, count: u32) -> Result<Stream<Item>, PluginError>;
    /// The sum of `scorer.score(name, parts)` over `items`: the host's callback.
    async fn total(&self, scorer: impl Scorer, items: Vec<Item>) -> Result<i64, PluginError>;
}

/// The catalog the test plugin serves.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shop;

impl Catalog for Shop {
    async fn describe(
        &self,
        mut item: Item,
        shade: Shade,
        tags: HashMap<String, Shade>,
        also: Vec<Shade>,
        maybe: Option<Shade>,
    ) -> Result<Item, PluginError> {
        item.name = format!("{}/{}", item.name, shade.proto_name());
        item.parts.reverse();
        for (tag, tag_shade) in tags {
            item.labels.insert(tag, tag_shade.into());
        }
        item.counts.insert("also".to_owned(), also.len() as i64);
        item.counts.insert(
            "also_dark".to_owned(),
            also.iter().filter(|s| **s == Shade::Dark).count() as i64,
        );
        item.counts.insert(
            "maybe".to_owned(),
            maybe.map_or(-1, |s| i32::from(s).into()),
        );
        if let Some(main) = &mut item.main {
            main.shade = shade.into();
        }
        Ok(item)
    }

    async fn list(&self, prefix: String, count: u32) -> Result<Stream<Item>, PluginError> {
        let items = (0..count).map(move |n| {
            let shade = if n % 2 == 0 {
                Shade::Light
            } else {
                Shade::Dark
            };
            Item {
                name: format!("{prefix}-{n}"),
                parts: vec![Part {
                    id: n,
                    shade: shade.into(),
                }],
                ..Item::default()
            }
        });
        Ok(Stream::iter(items))
    }

    async fn total(&self, scorer: impl Scorer, items: Vec<Item>) -> Result<i64, PluginError> {
        let mut sum = 0;
        for item in items {
            sum += scorer.score(item.name, item.parts.len() as u32).await?;
        }
        Ok(sum)
    }
}
