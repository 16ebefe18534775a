//! What arrived, for the Rust API: one bounded log of messages and events in the
//! order they happened, and the streams that read it.
//!
//! Every stream is a reader with its own cursor into the log, so every reader gets
//! every item and no reader takes anything from another. The log keeps the last
//! `Config::max_unread` items; a reader further behind than that loses the oldest
//! and learns how many from [`Event::Lagged`] (in [`Items`] and [`Events`]; the
//! message-only streams skip ahead silently).
//!
//! ```text
//!  socket ──●open──m1──m2──✗close──reconnecting──●open──m3──stop─┄┄ reconnect() ──m4──┄┄ last handle dropped
//!  Socket (its own stream)    m1  m2                       m3   None (ends at the stop; fused)
//!  messages() / json()        m1  m2                       m3                    m4   None
//!  items()  ●  m1  m2  ✗  ↻  ●  m3  stop  …  m4  None        events()  ●  ✗  ↻  ●  stop  …  None
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Weak;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use wasm_bindgen::{JsCast, JsValue};

use super::driver::{Driver, Output};
use crate::machine::{Delivery, Event, StopReason};
use crate::{Error, Message};

/// One item of [`Socket::items`](crate::Socket::items): a message or a lifecycle
/// event, in the order they happened.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// A message from the server.
    Message(Message),
    /// A lifecycle event (including [`Event::Lagged`] for a reader that fell behind).
    Event(Event),
}

/// The log the driver writes and the streams read.
pub(crate) struct Inbox(RefCell<Log>);

struct Log {
    items: VecDeque<Item>,
    /// The sequence number of `items[0]`.
    first: u64,
    max: usize,
    /// Readers waiting for the next item.
    readers: Vec<Waker>,
    /// Waiting for a change of state (open, stop, queue room): `opened()`, the Sink.
    watchers: Vec<Waker>,
    stopped: Option<StopReason>,
    /// Fates of tracked messages not yet collected (by a `Sink` flush).
    receipts: std::collections::HashMap<u64, Delivery>,
    /// Tracked messages whose futures were dropped: their receipts are not kept.
    abandoned: std::collections::HashSet<u64>,
    /// What arrived for the running connection hook, and whether one runs.
    hook_queue: VecDeque<Message>,
    hook_running: bool,
    /// What the last successful hook left unread: delivered right after `Open`.
    unread: Vec<Message>,
}

/// Where one reader is.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    next: u64,
    done: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    Messages,
    Events,
    All,
}

impl Inbox {
    pub(crate) fn new(max_unread: usize) -> Inbox {
        Inbox(RefCell::new(Log {
            items: VecDeque::new(),
            first: 0,
            max: max_unread.max(1),
            readers: Vec::new(),
            watchers: Vec::new(),
            stopped: None,
            receipts: std::collections::HashMap::new(),
            abandoned: std::collections::HashSet::new(),
            hook_queue: VecDeque::new(),
            hook_running: false,
            unread: Vec::new(),
        }))
    }

    /// A cursor at the end: it reads what comes from now on.
    pub(crate) fn cursor_at_end(&self) -> Cursor {
        let log = self.0.borrow();
        Cursor {
            next: log.first + log.items.len() as u64,
            done: false,
        }
    }

    /// A cursor at the start (what a new socket's own stream reads from).
    pub(crate) fn cursor_at_start() -> Cursor {
        Cursor {
            next: 0,
            done: false,
        }
    }

    pub(crate) fn stopped(&self) -> Option<StopReason> {
        self.0.borrow().stopped
    }

    /// Takes the fate of tracked message `id`, once known.
    pub(crate) fn take_receipt(&self, id: u64) -> Option<Delivery> {
        self.0.borrow_mut().receipts.remove(&id)
    }

    /// Nobody will ask for the fate of `id`: drop it now, or when it comes.
    pub(crate) fn abandon_receipt(&self, id: u64) {
        let mut log = self.0.borrow_mut();
        if log.receipts.remove(&id).is_none() {
            log.abandoned.insert(id);
        }
    }

    /// Forgets tracked messages nobody will ask about.
    pub(crate) fn forget_receipts(&self, ids: &[u64]) {
        let mut log = self.0.borrow_mut();
        for id in ids {
            log.receipts.remove(id);
        }
    }

