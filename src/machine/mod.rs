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

pub use config::{Config, ConfigError, Field};
pub use event::{
    validate_close, Action, CloseError, CloseInfo, Closer, ErrorKind, Event, ReadyState, SendError,
    SendOutcome, SocketId, StopReason,
};
pub use machine::Machine;
pub use queue::Payload;
pub use time::Instant;
