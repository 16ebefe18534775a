//! [`Driver`]: runs one [`Machine`] in the browser.
//!
//! It turns browser events into `handle_*` calls and the core's actions into browser
//! calls, keeps exactly one timer (armed at the core's next deadline) and owns every
//! JS callback. Callbacks hold only a `Weak` to the driver: when the last user
//! handle drops, the driver drops, and with it the native socket (closed with 1000),
//! the timer and the page listeners.
//!
//! # Re-entrancy
//!
//! User code (event handlers, the URL and protocols providers, the reconnect
//! predicate) may call anything on the socket, including `close()` and
//! `reconnect()`. So no `RefCell` of the driver is ever borrowed while JS runs:
//!
//! - the core is borrowed only for one call into it (it never calls out);
//! - the native socket is held in an `Rc`, cloned out of its cell before any call
//!   on the browser's `WebSocket`;
//! - one loop, [`Driver::pump`], performs the core's actions and delivers its
//!   events one at a time, each with nothing borrowed. A call made from user code
//!   while that loop runs only feeds the core; the running loop picks up what it
//!   produced, so events keep the order they happened in and nothing recurses.
//!
//! Every JS call that can throw is bound with `catch` (the web-sys and js-sys
//! bindings used here for sockets, listeners, functions and `Reflect` are), so a
//! throw is an error value, never an unwind through wasm frames.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, WebSocket};

use super::clock;
use super::listener::Listener;
use super::native::{NativeEvent, NativeSocket};
use super::prop;
use super::share::{self as io, ShareIo, Shared};
use super::url;
use crate::machine::{
    validate_close, Action, CloseError, CloseInfo, Closer, Config, ConfigError, Delivery,
    DiscardReason, Event, Instant, Machine, Payload, ReadyState, SendError, SendOptions,
    SendOutcome, SocketId,
};
#[cfg(feature = "share")]
use crate::share::Limits;
use crate::share::{Out, Peer, Role, Snapshot};

/// Tracking numbers of follower messages a leader relays carry this bit (the
/// user's own never reach it).
const RELAY: u64 = 1 << 60;

/// An outbound payload the driver can put on a native socket.
pub(crate) trait Outbound: Payload + 'static {
    /// Sends on `ws`. Errors are the browser's (dropped: delivery of what reaches a
    /// native socket is at-most-once).
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue>;

    /// The message as it crosses a share's channel (a copy of any buffer).
    fn share(self) -> Shared;

    /// A message that crossed the channel, if this type can carry it.
    fn unshare(shared: Shared) -> Option<Self>
    where
        Self: Sized;
}

/// Where a delivered message or event goes (the Rust streams, or JS listeners).
pub(crate) trait Output: 'static {
    /// A message for the user (heartbeat responses already filtered out).
    fn message(&self, data: JsValue);
    /// A lifecycle event (what the server chose on open is in [`Driver::opened`]).
    fn event(&self, event: Event);
    /// The fate of the tracked message `id` (see [`Driver::send`]).
    fn receipt(&self, id: u64, fate: Delivery);
    /// The connection hook is about to run.
    fn hook_start(&self) {}
    /// A message that arrived while the connection hook runs (for its `next()`).
    fn hook_message(&self, data: JsValue);
    /// The connection hook's run ended: `ok` (its unread messages are delivered
    /// right after the `Open` that follows) or not (they are dropped, `next()`
    /// fails).
    fn hook_end(&self, ok: bool);
}

/// What the connection hook is called with.
pub(crate) struct HookCall {
    pub(crate) attempt: u32,
    pub(crate) protocol: String,
}

/// The user's connection hook (JS `onConnect`, Rust `Builder::on_connect`).
pub(crate) type Hook = Rc<dyn Fn(HookCall) -> Pin<Box<dyn Future<Output = Result<(), String>>>>>;

/// What the server agreed to, read when the socket opened.
#[derive(Clone, Debug, Default)]
pub(crate) struct Opened {
    pub(crate) protocol: String,
    pub(crate) extensions: String,
}

/// One attempt's URL or protocols: known now, still coming, or failed.
pub(crate) enum Target<T> {
    Ready(T),
    Pending(Pin<Box<dyn Future<Output = Result<T, String>>>>),
    /// A provider that failed at once (a JS provider that threw or returned
    /// something unusable).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    Failed(String),
}

impl<T: 'static> Target<T> {
    async fn resolve(self) -> Result<T, String> {
        match self {
            Target::Ready(value) => Ok(value),
            Target::Pending(future) => future.await,
            Target::Failed(message) => Err(message),
        }
    }
}

/// Produces the URL (or the protocols) for attempt n; called once per attempt.
pub(crate) type Resolver<T> = Rc<dyn Fn(u32) -> Target<T>>;

/// The user's reconnect predicate: `false` stops for good.
pub(crate) type Predicate = Rc<dyn Fn(&CloseInfo) -> bool>;

