//! The hooks and the handle they return.

use std::fmt;
use std::rc::Rc;

use futures::stream::{AbortHandle, Abortable};
use futures::StreamExt;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use steadysocket::{Error, Event, Item, Items, Message, SendError, Socket, StopReason, WeakSocket};

use crate::{Options, Status};

/// How an incoming message becomes a `T`.
type Decode<T> = fn(Message) -> Result<T, Error>;

/// A steadysocket [`Socket`] owned by the current reactive owner (the calling
/// component), with its [`Status`] and last message as signals.
///
/// One line:
///
/// ```no_run
/// use leptos::prelude::*;
/// use steadysocket_leptos::{use_socket, Options};
///
/// #[component]
/// fn Echo() -> impl IntoView {
///     let ws = use_socket("/echo", Options::default());
///     view! {
///         <p>{move || ws.status.with(|s| s.phase())}</p>
///         <button on:click=move |_| { let _ = ws.send("hello"); }>"Send"</button>
///         <p>{move || format!("{:?}", ws.message.get())}</p>
///     }
/// }
/// ```
///
/// # Lifetime
///
/// - The socket is created at once (a component body runs once: one socket per
///   component) and reconnects by itself (backoff, heartbeat, queue: see
///   [`Config`](steadysocket::Config)).
/// - `url` and `options` are read here only; to connect elsewhere or with other
///   settings, call [`restart_with`](UseSocket::restart_with) (e.g. from an
///   `Effect` on the signal the URL comes from).
/// - When the owner is cleaned up (the component unmounts), the socket is closed
///   with 1000 and its reader task ends; nothing of it is left (no timer,
///   listener or closure). Called outside any owner, it lives until
///   [`close`](UseSocket::close) and the page's end.
///
/// # Every message
///
/// [`message`](UseSocket::message) is the latest only (an effect on it may run
/// once for several messages). To see each one, in order, pass
/// [`Options::on_message`]: it is called once per message as it arrives.
pub fn use_socket(url: impl Into<String>, options: Options<Message>) -> UseSocket<Message> {
    use_socket_with(url.into(), options, Ok)
}

/// [`use_socket`] for JSON: every incoming message (text or binary) is decoded as a
/// `T`; [`message`](UseSocket::message) and [`Options::on_message`] get `T`s. A
/// message that does not decode is skipped and its error shown in
/// [`Status::error`].
///
/// ```no_run
/// use leptos::prelude::*;
/// use steadysocket_leptos::{use_socket_json, Options};
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Price { symbol: String, cents: u64 }
///
/// #[component]
/// fn Ticker() -> impl IntoView {
///     let ws = use_socket_json::<Price>("/prices", Options::default());
///     view! { <p>{move || ws.message.get().map(|p| format!("{}: {}", p.symbol, p.cents))}</p> }
/// }
/// ```
pub fn use_socket_json<T>(url: impl Into<String>, options: Options<T>) -> UseSocket<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_socket_with(url.into(), options, decode_json::<T>)
}

fn decode_json<T: DeserializeOwned>(message: Message) -> Result<T, Error> {
    message.json()
}

fn use_socket_with<T>(url: String, options: Options<T>, decode: Decode<T>) -> UseSocket<T>
where
    T: Clone + Send + Sync + 'static,
{
    let (status, set_status) = signal(Status::default());
    let (message, set_message) = signal(None::<T>);
    let handle = UseSocket {
        status: status.into(),
        message: message.into(),
        set_status,
        set_message,
        live: StoredValue::new_local(None),
        decode,
    };
    handle.restart_with(url, options);
    on_cleanup(move || handle.stop());
    handle
}

/// What [`use_socket`] and [`use_socket_json`] return: the status and last message
/// as signals, and the socket's commands. `Copy`, like a signal: move it into as
/// many closures as you like; all are the same socket.
pub struct UseSocket<T: Send + Sync + 'static = Message> {
    /// The connection's status; updated on every lifecycle event and after sends.
    pub status: Signal<Status>,
    /// The latest message (the latest only: use [`Options::on_message`] to see each).
    pub message: Signal<Option<T>>,
    set_status: WriteSignal<Status>,
    set_message: WriteSignal<Option<T>>,
    live: StoredValue<Option<Live>, LocalStorage>,
    decode: Decode<T>,
}

/// The socket and its reader task.
struct Live {
    socket: Socket,
    reader: AbortHandle,
}

