//! `#[plugin_interface]`: turns a plain Rust trait into a go-plugin gRPC interface.

use proc_macro::TokenStream;

/// Placeholder until the macro lands.
#[proc_macro_attribute]
pub fn plugin_interface(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
