//! The Rust API: [`Socket`], its [`Builder`], and the streams around it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, WebSocket};

use super::driver::{Driver, Outbound, Output, Predicate, Resolver, Setup, Target};
use super::url;
use crate::machine::{CloseInfo, Event, ReadyState, SendError, StopReason};
use crate::{Config, Error, Message};

/// Most lifecycle events an [`Events`] stream holds unread; older ones are dropped.
pub const EVENT_BUFFER: usize = 1024;

impl Outbound for Message {
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue> {
        match self {
            Message::Text(text) => ws.send_with_str(text),
            // Sent straight from wasm memory: the browser makes its one copy.
            Message::Binary(bytes) => ws.send_with_u8_array(bytes),
        }
    }
}

/// Sets up a [`Socket`]: the URL (or how to get one per attempt), subprotocols,
/// [`Config`] and an optional reconnect predicate.
///
/// ```no_run
/// use std::time::Duration;
/// use steadysocket::{Config, Socket};
///
/// let mut config = Config::default();
/// config.heartbeat_interval = Some(Duration::from_secs(20));
/// let socket = Socket::builder("wss://example.com/live")
///     .protocols(["v1.json"])
///     .config(config)
///     .should_reconnect(|close| close.code != 4401) // 4401: our "unauthorised"
///     .connect()?;
/// # Ok::<(), steadysocket::Error>(())
/// ```
#[must_use = "a builder does nothing until `connect()`"]
pub struct Builder {
    url: UrlSource,
    protocols: Vec<String>,
    protocols_source: Option<Resolver<Vec<String>>>,
    config: Config,
    should_reconnect: Option<Predicate>,
}

enum UrlSource {
    Fixed(String),
    Dynamic(Resolver<String>),
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("protocols", &self.protocols)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Connect to `url` on every attempt.
    pub fn new(url: impl Into<String>) -> Builder {
        Builder::from_source(UrlSource::Fixed(url.into()))
    }

    /// Ask `f` for the URL before every attempt (with the retry number, 0 first):
    /// for fresh tokens, or a server chosen per attempt.
    pub fn with_url_fn(f: impl Fn(u32) -> String + 'static) -> Builder {
        Builder::from_source(UrlSource::Dynamic(Rc::new(move |n| Target::Ready(f(n)))))
    }

