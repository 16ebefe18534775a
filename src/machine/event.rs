//! What the core tells its caller: [`Action`]s for the driver and [`Event`]s for the
//! user, plus the small value types they carry.

use core::fmt;
use core::time::Duration;

/// Identifies one native socket (one connection attempt). Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub(crate) u64);

impl SocketId {
    /// The raw number (attempts are numbered from 1 in the order they started).
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Something the driver must do to the outside world. Poll them with
/// [`Machine::poll_action`](super::Machine::poll_action) and perform them in order.
#[derive(Debug, PartialEq)]
#[must_use]
pub enum Action<M> {
    /// Resolve the URL (and protocols) for this attempt and open a native socket.
    /// Report back with `handle_open`, `handle_close` or `handle_connect_error`
    /// for this `socket`.
    Connect {
        /// The new socket's identity.
        socket: SocketId,
        /// The retry number (0 for a first attempt, n for retry n).
        attempt: u32,
    },
    /// Send this message on the open socket.
    Send {
        /// The socket to send on.
        socket: SocketId,
        /// The message.
        message: M,
    },
    /// Send the configured heartbeat message on the open socket.
    SendHeartbeat {
        /// The socket to send on.
        socket: SocketId,
    },
    /// Start the close handshake and keep listening: the core waits for
    /// `handle_close` (or its close timeout).
    Close {
        /// The socket to close.
        socket: SocketId,
        /// The close code; `None` closes without one.
        code: Option<u16>,
        /// The close reason (at most 123 UTF-8 bytes).
        reason: String,
    },
    /// Close the socket and detach it at once: remove its listeners so none of its
    /// late events reach the core or the user.
    Abandon {
        /// The socket to abandon.
        socket: SocketId,
        /// The close code to send if the socket is open; `None` closes without one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
}

/// Who or what ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Closer {
    /// The server, the network or the browser (a native close event).
    Remote,
    /// The user called `close()`.
    User,
    /// The user called `reconnect()`.
    Reconnect,
    /// The attempt did not open within `connection_timeout`.
    ConnectTimeout,
    /// Nothing arrived within `heartbeat_timeout` of a heartbeat.
    HeartbeatTimeout,
    /// The URL provider failed, or the browser refused to create the socket.
    ConnectError,
    /// The connection hook (`onConnect`) failed or did not settle in time.
    Hook,
}

/// The details of one ended connection or attempt, as in a `CloseEvent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code (1006 when the connection ended without a close frame).
    pub code: u16,
    /// The close reason.
    pub reason: String,
    /// Whether the close handshake completed.
    pub was_clean: bool,
    /// Who or what ended it.
    pub closer: Closer,
}

impl CloseInfo {
    /// A close without a close frame (code 1006).
    pub(crate) fn abnormal(reason: &str, closer: Closer) -> Self {
        CloseInfo {
            code: 1006,
            reason: reason.to_owned(),
            was_clean: false,
            closer,
        }
    }
}

/// Why a socket stopped for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The user called `close()`.
    Close,
    /// `max_retries` retries failed.
    MaxRetries,
    /// A close code in `stop_on_close_codes`, or `should_reconnect` said no.
    CloseCode,
}

impl StopReason {
    /// The contract's spelling: `"close"`, `"max-retries"` or `"close-code"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Close => "close",
            StopReason::MaxRetries => "max-retries",
            StopReason::CloseCode => "close-code",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong, for an [`Event::Error`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The native socket fired `error` (the browser gives no detail).
    Socket,
    /// The attempt did not open within `connection_timeout`.
    ConnectTimeout,
    /// Nothing arrived within `heartbeat_timeout` of a heartbeat.
    HeartbeatTimeout,
    /// The URL provider failed or the socket could not be created.
    Connect(String),
    /// `close()` was called while the attempt was still connecting (a browser
    /// `WebSocket` fires `error` then).
    Aborted,
    /// The connection hook (`onConnect`) failed, with why.
    Hook(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Socket => f.write_str("the WebSocket reported an error"),
            ErrorKind::ConnectTimeout => f.write_str("the connection attempt timed out"),
            ErrorKind::HeartbeatTimeout => f.write_str("the heartbeat was not answered in time"),
            ErrorKind::Connect(msg) => write!(f, "could not connect: {msg}"),
            ErrorKind::Aborted => f.write_str("closed before the connection was established"),
            ErrorKind::Hook(why) => write!(f, "the onConnect hook failed: {why}"),
        }
    }
}

