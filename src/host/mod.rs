//! The Rust API on targets other than `wasm32`: server-side rendering (Leptos, Yew
//! and the like render components on the server), native tests, tools.
//!
//! Every type and method of the browser API is here with the same signature and the
//! same traits (`Stream`, `Sink`, `Future`, `Clone`, not `Send`), so component code
//! shared by the browser and the server compiles for both. There is no browser to
//! connect in, so [`Builder::connect`] and [`Socket::connect`] return
//! [`Error::NoBrowser`](crate::Error::NoBrowser) (after the same checks of the
//! settings and subprotocols the browser build makes). No `Socket`, stream or future
//! can exist here: each is an uninhabited type, so none of their methods can run,
//! and none can panic.

mod builder;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

pub use builder::Builder;

use crate::machine::{Event, ReadyState, SendError, SendOptions};
use crate::{Error, Message};

/// A value of none of these types exists on the host: `Never` has no values, and
/// the marker keeps the types `!Send`/`!Sync`, as in the browser (where they hold
/// `Rc`s), so code that compiles here compiles there.
#[derive(Clone, Copy, Debug)]
struct Never(Infallible, PhantomData<Rc<()>>);

impl Never {
    fn absurd<T>(self) -> T {
        match self.0 {}
    }
}

macro_rules! never_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// On this target (not `wasm32`) no value of it exists; see the crate docs.
        #[derive(Clone, Debug)]
        pub struct $name {
            never: Never,
        }
    };
}

never_type!(
    /// A WebSocket that stays connected (in the browser). On the host,
    /// [`Socket::connect`] returns [`Error::NoBrowser`](crate::Error::NoBrowser).
    Socket
);
never_type!(
    /// A [`Socket`] that does not keep the connection alive.
    WeakSocket
);
never_type!(
    /// The sending half from [`Socket::split`].
    Sender
);
never_type!(
    /// Messages and lifecycle events in the order they happened.
    Items
);
never_type!(
    /// Lifecycle [`Event`]s.
    Events
);
never_type!(
    /// The incoming messages.
    Messages
);
never_type!(
    /// The connection being set up, handed to the hook of [`Builder::on_connect`].
    Handshake
);
never_type!(
    /// The future of [`Handshake::next`].
    HandshakeNext
);
never_type!(
    /// The future of [`Socket::opened`].
    OpenedFuture
);
never_type!(
    /// The future of [`Socket::send_tracked`].
    Tracked
);

/// A stream of decoded JSON values; see [`Socket::json`]. On this target (not
/// `wasm32`) no value of it exists.
pub struct Json<T> {
    never: Never,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Json<T> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.never.absurd()
    }
}