    /// Ask the async `f` for the URL before every attempt. An `Err` counts as a
    /// failed attempt (an [`Event::Error`], then the backoff schedule). The time it
    /// takes counts against `connection_timeout`.
    pub fn with_async_url<F, Fut, E>(f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<String, E>> + 'static,
        E: fmt::Display,
    {
        Builder::from_source(UrlSource::Dynamic(Rc::new(move |n| {
            let fut = f(n);
            Target::Pending(Box::pin(
                async move { fut.await.map_err(|e| e.to_string()) },
            ))
        })))
    }

    fn from_source(url: UrlSource) -> Builder {
        Builder {
            url,
            protocols: Vec::new(),
            protocols_source: None,
            config: Config::default(),
            should_reconnect: None,
        }
    }

    /// Subprotocols to offer, in order of preference.
    pub fn protocols<I, S>(mut self, protocols: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self.protocols_source = None;
        self
    }

    /// Ask `f` for the subprotocols before every attempt (with the retry number),
    /// e.g. to carry a fresh token in `Sec-WebSocket-Protocol`. A list the browser
    /// would refuse (an empty or repeated entry, a character outside an HTTP
    /// token) counts as a failed attempt.
    pub fn protocols_fn(mut self, f: impl Fn(u32) -> Vec<String> + 'static) -> Builder {
        self.protocols_source = Some(Rc::new(move |n| Target::Ready(f(n))));
        self
    }

    /// Ask the async `f` for the subprotocols before every attempt. An `Err` counts
    /// as a failed attempt; the time it takes counts against `connection_timeout`.
    pub fn async_protocols_fn<F, Fut, E>(mut self, f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<String>, E>> + 'static,
        E: fmt::Display,
    {
        self.protocols_source = Some(Rc::new(move |n| {
            let fut = f(n);
            Target::Pending(Box::pin(
                async move { fut.await.map_err(|e| e.to_string()) },
            ))
        }));
        self
    }

    /// The reconnect, queue and heartbeat settings.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Called for every close the user did not ask for (with the server's code and
    /// reason); returning `false` stops for good ([`StopReason::CloseCode`]).
    pub fn should_reconnect(mut self, f: impl Fn(&CloseInfo) -> bool + 'static) -> Builder {
        self.should_reconnect = Some(Rc::new(f));
        self
    }

    /// Checks everything and starts the first attempt (unless `start_closed`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::InvalidProtocol`] or [`Error::Config`]; no
    /// socket is created then.
    pub fn connect(self) -> Result<Socket, Error> {
        let protocols: Resolver<Vec<String>> = match self.protocols_source {
            Some(source) => source,
            None => {
                crate::protocols::validate(&self.protocols)?;
                let list = self.protocols;
                Rc::new(move |_| Target::Ready(list.clone()))
            }
        };
        let url: Resolver<String> = match self.url {
            UrlSource::Fixed(url) => {
                let url = url::normalize(&url)?;
                Rc::new(move |_| Target::Ready(url.clone()))
            }
            UrlSource::Dynamic(resolver) => resolver,
        };
        let setup = Setup {
            url,
            protocols,
            config: self.config,
            binary_type: BinaryType::Arraybuffer,
            should_reconnect: self.should_reconnect,
            constructor: None,
        };
        let driver = Driver::start(setup, Inbox::default())?;
        Ok(Socket { driver })
    }
}

/// A WebSocket that stays connected: a cloneable handle to one connection.
///
/// - **Receive**: `Socket` is a [`Stream`] of [`Message`]s. Messages are kept until
///   read, across reconnects. The stream ends (`None`) once the socket has stopped
///   for good and every message was read; after `reconnect()` it yields again.
/// - **Send**: [`send`](Socket::send) (never waits: queues while disconnected), or
///   the [`Sink`], whose readiness follows the bounded queue.
/// - **Lifecycle**: [`events`](Socket::events) gives a separate stream of
///   [`Event`]s, from its creation on. Two streams, not one enum: most code only
///   reads messages, and lifecycle events cost nothing unless someone listens.
///
/// # Drop
///
/// Dropping the last handle (a `Socket` or a [`Sender`]; clones and
/// [`split`](Socket::split) halves count) closes the connection with 1000 and stops
/// reconnecting; every timer and browser listener is removed. The *views* —
/// [`events`](Socket::events), [`messages`](Socket::messages) and
/// [`json`](Socket::json) — do not keep it alive: a reader task looping over one
/// ends (`None`) when the last handle goes, so a UI component that drops its handle
/// on unmount closes the connection even while its reader tasks still run.
///
/// `Socket` is `!Send` (it lives on the browser's one thread); frameworks that want
/// `Send` state should keep it in thread-local storage (e.g. Leptos'
/// `StoredValue::new_local`).
///
/// # Cancel safety
///
/// `next()`, [`opened`](Socket::opened) and the `Sink` futures are cancel-safe: a
/// dropped future loses no message.
///
/// # Examples
///
/// Receive, and send without waiting:
///
/// ```no_run
/// use futures::StreamExt;
/// use steadysocket::{Message, Socket};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut socket = Socket::connect("wss://example.com/echo")?;
/// socket.send("hello")?; // queued until open, then sent exactly once
/// while let Some(message) = socket.next().await {
///     if let Message::Text(text) = message {
///         println!("{text}");
///     }
/// }
/// # Ok(()) }
/// ```
///
/// Wait for the connection, with a deadline (any timer works; this uses gloo):
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) {
/// use futures::future::{select, Either};
/// let deadline = gloo_timers::future::TimeoutFuture::new(5_000);
/// match select(socket.opened(), deadline).await {
///     Either::Left((Ok(()), _)) => println!("open"),
///     Either::Left((Err(stopped), _)) => println!("gave up: {stopped}"),
///     Either::Right(_) => println!("still connecting after 5 s"),
/// }
/// # }
/// ```
///
/// Watch the lifecycle:
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) {
/// use futures::StreamExt;
/// use steadysocket::Event;
/// let mut events = socket.events();
/// while let Some(event) = events.next().await {
///     match event {
///         Event::Reconnecting { attempt, delay, .. } => println!("retry {attempt} in {delay:?}"),
///         Event::Heartbeat { rtt } => println!("round trip {rtt:?}"),
///         Event::Stop(_) => break,
///         _ => {}
///     }
/// }
/// # }
/// ```
///
/// Typed JSON both ways (a malformed message is an `Err` item; the stream goes on):
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) -> Result<(), steadysocket::Error> {
/// use futures::StreamExt;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Chat { from: String, text: String }
///
/// socket.send_json(&Chat { from: "ann".into(), text: "hi".into() })?;
/// let mut chats = socket.json::<Chat>();
/// while let Some(item) = chats.next().await {
///     match item {
///         Ok(chat) => println!("{}: {}", chat.from, chat.text),
///         Err(e) => eprintln!("skipped a message: {e}"),
///     }
/// }
/// # Ok(()) }
/// ```
///
/// Backpressure through the `Sink` (waits while the bounded queue is full):
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) -> Result<(), steadysocket::Error> {
/// use futures::{stream, SinkExt, StreamExt};
/// use steadysocket::Message;
/// let (mut tx, _rx) = socket.split();
/// let mut updates = stream::iter((0..10_000).map(|i| Ok(Message::from(i.to_string()))));
/// tx.send_all(&mut updates).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Socket {
    driver: Rc<Driver<Message, Inbox>>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("ready_state", &self.ready_state())
            .field("url", &self.url())
            .finish()
    }
}

