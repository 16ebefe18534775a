//! [`Driver`]: runs one [`Machine`] in the browser.
//!
//! It turns browser events into `handle_*` calls and the core's actions into browser
//! calls, keeps exactly one timer (armed at the core's next deadline) and owns every
//! JS callback. Callbacks hold only a `Weak` to the driver: when the last user
//! handle drops, the driver drops, and with it the native socket (closed with 1000),
//! the timer and the page listeners.
//!
//! Re-entrancy: user code (event handlers, the URL provider, the reconnect
//! predicate) never runs while the core is borrowed. Everything the core emits goes
//! through one outbox that only the outermost call drains, so events reach the user
//! in the order they happened even when a handler calls back into the socket.

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
use super::url;
use crate::machine::{
    Action, CloseError, CloseInfo, Closer, Config, ConfigError, Event, Instant, Machine, Payload,
    ReadyState, SendError, SendOutcome, SocketId,
};

/// An outbound payload the driver can put on a native socket.
pub(crate) trait Outbound: Payload + 'static {
    /// Sends on `ws`. Errors are the browser's (dropped: delivery of what reaches a
    /// native socket is at-most-once).
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue>;
}

/// Where a delivered message or event goes (the Rust streams, or JS listeners).
pub(crate) trait Output: 'static {
    /// A message for the user (heartbeat responses already filtered out).
    fn message(&self, data: JsValue);
    /// A lifecycle event (what the server chose on open is in [`Driver::opened`]).
    fn event(&self, event: Event);
}

/// What the server agreed to, read when the socket opened.
#[derive(Clone, Debug, Default)]
pub(crate) struct Opened {
    pub(crate) protocol: String,
    pub(crate) extensions: String,
}

/// The URL of one attempt: known now, still coming, or failed.
pub(crate) enum Target {
    Ready(String),
    Pending(Pin<Box<dyn Future<Output = Result<String, String>>>>),
    /// A provider that failed at once (only JS providers can: they may throw).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    Failed(String),
}

/// Produces the URL for attempt n (called once per attempt).
pub(crate) type Resolver = Rc<dyn Fn(u32) -> Target>;

/// The user's reconnect predicate: `false` stops for good.
pub(crate) type Predicate = Rc<dyn Fn(&CloseInfo) -> bool>;

/// How a driver is set up.
pub(crate) struct Setup {
    pub(crate) resolver: Resolver,
    pub(crate) protocols: Vec<String>,
    pub(crate) config: Config,
    pub(crate) binary_type: BinaryType,
    pub(crate) should_reconnect: Option<Predicate>,
}

enum Outgoing {
    Message(JsValue),
    Event(Event),
}

struct Current {
    id: SocketId,
    /// `None` while the URL is still being resolved.
    native: Option<NativeSocket>,
}

struct State<M> {
    machine: Machine<M>,
    current: Option<Current>,
    timer: Option<(Instant, Timeout)>,
    resolver: Resolver,
    protocols: Vec<String>,
    binary_type: BinaryType,
    url: String,
    opened: Opened,
}

pub(crate) struct Driver<M, O> {
    me: Weak<Self>,
    state: RefCell<State<M>>,
    outbox: RefCell<VecDeque<Outgoing>>,
    dispatching: Cell<bool>,
    should_reconnect: Option<Predicate>,
    _page: Vec<Listener>,
    output: O,
}

impl<M: Outbound, O: Output> Driver<M, O> {
    /// Creates the driver and (unless `start_closed`) starts the first attempt.
    pub(crate) fn start(setup: Setup, output: O) -> Result<Rc<Self>, ConfigError> {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let machine = Machine::new(setup.config, seed, clock::now())?;
        let driver = Rc::new_cyclic(|me: &Weak<Self>| Driver {
            me: me.clone(),
            state: RefCell::new(State {
                machine,
                current: None,
                timer: None,
                resolver: setup.resolver,
                protocols: setup.protocols,
                binary_type: setup.binary_type,
                url: String::new(),
                opened: Opened::default(),
            }),
            outbox: RefCell::new(VecDeque::new()),
            dispatching: Cell::new(false),
            should_reconnect: setup.should_reconnect,
            _page: page_listeners(me.clone()),
            output,
        });
        driver.pump();
        Ok(driver)
    }

