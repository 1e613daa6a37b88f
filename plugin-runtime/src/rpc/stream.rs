//! Streams of values in interface methods: `Stream<T>` as an argument (client streaming), as the
//! result (server streaming), or both (bidirectional), as go-plugin's examples/streaming has them
//! over gRPC streams.
//!
//! Each item travels as one message; HTTP/2 flow control holds the producer back when the
//! consumer is slow, so neither side buffers without bound. An error item ends the stream on
//! both sides: a plugin's error reaches the host as the call's status, and a host's error
//! cancels the call (the plugin's stream ends with `Cancelled`). Dropping a stream cancels it:
//! the other side sees the end, and a producer feeding a [`Stream::channel`] sees its sender
//! closed.

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};
use tokio_stream::StreamExt;

use crate::error::PluginError;
use crate::error::{Error, Status};
use crate::sync::lock;

type Boxed<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, PluginError>> + Send>>;

/// A stream of values to or from a plugin.
///
/// ```
/// use go_plugin::{PluginError, Stream};
///
/// # async fn demo() -> Result<(), PluginError> {
/// // From values at hand, or from a task through a bounded channel:
/// let mut numbers = Stream::iter([1, 2, 3]);
/// assert_eq!(numbers.next().await.transpose()?, Some(1));
///
/// let (sender, stream) = Stream::channel(16);
/// tokio::spawn(async move {
///     for chunk in ["Lorem ", "ipsum"] {
///         // Waits while the consumer is behind; fails once it has gone away.
///         if sender.send(Ok(chunk.to_owned())).await.is_err() {
///             break;
///         }
///     }
/// });
/// let text: Vec<String> = stream.collect().await?;
/// assert_eq!(text.concat(), "Lorem ipsum");
/// # Ok(()) }
/// ```
pub struct Stream<T> {
    inner: Boxed<T>,
}

/// The sending half of [`Stream::channel`].
pub type StreamSender<T> = mpsc::Sender<Result<T, PluginError>>;

impl<T: Send + 'static> Stream<T> {
    /// Any stream of results.
    pub fn new<S>(stream: S) -> Self
    where
        S: tokio_stream::Stream<Item = Result<T, PluginError>> + Send + 'static,
    {
        Stream {
            inner: Box::pin(stream),
        }
    }

    /// The values of `items`, in order.
    pub fn iter<I>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Self::new(tokio_stream::iter(items.into_iter().map(Ok)))
    }

    /// A stream fed through a channel holding at most `capacity` items: the sender waits while
    /// the channel is full, and its sends fail once the stream is dropped (the other side
    /// cancelled).
    pub fn channel(capacity: usize) -> (StreamSender<T>, Self) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (
            sender,
            Self::new(tokio_stream::wrappers::ReceiverStream::new(receiver)),
        )
    }

    /// The next item; `None` at the end. After an error item the stream ends.
    pub async fn next(&mut self) -> Option<Result<T, PluginError>> {
        StreamExt::next(&mut self.inner).await
    }

    /// Every item, or the first error.
    pub async fn collect<C: Default + Extend<T>>(mut self) -> Result<C, PluginError> {
        let mut all = C::default();
        while let Some(item) = self.next().await {
            all.extend([item?]);
        }
        Ok(all)
    }

    /// Generated servers: a client stream's messages as the method's values.
    pub(crate) fn from_requests<M: Send + 'static>(
        requests: tonic::Streaming<M>,
        unwrap: fn(M) -> T,
    ) -> Self {
        // A caller sends no status on its request stream: any error is the stream cut off, by
        // a cancelled call or a lost connection.
        Self::new(requests.map(move |item| {
            item.map(unwrap).map_err(|status| {
                PluginError::with_code(
                    crate::error::Code::Cancelled,
                    format!("the request stream was cut off: {}", status.message()),
                )
            })
        }))
    }

    /// Generated clients: the response messages of a call as the method's values.
    pub(crate) fn from_responses<M: Send + 'static>(
        responses: Responses<M>,
        unwrap: fn(M) -> T,
    ) -> Self {
        Self::new(responses.map(move |item| item.map(unwrap)))
    }

    /// Generated servers: the method's values as response messages.
    pub(crate) fn into_responses<M: Send + 'static>(self, wrap: fn(T) -> M) -> ResponseStream<M> {
        Box::pin(
            self.inner
                .map(move |item| item.map(wrap).map_err(Status::from)),
        )
    }

    /// Generated clients: the method's values as request messages, and what ends the call when
    /// one of them is an error.
    pub(crate) fn into_requests<M: Send + 'static>(self, wrap: fn(T) -> M) -> Requests<M> {
        Requests {
            inner: Box::pin(self.inner.map(move |item| item.map(wrap))),
            failure: Failure::default(),
            failed_once: false,
        }
    }
}

