//! steadysocket: a browser WebSocket that stays connected.
//!
//! Automatic reconnect (exponential backoff with jitter, connect timeout, minimum
//! uptime, retry limit, close-code policy), an application heartbeat that notices dead
//! connections the browser does not, and a bounded send queue that delivers what was
//! sent while disconnected exactly once, in order, on the next open.
//!
//! - [`Socket`] is the Rust API (in the browser: `wasm32`, on a page or in a Web
//!   Worker): a cloneable handle that is a `Stream` of [`Message`]s and a `Sink` with
//!   queue backpressure, with lifecycle [`Event`]s, typed JSON and `opened()`. On
//!   other targets (server-side rendering, native tests) the same API compiles and
//!   `connect` returns [`Error::NoBrowser`].
//! - [`machine`] is the sans-IO connection core behind it, usable on any target: it
//!   holds every rule, with the lifecycle diagram and the choices made.
//! - The npm package `steadysocket` exposes the same core to JavaScript as
//!   `SteadySocket`, a drop-in superset of the browser `WebSocket`.
//!
//! A complete example is `examples/echo.rs`; [`Builder`] shows the options.
//!
//! # Cargo features
//!
//! - `share` (default): `Builder::share`, one connection for every socket of a share
//!   name across tabs. Without it (`default-features = false`) the code that shares
//!   is not in the binary (about 8 KB of gzipped wasm).
//! - `js`: the wasm-bindgen exports of the npm package; not for Rust apps.
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
#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod js;
pub mod machine;
mod message;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the browser side
mod protocols;
pub mod share;
mod status;
#[cfg(target_arch = "wasm32")]
mod web;

pub use error::Error;
pub use machine::{
    CloseError, CloseInfo, Closer, Config, ConfigError, Delivery, DiscardReason, ErrorKind, Event,
    Field, QueueOverflow, ReadyState, SendError, SendOptions, StopReason,
};
pub use message::Message;
pub use status::Status;
#[cfg(target_arch = "wasm32")]
pub use web::{
    Builder, Events, Handshake, HandshakeNext, Item, Items, Json, Messages, OpenedFuture, Sender,
    Socket, Tracked, WeakSocket,
};
// Not wasm32 (server-side rendering, native tests): the same API, which cannot
// connect (`Error::NoBrowser`), so that code shared with the browser compiles.
#[cfg(not(target_arch = "wasm32"))]
mod host;
#[cfg(not(target_arch = "wasm32"))]
pub use host::{
    Builder, Events, Handshake, HandshakeNext, Item, Items, Json, Messages, OpenedFuture, Sender,
    Socket, Tracked, WeakSocket,
};