    pub(crate) fn output(&self) -> &O {
        &self.output
    }

    // ----- commands (called by user handles) ------------------------------------

    pub(crate) fn send(&self, message: M) -> Result<(), SendError<M>> {
        let outcome = {
            let mut st = self.state.borrow_mut();
            let outcome = st.machine.send(message)?;
            if let SendOutcome::Transmit { socket, message } = outcome {
                st.transmit(socket, &message);
                return Ok(());
            }
            outcome
        };
        if matches!(outcome, SendOutcome::Pending) {
            self.pump();
        }
        Ok(())
    }

    pub(crate) fn close(&self, code: Option<u16>, reason: &str) -> Result<(), CloseError> {
        self.with_machine(|m, now| m.close(now, code, reason))?;
        self.pump();
        Ok(())
    }

    pub(crate) fn reconnect(&self, code: Option<u16>, reason: &str) -> Result<(), CloseError> {
        self.with_machine(|m, now| m.reconnect(now, code, reason))?;
        self.pump();
        Ok(())
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.state.borrow().machine.ready_state()
    }

    pub(crate) fn retry_count(&self) -> u32 {
        self.state.borrow().machine.retry_count()
    }

    pub(crate) fn queued_messages(&self) -> usize {
        self.state.borrow().machine.queued_messages()
    }

    /// Queued bytes plus what the native socket has not sent yet.
    pub(crate) fn buffered_amount(&self) -> f64 {
        let st = self.state.borrow();
        let native = st
            .current
            .as_ref()
            .and_then(|c| c.native.as_ref())
            .map_or(0, |n| n.ws().buffered_amount());
        st.machine.queued_bytes() as f64 + f64::from(native)
    }

    pub(crate) fn url(&self) -> String {
        self.state.borrow().url.clone()
    }

    pub(crate) fn opened(&self) -> Opened {
        self.state.borrow().opened.clone()
    }

    pub(crate) fn queue_has_room(&self) -> bool {
        self.state.borrow().machine.queue_has_room()
    }

    #[cfg_attr(not(feature = "js"), allow(dead_code))] // the Rust API always uses ArrayBuffer
    pub(crate) fn set_binary_type(&self, binary_type: BinaryType) {
        let mut st = self.state.borrow_mut();
        st.binary_type = binary_type;
        if let Some(native) = st.current.as_ref().and_then(|c| c.native.as_ref()) {
            native.ws().set_binary_type(binary_type);
        }
    }

    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn binary_type(&self) -> BinaryType {
        self.state.borrow().binary_type
    }

    // ----- inputs from the browser ----------------------------------------------

    fn on_native(&self, socket: SocketId, event: NativeEvent) {
        if let NativeEvent::Message(data) = event {
            return self.on_message(socket, data);
        }
        let now = clock::now();
        match event {
            NativeEvent::Open => {
                let mut st = self.state.borrow_mut();
                if let Some(native) = st.native(socket) {
                    let opened = Opened {
                        protocol: native.ws().protocol(),
                        extensions: native.ws().extensions(),
                    };
                    st.opened = opened;
                }
                st.machine.handle_open(now, socket);
            }
            NativeEvent::Message(_) => {} // handled above
            NativeEvent::Error => self.state.borrow_mut().machine.handle_error(socket),
            NativeEvent::Close {
                code,
                reason,
                was_clean,
            } => {
                let ask = {
                    let st = self.state.borrow();
                    st.machine.live_socket() == Some(socket)
                        && matches!(
                            st.machine.ready_state(),
                            ReadyState::Connecting | ReadyState::Open
                        )
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
                let mut st = self.state.borrow_mut();
                if veto {
                    st.machine
                        .handle_close_and_stop(now, socket, code, &reason, was_clean);
                } else {
                    st.machine
                        .handle_close(now, socket, code, &reason, was_clean);
                }
                // The socket is done: detach it (wasm-bindgen defers freeing the
                // closure that is running right now until it returns).
                if st.current.as_ref().is_some_and(|c| c.id == socket) {
                    st.current = None;
                }
            }
        }
        self.pump();
    }

    /// The hot path: one borrow, and the clock only when the heartbeat needs it.
    fn on_message(&self, socket: SocketId, data: JsValue) {
        let delivered = {
            let mut st = self.state.borrow_mut();
            let now = if st.machine.uses_time_on_message() {
                clock::now()
            } else {
                Instant::ZERO // unused by the core without a heartbeat
            };
            st.machine.handle_message(now, socket, Inbound(data))
        };
        if let Some(Inbound(data)) = delivered {
            self.outbox.borrow_mut().push_back(Outgoing::Message(data));
        }
        self.pump();
    }

    fn on_resolved(&self, socket: SocketId, result: Result<String, String>) {
        {
            let mut st = self.state.borrow_mut();
            let waiting = st
                .current
                .as_ref()
                .is_some_and(|c| c.id == socket && c.native.is_none());
            if !waiting {
                return; // abandoned meanwhile
            }
            let now = clock::now();
            st.open_native(self.me.clone(), socket, result, now);
        }
        self.pump();
    }

    fn on_timer(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.timer = None;
            st.machine.handle_timeout(clock::now());
        }
        self.pump();
    }

