//! `use_steadysocket`: a steadysocket [`Socket`] whose lifetime follows the
//! component, as a Yew hook.
//!
//! - The socket is created in an effect keyed on `(url, config)`: once per mounted
//!   component (re-renders reuse it), again only if the URL or config changes.
//! - The effect's cleanup (unmount, or new `url`/`config`) drops the socket; the
//!   last handle's drop closes the connection with 1000. The reader task holds only
//!   views and a `WeakSocket`, so it ends by itself then.
//! - Every decoded message and every lifecycle event goes through a reducer, one
//!   dispatch each, so a burst is never collapsed to "the latest".

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use serde::de::DeserializeOwned;
use steadysocket::{Config, Event, Item, Message, ReadyState, SendError, Socket};
use yew::prelude::*;

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
}

/// The hook's state: the status and every message received, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct SocketState<T> {
    /// The connection's status.
    pub status: Status,
    /// Every message decoded so far (a chat keeps them all).
    pub messages: Vec<T>,
}

impl<T> Default for SocketState<T> {
    fn default() -> Self {
        SocketState {
            status: Status::default(),
            messages: Vec::new(),
        }
    }
}

/// One change to [`SocketState`].
pub enum Action<T> {
    /// A lifecycle event, with the socket's state and queue length read just after.
    Event(Event, ReadyState, usize),
    /// A decoded message.
    Message(T),
    /// The socket's state and queue length changed (after a send).
    Snapshot(ReadyState, usize),
    /// The socket could not be created, or a message could not be decoded or sent.
    Failed(String),
}

impl<T: Clone> Reducible for SocketState<T> {
    type Action = Action<T>;

    fn reduce(self: Rc<Self>, action: Action<T>) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        let status = &mut next.status;
        match action {
            Action::Message(message) => next.messages.push(message),
            Action::Snapshot(ready_state, queued) => {
                status.ready_state = ready_state;
                status.queued = queued;
            }
            Action::Failed(error) => status.error = Some(error),
            Action::Event(event, ready_state, queued) => {
                status.ready_state = ready_state;
                status.queued = queued;
                match event {
                    Event::Connecting { attempt } => {
                        status.attempt = attempt;
                        status.retry_in = None;
                    }
                    Event::Reconnecting { attempt, delay, .. } => {
                        status.attempt = attempt;
                        status.retry_in = Some(delay);
                    }
                    Event::Open => {
                        status.retry_in = None;
                        status.error = None;
                    }
                    Event::Heartbeat { rtt } => status.rtt = Some(rtt),
                    Event::Error(kind) => status.error = Some(kind.to_string()),
                    _ => {}
                }
            }
        }
        Rc::new(next)
    }
}

/// What [`use_steadysocket`] returns: the state, and `send`.
pub struct UseSteadySocket<T: Clone + 'static> {
    state: UseReducerHandle<SocketState<T>>,
    socket: Rc<RefCell<Option<Socket>>>,
}

impl<T: Clone + 'static> UseSteadySocket<T> {
    /// The connection's status.
    pub fn status(&self) -> &Status {
        &self.state.status
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> &[T] {
        &self.state.messages
    }

    /// Sends now if open, else queues it for the next open.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`]: the queue is full, or the socket stopped for good. Also
    /// `Closed` before the socket exists (the first render, before effects run).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let socket = self.socket.borrow().clone();
        let Some(socket) = socket else {
            return Err(SendError::Closed(message.into()));
        };
        let result = socket.send(message);
        self.state
            .dispatch(Action::Snapshot(socket.ready_state(), socket.queued()));
        result
    }
}

impl<T: Clone + 'static> Clone for UseSteadySocket<T> {
    fn clone(&self) -> Self {
        UseSteadySocket {
            state: self.state.clone(),
            socket: Rc::clone(&self.socket),
        }
    }
}

/// Connects to `url` (relative URLs resolve against the page) and decodes every
/// incoming message as JSON `T`. See the module docs for the socket's lifetime.
#[hook]
pub fn use_steadysocket<T>(url: String, config: Config) -> UseSteadySocket<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    let state = use_reducer(SocketState::<T>::default);
    let socket = use_mut_ref(|| None::<Socket>);
    {
        let dispatch = state.dispatcher();
        let slot = Rc::clone(&socket);
        use_effect_with((url, config), move |(url, config)| {
            match Socket::builder(url.as_str())
                .config(config.clone())
                .connect()
            {
                Ok(socket) => {
                    spawn_reader::<T>(&socket, dispatch);
                    *slot.borrow_mut() = Some(socket);
                }
                Err(e) => dispatch.dispatch(Action::Failed(e.to_string())),
            }
            // Drop the only handle: that closes with 1000, and the reader ends.
            move || drop(slot.borrow_mut().take())
        });
    }
    UseSteadySocket { state, socket }
}

/// Reads events and messages until the socket is dropped, one dispatch per item.
fn spawn_reader<T>(socket: &Socket, dispatch: UseReducerDispatcher<SocketState<T>>)
where
    T: DeserializeOwned + Clone + 'static,
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
            dispatch.dispatch(match input {
                Item::Event(e) => Action::Event(e, socket.ready_state(), socket.queued()),
                Item::Message(m) => match m.json::<T>() {
                    Ok(message) => Action::Message(message),
                    Err(e) => Action::Failed(e.to_string()),
                },
                _ => continue,
            });
        }
    });
}