/// One item of [`Socket::items`]: a message or a lifecycle event, in the order they
/// happened.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// A message from the server.
    Message(Message),
    /// A lifecycle event (including [`Event::Lagged`] for a reader that fell behind).
    Event(Event),
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
    /// On this target, always [`Error::NoBrowser`](crate::Error::NoBrowser).
    pub fn connect(url: impl Into<String>) -> Result<Socket, Error> {
        Builder::new(url).connect()
    }

    /// Sends a message (queued while disconnected).
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] if the queue is at its limit.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let _ = message.into();
        self.never.absurd()
    }

    /// Sends `value` as a JSON text message.
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json), or as [`send`](Socket::send).
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let _ = value;
        self.never.absurd()
    }

    /// Closes for good with `code` and `reason`.
    ///
    /// # Errors
    ///
    /// [`Error::Close`](crate::Error::Close) for a bad code or reason.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        let _ = (code, reason);
        self.never.absurd()
    }

    /// Closes the current connection and connects at once.
    ///
    /// # Errors
    ///
    /// None with these arguments.
    pub fn reconnect(&self) -> Result<(), Error> {
        self.never.absurd()
    }

    /// [`reconnect`](Socket::reconnect) with a close code and reason.
    ///
    /// # Errors
    ///
    /// [`Error::Close`](crate::Error::Close) for a bad code or reason.
    pub fn reconnect_with(&self, code: u16, reason: &str) -> Result<(), Error> {
        let _ = (code, reason);
        self.never.absurd()
    }

    /// The state, as `WebSocket.readyState`.
    #[must_use]
    pub fn ready_state(&self) -> ReadyState {
        self.never.absurd()
    }

    /// Retries since the last connection that stayed up `min_uptime`.
    #[must_use]
    pub fn retry_count(&self) -> u32 {
        self.never.absurd()
    }

    /// Messages waiting in the send queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.never.absurd()
    }

    /// Sends with [`SendOptions`] and resolves once handed to an open socket.
    pub fn send_tracked(&self, message: impl Into<Message>, options: SendOptions) -> Tracked {
        let _ = (message.into(), options);
        self.never.absurd()
    }

    /// Removes and returns everything queued, oldest first.
    pub fn drain_queued(&self) -> Vec<Message> {
        self.never.absurd()
    }

    /// Bytes not yet on the wire.
    #[must_use]
    pub fn buffered_amount(&self) -> u64 {
        self.never.absurd()
    }

    /// The URL of the current (or last) attempt.
    #[must_use]
    pub fn url(&self) -> String {
        self.never.absurd()
    }

    /// The subprotocol the server chose on the last open.
    #[must_use]
    pub fn protocol(&self) -> String {
        self.never.absurd()
    }

    /// The extensions the server chose on the last open.
    #[must_use]
    pub fn extensions(&self) -> String {
        self.never.absurd()
    }

    /// Waits until the socket is open.
    pub fn opened(&self) -> OpenedFuture {
        self.never.absurd()
    }

    /// Messages and lifecycle events in the order they happened, from now on.
    #[must_use]
    pub fn items(&self) -> Items {
        self.never.absurd()
    }

    /// The lifecycle events of [`items`](Socket::items) alone.
    #[must_use]
    pub fn events(&self) -> Events {
        self.never.absurd()
    }

    /// The messages of [`items`](Socket::items) alone.
    #[must_use]
    pub fn messages(&self) -> Messages {
        self.never.absurd()
    }

    /// A stream of `T`s decoded from incoming messages.
    #[must_use]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Json<T> {
        self.never.absurd()
    }

    /// A handle that does not keep the socket alive.
    #[must_use]
    pub fn downgrade(&self) -> WeakSocket {
        self.never.absurd()
    }

    /// Two halves for two tasks: a [`Sender`] and the receiving `Socket` stream.
    #[must_use]
    pub fn split(self) -> (Sender, Socket) {
        self.never.absurd()
    }
}

impl WeakSocket {
    /// The socket, while some handle still holds it.
    #[must_use]
    pub fn upgrade(&self) -> Option<Socket> {
        self.never.absurd()
    }
}

impl Sender {
    /// The whole socket.
    #[must_use]
    pub fn socket(&self) -> &Socket {
        self.never.absurd()
    }
}

impl Handshake {
    /// The retry number of this attempt (0 for the first).
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.never.absurd()
    }

    /// The subprotocol the server chose.
    #[must_use]
    pub fn protocol(&self) -> &str {
        self.never.absurd()
    }

    /// Sends on this connection now (never queued).
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the connection is gone or the hook has settled.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let _ = message.into();
        self.never.absurd()
    }

    /// The next message this connection receives.
    pub fn next(&self) -> HandshakeNext {
        self.never.absurd()
    }

    /// Discards what is queued and returns how many.
    pub fn clear_queue(&self) -> usize {
        self.never.absurd()
    }
}

macro_rules! never_stream {
    ($name:ty, $item:ty $(, $($generics:tt)*)?) => {
        impl$(<$($generics)*>)? Stream for $name {
            type Item = $item;

            fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<$item>> {
                self.never.absurd()
            }
        }
    };
}

never_stream!(Socket, Message);
never_stream!(Items, Item);
never_stream!(Events, Event);
never_stream!(Messages, Message);
never_stream!(Json<T>, Result<T, Error>, T: serde::de::DeserializeOwned);

macro_rules! never_future {
    ($name:ty, $output:ty) => {
        impl Future for $name {
            type Output = $output;

            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<$output> {
                self.never.absurd()
            }
        }
    };
}

never_future!(OpenedFuture, Result<(), Error>);
never_future!(Tracked, Result<(), SendError<Message>>);
never_future!(HandshakeNext, Option<Message>);

macro_rules! never_sink {
    ($name:ty) => {
        impl Sink<Message> for $name {
            type Error = Error;

            fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.never.absurd()
            }
            fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Error> {
                self.never.absurd()
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.never.absurd()
            }
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.never.absurd()
            }
        }
    };
}

never_sink!(Socket);
never_sink!(Sender);
