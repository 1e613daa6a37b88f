//! The validated description of an interface. Codegen reads only this.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, ItemTrait, Path, Type};

/// One `#[plugin_interface]` trait.
pub(crate) struct Interface {
    /// The trait as the user wrote it.
    pub(crate) item: ItemTrait,
    /// Where the runtime crate is: `::go_plugin` unless renamed.
    pub(crate) krate: Path,
    /// The protobuf package, for example `proto`.
    pub(crate) package: Named,
    /// The gRPC service name inside the package, for example `KV`.
    pub(crate) service: Named,
    /// The names of the generated items.
    pub(crate) items: GeneratedItems,
    /// The methods, in declaration order.
    pub(crate) methods: Vec<Method>,
}

impl Interface {
    /// The fully qualified service name, for example `proto.KV`.
    pub(crate) fn service_name(&self) -> String {
        format!("{}.{}", self.package.value, self.service.value)
    }

    /// The gRPC path of a method, for example `/proto.KV/Get`.
    pub(crate) fn path(&self, method: &Method) -> String {
        format!("/{}/{}", self.service_name(), method.rpc.value)
    }

    /// The trait's doc comment lines.
    pub(crate) fn docs(&self) -> Vec<String> {
        docs(&self.item.attrs)
    }

    /// The message and enum types the methods' arguments and results use, in order, repeats
    /// included.
    pub(crate) fn user_types(&self) -> impl Iterator<Item = &Path> {
        self.methods
            .iter()
            .flat_map(|method| {
                let fields = method.args.iter().map(|arg| &arg.field);
                fields.chain(&method.output.value)
            })
            .filter_map(|field| field.ty.message())
    }
}

/// A name that goes on the wire, with the token it came from for error messages.
pub(crate) struct Named {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// The names of everything generated next to the trait.
pub(crate) struct GeneratedItems {
    /// `KvClient`.
    pub(crate) client: Ident,
    /// `KvServer`.
    pub(crate) server: Ident,
    /// `KvPlugin`.
    pub(crate) plugin: Ident,
    /// `DynKv`, a plugin's client or any implementation behind one type.
    pub(crate) dynamic: Ident,
    /// `kv_messages`.
    pub(crate) messages: Ident,
    /// `KV_PROTO`.
    pub(crate) proto: Ident,
}

/// One method of the trait: one gRPC method.
pub(crate) struct Method {
    /// The Rust method name.
    pub(crate) ident: Ident,
    /// The signature as written (`async fn …`), for the client's implementation.
    pub(crate) sig: syn::Signature,
    /// The gRPC method name, for example `Get`.
    pub(crate) rpc: Named,
    /// How requests and responses flow.
    pub(crate) kind: MethodKind,
    /// The arguments after `&self`, in order.
    pub(crate) args: Vec<Arg>,
    /// What the method returns.
    pub(crate) output: Output,
    /// Whether the messages are generated from the arguments and the result, or are the
    /// user's own.
    pub(crate) messages: Messages,
    /// The request message, for example `GetRequest`.
    pub(crate) request: Ident,
    /// The response message, for example `GetResponse`.
    pub(crate) response: Ident,
    /// The method's doc comment lines.
    pub(crate) docs: Vec<String>,
}

impl Method {
    /// Whether the request and response messages are generated, so belong in the messages
    /// module and the `.proto` text.
    pub(crate) fn generates_messages(&self) -> bool {
        matches!(self.messages, Messages::Generated)
    }