/// How a driver is set up.
pub(crate) struct Setup {
    pub(crate) url: Resolver<String>,
    pub(crate) protocols: Resolver<Vec<String>>,
    pub(crate) config: Config,
    pub(crate) binary_type: BinaryType,
    pub(crate) should_reconnect: Option<Predicate>,
    /// The `WebSocket` constructor to use (JS option `WebSocket`); the browser's
    /// when `None`.
    pub(crate) constructor: Option<js_sys::Function>,
    pub(crate) on_connect: Option<Hook>,
    /// The share name (`share` option): one connection for all instances of it.
    pub(crate) share: Option<String>,
}

/// A shared instance's part: the protocol and its lock and channel.
///
/// Without the `share` feature no `Sharing` can exist (it holds an uninhabited
/// field), so `share` is always `None` and the compiler drops every branch that
/// handles one: an app that does not share does not pay for it.
struct Sharing {
    peer: RefCell<Peer<Shared>>,
    io: ShareIo,
    tick: RefCell<Option<Timeout>>,
    #[cfg(not(feature = "share"))]
    _never: std::convert::Infallible,
}

enum Outgoing {
    Message(JsValue),
    Event(Event),
    Receipt(u64, Delivery),
    HookMessage(JsValue),
    HookEnd(bool),
}

struct Current {
    id: SocketId,
    /// The retry number the attempt was started with.
    attempt: u32,
    /// `None` while the URL is still being resolved.
    native: Option<Rc<NativeSocket>>,
}

pub(crate) struct Driver<M, O> {
    me: Weak<Self>,
    /// Borrowed only for one call into the core, never across a call out.
    machine: RefCell<Machine<M>>,
    current: RefCell<Option<Current>>,
    timer: RefCell<Option<(Instant, Timeout)>>,
    outbox: RefCell<VecDeque<Outgoing>>,
    /// Whether [`Driver::pump`] is running (further down the stack).
    pumping: Cell<bool>,
    /// The last tracking number handed out.
    tracks: Cell<u64>,
    url_source: Resolver<String>,
    protocols_source: Resolver<Vec<String>>,
    binary_type: Cell<BinaryType>,
    constructor: Option<js_sys::Function>,
    url: RefCell<String>,
    opened: RefCell<Opened>,
    should_reconnect: Option<Predicate>,
    on_connect: Option<Hook>,
    /// The socket whose hook runs, as the output knows it.
    hook_run: Cell<Option<SocketId>>,
    _page: Vec<Listener>,
    share: Option<Sharing>,
    output: O,
}

impl<M: Outbound, O: Output> Driver<M, O> {
    /// Creates the driver and (unless `start_closed`) starts the first attempt.
    pub(crate) fn start(setup: Setup, output: O) -> Result<Rc<Self>, ConfigError> {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let mut config = setup.config;
        let start_closed = config.start_closed;
        let share_name = setup.share.filter(|_| io::supported());
        let forced = share_name.is_some();
        if forced {
            // A shared instance connects only when it leads.
            config.start_closed = true;
        }
        #[cfg(feature = "share")]
        let limits = Limits {
            max_messages: config.max_enqueued_messages,
            max_bytes: config.max_enqueued_bytes,
        };
        let machine = Machine::new(config, seed, clock::now())?;
        let driver = Rc::new_cyclic(|me: &Weak<Self>| Driver {
            me: me.clone(),
            machine: RefCell::new(machine),
            current: RefCell::new(None),
            timer: RefCell::new(None),
            outbox: RefCell::new(VecDeque::new()),
            pumping: Cell::new(false),
            tracks: Cell::new(0),
            url_source: setup.url,
            protocols_source: setup.protocols,
            binary_type: Cell::new(setup.binary_type),
            constructor: setup.constructor,
            url: RefCell::new(String::new()),
            opened: RefCell::new(Opened::default()),
            should_reconnect: setup.should_reconnect,
            on_connect: setup.on_connect,
            hook_run: Cell::new(None),
            _page: page_listeners(me.clone()),
            #[cfg(not(feature = "share"))]
            share: None,
            #[cfg(feature = "share")]
            share: share_name.and_then(|name| {
                let id = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
                let me = me.clone();
                let io = ShareIo::open(&name, id, move |value| {
                    if let Some(driver) = me.upgrade() {
                        driver.on_frame(&value);
                    }
                })?;
                Some(Sharing {
                    peer: RefCell::new(Peer::new(id, limits)),
                    io,
                    tick: RefCell::new(None),
                })
            }),
            output,
        });
        driver.with_machine(|m, now| m.handle_wall_clock(now, js_sys::Date::now()));
        if !start_closed {
            match &driver.share {
                Some(share) => share.peer.borrow_mut().join(),
                // Asked to share, but the channel could not be made: by itself.
                None if forced => {
                    let _ = driver.with_machine(|m, now| m.reconnect(now, None, ""));
                }
                None => {}
            }
        }
        driver.pump();
        Ok(driver)
    }

    pub(crate) fn output(&self) -> &O {
        &self.output
    }

    // ----- commands (called by user handles) ------------------------------------