impl<T: Clone + Send + Sync + 'static> UseSocket<T> {
    /// Sends now if open, else queues it for the next open (in order, once).
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] when the queue is at its limit;
    /// [`SendError::Closed`] when there is no socket (after unmount, or when it
    /// could not be created). The message is handed back.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let Some(socket) = self.socket() else {
            return Err(SendError::Closed(message.into()));
        };
        let result = socket.send(message);
        self.snapshot(&socket);
        result
    }

    /// Sends `value` as a JSON text message, like [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it does not serialise, [`Error::QueueFull`] when the queue
    /// is full, [`Error::Stopped`] when there is no socket.
    pub fn send_json<V: Serialize + ?Sized>(&self, value: &V) -> Result<(), Error> {
        let Some(socket) = self.socket() else {
            return Err(Error::Stopped(StopReason::Close));
        };
        let result = socket.send_json(value);
        self.snapshot(&socket);
        result
    }

    /// Closes for good with 1000 (a later [`reconnect`](Self::reconnect) starts
    /// again). What is sent meanwhile is queued for that reconnect.
    pub fn close(&self) {
        if let Some(socket) = self.socket() {
            let _ = socket.close(1000, "");
        }
    }

    /// Closes the current connection (if any) with 1000, resets the retry count and
    /// connects at once; also after [`close`](Self::close) or after giving up.
    pub fn reconnect(&self) {
        if let Some(socket) = self.socket() {
            let _ = socket.reconnect();
        }
    }

    /// Replaces the socket: closes the current one with 1000 and connects to `url`
    /// with `options` (a fresh status; what the old socket had queued is dropped
    /// with it). The new socket, too, is closed when the owner is cleaned up.
    pub fn restart_with(&self, url: impl Into<String>, options: Options<T>) {
        self.stop();
        let _ = self.set_message.try_set(None);
        match options.to_builder(url.into()).connect() {
            Ok(socket) => {
                let _ = self.set_status.try_set(Status::default());
                let (reader, registration) = AbortHandle::new_pair();
                let items = Abortable::new(socket.items(), registration);
                wasm_bindgen_futures::spawn_local(read(
                    items,
                    socket.downgrade(),
                    *self,
                    options.on_message,
                    options.on_event,
                ));
                // Already disposed (called after unmount): dropped here, closing it.
                let _ = self.live.try_set_value(Some(Live { socket, reader }));
            }
            Err(e) => {
                let _ = self.set_status.try_set(Status::failed(e.to_string()));
            }
        }
    }

    /// The socket itself, for what the handle does not offer (`send_tracked`,
    /// `drain_queued`, a stream such as `items()` for a task of your own). `None`
    /// after unmount. Unmounting closes it even if you keep the clone; the streams
    /// you took end once the clone is dropped too.
    #[must_use]
    pub fn socket(&self) -> Option<Socket> {
        self.live
            .try_with_value(|live| live.as_ref().map(|live| live.socket.clone()))
            .flatten()
    }

    /// Ends the reader and closes the socket with 1000 (cleanup, restart).
    fn stop(&self) {
        // Taken out first: nothing is borrowed while the socket runs.
        let live = self.live.try_update_value(Option::take).flatten();
        if let Some(Live { socket, reader }) = live {
            reader.abort();
            let _ = socket.close(1000, "");
            // The only handle (unless `socket()` lent one out) goes here, and with
            // it every timer and browser listener of the socket.
        }
    }

    /// The state and queue length after a send (no update when they are unchanged).
    fn snapshot(&self, socket: &Socket) {
        let (ready_state, queued) = (socket.ready_state(), socket.queued());
        self.set_status
            .try_maybe_update(|s| (s.snapshot(ready_state, queued), ()));
    }
}

impl<T: Send + Sync + 'static> Clone for UseSocket<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UseSocket<T> {}

impl<T: Send + Sync + 'static> fmt::Debug for UseSocket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseSocket")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The reader task: one signal update (and one callback) per item, in order, until
/// the socket goes or the reader is aborted.
async fn read<T: Clone + Send + Sync + 'static>(
    mut items: Abortable<Items>,
    socket: WeakSocket,
    handle: UseSocket<T>,
    on_message: Option<Rc<dyn Fn(T)>>,
    on_event: Option<Rc<dyn Fn(Event)>>,
) {
    while let Some(item) = items.next().await {
        match item {
            Item::Event(event) => {
                let Some(socket) = socket.upgrade() else {
                    break;
                };
                let (ready_state, queued) = (socket.ready_state(), socket.queued());
                drop(socket);
                let _ = handle
                    .set_status
                    .try_update(|s| s.apply(&event, ready_state, queued));
                if let Some(f) = &on_event {
                    f(event);
                }
            }
            Item::Message(message) => match (handle.decode)(message) {
                Ok(value) => match &on_message {
                    Some(f) => {
                        let _ = handle.set_message.try_set(Some(value.clone()));
                        f(value);
                    }
                    None => {
                        let _ = handle.set_message.try_set(Some(value));
                    }
                },
                Err(e) => {
                    let _ = handle
                        .set_status
                        .try_update(|s| s.error = Some(e.to_string()));
                }
            },
            _ => {}
        }
    }
}
