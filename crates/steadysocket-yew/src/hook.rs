//! The hooks and the handle they return.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

use futures::stream::{AbortHandle, Abortable};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use steadysocket::{
    Error, Event, Item, Items, Message, ReadyState, SendError, Socket, StopReason, WeakSocket,
};
use yew::prelude::*;

use crate::{Options, Status};

/// How an incoming message becomes a `T`.
type Decode<T> = fn(Message) -> Result<T, Error>;

/// A steadysocket [`Socket`] owned by the calling component, with its
/// [`Status`] and last message as state (a change re-renders the component).
///
/// One line:
///
/// ```no_run
/// # use yew::prelude::*;
/// use steadysocket_yew::{use_socket, Options};
///
/// #[component]
/// fn Echo() -> Html {
///     let ws = use_socket("/echo", Options::default());
///     let send = { let ws = ws.clone(); Callback::from(move |_| { let _ = ws.send("hello"); }) };
///     html! {
///         <>
///             <p>{ ws.status().phase() }</p>
///             <button onclick={send}>{ "Send" }</button>
///             <p>{ format!("{:?}", ws.last_message()) }</p>
///         </>
///     }
/// }
/// ```
///
/// # Lifetime
///
/// - The socket is created when the component mounts (in an effect: on the first
///   render the status is `Connecting` and [`send`](UseSocketHandle::send) fails
///   with `Closed`), and reconnects by itself (backoff, heartbeat, queue: see
///   [`Config`](steadysocket::Config)).
/// - Re-renders never create a second socket: `url` and the connection settings of
///   `options` are read at mount only. To connect elsewhere, call
///   [`restart_with`](UseSocketHandle::restart_with), or give the component a
///   `key` that changes with the URL (Yew then mounts a new one).
/// - Unmounting closes the socket with 1000 and ends its reader task; nothing of it
///   is left (no timer, listener or closure).
///
/// # Every message
///
/// [`last_message`](UseSocketHandle::last_message) is the latest only (several
/// messages may arrive between two renders). To see each one, in order, pass
/// [`Options::on_message`]: it is called once per message as it arrives.
#[hook]
pub fn use_socket(url: impl Into<String>, options: Options<Message>) -> UseSocketHandle<Message> {
    use_socket_with(url.into(), options, Ok)
}

/// [`use_socket`] for JSON: every incoming message (text or binary) is decoded as a
/// `T`; [`last_message`](UseSocketHandle::last_message) and
/// [`Options::on_message`] get `T`s. A message that does not decode is skipped and
/// its error shown in [`Status::error`].
///
/// ```no_run
/// # use yew::prelude::*;
/// use steadysocket_yew::{use_socket_json, Options};
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Price { symbol: String, cents: u64 }
///
/// #[component]
/// fn Ticker() -> Html {
///     let ws = use_socket_json::<Price>("/prices", Options::default());
///     html! { <p>{ ws.last_message().map(|p| format!("{}: {}", p.symbol, p.cents)) }</p> }
/// }
/// ```
#[hook]
pub fn use_socket_json<T>(url: impl Into<String>, options: Options<T>) -> UseSocketHandle<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    use_socket_with(url.into(), options, decode_json::<T>)
}

fn decode_json<T: DeserializeOwned>(message: Message) -> Result<T, Error> {
    message.json()
}

#[hook]
fn use_socket_with<T: Clone + 'static>(
    url: String,
    options: Options<T>,
    decode: Decode<T>,
) -> UseSocketHandle<T> {
    let state = use_reducer(State::<T>::default);
    let shared = use_memo((), move |_| Shared::new(decode));
    // The callbacks of the latest render are the ones called.
    shared.set_callbacks(&options);
    {
        let (shared, dispatch) = (Rc::clone(&shared), state.dispatcher());
        // Once per mounted component; the closure it returns runs on unmount.
        use_effect_with((), move |_| {
            Shared::connect(&shared, url, &options, dispatch);
            move || shared.stop()
        });
    }
    UseSocketHandle {
        dispatch: state.dispatcher(),
        state,
        shared,
    }
}

/// What [`use_socket`] and [`use_socket_json`] return: the status and last message
/// (as of this render), and the socket's commands. Cheap to clone; clones are the
/// same socket.
pub struct UseSocketHandle<T: Clone + 'static = Message> {
    state: UseReducerHandle<State<T>>,
    dispatch: UseReducerDispatcher<State<T>>,
    shared: Rc<Shared<T>>,
}