impl Socket {
    /// A [`Builder`] for `url`.
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder::new(url)
    }

    /// Connects to `url` with the default [`Config`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] if the URL cannot be used.
    pub fn connect(url: impl Into<String>) -> Result<Socket, Error> {
        Builder::new(url).connect()
    }

    /// Sends a message: at once while open, else queued (in order, delivered once
    /// on the next open). Once stopped for good (`close()`, max retries, a stop
    /// code) it is queued too, and only a later [`reconnect`](Socket::reconnect)
    /// delivers it; [`drain_queued`](Socket::drain_queued) takes it back.
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] if the queue is at its limit; the message is
    /// handed back.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        self.driver.send(message.into()).map(|_| ())
    }

    /// Sends `value` as a JSON text message.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it does not serialise; else as [`send`](Socket::send).
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let text = serde_json::to_string(value)?;
        self.send(text).map_err(|e| self.send_error(e))
    }

    /// Closes for good with `code` (1000 or 3000–4999) and `reason` (at most 123
    /// bytes). The close event comes within `close_timeout`, even from a dead peer.
    ///
    /// # Errors
    ///
    /// [`Error::Close`] for a bad code or reason; the socket is unchanged.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        Ok(self.driver.close(Some(code), reason)?)
    }

    /// Closes the current connection (if any) with 1000, resets the retry count and
    /// connects at once. Works in every state, also after `close()`.
    ///
    /// # Errors
    ///
    /// None with these arguments; see [`reconnect_with`](Socket::reconnect_with).
    pub fn reconnect(&self) -> Result<(), Error> {
        self.reconnect_with(1000, "")
    }

    /// [`reconnect`](Socket::reconnect) with a close code and reason.
    ///
    /// # Errors
    ///
    /// [`Error::Close`] for a bad code or reason.
    pub fn reconnect_with(&self, code: u16, reason: &str) -> Result<(), Error> {
        Ok(self.driver.reconnect(Some(code), reason)?)
    }

    /// The state, as `WebSocket.readyState` (CONNECTING also while waiting to retry).
    #[must_use]
    pub fn ready_state(&self) -> ReadyState {
        self.driver.ready_state()
    }

    /// Retries since the last connection that stayed up `min_uptime`.
    #[must_use]
    pub fn retry_count(&self) -> u32 {
        self.driver.retry_count()
    }

    /// Messages waiting in the send queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.driver.queued_messages()
    }

    /// Removes and returns everything queued, oldest first (e.g. to keep it for
    /// the next page load). Reported as an [`Event::Discarded`] with reason
    /// [`DiscardReason::Cleared`](crate::DiscardReason::Cleared) when anything was
    /// queued.
    pub fn drain_queued(&self) -> Vec<Message> {
        self.driver.drain_queued()
    }

    /// Bytes not yet on the wire: the queue plus the browser's buffer.
    #[must_use]
    pub fn buffered_amount(&self) -> f64 {
        self.driver.buffered_amount()
    }

    /// The URL of the current (or last) attempt, absolute.
    #[must_use]
    pub fn url(&self) -> String {
        self.driver.url()
    }

    /// The subprotocol the server chose on the last open ("" if none).
    #[must_use]
    pub fn protocol(&self) -> String {
        self.driver.opened().protocol
    }

    /// The extensions the server chose on the last open ("" if none).
    #[must_use]
    pub fn extensions(&self) -> String {
        self.driver.opened().extensions
    }

    /// Waits until the socket is open (at once if it is).
    ///
    /// Resolves to `Err(Error::Stopped(_))` if the socket stops for good first.
    /// Combine with a timer for a deadline; dropping the future is harmless.
    pub fn opened(&self) -> OpenedFuture {
        OpenedFuture {
            socket: self.clone(),
        }
    }

    /// A stream of lifecycle [`Event`]s from now on. Each call makes an independent
    /// stream; each keeps at most [`EVENT_BUFFER`] unread events (oldest dropped).
    /// It does not keep the socket alive: it ends when the last handle is dropped.
    ///
    /// (The first attempt's `Connecting` event happens inside `connect()`, before any
    /// stream can exist: a socket starts in `ReadyState::Connecting`.)
    #[must_use]
    pub fn events(&self) -> Events {
        let queue = Rc::new(RefCell::new(EventQueue::default()));
        self.inbox().subscribers.push(Rc::downgrade(&queue));
        Events {
            queue,
            driver: Rc::downgrade(&self.driver),
        }
    }

    /// The incoming messages as a stream that does not keep the socket alive (the
    /// `Socket` itself is a stream too, but a handle). It ends when the socket stops
    /// for good (after the last buffered message) or the last handle is dropped. It
    /// reads the same messages as the `Socket`'s own stream: use one.
    #[must_use]
    pub fn messages(&self) -> Messages {
        Messages {
            driver: Rc::downgrade(&self.driver),
        }
    }

    /// A stream of `T`s decoded from incoming messages (text or binary JSON). A
    /// message that is not a `T` gives an `Err(Error::Json)` item and the stream goes
    /// on. Like [`messages`](Socket::messages), which it reads from, it does not
    /// keep the socket alive.
    #[must_use]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Json<T> {
        Json {
            messages: self.messages(),
            _type: std::marker::PhantomData,
        }
    }

    /// A handle that does not keep the socket alive, for code that should stop
    /// when its owner drops the socket (a UI reader task reading `ready_state()`).
    #[must_use]
    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket {
            driver: Rc::downgrade(&self.driver),
        }
    }

    /// Two halves for two tasks: a [`Sender`] (send + `Sink`) and the receiving
    /// `Socket` stream. Both keep the connection alive.
    #[must_use]
    pub fn split(self) -> (Sender, Socket) {
        (
            Sender {
                socket: self.clone(),
            },
            self,
        )
    }

    fn inbox(&self) -> std::cell::RefMut<'_, InboxState> {
        self.driver.output().0.borrow_mut()
    }

    fn stopped(&self) -> Option<StopReason> {
        self.driver.output().0.borrow().stopped
    }

    fn send_error(&self, e: SendError<Message>) -> Error {
        match e {
            SendError::QueueFull(_) => Error::QueueFull,
            SendError::Closed(_) => Error::Stopped(self.stopped().unwrap_or(StopReason::Close)),
        }
    }

    fn wait(&self, cx: &Context<'_>) {
        let mut inbox = self.inbox();
        if !inbox.state_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            inbox.state_wakers.push(cx.waker().clone());
        }
    }
}