    fn on_resume(&self) {
        self.with_machine(|m, now| m.handle_resume(now));
        self.pump();
    }

    // ----- the loop -------------------------------------------------------------

    fn with_machine<R>(&self, f: impl FnOnce(&mut Machine<M>, Instant) -> R) -> R {
        f(&mut self.state.borrow_mut().machine, clock::now())
    }

    /// Performs the core's actions, moves its events to the outbox, re-arms the
    /// timer; then, unless an outer call is already doing it, delivers the outbox.
    fn pump(&self) {
        {
            let mut st = self.state.borrow_mut();
            let mut outbox = self.outbox.borrow_mut();
            loop {
                while let Some(action) = st.machine.poll_action() {
                    st.perform(self.me.clone(), action);
                }
                let Some(event) = st.machine.poll_event() else {
                    break;
                };
                outbox.push_back(Outgoing::Event(event));
            }
            st.arm_timer(self.me.clone());
        }
        if self.dispatching.replace(true) {
            return;
        }
        loop {
            let next = self.outbox.borrow_mut().pop_front();
            match next {
                Some(Outgoing::Message(data)) => self.output.message(data),
                Some(Outgoing::Event(event)) => self.output.event(event),
                None => break,
            }
        }
        self.dispatching.set(false);
    }
}

impl<M: Outbound> State<M> {
    fn native(&self, socket: SocketId) -> Option<&NativeSocket> {
        self.current
            .as_ref()
            .filter(|c| c.id == socket)
            .and_then(|c| c.native.as_ref())
    }

    fn transmit(&self, socket: SocketId, message: &M) {
        if let Some(native) = self.native(socket).filter(|n| n.is_open()) {
            let _ = message.transmit(native.ws());
        }
    }

    fn perform<D: DriverRef>(&mut self, me: Weak<D>, action: Action<M>) {
        match action {
            Action::Connect { socket, attempt } => {
                if let Some(old) = self.current.take().and_then(|c| c.native) {
                    old.abandon(None, "");
                }
                self.current = Some(Current {
                    id: socket,
                    native: None,
                });
                let target = (self.resolver)(attempt);
                let now = clock::now();
                match target {
                    Target::Ready(url) => self.open_native(me, socket, Ok(url), now),
                    Target::Failed(message) => self.open_native(me, socket, Err(message), now),
                    Target::Pending(future) => {
                        wasm_bindgen_futures::spawn_local(async move {
                            let result = future.await;
                            if let Some(driver) = me.upgrade() {
                                driver.resolved(socket, result);
                            }
                        });
                    }
                }
            }
            Action::Send { socket, message } => self.transmit(socket, &message),
            Action::SendHeartbeat { socket } => {
                if let Some(native) = self.native(socket).filter(|n| n.is_open()) {
                    let _ = native
                        .ws()
                        .send_with_str(&self.machine.config().heartbeat_message);
                }
            }
            Action::Close {
                socket,
                code,
                reason,
            } => {
                if let Some(native) = self.native(socket) {
                    native.close(code, &reason);
                }
            }
            Action::Abandon {
                socket,
                code,
                reason,
            } => {
                if self.current.as_ref().is_some_and(|c| c.id == socket) {
                    if let Some(native) = self.current.take().and_then(|c| c.native) {
                        native.abandon(code, &reason);
                    }
                }
            }
        }
    }