    /// Sends or queues `message`: `Ok(true)` when it was handed to an open native
    /// socket, `Ok(false)` when it was queued (or discarded at once: a zero TTL).
    /// With `track`, its fate comes to [`Output::receipt`] (at once when sent now).
    pub(crate) fn send(
        &self,
        message: M,
        options: SendOptions,
        track: Option<u64>,
    ) -> Result<bool, SendError<M>> {
        if let Some(share) = self.following() {
            // Held (bounded like the queue) until the leader confirms it.
            if !share.peer.borrow().has_room(message.byte_len()) {
                return Err(SendError::QueueFull(message));
            }
            // Converted before the borrow: it calls into JS (a buffer copy).
            let shared = message.share();
            let open = {
                let mut peer = share.peer.borrow_mut();
                let _ = peer.send(shared, track);
                peer.state().ready_state == ReadyState::Open && peer.leader().is_some()
            };
            self.pump();
            return Ok(open);
        }
        let sent = self.send_now(message, options, track)?;
        if sent {
            if let Some(id) = track {
                self.output.receipt(id, Delivery::Sent);
            }
        } else {
            self.pump();
        }
        Ok(sent)
    }

    /// Gives `message` to the core: `Ok(true)` when it went out on the open
    /// native socket now (the caller reports a tracked one as sent).
    fn send_now(
        &self,
        message: M,
        options: SendOptions,
        track: Option<u64>,
    ) -> Result<bool, SendError<M>> {
        // The hot path: straight out on the open socket, no clock read. The clock
        // is JS (`performance.now`): read with nothing borrowed.
        let straight = self.machine.borrow().sends_without_time();
        let now = if straight {
            Instant::ZERO // unused by the core then (nothing ran in between)
        } else {
            clock::now()
        };
        let outcome = self
            .machine
            .borrow_mut()
            .send_with(now, message, options, track)?;
        match outcome {
            SendOutcome::Transmit { socket, message } => match self.open_native(socket) {
                Some(native) => {
                    let _ = message.transmit(native.ws());
                    Ok(true)
                }
                // The core thinks it open, but the browser already started closing
                // (the server's close frame arrived; its close event is still to
                // come): keep the message for the next connection.
                None => self
                    .machine
                    .borrow_mut()
                    .enqueue(message, track)
                    .map(|()| false),
            },
            // Pending: a flush is under way; Queued and Discarded may have reported
            // a discard (and moved the expiry timer).
            SendOutcome::Pending | SendOutcome::Queued | SendOutcome::Discarded => Ok(false),
        }
    }

    /// A fresh tracking number for [`send`](Driver::send).
    pub(crate) fn next_track(&self) -> u64 {
        let id = self.tracks.get().wrapping_add(1);
        self.tracks.set(id);
        id
    }

    /// Takes everything out of the queue, in order. A shared instance takes back
    /// only its own messages (a follower: those not yet confirmed).
    pub(crate) fn drain_queued(&self) -> Vec<M> {
        let Some(share) = &self.share else {
            let drained = self.machine.borrow_mut().drain_queued();
            self.pump();
            return drained;
        };
        let taken = if share.peer.borrow().role() == Role::Leader {
            self.machine.borrow_mut().take_queued_where(own)
        } else {
            let held = share.peer.borrow_mut().drain();
            held.into_iter()
                .filter_map(|(data, track)| M::unshare(data).map(|m| (m, track)))
                .collect()
        };
        {
            let mut outbox = self.outbox.borrow_mut();
            for id in taken.iter().filter_map(|(_, track)| *track) {
                outbox.push_back(Outgoing::Receipt(id, Delivery::Cleared));
            }
            if !taken.is_empty() {
                outbox.push_back(Outgoing::Event(Event::Discarded {
                    reason: DiscardReason::Cleared,
                    count: taken.len(),
                }));
            }
        }
        self.pump();
        taken.into_iter().map(|(m, _)| m).collect()
    }

    pub(crate) fn close(&self, code: Option<u16>, reason: &str) -> Result<(), CloseError> {
        validate_close(code, reason)?;
        if let Some(share) = &self.share {
            let leading = share.peer.borrow().role() == Role::Leader;
            share.peer.borrow_mut().close(code, reason);
            if !leading {
                self.pump();
                return Ok(());
            }
            // It stops leading: its socket closes as usual, its own queued
            // messages stay its own (held, for a later reconnect()), its
            // followers' go (they relay them to the next leader).
            self.with_machine(|m, now| m.close(now, code, reason))?;
            let mine = self.machine.borrow_mut().take_queued_where(own);
            let _ = self.machine.borrow_mut().take_queued_where(|t| !own(t));
            // Converted before the borrow: it calls into JS.
            let mine: Vec<_> = mine.into_iter().map(|(m, t)| (m.share(), t)).collect();
            let mut peer = share.peer.borrow_mut();
            for (m, track) in mine {
                let _ = peer.send(m, track);
            }
            drop(peer);
            self.pump();
            return Ok(());
        }
        self.with_machine(|m, now| m.close(now, code, reason))?;
        self.pump();
        Ok(())
    }