impl<T> tokio_stream::Stream for Stream<T> {
    type Item = Result<T, PluginError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

/// What a generated server's streaming method answers with.
#[doc(hidden)]
pub type ResponseStream<M> = Pin<Box<dyn tokio_stream::Stream<Item = Result<M, Status>> + Send>>;

/// The host's side channel for a request stream that fails: the stream keeps its first error
/// for the call to report (the plugin only sees its input cut off), and tells the call at once so
/// that it cancels. [`Requests`] holds the sending half; the call, or its [`Responses`], watches.
#[derive(Debug, Default)]
struct Failure {
    error: Arc<Mutex<Option<PluginError>>>,
    signal: Option<oneshot::Sender<()>>,
}

/// The watching half of a request stream's [`Failure`].
#[derive(Debug)]
pub(crate) struct FailureWatch {
    error: Arc<Mutex<Option<PluginError>>>,
    arrived: Option<oneshot::Receiver<()>>,
}

impl Failure {
    /// Keeps `err` and signals the watcher, if any.
    fn fail(&mut self, err: PluginError) {
        *lock(&self.error) = Some(err);
        if let Some(signal) = self.signal.take() {
            let _ = signal.send(());
        }
    }

    /// A watcher for the failure; a later call replaces the earlier one.
    fn watch(&mut self) -> FailureWatch {
        let (signal, arrived) = oneshot::channel();
        self.signal = Some(signal);
        FailureWatch {
            error: Arc::clone(&self.error),
            arrived: Some(arrived),
        }
    }
}

impl FailureWatch {
    /// The stream's error, taken (a second call finds none).
    pub(crate) fn take(&self) -> Option<PluginError> {
        lock(&self.error).take()
    }

    /// Resolves once the stream has failed; never, if it ends without failing.
    pub(crate) async fn failed(&mut self) {
        let signalled = match self.arrived.as_mut() {
            Some(arrived) => arrived.await.is_ok(),
            None => false,
        };
        if !signalled {
            std::future::pending::<()>().await;
        }
    }

    /// Ready (once) when the stream has failed or has ended without failing.
    fn poll_settled(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(arrived) = self.arrived.as_mut() else {
            return Poll::Pending;
        };
        if Pin::new(arrived).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.arrived = None;
        Poll::Ready(())
    }
}

/// A client's request messages, as sent: ends at the first error, which it keeps for the call
/// to report, and tells the call to cancel.
#[doc(hidden)]
pub struct Requests<M> {
    inner: Pin<Box<dyn tokio_stream::Stream<Item = Result<M, PluginError>> + Send>>,
    failure: Failure,
    failed_once: bool,
}

impl<M> fmt::Debug for Requests<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requests").finish_non_exhaustive()
    }
}

impl<M> Requests<M> {
    /// Watches for the stream's first error.
    pub(crate) fn watch(&mut self) -> FailureWatch {
        self.failure.watch()
    }
}