    /// Opens the native socket for `socket` once its URL is known.
    fn open_native<D: DriverRef>(
        &mut self,
        me: Weak<D>,
        socket: SocketId,
        url: Result<String, String>,
        now: Instant,
    ) {
        let opened = url
            .and_then(|u| url::check(&u).map_err(|reason| format!("invalid URL '{u}': {reason}")))
            .and_then(|u| {
                let on_event = move |event| {
                    if let Some(driver) = me.upgrade() {
                        driver.native_event(socket, event);
                    }
                };
                NativeSocket::open(&u, &self.protocols, self.binary_type, on_event)
                    .map(|n| (u, n))
                    .map_err(|e| js_error_message(&e))
            });
        match opened {
            Ok((url, native)) => {
                self.url = url;
                self.current = Some(Current {
                    id: socket,
                    native: Some(native),
                });
            }
            Err(message) => {
                self.current = None;
                self.machine.handle_connect_error(now, socket, message);
            }
        }
    }

    fn arm_timer<D: DriverRef>(&mut self, me: Weak<D>) {
        let next = self.machine.poll_timeout();
        if self.timer.as_ref().map(|(at, _)| *at) == next {
            return;
        }
        self.timer = next.map(|at| {
            let wait = at.saturating_duration_since(clock::now());
            // Round up so the timer never fires before the deadline; clamp to
            // setTimeout's maximum.
            let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as u32;
            let timeout = Timeout::new(ms, move || {
                if let Some(driver) = me.upgrade() {
                    driver.timer_fired();
                }
            });
            (at, timeout)
        });
    }
}

/// The callbacks' view of a driver, so `State` need not know `O`.
trait DriverRef: 'static {
    fn native_event(&self, socket: SocketId, event: NativeEvent);
    fn resolved(&self, socket: SocketId, result: Result<String, String>);
    fn timer_fired(&self);
    fn resume(&self);
}

impl<M: Outbound, O: Output> DriverRef for Driver<M, O> {
    fn native_event(&self, socket: SocketId, event: NativeEvent) {
        self.on_native(socket, event);
    }
    fn resolved(&self, socket: SocketId, result: Result<String, String>) {
        self.on_resolved(socket, result);
    }
    fn timer_fired(&self) {
        self.on_timer();
    }
    fn resume(&self) {
        self.on_resume();
    }
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
/// input. In a worker only `online` exists.
fn page_listeners<D: DriverRef>(me: Weak<D>) -> Vec<Listener> {
    let global = js_sys::global();
    let mut listeners = Vec::new();
    let resume = |me: Weak<D>| {
        move |_: web_sys::Event| {
            if let Some(driver) = me.upgrade() {
                driver.resume();
            }
        }
    };
    if let Some(target) = global.dyn_ref::<web_sys::EventTarget>() {
        listeners.extend(Listener::new(target, "online", resume(me.clone())));
        if global.dyn_ref::<web_sys::Window>().is_some() {
            listeners.extend(Listener::new(target, "pageshow", resume(me.clone())));
        }
    }
    if let Some(document) = global
        .dyn_ref::<web_sys::Window>()
        .and_then(web_sys::Window::document)
    {
        let doc = document.clone();
        let me = me.clone();
        listeners.extend(Listener::new(
            document.as_ref(),
            "visibilitychange",
            move |_| {
                if doc.visibility_state() == web_sys::VisibilityState::Visible {
                    if let Some(driver) = me.upgrade() {
                        driver.resume();
                    }
                }
            },
        ));
    }
    listeners
}

/// The message of a JS exception (`name: message`), or its string form.
pub(crate) fn js_error_message(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    value
        .as_string()
        .unwrap_or_else(|| "unknown error".to_owned())
}