    pub(crate) fn reconnect(&self, code: Option<u16>, reason: &str) -> Result<(), CloseError> {
        validate_close(code, reason)?;
        if let Some(share) = self.following() {
            share.peer.borrow_mut().reconnect();
            self.pump();
            return Ok(());
        }
        self.with_machine(|m, now| m.reconnect(now, code, reason))?;
        self.pump();
        Ok(())
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        if let Some(share) = self.following() {
            return share.peer.borrow().state().ready_state;
        }
        self.machine.borrow().ready_state()
    }

    pub(crate) fn retry_count(&self) -> u32 {
        if let Some(share) = self.following() {
            return share.peer.borrow().state().retries;
        }
        self.machine.borrow().retry_count()
    }

    pub(crate) fn queued_messages(&self) -> usize {
        if let Some(share) = self.following() {
            return share.peer.borrow().held_messages();
        }
        self.machine.borrow().queued_messages()
    }

    /// Queued bytes plus what the native socket has not sent yet (a follower:
    /// the bytes it relayed that the leader has not confirmed).
    pub(crate) fn buffered_amount(&self) -> f64 {
        if let Some(share) = self.following() {
            return share.peer.borrow().held_bytes() as f64;
        }
        let queued = self.machine.borrow().queued_bytes() as f64;
        let native = self.native(None).map_or(0, |n| n.ws().buffered_amount());
        queued + f64::from(native)
    }

    /// What the native socket has not sent yet (0 when there is none).
    pub(crate) fn native_buffered(&self) -> usize {
        if let Some(share) = self.following() {
            return share.peer.borrow().held_bytes();
        }
        self.native(None)
            .map_or(0, |n| n.ws().buffered_amount() as usize)
    }

    pub(crate) fn send_high_water(&self) -> usize {
        self.machine.borrow().config().send_high_water
    }

    pub(crate) fn url(&self) -> String {
        self.url.borrow().clone()
    }

    pub(crate) fn opened(&self) -> Opened {
        if let Some(share) = self.following() {
            let peer = share.peer.borrow();
            return Opened {
                protocol: peer.state().protocol.clone(),
                extensions: peer.state().extensions.clone(),
            };
        }
        self.opened.borrow().clone()
    }

    pub(crate) fn queue_has_room(&self) -> bool {
        if let Some(share) = self.following() {
            return share.peer.borrow().has_room(0);
        }
        self.machine.borrow().queue_has_room()
    }

    /// The share part of an instance that does not lead (follows, or is closed).
    fn following(&self) -> Option<&Sharing> {
        self.share
            .as_ref()
            .filter(|s| s.peer.borrow().role() != Role::Leader)
    }

    /// The share part of the instance that leads.
    fn leading(&self) -> Option<&Sharing> {
        self.share
            .as_ref()
            .filter(|s| s.peer.borrow().role() == Role::Leader)
    }

    #[cfg_attr(not(feature = "js"), allow(dead_code))] // the Rust API always uses ArrayBuffer
    pub(crate) fn set_binary_type(&self, binary_type: BinaryType) {
        self.binary_type.set(binary_type);
        if let Some(native) = self.native(None) {
            native.ws().set_binary_type(self.native_binary_type());
        }
    }

    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn binary_type(&self) -> BinaryType {
        self.binary_type.get()
    }

    /// What the native socket delivers: a shared one always ArrayBuffers (they
    /// cross the channel as they are; see [`adapt`](Driver::adapt)).
    fn native_binary_type(&self) -> BinaryType {
        if self.share.is_some() {
            BinaryType::Arraybuffer
        } else {
            self.binary_type.get()
        }
    }

    /// A shared instance's binary message as its `binaryType` asks.
    fn adapt(&self, data: JsValue) -> JsValue {
        if self.binary_type.get() == BinaryType::Blob
            && data.is_instance_of::<js_sys::ArrayBuffer>()
        {
            let parts = js_sys::Array::of1(&data);
            if let Ok(blob) = web_sys::Blob::new_with_buffer_source_sequence(&parts) {
                return blob.into();
            }
        }
        data
    }

    // ----- inputs from the browser ----------------------------------------------

