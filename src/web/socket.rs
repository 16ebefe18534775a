//! [`Socket`]: the handle users hold, and its small companions ([`WeakSocket`],
//! [`OpenedFuture`]). The streams are in `inbox.rs`, the `Sink` in `sink.rs`, the
//! setup in `builder.rs`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use futures_core::Stream;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::WebSocket;

use super::builder::Builder;
use super::driver::{Driver, Outbound};
use super::inbox::{Cursor, Events, Filter, Inbox, Item, Items, Json, Messages};
use super::share::Shared;
use super::sink::{Sender, SinkState};
use crate::machine::{Delivery, ReadyState, SendError, SendOptions, StopReason};
use crate::{Error, Message};

impl Outbound for Message {
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue> {
        match self {
            // The one `send` import the JS package uses too.
            Message::Text(text) => super::native::send_value(ws, &JsValue::from_str(text)),
            // Sent straight from wasm memory: the browser makes its one copy.
            Message::Binary(bytes) => ws.send_with_u8_array(bytes),
        }
    }

    fn share(self) -> Shared {
        match self {
            Message::Text(text) => Shared::new(JsValue::from_str(&text)),
            Message::Binary(bytes) => {
                Shared::new(js_sys::Uint8Array::from(&bytes[..]).buffer().into())
            }
        }
    }

    fn unshare(shared: Shared) -> Option<Message> {
        let value = shared.value;
        if let Some(text) = value.as_string() {
            return Some(Message::Text(text));
        }
        if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
            return Some(Message::Binary(js_sys::Uint8Array::new(buffer).to_vec()));
        }
        // A Blob (relayed by a JS instance) cannot be read synchronously.
        value
            .dyn_ref::<js_sys::Uint8Array>()
            .map(|bytes| Message::Binary(bytes.to_vec()))
    }
}