impl Stream for Socket {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.driver.output().poll_message(cx)
    }
}

/// The incoming messages, without keeping the socket alive; see
/// [`Socket::messages`].
#[derive(Debug)]
pub struct Messages {
    driver: Weak<Driver<Message, Inbox>>,
}

impl Stream for Messages {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        match self.driver.upgrade() {
            Some(driver) => driver.output().poll_message(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Sink<Message> for Socket {
    type Error = Error;

    /// Ready while open, or while the queue has room; `Err` once stopped for good.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.ready_state() {
            ReadyState::Open => Poll::Ready(Ok(())),
            ReadyState::Closing => Poll::Ready(Err(Error::Stopped(StopReason::Close))),
            _ if self.stopped().is_some() => Poll::Ready(Err(Error::Stopped(
                self.stopped().unwrap_or(StopReason::Close),
            ))),
            _ if self.driver.queue_has_room() => Poll::Ready(Ok(())),
            _ => {
                self.wait(cx);
                Poll::Pending
            }
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.driver
            .send(item)
            .map(|_| ())
            .map_err(|e| self.send_error(e))
    }

    /// Done when nothing is left in the queue (all of it handed to an open socket).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.driver.queued_messages() == 0 {
            return Poll::Ready(Ok(()));
        }
        if let Some(reason) = self.stopped() {
            return Poll::Ready(Err(Error::Stopped(reason)));
        }
        self.wait(cx);
        Poll::Pending
    }

