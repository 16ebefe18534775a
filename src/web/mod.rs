//! The browser side: the only code that touches `web_sys::WebSocket`, timers and
//! window events, and the Rust API built on it ([`Socket`]).

mod builder;
mod clock;
pub(crate) mod driver;
mod handshake;
mod inbox;
mod listener;
pub(crate) mod native;
pub(crate) mod prop;
pub(crate) mod share;
mod sink;
mod socket;
pub(crate) mod url;

pub use builder::Builder;
pub use handshake::{Handshake, HandshakeNext};
pub use inbox::{Events, Item, Items, Json, Messages};
pub use sink::Sender;
pub use socket::{OpenedFuture, Socket, Tracked, WeakSocket};