/// Something the user should hear about, in the order it happened. Poll them with
/// [`Machine::poll_event`](super::Machine::poll_event) after draining actions.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An attempt started (retry number, 0 for a first attempt).
    Connecting {
        /// The retry number.
        attempt: u32,
    },
    /// The socket opened; queued messages have already been handed to it.
    Open,
    /// An error; a `Close` follows when the connection or attempt ends.
    Error(ErrorKind),
    /// A connection or attempt ended. Exactly one per attempt, and one for a
    /// `close()` while no socket was live.
    Close(CloseInfo),
    /// A retry is scheduled.
    Reconnecting {
        /// The retry number (1 for the first retry).
        attempt: u32,
        /// The wait before it starts.
        delay: Duration,
        /// The close code that caused it.
        code: u16,
        /// The close reason that caused it.
        reason: String,
    },
    /// A heartbeat was answered.
    Heartbeat {
        /// Round-trip time of the heartbeat.
        rtt: Duration,
    },
    /// Stopped for good; nothing more happens until `reconnect()`.
    Stop(StopReason),
    /// Rust API only (the core never emits it): this stream fell more than
    /// `Config::max_unread` items behind and lost the oldest `missed` of them.
    Lagged {
        /// How many items this reader lost.
        missed: u64,
    },
    /// Queued messages were taken out of the queue without being sent.
    Discarded {
        /// Why.
        reason: DiscardReason,
        /// How many messages this step discarded.
        count: usize,
    },
}

/// Why queued messages left the queue unsent, for an [`Event::Discarded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscardReason {
    /// Their TTL passed.
    Ttl,
    /// `QueueOverflow::DropOldest` made room for newer ones.
    Overflow,
    /// The user took them out (`drain_queued()`, JS `drainQueuedMessages()`).
    Cleared,
}

impl DiscardReason {
    /// The contract's spelling: `"ttl"`, `"overflow"` or `"cleared"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DiscardReason::Ttl => "ttl",
            DiscardReason::Overflow => "overflow",
            DiscardReason::Cleared => "cleared",
        }
    }
}

/// The socket's state in the browser `WebSocket`'s terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ReadyState {
    /// Connecting, or waiting to retry.
    Connecting = 0,
    /// Open: messages go straight out.
    Open = 1,
    /// `close()` was called; the handshake is under way.
    Closing = 2,
    /// Stopped for good (or not started, with `start_closed`).
    Closed = 3,
}

/// What happened to a message given to [`Machine::send`](super::Machine::send).
#[derive(Debug, PartialEq)]
#[must_use]
pub enum SendOutcome<M> {
    /// The socket is open: send this message on the socket now.
    Transmit {
        /// The socket to send on.
        socket: SocketId,
        /// The message, handed back.
        message: M,
    },
    /// The message joined the action queue behind others; poll actions.
    Pending,
    /// The socket is not open; the message waits in the send queue.
    Queued,
    /// The socket is not open and the message's TTL is zero ("only now"): it was
    /// discarded at once (reported as `Discarded { Ttl }`).
    Discarded,
}

/// Per-message send options (JS: `send(data, { ttl })`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOptions {
    /// Discard the message if it has waited this long in the queue (overrides
    /// `Config::message_ttl`). Zero: "only now" (sent if open, else discarded).
    pub ttl: Option<core::time::Duration>,
}

impl SendOptions {
    /// Options with a TTL.
    #[must_use]
    pub fn ttl(ttl: core::time::Duration) -> SendOptions {
        SendOptions { ttl: Some(ttl) }
    }
}

/// What became of a tracked message (a delivery result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Handed to an open native socket (not a server acknowledgement).
    Sent,
    /// Its TTL passed while it waited (JS: `TimeoutError`).
    Expired,
    /// Discarded by `QueueOverflow::DropOldest` (JS: `AbortError`).
    Overflowed,
    /// Taken back by `drain_queued()` / `clearQueue()` (JS: `AbortError`).
    Cleared,
    /// The socket stopped before it could be sent (JS: `InvalidStateError`).
    Stopped,
}

