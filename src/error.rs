//! [`Error`]: everything that can go wrong in the Rust API, as values.

use crate::machine::{CloseError, ConfigError, StopReason};
use crate::Message;

/// An error from the Rust API. Nothing in this crate panics instead.
///
/// Match on the variant to decide what to do; each says so.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL cannot be used for a WebSocket: not a URL, a scheme other than
    /// `ws:`/`wss:` (`http:`/`https:` are converted), or it has a fragment. Fix the
    /// URL. (JS: `SyntaxError`.)
    #[error("invalid WebSocket URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A subprotocol is empty, has characters a token may not have, or appears
    /// twice. (JS: `SyntaxError`.)
    #[error("invalid subprotocol '{protocol}': {reason}")]
    InvalidProtocol {
        /// The subprotocol given.
        protocol: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting cannot work; the error names it. (JS: `RangeError`/`TypeError`.)
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A close code or reason the protocol does not allow; nothing was closed.
    #[error(transparent)]
    Close(#[from] CloseError),
    /// The socket stopped for good (for `opened()` and the `Sink`). Call
    /// `reconnect()` to start again.
    #[error("the socket stopped: {0}")]
    Stopped(StopReason),
    /// The send queue is full; the message is handed back. (From the `Sink` only
    /// when another handle filled the queue after `poll_ready`, or a message is
    /// larger than the room left.) Wait for the socket to open.
    #[error("the send queue is full")]
    QueueFull(Message),
    /// Messages given to the `Sink` were discarded (`drain_queued()`) before they
    /// were handed to an open socket: `poll_flush` reports it instead of success.
    #[error("queued messages were discarded before they were sent")]
    Discarded,
    /// A message was not the JSON expected, or a value could not be serialised.
    /// The stream goes on with the next message.
    #[error("JSON: {0}")]
    Json(String),
    /// The browser refused an operation (with its message).
    #[error("browser error: {0}")]
    Browser(String),
    /// There is no browser: this build is for a target other than `wasm32`
    /// (server-side rendering, native tests), where the API compiles but cannot
    /// connect. Create sockets in code that runs only in the browser (an effect, an
    /// event handler), or treat this as "no socket" (`.ok()`).
    #[error("no browser: steadysocket connects only in a browser (wasm32); this build is for another target")]
    NoBrowser,
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e.to_string())
    }
}