    fn on_native(&self, socket: SocketId, event: NativeEvent) {
        // Messages first: their path reads the clock only when the heartbeat needs it.
        if let NativeEvent::Message(data) = event {
            return self.on_message(socket, data);
        }
        let now = clock::now();
        match event {
            NativeEvent::Message(_) => {} // handled above
            NativeEvent::Open => {
                if let Some(native) = self.native(Some(socket)) {
                    let ws = native.ws();
                    let opened = Opened {
                        protocol: prop::string(ws, "protocol").unwrap_or_default(),
                        extensions: prop::string(ws, "extensions").unwrap_or_default(),
                    };
                    *self.opened.borrow_mut() = opened;
                }
                match self.on_connect.clone() {
                    None => self.machine.borrow_mut().handle_open(now, socket),
                    Some(hook) => self.run_hook(hook, socket, now),
                }
            }
            NativeEvent::Error => self.machine.borrow_mut().handle_error(socket),
            NativeEvent::Close {
                code,
                reason,
                was_clean,
            } => {
                let ask = {
                    let m = self.machine.borrow();
                    m.live_socket() == Some(socket)
                        && matches!(m.ready_state(), ReadyState::Connecting | ReadyState::Open)
                };
                // The predicate is user code: called with nothing borrowed.
                let veto = ask
                    && self.should_reconnect.as_ref().is_some_and(|f| {
                        !f(&CloseInfo {
                            code,
                            reason: reason.clone(),
                            was_clean,
                            closer: Closer::Remote,
                        })
                    });
                let now = clock::now();
                {
                    let mut m = self.machine.borrow_mut();
                    if veto {
                        m.handle_close_and_stop(now, socket, code, &reason, was_clean);
                    } else {
                        m.handle_close(now, socket, code, &reason, was_clean);
                    }
                }
                // The socket is done: detach it (wasm-bindgen defers freeing the
                // closure that is running right now until it returns). Dropped
                // after the borrow ends: dropping calls into the browser.
                let done = self.take_current(socket);
                drop(done);
            }
        }
        self.pump();
    }

    /// The hot path: the clock only when the heartbeat needs it.
    fn on_message(&self, socket: SocketId, data: JsValue) {
        // The clock is JS (`performance.now`): read with nothing borrowed.
        let timed = self.machine.borrow().uses_time_on_message();
        let now = if timed {
            clock::now()
        } else {
            Instant::ZERO // unused by the core without a heartbeat
        };
        let delivered = self
            .machine
            .borrow_mut()
            .handle_message(now, socket, Inbound(data));
        if let Some(Inbound(data)) = delivered {
            let out = if self.hook_run.get() == Some(socket) {
                Outgoing::HookMessage(data)
            } else if let Some(share) = self.leading() {
                let shared = Shared::new(data.clone()); // reads JS: before the borrow
                share.peer.borrow_mut().leader_message(shared);
                Outgoing::Message(self.adapt(data))
            } else {
                Outgoing::Message(data)
            };
            self.outbox.borrow_mut().push_back(out);
        }
        self.pump();
    }