impl<T: Clone + 'static> UseSocketHandle<T> {
    /// The connection's status.
    #[must_use]
    pub fn status(&self) -> &Status {
        &self.state.status
    }

    /// The latest message (the latest only: use [`Options::on_message`] to see each).
    #[must_use]
    pub fn last_message(&self) -> Option<&T> {
        self.state.last.as_ref()
    }

    /// Sends now if open, else queues it for the next open (in order, once).
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] when the queue is at its limit;
    /// [`SendError::Closed`] when there is no socket (the first render, after
    /// unmount, or when it could not be created). The message is handed back.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let Some(socket) = self.shared.socket() else {
            return Err(SendError::Closed(message.into()));
        };
        let result = socket.send(message);
        self.dispatch
            .dispatch(Action::Snapshot(socket.ready_state(), socket.queued()));
        result
    }

    /// Sends `value` as a JSON text message, like [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it does not serialise, [`Error::QueueFull`] when the queue
    /// is full, [`Error::Stopped`] when there is no socket.
    pub fn send_json<V: Serialize + ?Sized>(&self, value: &V) -> Result<(), Error> {
        let Some(socket) = self.shared.socket() else {
            return Err(Error::Stopped(StopReason::Close));
        };
        let result = socket.send_json(value);
        self.dispatch
            .dispatch(Action::Snapshot(socket.ready_state(), socket.queued()));
        result
    }

    /// Closes for good with 1000 (a later [`reconnect`](Self::reconnect) starts
    /// again). What is sent meanwhile is queued for that reconnect.
    pub fn close(&self) {
        if let Some(socket) = self.shared.socket() {
            let _ = socket.close(1000, "");
        }
    }

    /// Closes the current connection (if any) with 1000, resets the retry count and
    /// connects at once; also after [`close`](Self::close) or after giving up.
    pub fn reconnect(&self) {
        if let Some(socket) = self.shared.socket() {
            let _ = socket.reconnect();
        }
    }

    /// Replaces the socket: closes the current one with 1000 and connects to `url`
    /// with `options` (a fresh status; what the old socket had queued is dropped
    /// with it). The new settings stay until the next `restart_with` or unmount.
    pub fn restart_with(&self, url: impl Into<String>, options: Options<T>) {
        self.shared.set_callbacks(&options);
        Shared::connect(&self.shared, url.into(), &options, self.dispatch.clone());
    }

    /// The socket itself, for what the handle does not offer (`send_tracked`,
    /// `drain_queued`, a stream such as `items()` for a task of your own). `None`
    /// before mount and after unmount. Unmounting closes it even if you keep the
    /// clone; the streams you took end once the clone is dropped too.
    #[must_use]
    pub fn socket(&self) -> Option<Socket> {
        self.shared.socket()
    }
}

impl<T: Clone + 'static> Clone for UseSocketHandle<T> {
    fn clone(&self) -> Self {
        UseSocketHandle {
            state: self.state.clone(),
            dispatch: self.dispatch.clone(),
            shared: Rc::clone(&self.shared),
        }
    }
}

/// Equal when they are the same socket's handle from the same render (so a child
/// taking the handle as a prop re-renders when the status or message changes).
impl<T: Clone + 'static> PartialEq for UseSocketHandle<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared) && std::ptr::eq(&*self.state, &*other.state)
    }
}

impl<T: Clone + 'static> fmt::Debug for UseSocketHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseSocketHandle")
            .field("status", self.status())
            .finish_non_exhaustive()
    }
}

/// What the component renders from.
#[derive(Clone)]
struct State<T> {
    status: Status,
    last: Option<T>,
}

impl<T> Default for State<T> {
    fn default() -> Self {
        State {
            status: Status::default(),
            last: None,
        }
    }
}

enum Action<T> {
    /// A new socket: start over (or, with an error, it could not be created).
    Reset(Option<String>),
    /// A lifecycle event, with the socket's state and queue length just after it.
    Event(Event, ReadyState, usize),
    Message(T),
    /// The state and queue length after a send.
    Snapshot(ReadyState, usize),
    /// A message that did not decode.
    Failed(String),
}

impl<T: Clone> Reducible for State<T> {
    type Action = Action<T>;