impl<M> tokio_stream::Stream for Requests<M> {
    type Item = Outgoing<M>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outgoing<M>>> {
        if self.failed_once {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(Outgoing::Message(message))),
            Poll::Ready(Some(Err(err))) => {
                self.failure.fail(err);
                // The encoder refuses it, which resets the HTTP/2 stream: the plugin sees its
                // input fail instead of a clean end.
                self.failed_once = true;
                Poll::Ready(Some(Outgoing::Abort))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A request message, or the end of a request stream that failed.
#[doc(hidden)]
#[derive(Debug)]
pub enum Outgoing<M> {
    Message(M),
    Abort,
}

/// prost messages, and a failed request stream as an encoding error (which makes hyper reset
/// the call's HTTP/2 stream).
#[derive(Debug)]
pub(crate) struct AbortableCodec<Req, Resp>(std::marker::PhantomData<(Req, Resp)>);

impl<Req, Resp> Default for AbortableCodec<Req, Resp> {
    fn default() -> Self {
        AbortableCodec(std::marker::PhantomData)
    }
}

impl<Req, Resp> tonic::codec::Codec for AbortableCodec<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Encode = Outgoing<Req>;
    type Decode = Resp;
    type Encoder = AbortableEncoder<Req>;
    type Decoder = tonic_prost::ProstDecoder<Resp>;

    fn encoder(&mut self) -> Self::Encoder {
        AbortableEncoder(tonic_prost::ProstEncoder::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::new(tonic::codec::BufferSettings::default())
    }
}

#[derive(Debug)]
pub(crate) struct AbortableEncoder<M>(tonic_prost::ProstEncoder<M>);

impl<M: prost::Message> tonic::codec::Encoder for AbortableEncoder<M> {
    type Item = Outgoing<M>;
    type Error = Status;

    fn encode(
        &mut self,
        item: Outgoing<M>,
        buf: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        match item {
            Outgoing::Message(message) => self.0.encode(message, buf),
            Outgoing::Abort => Err(Status::cancelled("the host's request stream failed")),
        }
    }

    fn buffer_settings(&self) -> tonic::codec::BufferSettings {
        self.0.buffer_settings()
    }
}

/// A call's response messages on the client side: the plugin's status as an error item, the
/// host's own stream error (which cancelled the call) in its place, or the plugin's exit.
#[doc(hidden)]
pub struct Responses<M> {
    inner: Option<tonic::Streaming<M>>,
    /// The host's own request stream, for a bidirectional call.
    failure: Option<FailureWatch>,
    exit: Option<crate::rpc::exit::ExitWatch>,
}

impl<M> fmt::Debug for Responses<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responses").finish_non_exhaustive()
    }
}

impl<M> Responses<M> {
    pub(crate) fn new(
        inner: tonic::Streaming<M>,
        failure: Option<FailureWatch>,
        exit: Option<crate::rpc::exit::ExitWatch>,
    ) -> Self {
        Responses {
            inner: Some(inner),
            failure,
            exit,
        }
    }
}

impl<M> tokio_stream::Stream for Responses<M> {
    type Item = Result<M, PluginError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(failure) = self.failure.as_mut()
            && failure.poll_settled(cx).is_ready()
            && let Some(err) = failure.take()
        {
            // Dropping the call resets its HTTP/2 stream: the plugin sees `Cancelled`.
            self.inner = None;
            return Poll::Ready(Some(Err(err)));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_next(cx) {
            Poll::Ready(Some(Err(status))) => {
                self.inner = None;
                let err = match self
                    .exit
                    .as_ref()
                    .and_then(crate::rpc::exit::ExitWatch::status)
                {
                    Some(status) => PluginError::from(Error::PluginExited { status }),
                    None => PluginError::from(status),
                };
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                self.inner = None;
                Poll::Ready(None)
            }
            other => other.map(|item| item.map(|item| item.map_err(PluginError::from))),
        }
    }
}
