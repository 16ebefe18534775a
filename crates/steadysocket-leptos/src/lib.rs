//! Leptos hooks for [steadysocket]: a browser WebSocket that stays connected
//! (reconnect with backoff, heartbeat, a bounded send queue), owned by a
//! component, with its status as signals.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use steadysocket_leptos::{use_socket, Options};
//!
//! #[component]
//! fn Live() -> impl IntoView {
//!     let ws = use_socket("/live", Options::default()); // the one line
//!     view! { <p>{move || ws.status.with(|s| s.phase())} " " {move || format!("{:?}", ws.message.get())}</p> }
//! }
//! ```
//!
//! - [`use_socket`] (messages as [`Message`]) and [`use_socket_json`] (each
//!   message decoded as your `T`) return a [`UseSocket`] (`Copy`): the [`Status`]
//!   (state, attempt, next retry, RTT, queued, last error) and the last message
//!   as signals, and `send`, `send_json`, `close`, `reconnect`, `restart_with`.
//! - Every message, in order, none coalesced: [`Options::on_message`].
//! - The socket lives exactly as long as the component (its reactive owner):
//!   closed with 1000 on cleanup; a new URL or new settings only through
//!   [`UseSocket::restart_with`].
//!
//! Supports Leptos 0.8 (client-side rendering, `wasm32-unknown-unknown`); the
//! socket is browser-only, so there is nothing to render on a server.
//!
//! [steadysocket]: steadysocket
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

mod hook;
mod options;

pub use hook::{use_socket, use_socket_json, UseSocket};
pub use options::Options;
/// The socket crate itself, for everything else.
pub use steadysocket;
/// The steadysocket types the hooks take and return.
pub use steadysocket::{
    Config, Error, Event, Message, ReadyState, SendError, Socket, Status, StopReason,
};
