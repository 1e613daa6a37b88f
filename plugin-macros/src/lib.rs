//! `#[plugin_interface]`: turns a plain Rust trait into a go-plugin gRPC interface.
//!
//! Use it through `go_plugin::plugin_interface`; this crate is an implementation detail of
//! `go-plugin` (the `plugin-runtime` directory).
//!
//! The macro reads the trait (`parse`) into a model of the service (`model`), checks the rules
//! that span methods (`check`), and generates code from the model alone (`codegen`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod codegen;
mod derive;
mod errors;
mod model;
mod names;
mod parse;
mod types;

use proc_macro::TokenStream;

/// Turns a trait of `async fn`s into a go-plugin gRPC interface, without a `.proto` file.
///
// The examples are files of their own, compiled and run by tests/ui as compile-pass cases: a
// doctest here would need the runtime as a dev-dependency, which builds it and everything above
// it a second time, for the host.
#[doc = concat!("```ignore\n", include_str!("../doc/plugin_interface.rs"), "```")]
///
/// # What it generates
///
/// For a trait `Kv`, next to it and with its visibility:
///
/// - the trait itself, each `async fn m(&self, …) -> R` declared as
///   `fn m(&self, …) -> impl Future<Output = R> + Send` (implementations still write `async fn`);
/// - `kv_messages`, a module with a prost message per request and response: `GetRequest` holds
///   the arguments as fields 1, 2, … in order, named as the arguments; `GetResponse` holds the
///   result as field 1, `value` (no field when the result is `()`);
/// - `KvClient`, which implements `Kv` by calling the plugin: `KvClient::new(connection)`;
/// - `KvServer<T>`, a tonic service that routes calls to an implementation `T: Kv`;
/// - `KvPlugin`, which implements `go_plugin::PluginInterface` (what a host dispenses) and
///   has `KvPlugin::server(implementation)` (what a plugin serves);
/// - `DynKv`, a client or any implementation behind one cloneable type (`DynKv::new(…)`), for
///   hosts that hold "the plugin, or an in-process stand-in"; it implements `Kv` again;
/// - `KV_PROTO`, the equivalent `.proto` text (and `KvPlugin::proto()`, the whole file).
///
/// The gRPC service is `<package>.<service>`, and each method is the UpperCamelCase of its Rust
/// name: `/proto.KV/Get` above.
///
/// # Arguments
///
/// - `package = "…"`: the protobuf package; by default the trait name in snake_case.
/// - `service = "…"`: the service name; by default the trait name.
/// - `crate = "…"`: where the runtime is, when the macro cannot tell from `Cargo.toml` (for
///   example when it is re-exported by another crate): `crate = "::my_sdk::go_plugin"`.
///
/// # Methods
///
/// Each method is `async fn name(&self, arg: T, …) -> Result<U, E>`. `E` must convert from
/// `go_plugin::Error` (so the client can report a failed call) and into `tonic::Status`
/// (so the server can send it); `go_plugin::PluginError` does both and keeps the gRPC code
/// and message. Arguments and results can be:
///
/// | Rust | protobuf |
/// |------|----------|
/// | `String`, `Vec<u8>`, `bool` | `string`, `bytes`, `bool` |
/// | `i32`, `i64`, `u32`, `u64`, `f32`, `f64` | `int32`, `int64`, `uint32`, `uint64`, `float`, `double` |
/// | `Option<T>` of one of those | `optional T` |
/// | a struct deriving `prost::Message` (or `Option` of one) | a message field |
/// | an enum deriving `prost::Enumeration` and [`Proto`](derive@Proto) (or `Option` of one) | an enum field (`optional` for `Option`) |
/// | `Vec<T>` of any of the above | `repeated T` |
/// | `HashMap<K, V>`, `BTreeMap<K, V>` (`K` a string, bool or integer; `V` singular) | `map<K, V>` |
/// | `()` (as a result) | nothing |
///
/// Types are recognised by how they are written: a type alias is taken for a message struct.
/// `<TRAIT>_PROTO` names the structs and enums the interface uses in a comment;
/// `<Trait>Plugin::proto()` defines those that derive [`Proto`](derive@Proto) too, so that
/// its text compiles as it is.
///
/// Anything else is a compile error that says what to write instead.
///
/// # Debugging
///
/// Set `PLUGIN_INTERFACE_DEBUG=1` while compiling to print every expansion to stderr, or
/// `PLUGIN_INTERFACE_DEBUG=Kv` for one trait. Cargo does not rebuild when only the variable
/// changes: touch the source file.
#[proc_macro_attribute]
pub fn plugin_interface(args: TokenStream, input: TokenStream) -> TokenStream {
    expand(args.into(), input.into()).into()
}

