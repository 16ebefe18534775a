//! The browser side: the only code that touches `web_sys::WebSocket`, timers and
//! window events, and the Rust API built on it ([`Socket`]).

mod clock;
pub(crate) mod driver;
mod listener;
mod native;
mod socket;
pub(crate) mod url;

pub use socket::{
    Builder, Events, Json, Messages, OpenedFuture, Sender, Socket, WeakSocket, EVENT_BUFFER,
};
