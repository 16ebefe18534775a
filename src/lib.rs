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

mod error;
pub mod machine;
mod message;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the browser side
mod protocols;
#[cfg(target_arch = "wasm32")]
mod web;

pub use error::Error;
pub use machine::{
    CloseError, CloseInfo, Closer, Config, ConfigError, ErrorKind, Event, Field, ReadyState,
    SendError, StopReason,
};
pub use message::Message;
#[cfg(target_arch = "wasm32")]
pub use web::{Builder, Events, Json, OpenedFuture, Sender, Socket, EVENT_BUFFER};