    /// Closes with 1000 and waits until the close is complete.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.stopped().is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.ready_state() != ReadyState::Closing {
            self.driver.close(Some(1000), "")?;
            if self.stopped().is_some() || self.ready_state() == ReadyState::Closed {
                return Poll::Ready(Ok(()));
            }
        }
        self.wait(cx);
        Poll::Pending
    }
}

/// A [`Socket`] that does not keep the connection alive; see [`Socket::downgrade`].
#[derive(Clone, Debug)]
pub struct WeakSocket {
    driver: Weak<Driver<Message, Inbox>>,
}

impl WeakSocket {
    /// The socket, while some handle still holds it.
    #[must_use]
    pub fn upgrade(&self) -> Option<Socket> {
        self.driver.upgrade().map(|driver| Socket { driver })
    }
}

/// The sending half from [`Socket::split`]: a `Sink` of [`Message`]s whose
/// readiness follows the bounded queue (it waits while the queue is full).
#[derive(Clone, Debug)]
pub struct Sender {
    socket: Socket,
}

impl Sender {
    /// The whole socket: `send` without waiting, close, reconnect, state. (The
    /// `Sender` itself has no inherent `send`, so `SinkExt::send` is unambiguous.)
    #[must_use]
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl Sink<Message> for Sender {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_ready(cx)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        Pin::new(&mut self.socket).start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_close(cx)
    }
}

/// The future of [`Socket::opened`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct OpenedFuture {
    socket: Socket,
}

impl Future for OpenedFuture {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.socket.ready_state() == ReadyState::Open {
            return Poll::Ready(Ok(()));
        }
        if let Some(reason) = self.socket.stopped() {
            return Poll::Ready(Err(Error::Stopped(reason)));
        }
        self.socket.wait(cx);
        Poll::Pending
    }
}

