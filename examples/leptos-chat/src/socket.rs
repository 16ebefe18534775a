//! `use_steadysocket`: a steadysocket [`Socket`] owned by the current Leptos
//! component, with its status and messages as signals.
//!
//! - Call it once in a component body (which runs once): one socket per component.
//! - The socket lives in a local `StoredValue`, so it is dropped when the component's
//!   owner is disposed; that (the only handle) closes the connection with 1000. The
//!   reader task holds only views and a `WeakSocket`, so it ends by itself then.
//! - Every decoded message is pushed onto a `Vec` signal, one update each, so a burst
//!   is never collapsed to "the latest".

use std::time::Duration;

use futures::StreamExt;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use steadysocket::{Config, Event, Item, Message, ReadyState, SendError, Socket};

/// What a status line shows about the connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// As `WebSocket.readyState` (`Connecting` also while waiting to retry).
    pub ready_state: ReadyState,
    /// The retry number of the current or next attempt (0: the first attempt).
    pub attempt: u32,
    /// The wait before the next attempt, while one is scheduled.
    pub retry_in: Option<Duration>,
    /// Messages sent while disconnected, waiting for the next open.
    pub queued: usize,
    /// The last heartbeat round trip.
    pub rtt: Option<Duration>,
    /// Why the socket could not be created, or the last error it reported.
    pub error: Option<String>,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            ready_state: ReadyState::Connecting,
            attempt: 0,
            retry_in: None,
            queued: 0,
            rtt: None,
            error: None,
        }
    }
}

impl Status {
    /// A one-word state for display and tests: connecting, reconnecting, open,
    /// closing or closed.
    pub fn phase(&self) -> &'static str {
        match self.ready_state {
            ReadyState::Connecting if self.attempt > 0 => "reconnecting",
            ReadyState::Connecting => "connecting",
            ReadyState::Open => "open",
            ReadyState::Closing => "closing",
            ReadyState::Closed => "closed",
        }
    }

    /// Takes in one lifecycle event and the socket's state just after it.
    fn apply(&mut self, event: Event, socket: &Socket) {
        self.ready_state = socket.ready_state();
        self.queued = socket.queued();
        match event {
            Event::Connecting { attempt } => {
                self.attempt = attempt;
                self.retry_in = None;
            }
            Event::Reconnecting { attempt, delay, .. } => {
                self.attempt = attempt;
                self.retry_in = Some(delay);
            }
            Event::Open => {
                self.retry_in = None;
                self.error = None;
            }
            Event::Heartbeat { rtt } => self.rtt = Some(rtt),
            Event::Error(kind) => self.error = Some(kind.to_string()),
            _ => {}
        }
    }
}

/// What [`use_steadysocket`] returns. `Copy`, like signals: move it into closures.
pub struct SteadySocket<T: Send + Sync + 'static> {
    /// The connection's status.
    pub status: ReadSignal<Status>,
    /// Every message received so far, oldest first.
    pub messages: ReadSignal<Vec<T>>,
    set_status: WriteSignal<Status>,
    socket: StoredValue<Option<Socket>, LocalStorage>,
}

impl<T: Send + Sync + 'static> Clone for SteadySocket<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for SteadySocket<T> {}

impl<T: Send + Sync + 'static> SteadySocket<T> {
    /// Sends now if open, else queues it for the next open.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`]: the queue is full, or the socket stopped for good (also
    /// when it could not be created, or the component is gone).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let message = message.into();
        let Some(socket) = self.socket.try_get_value().flatten() else {
            return Err(SendError::Closed(message));
        };
        let result = socket.send(message);
        self.set_status.update(|s| {
            s.ready_state = socket.ready_state();
            s.queued = socket.queued();
        });
        result
    }
}

/// Connects to `url` (relative URLs resolve against the page) and decodes every
/// incoming message as JSON `T`. See the module docs for the socket's lifetime.
pub fn use_steadysocket<T>(url: &str, config: Config) -> SteadySocket<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let (status, set_status) = signal(Status::default());
    let (messages, set_messages) = signal(Vec::<T>::new());
    let socket = match Socket::builder(url).config(config).connect() {
        Ok(socket) => {
            spawn_reader(&socket, set_status, set_messages);
            Some(socket)
        }
        Err(e) => {
            set_status.update(|s| s.error = Some(e.to_string()));
            None
        }
    };
    SteadySocket {
        status,
        messages,
        set_status,
        socket: StoredValue::new_local(socket),
    }
}

/// Reads events and messages until the socket is dropped, one signal update per item.
fn spawn_reader<T>(
    socket: &Socket,
    set_status: WriteSignal<Status>,
    set_messages: WriteSignal<Vec<T>>,
) where
    T: DeserializeOwned + Send + Sync + 'static,
{
    // One stream: messages and events in the order they happened, across stops
    // and reconnects; it ends when the socket is dropped.
    let inputs = socket.items();
    // Weak: the reader must not keep the socket alive after the component drops it.
    let socket = socket.downgrade();
    wasm_bindgen_futures::spawn_local(async move {
        let mut inputs = inputs;
        while let Some(input) = inputs.next().await {
            let Some(socket) = socket.upgrade() else {
                break;
            };
            match input {
                Item::Event(e) => set_status.update(|s| s.apply(e, &socket)),
                Item::Message(m) => match m.json::<T>() {
                    Ok(m) => set_messages.update(|v| v.push(m)),
                    Err(e) => set_status.update(|s| s.error = Some(e.to_string())),
                },
                _ => {}
            }
        }
    });
}