/// A message that could not be sent, handed back inside the error.
///
/// What to do: on `QueueFull`, wait (the Rust `Sink` does this for you) or drop
/// something; on `Closed`, call `reconnect()` first or give up.
#[derive(PartialEq, Eq)]
pub enum SendError<M> {
    /// The send queue is at `max_enqueued_messages` or would exceed
    /// `max_enqueued_bytes`. The queue is unchanged. (JS: `QueueFullError`.)
    QueueFull(M),
    /// The socket has stopped for good (or stopped before a tracked message could
    /// go). (JS: `InvalidStateError`.) A plain send after a stop is queued
    /// instead; tracked sends and the `Sink` report it.
    Closed(M),
    /// A tracked message's TTL passed while it waited. (JS: `TimeoutError`.)
    Expired(M),
    /// A tracked message was discarded: dropped to make room
    /// (`QueueOverflow::DropOldest`) or taken back by `drain_queued()`.
    /// (JS: `AbortError`.)
    Dropped(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            SendError::QueueFull(m)
            | SendError::Closed(m)
            | SendError::Expired(m)
            | SendError::Dropped(m) => m,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::QueueFull(_) => f.write_str("QueueFull(..)"),
            SendError::Closed(_) => f.write_str("Closed(..)"),
            SendError::Expired(_) => f.write_str("Expired(..)"),
            SendError::Dropped(_) => f.write_str("Dropped(..)"),
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::QueueFull(_) => f.write_str("the send queue is full"),
            SendError::Closed(_) => {
                f.write_str("the socket is closed; call reconnect() before sending")
            }
            SendError::Expired(_) => f.write_str("the message expired in the send queue"),
            SendError::Dropped(_) => f.write_str("the message was discarded from the send queue"),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

/// A close code or reason the WebSocket protocol does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseError {
    /// Only 1000 and 3000–4999 may be sent by a browser. (JS: `InvalidAccessError`.)
    #[error("close code {code} is not allowed: use 1000 or 3000-4999")]
    InvalidCode {
        /// The code given.
        code: u16,
    },
    /// The reason is longer than 123 UTF-8 bytes. (JS: `SyntaxError`.)
    #[error("close reason is {len} UTF-8 bytes; at most 123 are allowed")]
    ReasonTooLong {
        /// The reason's length in UTF-8 bytes.
        len: usize,
    },
}

/// Checks a close code and reason as the browser's `close()` would.
///
/// # Errors
///
/// [`CloseError`] if the code is not 1000 or 3000–4999, or the reason is over 123
/// UTF-8 bytes.
pub fn validate_close(code: Option<u16>, reason: &str) -> Result<(), CloseError> {
    if let Some(code) = code {
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(CloseError::InvalidCode { code });
        }
    }
    if reason.len() > 123 {
        return Err(CloseError::ReasonTooLong { len: reason.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1000_and_3000_to_4999_are_valid_close_codes() {
        for ok in [1000, 3000, 3999, 4999] {
            assert_eq!(validate_close(Some(ok), ""), Ok(()));
        }
        for bad in [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, u16::MAX] {
            assert_eq!(
                validate_close(Some(bad), ""),
                Err(CloseError::InvalidCode { code: bad })
            );
        }
        assert_eq!(validate_close(None, ""), Ok(()));
    }

    #[test]
    fn a_reason_is_limited_to_123_utf8_bytes_not_characters() {
        assert_eq!(validate_close(None, &"a".repeat(123)), Ok(()));
        assert_eq!(
            validate_close(None, &"a".repeat(124)),
            Err(CloseError::ReasonTooLong { len: 124 })
        );
        // 62 two-byte characters are 124 bytes.
        assert_eq!(
            validate_close(Some(1000), &"é".repeat(62)),
            Err(CloseError::ReasonTooLong { len: 124 })
        );
    }

    #[test]
    fn send_errors_hand_the_message_back_and_explain_themselves() {
        let e = SendError::QueueFull("m");
        assert_eq!(e.to_string(), "the send queue is full");
        assert_eq!(format!("{e:?}"), "QueueFull(..)");
        assert_eq!(e.into_inner(), "m");
        let e = SendError::Closed("n");
        assert!(e.to_string().contains("reconnect()"));
        assert_eq!(e.into_inner(), "n");
    }

    #[test]
    fn stop_reasons_use_the_contracts_spelling() {
        assert_eq!(StopReason::Close.to_string(), "close");
        assert_eq!(StopReason::MaxRetries.as_str(), "max-retries");
        assert_eq!(StopReason::CloseCode.as_str(), "close-code");
        assert_eq!(DiscardReason::Ttl.as_str(), "ttl");
        assert_eq!(DiscardReason::Overflow.as_str(), "overflow");
        assert_eq!(DiscardReason::Cleared.as_str(), "cleared");
        assert!(ErrorKind::Connect("x".into()).to_string().contains('x'));
        assert_eq!(SocketId(3).get(), 3);
    }
}
