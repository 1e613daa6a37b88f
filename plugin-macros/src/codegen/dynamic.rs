//! `DynKv`: a plugin's client or any in-process implementation of `Kv` behind one cloneable
//! type, for hosts that hold "the plugin, or a local stand-in".
//!
//! The generated trait is not dyn-compatible (its methods return `impl Future`), so the type
//! holds an `Arc` of a private dyn-compatible twin whose methods box their futures. The twin's
//! methods have prefixed names, so that having it in scope never makes a call ambiguous.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{FnArg, Ident, ReturnType};

use crate::model::{Interface, Method};

/// `DynKv`, its constructor, its `Kv` implementation, and the private twin trait.
pub(super) fn dynamic(interface: &Interface) -> TokenStream {
    let vis = &interface.item.vis;
    let trait_name = &interface.item.ident;
    let dynamic = &interface.items.dynamic;
    let client = &interface.items.client;
    let twin = Ident::new(
        &format!("__{}Object", crate::names::plain(trait_name)),
        Span::call_site(),
    );
    // The example is inline code, not a code block: a block would be a doctest in the user's
    // crate, which could not compile there and would show as ignored.
    let doc = format!(
        " A [`{trait_name}`] of any kind — a plugin's [`{client}`] or an in-process \
         implementation — as one type, for hosts that choose at run time: \
         `if local {{ {dynamic}::new(Memory::default()) }} else {{ {dynamic}::new(client) }}`.\n\n\
         It implements [`{trait_name}`] itself, so it can be served by a plugin or passed as a \
         callback, and clones share the implementation. Each call costs one boxed future."
    );
    let methods: Vec<Parts> = interface.methods.iter().map(parts).collect();
    let declarations = methods.iter().map(|method| {
        let signature = twin_signature(method);
        quote!(#signature;)
    });
    let forwarded = methods.iter().map(|method| {
        let signature = twin_signature(method);
        let Parts { ident, names, .. } = method;
        quote! {
            #signature {
                ::std::boxed::Box::pin(<T as #trait_name>::#ident(self, #(#names),*))
            }
        }
    });
    let back = methods.iter().map(|method| {
        let Parts {
            ident,
            object_ident,
            args,
            wrapped,
            output,
            ..
        } = method;
        quote! {
            fn #ident(&self, #(#args),*)
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            {
                self.0.#object_ident(#(#wrapped),*)
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone)]
        #vis struct #dynamic(::std::sync::Arc<dyn #twin>);

        impl #dynamic {
            /// Puts any implementation (a client or a local one) behind this type.
            #vis fn new(implementation: impl #trait_name) -> Self {
                #dynamic(::std::sync::Arc::new(implementation))
            }
        }

        impl ::core::fmt::Debug for #dynamic {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#dynamic)).finish_non_exhaustive()
            }
        }

        impl #trait_name for #dynamic {
            #(#back)*
        }

        // Its methods take the trait's arguments, as many as the user wrote.
        #[allow(non_camel_case_types, clippy::too_many_arguments)]
        trait #twin: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#declarations)*
        }

        impl<T: #trait_name> #twin for T {
            #(#forwarded)*
        }
    }
}

/// `fn __get<'a>(&'a self, key: String) -> Pin<Box<dyn Future<Output = …> + Send + 'a>>`.
fn twin_signature(method: &Parts) -> TokenStream {
    let Parts {
        object_ident,
        object_args,
        output,
        ..
    } = method;
    quote! {
        fn #object_ident<'a>(&'a self, #(#object_args),*) -> ::core::pin::Pin<
            ::std::boxed::Box<
                dyn ::core::future::Future<Output = #output> + ::core::marker::Send + 'a,
            >,
        >
    }
}

/// One method's pieces in the trait's form and the twin's.
struct Parts {
    ident: Ident,
    /// The twin's name for it: `__get`.
    object_ident: Ident,
    /// `key: String` as the trait declares them (`impl Callback` included).
    args: Vec<TokenStream>,
    /// The same with each callback as its `Dyn` type: `helper: DynAddHelper`.
    object_args: Vec<TokenStream>,
    /// The argument names.
    names: Vec<Ident>,
    /// The arguments as passed to the twin: callbacks wrapped.
    wrapped: Vec<TokenStream>,
    /// `Result<…>`.
    output: TokenStream,
}

fn parts(method: &Method) -> Parts {
    let typed = method.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => Some(&typed.ty),
        FnArg::Receiver(_) => None,
    });
    let mut parts = Parts {
        ident: method.ident.clone(),
        object_ident: Ident::new(
            &format!("__{}", crate::names::plain(&method.ident)),
            method.ident.span(),
        ),
        args: Vec::new(),
        object_args: Vec::new(),
        names: Vec::new(),
        wrapped: Vec::new(),
        output: match &method.sig.output {
            ReturnType::Type(_, ty) => quote!(#ty),
            ReturnType::Default => quote!(()),
        },
    };
    for (arg, ty) in method.args.iter().zip(typed) {
        let name = &arg.ident;
        parts.args.push(quote!(#name: #ty));
        match arg.callback_named(|trait_name| format!("Dyn{}", crate::names::plain(trait_name))) {
            Some(callback) => {
                parts.object_args.push(quote!(#name: #callback));
                parts.wrapped.push(quote!(#callback::new(#name)));
            }
            None => {
                parts.object_args.push(quote!(#name: #ty));
                parts.wrapped.push(quote!(#name));
            }
        }
        parts.names.push(name.clone());
    }
    parts
}