    fn reduce(self: Rc<Self>, action: Action<T>) -> Rc<Self> {
        if let Action::Snapshot(ready_state, queued) = action {
            // Most sends change nothing shown: keep the state (no re-render).
            if self.status.ready_state == ready_state && self.status.queued == queued {
                return self;
            }
        }
        let mut next = Rc::unwrap_or_clone(self);
        match action {
            Action::Reset(error) => {
                next.last = None;
                next.status = error.map_or_else(Status::default, Status::failed);
            }
            Action::Event(event, ready_state, queued) => {
                next.status.apply(&event, ready_state, queued);
            }
            Action::Message(message) => next.last = Some(message),
            Action::Snapshot(ready_state, queued) => {
                next.status.snapshot(ready_state, queued);
            }
            Action::Failed(error) => next.status.error = Some(error),
        }
        Rc::new(next)
    }
}

/// What the handle and the reader share: the socket, and the callbacks to call.
struct Shared<T> {
    live: RefCell<Option<Live>>,
    on_message: RefCell<Option<Callback<T>>>,
    on_event: RefCell<Option<Callback<Event>>>,
    decode: Decode<T>,
}

/// The socket and its reader task.
struct Live {
    socket: Socket,
    reader: AbortHandle,
}

impl<T: Clone + 'static> Shared<T> {
    fn new(decode: Decode<T>) -> Self {
        Shared {
            live: RefCell::new(None),
            on_message: RefCell::new(None),
            on_event: RefCell::new(None),
            decode,
        }
    }

    fn set_callbacks(&self, options: &Options<T>) {
        self.on_message.replace(options.on_message.clone());
        self.on_event.replace(options.on_event.clone());
    }

    fn socket(&self) -> Option<Socket> {
        self.live.borrow().as_ref().map(|live| live.socket.clone())
    }

    /// Closes the current socket (if any), then creates one and starts its reader.
    fn connect(
        this: &Rc<Self>,
        url: String,
        options: &Options<T>,
        dispatch: UseReducerDispatcher<State<T>>,
    ) {
        this.stop();
        match options.to_builder(url).connect() {
            Ok(socket) => {
                dispatch.dispatch(Action::Reset(None));
                let (reader, registration) = AbortHandle::new_pair();
                let items = Abortable::new(socket.items(), registration);
                yew::platform::spawn_local(read(
                    items,
                    socket.downgrade(),
                    Rc::downgrade(this),
                    dispatch,
                ));
                this.live.replace(Some(Live { socket, reader }));
            }
            Err(e) => dispatch.dispatch(Action::Reset(Some(e.to_string()))),
        }
    }

    /// Ends the reader and closes the socket with 1000 (unmount, restart).
    fn stop(&self) {
        // Taken out first: no borrow is held while the socket runs.
        let live = self.live.borrow_mut().take();
        if let Some(Live { socket, reader }) = live {
            reader.abort();
            let _ = socket.close(1000, "");
            // The only handle (unless `socket()` lent one out) goes here, and with
            // it every timer and browser listener of the socket.
        }
    }
}

/// The reader task: one dispatch (and one callback) per item, in order, until the
/// socket goes or the reader is aborted.
async fn read<T: Clone + 'static>(
    mut items: Abortable<Items>,
    socket: WeakSocket,
    shared: Weak<Shared<T>>,
    dispatch: UseReducerDispatcher<State<T>>,
) {
    while let Some(item) = items.next().await {
        let Some(shared) = shared.upgrade() else {
            break;
        };
        match item {
            Item::Event(event) => {
                let Some(socket) = socket.upgrade() else {
                    break;
                };
                let (ready_state, queued) = (socket.ready_state(), socket.queued());
                drop(socket);
                let callback = shared.on_event.borrow().clone();
                match callback {
                    Some(callback) => {
                        dispatch.dispatch(Action::Event(event.clone(), ready_state, queued));
                        callback.emit(event);
                    }
                    None => dispatch.dispatch(Action::Event(event, ready_state, queued)),
                }
            }
            Item::Message(message) => match (shared.decode)(message) {
                Ok(value) => {
                    let callback = shared.on_message.borrow().clone();
                    match callback {
                        Some(callback) => {
                            dispatch.dispatch(Action::Message(value.clone()));
                            callback.emit(value);
                        }
                        None => dispatch.dispatch(Action::Message(value)),
                    }
                }
                Err(e) => dispatch.dispatch(Action::Failed(e.to_string())),
            },
            _ => {}
        }
    }
}