/// A WebSocket that stays connected: a cloneable handle to one connection.
///
/// - **Receive**: `Socket` is a [`Stream`] of [`Message`]s for the simple case: it
///   reads from the socket's creation and ends (`None`, for good: it is fused) at
///   the first stop (`close()`, max retries, a stop code), after every message
///   before it. Each clone is an independent reader at the same place.
/// - **Views** that outlive stops and reconnects: [`items`](Socket::items)
///   (messages and [`Event`](crate::Event)s in their true order), [`messages`](Socket::messages),
///   [`events`](Socket::events) and [`json`](Socket::json). Each is an
///   independent reader from its creation on: every reader gets every item. They
///   do not keep the socket alive and end when its last handle is dropped.
/// - **Bounded**: each reader keeps at most [`Config::max_unread`](crate::Config::max_unread) unread items
///   (default 4096); one that falls further behind loses the oldest and, in
///   `items()` and `events()`, reads an [`Event::Lagged`](crate::Event::Lagged) saying how many.
/// - **Send**: [`send`](Socket::send) (never waits: queues while disconnected), or
///   the [`Sink`](futures_sink::Sink), which waits while the queue is full or, while open, while the
///   browser holds [`Config::send_high_water`](crate::Config::send_high_water) bytes unsent.
///
/// ```text
///  the socket     ●open  m1  m2  ✗lost  ●open  m3  ■stop   reconnect()  ●open  m4   (last handle dropped)
///  Socket stream         m1  m2                m3  None (fused)
///  messages()            m1  m2                m3                             m4   None
///  items()        ●      m1  m2  ✗ ↻    ●      m3  ■       ↻            ●     m4   None
/// ```
///
/// # Drop
///
/// Dropping the last handle (a `Socket` or a [`Sender`]; clones and
/// [`split`](Socket::split) halves count) closes the connection with 1000 and stops
/// reconnecting; every timer and browser listener is removed. The *views* (and
/// [`opened`](Socket::opened), [`WeakSocket`]) do not keep it alive: a reader task
/// looping over one ends (`None`) when the last handle goes, so a UI component that
/// drops its handle on unmount closes the connection even while its reader tasks
/// still run.
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
/// Messages and the lifecycle in one stream, in order:
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) {
/// use futures::StreamExt;
/// use steadysocket::{Event, Item};
/// let mut items = socket.items();
/// while let Some(item) = items.next().await {
///     match item {
///         Item::Message(m) => println!("got {:?}", m.as_text()),
///         Item::Event(Event::Reconnecting { attempt, delay, .. }) => println!("retry {attempt} in {delay:?}"),
///         Item::Event(Event::Lagged { missed }) => println!("too slow: lost {missed}"),
///         Item::Event(Event::Stop(_)) => break,
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
/// Backpressure through the `Sink` (waits while the bounded queue is full, or the
/// browser's buffer is above the high-water mark):
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
pub struct Socket {
    driver: Rc<Driver<Message, Inbox>>,
    /// This handle's own reader (its `Stream`).
    cursor: Cursor,
    /// This handle's own `Sink` progress.
    sink: SinkState,
}

/// A clone is an independent reader at the same place, with a `Sink` of its own.
impl Clone for Socket {
    fn clone(&self) -> Socket {
        Socket {
            driver: self.driver.clone(),
            cursor: self.cursor.clone(),
            sink: SinkState::default(),
        }
    }
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

    /// Connects to `url` with the default [`Config`](crate::Config).
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
        self.driver
            .send(message.into(), SendOptions::default(), None)
            .map(|_| ())
    }

    /// Sends `value` as a JSON text message.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it does not serialise; else as [`send`](Socket::send).
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let text = serde_json::to_string(value)?;
        self.send(text).map_err(send_error)
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

    /// Sends like [`send`](Socket::send), with [`SendOptions`] (a TTL), and
    /// resolves once the message was handed to an open native socket (not a
    /// server acknowledgement). Fails with the message handed back:
    /// [`SendError::QueueFull`] at once, [`SendError::Expired`] when its TTL
    /// passes, [`SendError::Dropped`] when `QueueOverflow::DropOldest` or
    /// [`drain_queued`](Socket::drain_queued) discards it, [`SendError::Closed`]
    /// when the socket had stopped or stops first (unlike `send`, it never waits
    /// for a `reconnect()`). It keeps a copy of the message to hand back.
    ///
    /// The future does not keep the socket alive; dropping it forgets the result
    /// (the message is still sent).
    pub fn send_tracked(&self, message: impl Into<Message>, options: SendOptions) -> Tracked {
        let message = message.into();
        let id = self.driver.next_track();
        let copy = message.clone();
        let now = match self.driver.send(message, options, Some(id)) {
            Ok(true) => {
                let _ = self.driver.output().take_receipt(id);
                Some(Ok(()))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        };
        Tracked {
            driver: self.weak(),
            id,
            message: Some(copy),
            now,
        }
    }

    /// Removes and returns everything queued, oldest first (e.g. to keep it for
    /// the next page load). Reported as an [`Event::Discarded`](crate::Event::Discarded) with reason
    /// [`DiscardReason::Cleared`](crate::DiscardReason::Cleared) when anything was
    /// queued.
    pub fn drain_queued(&self) -> Vec<Message> {
        self.driver.drain_queued()
    }

    /// Bytes not yet on the wire: the queue plus the browser's buffer.
    #[must_use]
    pub fn buffered_amount(&self) -> u64 {
        self.driver.buffered_amount() as u64
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
    /// The future does not keep the socket alive: if its last handle is dropped
    /// meanwhile, it resolves to `Err(Error::Stopped(StopReason::Close))`.
    pub fn opened(&self) -> OpenedFuture {
        OpenedFuture {
            driver: Rc::downgrade(&self.driver),
        }
    }

    /// Messages and lifecycle events in the order they happened, from now on: an
    /// independent reader (see the timeline above). It does not keep the socket
    /// alive and ends when the last handle is dropped; stops and reconnects are
    /// items in it, not its end.
    ///
    /// (The first attempt's `Connecting` event happens inside `connect()`, before any
    /// stream can exist: a socket starts in `ReadyState::Connecting`.)
    #[must_use]
    pub fn items(&self) -> Items {
        Items::new(self.weak(), self.driver.output().cursor_at_end())
    }

    /// The lifecycle [`Event`](crate::Event)s of [`items`](Socket::items) alone.
    #[must_use]
    pub fn events(&self) -> Events {
        Events::new(self.weak(), self.driver.output().cursor_at_end())
    }

    /// The messages of [`items`](Socket::items) alone: like the `Socket`'s own
    /// stream, but from now on, not ending at a stop, and not keeping the socket
    /// alive. A reader that falls `max_unread` behind skips the oldest silently
    /// (read [`items`](Socket::items) to be told).
    #[must_use]
    pub fn messages(&self) -> Messages {
        Messages::new(self.weak(), self.driver.output().cursor_at_end())
    }

    /// A stream of `T`s decoded from incoming messages (text or binary JSON), read
    /// like [`messages`](Socket::messages). A message that is not a `T` gives an
    /// `Err(Error::Json)` item and the stream goes on.
    #[must_use]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Json<T> {
        Json::new(self.messages())
    }

    /// A handle that does not keep the socket alive, for code that should stop
    /// when its owner drops the socket (a UI reader task reading `ready_state()`).
    #[must_use]
    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket {
            driver: self.weak(),
        }
    }

    /// Two halves for two tasks: a [`Sender`] (send + `Sink`) and the receiving
    /// `Socket` stream. Both keep the connection alive.
    #[must_use]
    pub fn split(self) -> (Sender, Socket) {
        (Sender::new(self.clone()), self)
    }

    pub(crate) fn from_driver(driver: Rc<Driver<Message, Inbox>>) -> Socket {
        Socket {
            driver,
            cursor: Inbox::cursor_at_start(),
            sink: SinkState::default(),
        }
    }

    fn weak(&self) -> Weak<Driver<Message, Inbox>> {
        Rc::downgrade(&self.driver)
    }

    pub(crate) fn driver(&self) -> &Rc<Driver<Message, Inbox>> {
        &self.driver
    }

    pub(crate) fn sink_state(&mut self) -> &mut SinkState {
        &mut self.sink
    }
}