    /// The Rust types of the request and response messages: the user's for `#[rpc(whole)]`,
    /// else the generated ones in `messages`.
    pub(crate) fn message_types(&self, messages: &Ident) -> (TokenStream, TokenStream) {
        match &self.messages {
            Messages::Whole { request, response } => (quote!(#request), quote!(#response)),
            Messages::Generated => {
                let (request, response) = (&self.request, &self.response);
                (quote!(#messages::#request), quote!(#messages::#response))
            }
        }
    }
}

/// Where a method's request and response messages come from.
pub(crate) enum Messages {
    /// Generated from the arguments and the result: `GetRequest { key }`, `GetResponse { value }`.
    Generated,
    /// `#[rpc(whole)]` on a unary method: its one argument is the request message and its
    /// result the response message, structs the user declared, so that an existing `.proto`
    /// service (a Terraform provider's, say) can be implemented message for message.
    Whole { request: Path, response: Path },
}

/// How a method's messages flow.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MethodKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses: `-> Result<Stream<T>, E>`.
    ServerStreaming,
    /// A stream of requests (the one argument, `Stream<T>`), one response.
    ClientStreaming,
    /// Streams both ways.
    Streaming,
}

impl MethodKind {
    /// Whether requests are a stream.
    pub(crate) fn streams_requests(self) -> bool {
        matches!(self, MethodKind::ClientStreaming | MethodKind::Streaming)
    }

    /// Whether responses are a stream.
    pub(crate) fn streams_responses(self) -> bool {
        matches!(self, MethodKind::ServerStreaming | MethodKind::Streaming)
    }
}

/// One argument: one field of the request message.
pub(crate) struct Arg {
    /// The Rust argument name.
    pub(crate) ident: Ident,
    /// The field it travels in.
    pub(crate) field: Field,
    /// For `impl OtherInterface`: that interface's trait path. The caller serves the value
    /// through the broker; the field carries its broker id.
    pub(crate) callback: Option<Path>,
}

impl Arg {
    /// The item generated beside a callback's trait, for example `AddHelperPlugin` for
    /// `shared::AddHelper`.
    pub(crate) fn callback_item(&self, suffix: &str) -> Option<Path> {
        self.callback_named(|name| format!("{name}{suffix}"))
    }

    /// The item generated beside a callback's trait, named from the trait's name.
    pub(crate) fn callback_named(&self, name: impl Fn(&Ident) -> String) -> Option<Path> {
        let mut path = self.callback.clone()?;
        let last = path.segments.last_mut()?;
        last.ident = Ident::new(&name(&last.ident), last.ident.span());
        last.arguments = syn::PathArguments::None;
        Some(path)
    }
}

/// A method's `Result<T, E>` (or `Result<Stream<T>, E>`).
pub(crate) struct Output {
    /// `T` is `Stream<U>`: `value` is `U`, one response message each.
    pub(crate) streaming: bool,
    /// `E`: converts from the runtime's error on the client, into a status on the server.
    pub(crate) error: Type,
    /// The response field carrying `T`, or `None` when `T` is `()`.
    pub(crate) value: Option<Field>,
}

/// One field of a protobuf message.
pub(crate) struct Field {
    /// The field name in the message and in the generated struct (without `r#`).
    pub(crate) name: String,
    /// The Rust identifier of the generated struct field (raw when `name` is a keyword).
    pub(crate) ident: Ident,
    /// The field number.
    pub(crate) tag: u32,
    /// Its protobuf type.
    pub(crate) ty: ProtoType,
}

/// A field's protobuf type: a label and what it holds.
#[derive(Clone)]
pub(crate) struct ProtoType {
    pub(crate) label: Label,
    pub(crate) element: Element,
}

/// Whether a field holds one value, maybe one, or a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    /// `T`: always sent (a message `T` is `Option<T>` on the wire, defaulted when absent).
    Singular,
    /// `Option<T>`.
    Optional,
    /// `Vec<T>`.
    Repeated,
    /// `HashMap<K, T>` (or `BTreeMap`): a protobuf `map<K, T>`, `T` being the element.
    Map { key: Scalar, btree: bool },
}

/// What a field holds.
#[derive(Clone)]
pub(crate) enum Element {
    Scalar(Scalar),
    /// A user type deriving `prost::Message`, as written.
    Message(Path),
}

/// The protobuf scalar types a Rust type maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
}

impl Scalar {
    /// The protobuf type name, as in a `.proto` file and in prost's field attribute.
    pub(crate) fn proto_name(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Bytes => "bytes",
            Scalar::Bool => "bool",
            Scalar::Int32 => "int32",
            Scalar::Int64 => "int64",
            Scalar::Uint32 => "uint32",
            Scalar::Uint64 => "uint64",
            Scalar::Float => "float",
            Scalar::Double => "double",
        }
    }

    /// The Rust type, by absolute path.
    pub(crate) fn rust_type(self) -> TokenStream {
        match self {
            Scalar::String => quote!(::std::string::String),
            Scalar::Bytes => quote!(::std::vec::Vec<::core::primitive::u8>),
            Scalar::Bool => quote!(::core::primitive::bool),
            Scalar::Int32 => quote!(::core::primitive::i32),
            Scalar::Int64 => quote!(::core::primitive::i64),
            Scalar::Uint32 => quote!(::core::primitive::u32),
            Scalar::Uint64 => quote!(::core::primitive::u64),
            Scalar::Float => quote!(::core::primitive::f32),
            Scalar::Double => quote!(::core::primitive::f64),
        }
    }
}

impl ProtoType {
    /// The user message type the field holds, if it holds one.
    pub(crate) fn message(&self) -> Option<&Path> {
        match &self.element {
            Element::Message(path) => Some(path),
            Element::Scalar(_) => None,
        }
    }
}

/// The last segment of a path: the name a message type has in `.proto` text.
pub(crate) fn last_segment(path: &Path) -> String {
    path.segments
        .last()
        .map(|segment| crate::names::plain(&segment.ident))
        .unwrap_or_default()
}

/// A path as Rust source, without spaces: `crate::model::Point`.
pub(crate) fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let leading = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{leading}{}", segments.join("::"))
}

/// The text of `///` comments, one entry per line, without the leading space rustdoc strips.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        let syn::Meta::NameValue(meta) = &attr.meta else {
            continue;
        };
        if !meta.path.is_ident("doc") {
            continue;
        }
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &meta.value
        {
            // `split`, not `lines`: an empty `///` line is a paragraph break worth keeping.
            for line in text.value().split('\n') {
                lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
            }
        }
    }
    lines
}