    /// The next message for the running hook (see `Handshake::next`).
    pub(crate) fn poll_hook(&self, cx: &Context<'_>) -> Poll<Option<Message>> {
        let mut log = self.0.borrow_mut();
        if let Some(message) = log.hook_queue.pop_front() {
            return Poll::Ready(Some(message));
        }
        if !log.hook_running {
            return Poll::Ready(None);
        }
        if !log.watchers.iter().any(|w| w.will_wake(cx.waker())) {
            log.watchers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Wakes `cx` on the next change of state.
    pub(crate) fn watch(&self, cx: &Context<'_>) {
        let mut log = self.0.borrow_mut();
        if !log.watchers.iter().any(|w| w.will_wake(cx.waker())) {
            log.watchers.push(cx.waker().clone());
        }
    }

    /// The next item for `cursor` that `filter` keeps. With `until_stop`, a
    /// `Stop` ends the stream (after what came before it) for good.
    pub(crate) fn poll_read(
        &self,
        cursor: &mut Cursor,
        filter: Filter,
        until_stop: bool,
        cx: &Context<'_>,
    ) -> Poll<Option<Item>> {
        if cursor.done {
            return Poll::Ready(None);
        }
        let mut log = self.0.borrow_mut();
        loop {
            if cursor.next < log.first {
                let missed = log.first - cursor.next;
                cursor.next = log.first;
                if filter != Filter::Messages {
                    return Poll::Ready(Some(Item::Event(Event::Lagged { missed })));
                }
            }
            let index = usize::try_from(cursor.next - log.first).unwrap_or(usize::MAX);
            let Some(item) = log.items.get(index) else {
                if !log.readers.iter().any(|w| w.will_wake(cx.waker())) {
                    log.readers.push(cx.waker().clone());
                }
                return Poll::Pending;
            };
            cursor.next += 1;
            if until_stop && matches!(item, Item::Event(Event::Stop(_))) {
                cursor.done = true;
                return Poll::Ready(None);
            }
            let keep = matches!(
                (filter, item),
                (Filter::All, _)
                    | (Filter::Messages, Item::Message(_))
                    | (Filter::Events, Item::Event(_))
            );
            if keep {
                return Poll::Ready(Some(item.clone()));
            }
        }
    }

    fn push(&self, item: Item) {
        let wakers = {
            let mut log = self.0.borrow_mut();
            let state_change = match &item {
                Item::Event(Event::Stop(reason)) => {
                    log.stopped = Some(*reason);
                    true
                }
                Item::Event(Event::Connecting { .. }) => {
                    log.stopped = None;
                    true
                }
                Item::Event(_) => true,
                Item::Message(_) => false,
            };
            let opened = matches!(item, Item::Event(Event::Open));
            log.items.push_back(item);
            if opened {
                // What the connection hook left unread comes right after `Open`.
                let unread = std::mem::take(&mut log.unread);
                log.items.extend(unread.into_iter().map(Item::Message));
            }
            while log.items.len() > log.max {
                log.items.pop_front();
                log.first += 1;
            }
            let mut wakers = std::mem::take(&mut log.readers);
            if state_change {
                wakers.append(&mut log.watchers);
            }
            wakers
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// The driver (and so this inbox) goes when the last handle drops: wake every
/// reader and watcher so its stream or future can end.
impl Drop for Inbox {
    fn drop(&mut self) {
        let log = self.0.get_mut();
        for waker in log.readers.drain(..).chain(log.watchers.drain(..)) {
            waker.wake();
        }
    }
}

impl Output for Inbox {
    fn message(&self, data: JsValue) {
        if let Some(message) = to_message(&data) {
            self.push(Item::Message(message));
        }
    }

    fn event(&self, event: Event) {
        self.push(Item::Event(event));
    }

    fn hook_start(&self) {
        let mut log = self.0.borrow_mut();
        log.hook_queue.clear();
        log.hook_running = true;
    }

    fn hook_message(&self, data: JsValue) {
        let Some(message) = to_message(&data) else {
            return;
        };
        let wakers = {
            let mut log = self.0.borrow_mut();
            log.hook_queue.push_back(message);
            std::mem::take(&mut log.watchers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    fn hook_end(&self, ok: bool) {
        let wakers = {
            let mut log = self.0.borrow_mut();
            log.hook_running = false;
            let left: Vec<Message> = log.hook_queue.drain(..).collect();
            log.unread = if ok { left } else { Vec::new() };
            std::mem::take(&mut log.watchers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    fn receipt(&self, id: u64, fate: Delivery) {
        let wakers = {
            let mut log = self.0.borrow_mut();
            if !log.abandoned.remove(&id) {
                log.receipts.insert(id, fate);
            }
            std::mem::take(&mut log.watchers)
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// Event data as a [`Message`] (binaryType is always "arraybuffer" here).
fn to_message(data: &JsValue) -> Option<Message> {
    if let Some(text) = data.as_string() {
        Some(Message::Text(text))
    } else {
        data.dyn_ref::<js_sys::ArrayBuffer>()
            .map(|buffer| Message::Binary(js_sys::Uint8Array::new(buffer).to_vec()))
    }
}

type Handle = Weak<Driver<Message, Inbox>>;

/// A view: a reader that does not keep the socket alive, and ends when it is gone.
#[derive(Debug)]
struct View {
    driver: Handle,
    cursor: Cursor,
}

impl View {
    fn new(driver: Handle, cursor: Cursor) -> View {
        View { driver, cursor }
    }

    fn poll(&mut self, filter: Filter, cx: &Context<'_>) -> Poll<Option<Item>> {
        match self.driver.upgrade() {
            Some(driver) => driver
                .output()
                .poll_read(&mut self.cursor, filter, false, cx),
            None => {
                self.cursor.done = true;
                Poll::Ready(None)
            }
        }
    }
}

macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $item:ty, $filter:expr, $map:expr) => {
        $(#[$doc])*
        ///
        /// Fused: once it has returned `None` it never yields again. It does not keep
        /// the socket alive; see the timeline on [`Socket`](crate::Socket).
        #[derive(Debug)]
        pub struct $name {
            view: View,
        }

        impl $name {
            pub(crate) fn new(driver: Handle, cursor: Cursor) -> $name {
                $name {
                    view: View::new(driver, cursor),
                }
            }
        }

        impl Stream for $name {
            type Item = $item;

            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<$item>> {
                loop {
                    let item = match self.view.poll($filter, cx) {
                        Poll::Ready(Some(item)) => item,
                        Poll::Ready(None) => return Poll::Ready(None),
                        Poll::Pending => return Poll::Pending,
                    };
                    #[allow(clippy::redundant_closure_call)]
                    if let Some(out) = ($map)(item) {
                        return Poll::Ready(Some(out));
                    }
                }
            }
        }
    };
}

view!(
    /// Messages and lifecycle events in the order they happened; see
    /// [`Socket::items`](crate::Socket::items). Ends when the last handle is dropped.
    Items,
    Item,
    Filter::All,
    Some
);

view!(
    /// Lifecycle [`Event`]s; see [`Socket::events`](crate::Socket::events). Ends when
    /// the last handle is dropped.
    Events,
    Event,
    Filter::Events,
    |item| match item {
        Item::Event(event) => Some(event),
        Item::Message(_) => None,
    }
);

view!(
    /// The incoming messages; see [`Socket::messages`](crate::Socket::messages). Ends
    /// when the last handle is dropped.
    Messages,
    Message,
    Filter::Messages,
    |item| match item {
        Item::Message(message) => Some(message),
        Item::Event(_) => None,
    }
);

/// A stream of decoded JSON values; see [`Socket::json`](crate::Socket::json). A
/// message that is not a `T` gives an `Err(Error::Json)` item and the stream goes on.
#[derive(Debug)]
pub struct Json<T> {
    messages: Messages,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> Json<T> {
    pub(crate) fn new(messages: Messages) -> Json<T> {
        Json {
            messages,
            _type: std::marker::PhantomData,
        }
    }
}

impl<T: serde::de::DeserializeOwned> Stream for Json<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.messages)
            .poll_next(cx)
            .map(|m| m.map(|m| m.json()))
    }
}