    /// Starts the connection hook on the socket that just opened: user code,
    /// called with nothing borrowed; its future settles the attempt.
    fn run_hook(&self, hook: Hook, socket: SocketId, now: Instant) {
        self.machine.borrow_mut().handle_open_with_hook(now, socket);
        if self.machine.borrow().hook_socket() != Some(socket) {
            return;
        }
        self.hook_run.set(Some(socket));
        let attempt = self
            .current
            .borrow()
            .as_ref()
            .filter(|c| c.id == socket)
            .map_or(0, |c| c.attempt);
        let protocol = self.opened.borrow().protocol.clone();
        self.output.hook_start();
        let future = hook(HookCall { attempt, protocol });
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = future.await;
            if let Some(driver) = me.upgrade() {
                driver.on_hook_done(socket, result);
            }
        });
    }

    fn on_hook_done(&self, socket: SocketId, result: Result<(), String>) {
        if self.hook_run.get() != Some(socket) {
            return; // that connection is gone; its hook's result is ignored
        }
        if self.machine.borrow().hook_socket() != Some(socket) {
            return; // ended meanwhile: the pump reports it
        }
        self.hook_run.set(None);
        self.outbox
            .borrow_mut()
            .push_back(Outgoing::HookEnd(result.is_ok()));
        self.with_machine(|m, now| m.handle_hook_done(now, socket, result));
        self.pump();
    }

    /// `conn.send()` from the hook: straight onto this connection, never queued.
    ///
    /// # Errors
    ///
    /// `Err(message)` when no hook runs or its connection is no longer open.
    pub(crate) fn hook_send(&self, message: M) -> Result<(), M> {
        let Some(socket) = self.hook_run.get() else {
            return Err(message);
        };
        if self.machine.borrow().hook_socket() != Some(socket) {
            return Err(message);
        }
        match self.open_native(socket) {
            Some(native) => {
                let _ = message.transmit(native.ws());
                Ok(())
            }
            None => Err(message),
        }
    }

    /// An async provider settled for the attempt on `socket`.
    fn on_resolved(&self, socket: SocketId, result: Result<(String, Vec<String>), String>) {
        if self.resolving(socket) {
            self.open_attempt(socket, result);
        } // else: abandoned meanwhile (timeout, close, reconnect): ignored
        self.pump();
    }

    fn on_timer(&self) {
        *self.timer.borrow_mut() = None;
        let wall = js_sys::Date::now();
        self.with_machine(|m, now| {
            m.handle_wall_clock(now, wall);
            m.handle_timeout(now);
        });
        self.pump();
    }

    fn on_resume(&self) {
        let wall = js_sys::Date::now();
        self.with_machine(|m, now| {
            m.handle_wall_clock(now, wall);
            m.handle_resume(now);
        });
        self.pump();
    }

    // ----- the loop -------------------------------------------------------------

    fn with_machine<R>(&self, f: impl FnOnce(&mut Machine<M>, Instant) -> R) -> R {
        let now = clock::now();
        f(&mut self.machine.borrow_mut(), now)
    }

    /// Performs the core's actions and delivers its events and the inbound messages,
    /// one at a time with nothing borrowed, then re-arms the timer. Actions come
    /// before events (the queue flush reaches the socket before `Open` reaches the
    /// user). Called after every input; when a call from user code reaches it while
    /// it already runs further down the stack, it returns at once and the running
    /// loop takes over what that call produced.
    fn pump(&self) {
        if self.pumping.replace(true) {
            return;
        }
        loop {
            let action = self.machine.borrow_mut().poll_action();
            if let Some(action) = action {
                self.perform(action);
                continue;
            }
            let share = self.share.as_ref().and_then(|s| s.peer.borrow_mut().poll());
            if let Some(out) = share {
                self.perform_share(out);
                continue;
            }
            if let Some(socket) = self.hook_run.get() {
                if self.machine.borrow().hook_socket() != Some(socket) {
                    // The connection ended under the hook (closed, lost, timed out).
                    self.hook_run.set(None);
                    self.outbox.borrow_mut().push_back(Outgoing::HookEnd(false));
                }
            }
            loop {
                let event = self.machine.borrow_mut().poll_event();
                let Some(event) = event else { break };
                if let Some(share) = self.leading() {
                    let state = self.snapshot();
                    share.peer.borrow_mut().leader_event(&event, state);
                }
                self.outbox.borrow_mut().push_back(Outgoing::Event(event));
            }
            loop {
                let receipt = self.machine.borrow_mut().poll_receipt();
                let Some((id, fate)) = receipt else { break };
                if id & RELAY != 0 {
                    if let Some(share) = &self.share {
                        share.peer.borrow_mut().delivered(id & !RELAY, fate);
                    }
                    continue;
                }
                self.outbox
                    .borrow_mut()
                    .push_back(Outgoing::Receipt(id, fate));
            }
            let next = self.outbox.borrow_mut().pop_front();
            match next {
                Some(Outgoing::Message(data)) => self.output.message(data),
                Some(Outgoing::Event(event)) => self.output.event(event),
                Some(Outgoing::Receipt(id, fate)) => self.output.receipt(id, fate),
                Some(Outgoing::HookMessage(data)) => self.output.hook_message(data),
                Some(Outgoing::HookEnd(ok)) => self.output.hook_end(ok),
                None => break,
            }
        }
        self.arm_timer();
        self.arm_share_tick();
        self.pumping.set(false);
    }

    // ----- sharing ----------------------------------------------------------------

    /// A frame from the channel.
    #[cfg(feature = "share")]
    fn on_frame(&self, value: &JsValue) {
        let Some(share) = &self.share else { return };
        if let Some(frame) = io::decode(value) {
            share.peer.borrow_mut().handle(frame);
            self.pump();
        }
    }

    /// The lock request of `generation` was granted.
    fn on_lock(&self, generation: u32) {
        let Some(share) = &self.share else { return };
        if share.io.granted(generation) {
            share.peer.borrow_mut().lock_granted();
        } else {
            share.io.release();
        }
        self.pump();
    }

    /// The leader's connection, for its followers.
    fn snapshot(&self) -> Snapshot {
        let m = self.machine.borrow();
        let opened = self.opened.borrow();
        let open = m.ready_state() == ReadyState::Open;
        Snapshot {
            ready_state: m.ready_state(),
            retries: m.retry_count(),
            stopped: m.stop_reason(),
            protocol: if open {
                opened.protocol.clone()
            } else {
                String::new()
            },
            extensions: if open {
                opened.extensions.clone()
            } else {
                String::new()
            },
        }
    }

    fn perform_share(&self, out: Out<Shared>) {
        let Some(share) = &self.share else { return };
        match out {
            Out::Post(frame) => {
                if let Some(frame) = io::encode(frame, |d: &Shared| d.value.clone()) {
                    share.io.post(&frame);
                }
            }
            Out::Event(event) => self.outbox.borrow_mut().push_back(Outgoing::Event(event)),
            Out::Message(data) => {
                let data = self.adapt(data.value);
                self.outbox.borrow_mut().push_back(Outgoing::Message(data));
            }
            Out::Receipt(id, fate) => self
                .outbox
                .borrow_mut()
                .push_back(Outgoing::Receipt(id, fate)),
            Out::RequestLock => {
                let me = self.me.clone();
                share.io.request(move |generation| {
                    if let Some(driver) = me.upgrade() {
                        driver.on_lock(generation);
                    }
                });
            }
            Out::ReleaseLock => share.io.release(),
            Out::Lead | Out::Reconnect => {
                let _ = self.with_machine(|m, now| m.reconnect(now, None, ""));
            }
            Out::Transmit { ticket, data } => {
                let track = RELAY | ticket;
                let fate = match M::unshare(data) {
                    None => Some(Delivery::Cleared),
                    Some(m) => match self.send_now(m, SendOptions::default(), Some(track)) {
                        Ok(true) => Some(Delivery::Sent),
                        Ok(false) => None, // its receipt comes from the core
                        Err(_) => Some(Delivery::Overflowed),
                    },
                };
                if let Some(fate) = fate {
                    share.peer.borrow_mut().delivered(ticket, fate);
                }
            }
            Out::Local { data, track } => {
                if let Some(m) = M::unshare(data) {
                    let sent = self.send_now(m, SendOptions::default(), track);
                    if let (Ok(true), Some(id)) = (sent, track) {
                        self.outbox
                            .borrow_mut()
                            .push_back(Outgoing::Receipt(id, Delivery::Sent));
                    }
                }
            }
        }
    }

    /// Keeps a one-second timer for [`Peer::tick`] while the peer wants it.
    fn arm_share_tick(&self) {
        let Some(share) = &self.share else { return };
        let wants = share.peer.borrow().wants_tick();
        let mut tick = share.tick.borrow_mut();
        if !wants {
            *tick = None;
        } else if tick.is_none() {
            let me = self.me.clone();
            *tick = Some(Timeout::new(1000, move || {
                if let Some(driver) = me.upgrade() {
                    if let Some(share) = &driver.share {
                        *share.tick.borrow_mut() = None;
                        share.peer.borrow_mut().tick();
                    }
                    driver.pump();
                }
            }));
        }
    }

    fn perform(&self, action: Action<M>) {
        match action {
            Action::Connect { socket, attempt } => self.connect(socket, attempt),
            Action::Send { socket, message } => match self.open_native(socket) {
                Some(native) => {
                    let _ = message.transmit(native.ws());
                }
                // Flushing onto a socket the browser is already closing: back to
                // the queue, in order, for the next connection.
                None => {
                    let _ = self.machine.borrow_mut().enqueue(message, None);
                }
            },
            Action::SendHeartbeat { socket } => {
                if let Some(native) = self.open_native(socket) {
                    let ping = self.machine.borrow().config().heartbeat_message.clone();
                    let _ = super::native::send_value(native.ws(), &JsValue::from_str(&ping));
                }
            }
            Action::Close {
                socket,
                code,
                reason,
            } => {
                if let Some(native) = self.native(Some(socket)) {
                    native.close(code, &reason);
                }
            }
            Action::Abandon {
                socket,
                code,
                reason,
            } => {
                if let Some(native) = self.take_current(socket).and_then(|c| c.native) {
                    native.close(code, &reason);
                } // dropped here, with nothing borrowed: its listeners go
            }
        }
    }

    /// Starts the attempt on `socket`: asks the providers (user code, called with
    /// nothing borrowed), then opens the native socket, now or once they settle.
    fn connect(&self, socket: SocketId, attempt: u32) {
        let old = self.current.replace(Some(Current {
            id: socket,
            attempt,
            native: None,
        }));
        if let Some(native) = old.and_then(|c| c.native) {
            native.close(None, "");
        }
        let url = (self.url_source)(attempt);
        if !self.resolving(socket) {
            return; // the provider closed or restarted the socket
        }
        let protocols = match url {
            Target::Failed(message) => return self.open_attempt(socket, Err(message)),
            _ => (self.protocols_source)(attempt),
        };
        if !self.resolving(socket) {
            return;
        }
        match (url, protocols) {
            (Target::Ready(url), Target::Ready(protocols)) => {
                self.open_attempt(socket, Ok((url, protocols)));
            }
            (url, protocols) => {
                let me = self.me.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = match url.resolve().await {
                        Ok(url) => protocols.resolve().await.map(|p| (url, p)),
                        Err(message) => Err(message),
                    };
                    if let Some(driver) = me.upgrade() {
                        driver.on_resolved(socket, result);
                    }
                });
            }
        }
    }

    /// Whether the attempt on `socket` is still waiting for its URL and still
    /// wanted: user code that ran meanwhile (a provider) may have closed or
    /// restarted the socket, which the core knows before its `Abandon` is performed.
    fn resolving(&self, socket: SocketId) -> bool {
        self.machine.borrow().live_socket() == Some(socket)
            && self
                .current
                .borrow()
                .as_ref()
                .is_some_and(|c| c.id == socket && c.native.is_none())
    }

    /// Opens the native socket for `socket` once its URL and protocols are known,
    /// or reports why it cannot.
    fn open_attempt(&self, socket: SocketId, target: Result<(String, Vec<String>), String>) {
        let opened = target.and_then(|(u, protocols)| {
            *self.url.borrow_mut() = u.clone();
            let u = url::check(&u).map_err(|reason| format!("invalid URL '{u}': {reason}"))?;
            // Formatted here, not through `Error`'s `Display`: that would link the
            // formatting of every error variant (u128, floats) into the wasm.
            crate::protocols::validate(&protocols).map_err(|e| match e {
                crate::Error::InvalidProtocol { protocol, reason } => {
                    format!("invalid subprotocol '{protocol}': {reason}")
                }
                _ => String::new(), // validate gives no other
            })?;
            let me = self.me.clone();
            let on_event = move |event| {
                if let Some(driver) = me.upgrade() {
                    driver.on_native(socket, event);
                }
            };
            let ctor = self.constructor.as_ref();
            NativeSocket::open(ctor, &u, &protocols, self.native_binary_type(), on_event)
                .map_err(|e| js_error_message(&e))
        });
        match opened {
            Ok(native) => {
                if self.resolving(socket) {
                    if let Some(c) = self.current.borrow_mut().as_mut() {
                        c.native = Some(Rc::new(native));
                    }
                } // else: abandoned while the browser created it; dropping closes it
            }
            Err(message) => {
                drop(self.take_current(socket));
                self.with_machine(|m, now| m.handle_connect_error(now, socket, message));
            }
        }
    }

    /// The native socket of `socket` (any live one for `None`), cloned out of its
    /// cell so that calling the browser holds no borrow.
    fn native(&self, socket: Option<SocketId>) -> Option<Rc<NativeSocket>> {
        self.current
            .borrow()
            .as_ref()
            .filter(|c| socket.is_none_or(|s| c.id == s))
            .and_then(|c| c.native.clone())
    }

    /// As [`native`](Driver::native), if the browser still reports it OPEN.
    fn open_native(&self, socket: SocketId) -> Option<Rc<NativeSocket>> {
        self.native(Some(socket)).filter(|n| n.is_open())
    }

    /// Detaches the attempt on `socket`, if it is the current one. The caller drops
    /// it (which closes and unhooks the native socket) with nothing borrowed.
    fn take_current(&self, socket: SocketId) -> Option<Current> {
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_some_and(|c| c.id == socket) {
            current.take()
        } else {
            None
        }
    }

    fn arm_timer(&self) {
        let next = self.machine.borrow().poll_timeout();
        let mut timer = self.timer.borrow_mut();
        if timer.as_ref().map(|(at, _)| *at) == next {
            return;
        }
        let me = self.me.clone();
        *timer = next.map(|at| {
            let wait = at.saturating_duration_since(clock::now());
            // Round up so the timer never fires before the deadline; clamp to
            // setTimeout's maximum.
            let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as u32;
            let timeout = Timeout::new(ms, move || {
                if let Some(driver) = me.upgrade() {
                    driver.on_timer();
                }
            });
            (at, timeout)
        });
    }
}