/// A stream of lifecycle [`Event`]s; see [`Socket::events`]. Ends when the last
/// handle of its socket is dropped.
#[derive(Debug)]
pub struct Events {
    queue: Rc<RefCell<EventQueue>>,
    driver: Weak<Driver<Message, Inbox>>,
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut queue = self.queue.borrow_mut();
        if let Some(event) = queue.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if self.driver.strong_count() == 0 {
            return Poll::Ready(None);
        }
        queue.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A stream of decoded JSON values; see [`Socket::json`].
#[derive(Debug)]
pub struct Json<T> {
    messages: Messages,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: serde::de::DeserializeOwned> Stream for Json<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.messages).poll_next(cx).map(|m| {
            m.map(|m| match m {
                Message::Text(text) => serde_json::from_str(&text).map_err(Error::from),
                Message::Binary(bytes) => serde_json::from_slice(&bytes).map_err(Error::from),
            })
        })
    }
}

// ----- the driver's output for the Rust API -------------------------------------

#[derive(Default)]
pub(crate) struct Inbox(RefCell<InboxState>);

impl Inbox {
    fn poll_message(&self, cx: &Context<'_>) -> Poll<Option<Message>> {
        let mut inbox = self.0.borrow_mut();
        if let Some(message) = inbox.messages.pop_front() {
            return Poll::Ready(Some(message));
        }
        if inbox.stopped.is_some() {
            return Poll::Ready(None);
        }
        inbox.message_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The driver (and so this inbox) goes when the last handle drops: wake every
/// reader so its stream can end.
impl Drop for Inbox {
    fn drop(&mut self) {
        let inbox = self.0.get_mut();
        let mut wakers = std::mem::take(&mut inbox.state_wakers);
        wakers.extend(inbox.message_waker.take());
        for queue in inbox.subscribers.iter().filter_map(Weak::upgrade) {
            wakers.extend(queue.borrow_mut().waker.take());
        }
        for waker in wakers {
            waker.wake();
        }
    }
}

#[derive(Default)]
struct InboxState {
    messages: VecDeque<Message>,
    message_waker: Option<Waker>,
    subscribers: Vec<Weak<RefCell<EventQueue>>>,
    state_wakers: Vec<Waker>,
    stopped: Option<StopReason>,
}

#[derive(Debug, Default)]
struct EventQueue {
    events: VecDeque<Event>,
    waker: Option<Waker>,
}

impl Output for Inbox {
    fn message(&self, data: JsValue) {
        let message = if let Some(text) = data.as_string() {
            Message::Text(text)
        } else if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            Message::Binary(js_sys::Uint8Array::new(buffer).to_vec())
        } else {
            return; // binaryType is always "arraybuffer" here
        };
        let waker = {
            let mut inbox = self.0.borrow_mut();
            inbox.messages.push_back(message);
            inbox.message_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn event(&self, event: Event) {
        let (subscribers, wakers, message_waker) = {
            let mut inbox = self.0.borrow_mut();
            match event {
                Event::Stop(reason) => inbox.stopped = Some(reason),
                Event::Connecting { .. } => inbox.stopped = None,
                _ => {}
            }
            inbox.subscribers.retain(|s| s.strong_count() > 0);
            let message_waker = matches!(event, Event::Stop(_))
                .then(|| inbox.message_waker.take())
                .flatten();
            (
                inbox.subscribers.clone(),
                std::mem::take(&mut inbox.state_wakers),
                message_waker,
            )
        };
        for queue in subscribers.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut q = queue.borrow_mut();
                if q.events.len() >= EVENT_BUFFER {
                    q.events.pop_front();
                }
                q.events.push_back(event.clone());
                q.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
        for w in wakers.into_iter().chain(message_waker) {
            w.wake();
        }
    }
}
