//! steadysocket: a browser WebSocket that stays connected.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing
    )
)]

pub mod machine;
mod message;

pub use machine::{
    CloseError, CloseInfo, Closer, Config, ConfigError, ErrorKind, Event, Field, ReadyState,
    SendError, StopReason,
};
pub use message::Message;
