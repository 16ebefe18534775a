//! The sans-IO connection core: reconnect, backoff, heartbeat, send queue and close
//! policy, as a pure state machine.
//!
//! [`Machine`] never does I/O, never reads a clock and has no randomness of its own:
//! time is passed in as an [`Instant`], jitter comes from a generator seeded by the
//! caller, and what should happen comes out as [`Action`]s (for the driver) and
//! [`Event`]s (for the user). It builds and is tested on any host, in virtual time.
//!
//! # Lifecycle
//!
//! ```text
//!             new / reconnect()
//!                   │
//!                   ▼
//!    ┌────────► CONNECTING ──open──► OPEN ──server close / error / heartbeat timeout──┐
//!    │              │                                                                │
//!    │   connect timeout / failure                                                   │
//!    │              ▼                                                                │
//!    └── backoff ◄──┴───────────────────────────────────────────────────────────────┘
//!         wait          (ready state stays CONNECTING while waiting)
//!
//!    close() in any state ──► CLOSING ──► CLOSED (stopped for good; reconnect() restarts)
//!    max retries reached / stop close code ──► CLOSED (stopped for good)
//! ```
//!
//! # A timeline
//!
//! With the defaults and jitter 0, against a server that is down for 10 s:
//!
//! ```text
//!  t (s)   0        4        5           9.5          11.5
//!          │connect │timeout │retry 1    │timeout     │retry 2 ...
//!          ●────────✗ wait 1 ●───────────✗ wait 1.5 s ●
//!          attempt 0          attempt 1               attempt 2
//! ```
//!
//! Every ended attempt gives exactly one [`Event::Close`], followed by either
//! [`Event::Reconnecting`] (with the delay) or [`Event::Stop`].
//!
//! # Rules, and the choices made where a browser `WebSocket` sets no precedent
//!
//! - **Attempts.** The first starts at once. Retry *n* waits
//!   `min(max, min_delay × growth^(n-1))`, jittered uniformly into `[d(1-j), d]`. The
//!   retry count resets only after `min_uptime` open, so a server that accepts and
//!   drops keeps the delay growing. `max_retries = Some(n)` allows `n + 1` attempts,
//!   then one [`Event::Stop`]`(MaxRetries)`.
//! - **Closes.** Each attempt ends in exactly one `Close`: the native one (code as
//!   the browser reports it), or a synthetic one with code 1006 when the core gave up
//!   on the socket: connect timeout (reason `"connection timeout"`), heartbeat
//!   timeout (`"heartbeat timeout"`; the server is sent 4000 if the socket can still
//!   carry it), or close timeout. Synthetic timeouts are preceded by an
//!   [`Event::Error`] saying which.
//! - **Server close codes.** 1013 waits `max_reconnection_delay`, jittered into
//!   `[max(1-j), max]` like every delay (a shedding server sends it to many clients
//!   at once). Codes in `stop_on_close_codes` (server closes only) and a `should_reconnect`
//!   veto stop for good with [`StopReason::CloseCode`]. Any other code, 1000
//!   included, reconnects: the socket is meant to stay connected.
//! - **`close()`** is final: it cancels every timer and attempt. It yields one
//!   `Close` (a turn later when no socket is open, with the given code or 1005; after
//!   an `Error` when it interrupted an attempt, as the browser does) and one
//!   `Stop(Close)`. Every stop **keeps** the send queue, and sends after a stop are
//!   queued too (bounded as always): only a later `reconnect()` delivers them, and
//!   [`Machine::drain_queued`] takes them back.
//! - **`reconnect()`** works in every state, resets the retry count, keeps the
//!   queue, and reports the connection it replaced with a `Close` whose closer is
//!   [`Closer::Reconnect`] (or, interrupting a `close()`, that close's `Close` and
//!   `Stop`).
//! - **`start_closed`**: nothing connects until `reconnect()`; sends made before it
//!   are queued, not refused (the socket has not been stopped, only not started).
//! - **Heartbeat.** Off unless `heartbeat_interval` is set. Any inbound message is
//!   liveness. The response text is filtered only while the heartbeat is on. A
//!   deadline that fires more than a second late (throttled or frozen page) sends
//!   one fresh probe instead of declaring the connection dead.

mod backoff;
mod config;
mod event;
mod heartbeat;
#[allow(clippy::module_inception)]
mod machine;
mod queue;
mod state;
mod time;
mod timers;

pub use config::{Config, ConfigError, Field, QueueOverflow};
pub use event::{
    validate_close, Action, CloseError, CloseInfo, Closer, Delivery, DiscardReason, ErrorKind,
    Event, ReadyState, SendError, SendOptions, SendOutcome, SocketId, StopReason,
};
pub use machine::Machine;
pub use queue::Payload;
pub use time::Instant;