/// Records the `.proto` definition of a message struct or enum, so that
/// `<Trait>Plugin::proto()` defines it; on an enum, also lets it travel as a protobuf enum in a
/// `#[plugin_interface]` signature.
///
/// It goes beside `prost::Message` on a struct, reading the same `#[prost(…)]` field
/// attributes, and beside `prost::Enumeration` on an enum of unit variants numbered from 0:
///
#[doc = concat!("```ignore\n", include_str!("../doc/derive_proto.rs"), "```")]
///
/// Enum values are named as protoc expects (`PRIORITY_HIGH`), which prost-build turns back into
/// `High`. A number the enum does not have fails the call that carries it, since a Rust enum
/// has no value to keep it in. `#[proto(crate = "…")]` names the runtime when it is re-exported.
#[proc_macro_derive(Proto, attributes(prost, proto))]
pub fn derive_proto(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => derive::expand(input).unwrap_or_else(syn::Error::into_compile_error),
        Err(error) => error.into_compile_error(),
    }
    .into()
}

/// The whole expansion: the generated items, or the trait as written plus every error.
fn expand(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let item: syn::ItemTrait = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &input,
                "#[plugin_interface] goes on a trait: `pub trait Kv { async fn get(&self, …) -> \
                 Result<…>; }`",
            )
            .to_compile_error();
            return quote::quote!(#input #error);
        }
    };
    let trait_name = item.ident.to_string();
    let output = match parse::interface(args, item.clone()) {
        Ok(interface) => match check::interface(&interface) {
            Ok(()) => codegen::expand(&interface),
            Err(error) => codegen::fallback(&item, &error),
        },
        Err(error) => codegen::fallback(&item, &error),
    };
    debug_print(&trait_name, &output);
    output
}

/// Prints the expansion when `PLUGIN_INTERFACE_DEBUG` is `1` or names the trait.
fn debug_print(trait_name: &str, output: &proc_macro2::TokenStream) {
    let Ok(wanted) = std::env::var("PLUGIN_INTERFACE_DEBUG") else {
        return;
    };
    if wanted != "1" && wanted != trait_name {
        return;
    }
    let text = match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => output.to_string(),
    };
    eprintln!("// #[plugin_interface] expansion of `{trait_name}`:\n{text}");
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn renamed_runtime_is_used_everywhere() {
        let output = super::expand(
            quote!(crate = "::renamed"),
            quote! {
                pub trait Kv {
                    async fn get(&self, key: String) -> Result<Vec<u8>, E>;
                    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), E>;
                }
            },
        )
        .to_string();
        assert!(output.contains(":: renamed :: __private"), "{output}");
        assert!(
            output.contains(":: renamed :: __private :: prost :: Message for GetRequest"),
            "{output}"
        );
        assert!(!output.contains("go_plugin"), "{output}");
        assert!(!output.contains("compile_error"), "{output}");
    }

    #[test]
    fn errors_keep_the_trait() {
        let output = super::expand(
            quote!(),
            quote! {
                pub trait Kv {
                    fn get(&self) -> Vec<u8>;
                }
            },
        )
        .to_string();
        assert!(output.contains("pub trait Kv"), "{output}");
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
        assert!(!output.contains("KvClient"), "{output}");
    }
}