/// The `Socket`'s own stream: messages from its creation, ending at the first stop.
impl Stream for Socket {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let this = &mut *self;
        loop {
            match this
                .driver
                .output()
                .poll_read(&mut this.cursor, Filter::Messages, true, cx)
            {
                Poll::Ready(Some(Item::Message(message))) => return Poll::Ready(Some(message)),
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// A [`Socket`] that does not keep the connection alive; see [`Socket::downgrade`].
#[derive(Clone, Debug)]
pub struct WeakSocket {
    driver: Weak<Driver<Message, Inbox>>,
}

impl WeakSocket {
    /// The socket, while some handle still holds it (a new reader, from the start
    /// of the log it keeps).
    #[must_use]
    pub fn upgrade(&self) -> Option<Socket> {
        self.driver.upgrade().map(Socket::from_driver)
    }
}

/// The future of [`Socket::opened`]. It does not keep the socket alive.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct OpenedFuture {
    driver: Weak<Driver<Message, Inbox>>,
}

impl Future for OpenedFuture {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(driver) = self.driver.upgrade() else {
            return Poll::Ready(Err(Error::Stopped(StopReason::Close)));
        };
        if driver.ready_state() == ReadyState::Open {
            return Poll::Ready(Ok(()));
        }
        if let Some(reason) = driver.output().stopped() {
            return Poll::Ready(Err(Error::Stopped(reason)));
        }
        driver.output().watch(cx);
        Poll::Pending
    }
}

/// The future of [`Socket::send_tracked`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Tracked {
    driver: Weak<Driver<Message, Inbox>>,
    id: u64,
    message: Option<Message>,
    now: Option<Result<(), SendError<Message>>>,
}

impl Future for Tracked {
    type Output = Result<(), SendError<Message>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(result) = self.now.take() {
            self.message = None;
            return Poll::Ready(result);
        }
        let Some(message) = self.message.take() else {
            return Poll::Ready(Ok(())); // polled after completion
        };
        let Some(driver) = self.driver.upgrade() else {
            return Poll::Ready(Err(SendError::Closed(message)));
        };
        let fate = driver.output().take_receipt(self.id);
        Poll::Ready(match fate {
            None => {
                driver.output().watch(cx);
                self.message = Some(message);
                return Poll::Pending;
            }
            Some(Delivery::Sent) => Ok(()),
            Some(Delivery::Expired) => Err(SendError::Expired(message)),
            Some(Delivery::Overflowed | Delivery::Cleared) => Err(SendError::Dropped(message)),
            Some(_) => Err(SendError::Closed(message)),
        })
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.message.is_some() {
            if let Some(driver) = self.driver.upgrade() {
                driver.output().abandon_receipt(self.id);
            }
        }
    }
}

pub(crate) fn send_error(e: SendError<Message>) -> Error {
    match e {
        SendError::QueueFull(message) => Error::QueueFull(message),
        _ => Error::Stopped(StopReason::Close),
    }
}