/// Whether a queued message is the instance's own (not a follower's it relays).
fn own(track: Option<u64>) -> bool {
    track.is_none_or(|t| t & RELAY == 0)
}

/// Inbound event data, as the core sees it.
struct Inbound(JsValue);

impl Payload for Inbound {
    fn byte_len(&self) -> usize {
        0 // never queued
    }

    fn is_text(&self, text: &str) -> bool {
        // Compare lengths first so ordinary messages cost no string copy.
        self.0.dyn_ref::<js_sys::JsString>().is_some_and(|s| {
            s.length() as usize == text.encode_utf16().count()
                && s.as_string().as_deref() == Some(text)
        })
    }
}

/// `visibilitychange` (to visible), `online` and `pageshow` feed the core's resume
/// input. In a worker only `online` exists (a `pageshow` listener there never
/// fires); a global that is not an event target (Node) gets none: its
/// `addEventListener` call fails and `Listener::new` returns `None`.
fn page_listeners<M: Outbound, O: Output>(me: Weak<Driver<M, O>>) -> Vec<Listener> {
    let global: JsValue = js_sys::global().into();
    let mut listeners = Vec::new();
    let resume = |me: Weak<Driver<M, O>>| {
        move |_: web_sys::Event| {
            if let Some(driver) = me.upgrade() {
                driver.on_resume();
            }
        }
    };
    let target = global.unchecked_ref::<web_sys::EventTarget>();
    listeners.extend(Listener::new(target, "online", resume(me.clone())));
    listeners.extend(Listener::new(target, "pageshow", resume(me.clone())));
    let document = prop::get(&global, "document");
    if document.is_object() {
        let target = document.unchecked_ref::<web_sys::EventTarget>();
        listeners.extend(Listener::new(target, "resume", resume(me.clone())));
        let doc = document.clone();
        let me = me.clone();
        listeners.extend(Listener::new(target, "visibilitychange", move |_| {
            if prop::string(&doc, "visibilityState").as_deref() == Some("visible") {
                if let Some(driver) = me.upgrade() {
                    driver.on_resume();
                }
            }
        }));
    }
    listeners
}

/// The message of a JS exception (`name: message`), or its string form.
pub(crate) fn js_error_message(value: &JsValue) -> String {
    // A primitive has no properties (`Reflect.get` throws: `None`).
    if let Some(message) = prop::string(value, "message") {
        let name = prop::string(value, "name").unwrap_or_else(|| "Error".to_owned());
        return format!("{name}: {message}");
    }
    value
        .as_string()
        .unwrap_or_else(|| "unknown error".to_owned())
}
