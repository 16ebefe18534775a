//! Invariants of the connection core over random sequences of inputs and time steps.
//!
//! Besides the driver-level promises (one live socket, no connect after close, delays
//! within bounds, queue order kept), the events the user sees obey:
//!
//! - at most one `Close` per attempt (plus the one a `close()` reports while no
//!   socket is live, during a backoff wait);
//! - nothing after `Stop` (no event, no action) until `reconnect()`;
//! - no message from a socket that is not live: a message is delivered only from
//!   the open socket or the one in its close handshake, and any input about an
//!   abandoned or replaced socket changes nothing at all.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use steadysocket::machine::{
    Action, Closer, Event, Instant, Machine, ReadyState, SendOutcome, SocketId, StopReason,
};
use steadysocket::{Config, Message};

#[derive(Clone, Debug)]
enum Input {
    /// Let virtual time run, firing timers on the way.
    Advance(u64),
    /// Time jumps with no timer firing on the way (a frozen tab), then fires.
    Jump(u64),
    /// The connecting socket opens (or a stale one, if `stale`).
    Open {
        stale: bool,
    },
    /// A socket receives a message (`pong` or data): the open one, the one in its
    /// close handshake, or a stale one.
    Receive {
        pong: bool,
        from: Peer,
    },
    /// The live (or a stale) socket fires `error`.
    Error {
        stale: bool,
    },
    /// The live (or a stale) socket fires `close`.
    NativeClose {
        code: u16,
        stale: bool,
        veto: bool,
    },
    /// The URL provider fails.
    ConnectError,
    Send,
    Close {
        code: Option<u16>,
    },
    Reconnect,
    Resume,
}

/// Which socket an inbound message comes from.
#[derive(Clone, Debug)]
enum Peer {
    Open,
    Closing,
    /// One of the sockets that are no longer live.
    Stale(prop::sample::Index),
}

fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        3 => Just(Peer::Open),
        2 => Just(Peer::Closing),
        2 => any::<prop::sample::Index>().prop_map(Peer::Stale),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (0u64..3000).prop_map(Input::Advance),
        1 => (0u64..120_000).prop_map(Input::Jump),
        3 => any::<bool>().prop_map(|stale| Input::Open { stale }),
        4 => (any::<bool>(), peer()).prop_map(|(pong, from)| Input::Receive { pong, from }),
        1 => any::<bool>().prop_map(|stale| Input::Error { stale }),
        2 => (prop_oneof![Just(1000u16), Just(1006), Just(1013), Just(4001), Just(0), Just(u16::MAX)], any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(code, stale, veto)| Input::NativeClose { code, stale, veto }),
        1 => Just(Input::ConnectError),
        4 => Just(Input::Send),
        1 => prop_oneof![Just(None), Just(Some(1000u16)), Just(Some(4000)), Just(Some(1))]
            .prop_map(|code| Input::Close { code }),
        1 => Just(Input::Reconnect),
        1 => Just(Input::Resume),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        0u64..2000,
        0u64..20_000,
        1.0f64..4.0,
        0.0f64..=1.0,
        1u64..5000,
        0u64..8000,
        prop::option::of(0u32..6),
        0usize..6,
        prop::option::of((1u64..2000, 1u64..2000)),
        any::<bool>(),
        1u64..6000,
    )
        .prop_map(
            |(
                min,
                extra,
                growth,
                jitter,
                timeout,
                uptime,
                retries,
                queue,
                hb,
                start_closed,
                close_timeout,
            )| {
                let mut c = Config::default();
                c.min_reconnection_delay = Duration::from_millis(min);
                c.max_reconnection_delay = Duration::from_millis(min + extra);
                c.reconnection_delay_grow_factor = growth;
                c.reconnection_jitter = jitter;
                c.connection_timeout = Duration::from_millis(timeout);
                c.min_uptime = Duration::from_millis(uptime);
                c.max_retries = retries;
                c.max_enqueued_messages = queue;
                c.max_enqueued_bytes = 24;
                c.close_timeout = Duration::from_millis(close_timeout);
                c.stop_on_close_codes = vec![4001];
                if let Some((interval, hb_timeout)) = hb {
                    c.heartbeat_interval = Some(Duration::from_millis(interval));
                    c.heartbeat_timeout = Duration::from_millis(hb_timeout);
                }
                c.start_closed = start_closed;
                c
            },
        )
}

/// Everything of the core a driver or a user can observe.
#[derive(Debug, PartialEq)]
struct Observed {
    ready_state: ReadyState,
    live_socket: Option<SocketId>,
    next_timeout: Option<Instant>,
    retry_count: u32,
    queued_messages: usize,
    queued_bytes: usize,
    stop_reason: Option<StopReason>,
}

/// The outside world as the driver would see it, checking the core's promises.
struct World {
    m: Machine<Message>,
    now: Instant,
    max_delay: Duration,
    /// Whether the heartbeat is on (its response is then filtered).
    heartbeat: bool,
    /// Native sockets that exist and are not closing: id → opened?
    native: BTreeMap<SocketId, bool>,
    /// Open sockets the core asked to close (`Action::Close`): in their close
    /// handshake, their messages are still delivered.
    closing: BTreeSet<SocketId>,
    /// Sockets abandoned by the core, closed natively, or failed to connect.
    dead: BTreeSet<SocketId>,
    /// Every socket id ever handed out.
    ever: BTreeSet<SocketId>,
    /// `close()` was called and no `reconnect()` since.
    closed_by_user: bool,
    /// The current attempt has had its `Close` (true before the first attempt).
    attempt_closed: bool,
    /// Some `Open` was reported for the current attempt.
    attempt_opened: bool,
    /// `close()` was called during a backoff wait: one more `Close` may come.
    close_while_waiting: bool,
    /// A `Stop` was reported and no `reconnect()` has started an attempt since.
    stopped: bool,
    /// The input being handled is a `reconnect()` call.
    in_reconnect: bool,
    next_message: u64,
    /// Ids of messages handed to a socket, in order.
    delivered: Vec<u64>,
    /// Ids the core accepted (queued, pending or transmitted).
    accepted: BTreeSet<u64>,
}

impl World {
    fn open_socket(&self) -> Option<SocketId> {
        self.native.iter().find(|(_, open)| **open).map(|(s, _)| *s)
    }

    /// A socket that existed once and is no longer live, if any.
    fn stale_socket(&self) -> Option<SocketId> {
        self.ever
            .iter()
            .find(|s| Some(**s) != self.m.live_socket())
            .copied()
    }

    /// One of the sockets that existed once and are no longer live, if any.
    fn stale_socket_at(&self, index: &prop::sample::Index) -> Option<SocketId> {
        let stale: Vec<SocketId> = self
            .ever
            .iter()
            .filter(|s| Some(**s) != self.m.live_socket())
            .copied()
            .collect();
        (!stale.is_empty()).then(|| *index.get(&stale))
    }

    fn observe(&self) -> Observed {
        Observed {
            ready_state: self.m.ready_state(),
            live_socket: self.m.live_socket(),
            next_timeout: self.m.poll_timeout(),
            retry_count: self.m.retry_count(),
            queued_messages: self.m.queued_messages(),
            queued_bytes: self.m.queued_bytes(),
            stop_reason: self.m.stop_reason(),
        }
    }

    /// An input about the stale socket `stale` was just fed: it must change nothing
    /// (no action, no event, same observable state).
    fn assert_quiet(&mut self, before: &Observed, stale: SocketId, input: &str) {
        if let Some(action) = self.m.poll_action() {
            panic!("a late {input} of {stale:?} asked for {action:?}");
        }
        if let Some(event) = self.m.poll_event() {
            panic!("a late {input} of {stale:?} reached the user: {event:?}");
        }
        assert_eq!(
            &self.observe(),
            before,
            "a late {input} of {stale:?} changed the state"
        );
    }

    /// The user-visible event stream's rules, checked event by event.
    fn check_event(&mut self, event: &Event) {
        if self.stopped {
            assert!(
                self.in_reconnect && matches!(event, Event::Connecting { .. }),
                "{event:?} after Stop without reconnect()"
            );
        }
        match event {
            Event::Connecting { .. } => {
                self.stopped = false;
                self.attempt_closed = false;
                self.attempt_opened = false;
                self.close_while_waiting = false;
            }
            Event::Open => {
                assert!(
                    !self.attempt_closed && !self.attempt_opened,
                    "Open twice, or after the attempt's Close"
                );
                self.attempt_opened = true;
            }
            Event::Close(info) => {
                if self.attempt_closed {
                    assert!(
                        self.close_while_waiting && info.closer == Closer::User,
                        "a second Close in one attempt: {info:?}"
                    );
                    self.close_while_waiting = false;
                }
                self.attempt_closed = true;
            }
            Event::Reconnecting { delay, .. } => {
                assert!(self.attempt_closed, "Reconnecting before the Close");
                assert!(*delay <= self.max_delay, "{delay:?} > {:?}", self.max_delay);
            }
            Event::Stop(_) => self.stopped = true,
            _ => {}
        }
    }

    fn deliver(&mut self, socket: SocketId, message: &Message) {
        assert_eq!(
            self.native.get(&socket),
            Some(&true),
            "a message went to socket {socket:?}, which is not open"
        );
        let id: u64 = message
            .as_text()
            .and_then(|t| t.parse().ok())
            .expect("numbered");
        assert!(
            self.delivered.last().is_none_or(|last| *last < id),
            "message {id} out of order or twice: {:?}",
            self.delivered
        );
        self.delivered.push(id);
    }

    fn drain(&mut self) {
        while let Some(action) = self.m.poll_action() {
            assert!(
                !self.stopped || self.in_reconnect,
                "{action:?} after Stop without reconnect()"
            );
            match action {
                Action::Connect { socket, .. } => {
                    assert!(!self.closed_by_user, "connect after close()");
                    let live = self.native.len();
                    assert_eq!(live, 0, "a second live socket: {:?}", self.native);
                    assert!(self.ever.insert(socket), "socket id reused");
                    self.native.insert(socket, false);
                }
                Action::Send { socket, message } => self.deliver(socket, &message),
                Action::SendHeartbeat { socket } => {
                    assert_eq!(
                        self.native.get(&socket),
                        Some(&true),
                        "ping on a socket that is not open"
                    );
                }
                Action::Close { socket, code, .. } => {
                    assert!(code.is_none_or(|c| c == 1000 || (3000..=4999).contains(&c)));
                    assert_eq!(
                        self.native.get(&socket),
                        Some(&true),
                        "closing a closed socket"
                    );
                    // Closing sockets no longer count as live.
                    self.native.remove(&socket);
                    self.closing.insert(socket);
                }
                Action::Abandon { socket, code, .. } => {
                    assert!(code.is_none_or(|c| c == 1000 || (3000..=4999).contains(&c)));
                    self.native.remove(&socket);
                    self.closing.remove(&socket);
                    self.dead.insert(socket);
                }
            }
        }
        while let Some(event) = self.m.poll_event() {
            self.check_event(&event);
        }
        if self.stopped {
            assert_eq!(
                self.m.ready_state(),
                ReadyState::Closed,
                "stopped but not closed"
            );
            assert!(self.m.stop_reason().is_some());
        }
        let open_in_world = self.open_socket().is_some();
        assert_eq!(
            self.m.ready_state() == ReadyState::Open,
            open_in_world,
            "ready state {:?} vs world {:?}",
            self.m.ready_state(),
            self.native
        );
        if self.m.ready_state() == ReadyState::Open {
            assert_eq!(self.m.queued_messages(), 0, "queue not flushed on open");
        }
        if self.m.ready_state() == ReadyState::Closed {
            assert!(self.m.live_socket().is_none());
        }
    }

    fn step(&mut self, input: Input) {
        let live = self.m.live_socket();
        match input {
            Input::Advance(ms) => {
                let target = self.now + Duration::from_millis(ms);
                while let Some(at) = self.m.poll_timeout() {
                    if at > target {
                        break;
                    }
                    self.now = self.now.max(at);
                    self.m.handle_timeout(self.now);
                    self.drain();
                    assert!(
                        self.m.poll_timeout().is_none_or(|t| t > self.now),
                        "timer due in the past after handle_timeout"
                    );
                }
                self.now = target;
            }
            Input::Jump(ms) => {
                self.now = self.now + Duration::from_millis(ms);
                self.m.handle_timeout(self.now);
                assert!(self.m.poll_timeout().is_none_or(|t| t > self.now));
            }
            Input::Open { stale: true } => {
                if let Some(s) = self.stale_socket() {
                    let before = self.observe();
                    self.m.handle_open(self.now, s);
                    self.assert_quiet(&before, s, "open");
                }
            }
            Input::Open { stale: false } => {
                let target = self.native.iter().find(|(_, o)| !**o).map(|(s, _)| *s);
                if let Some(s) = target {
                    if let Some(open) = self.native.get_mut(&s) {
                        *open = true;
                    }
                    self.m.handle_open(self.now, s);
                }
            }
            Input::Receive { pong, from } => {
                let source = match &from {
                    Peer::Open => self.open_socket(),
                    Peer::Closing => self.closing.iter().next().copied(),
                    Peer::Stale(index) => self.stale_socket_at(index),
                };
                if let Some(s) = source {
                    let text = if pong { "pong" } else { "data" };
                    let before = self.observe();
                    let got = self.m.handle_message(self.now, s, Message::from(text));
                    let open = self.native.get(&s) == Some(&true);
                    let live = !self.dead.contains(&s) && (open || self.closing.contains(&s));
                    if got.is_some() {
                        assert!(
                            live,
                            "a message from {s:?}, which is not live, was delivered"
                        );
                        assert_eq!(self.m.live_socket(), Some(s));
                    }
                    if live && (!pong || !self.heartbeat) {
                        assert!(got.is_some(), "{text:?} from the live {s:?} swallowed");
                    }
                    if pong && self.heartbeat {
                        assert!(got.is_none(), "heartbeat response delivered");
                    }
                    if !live {
                        self.assert_quiet(&before, s, "message");
                    }
                }
            }
            Input::Error { stale: true } => {
                if let Some(s) = self.stale_socket() {
                    let before = self.observe();
                    self.m.handle_error(s);
                    self.assert_quiet(&before, s, "error");
                }
            }
            Input::Error { stale: false } => {
                if let Some(s) = live {
                    self.m.handle_error(s);
                }
            }
            Input::NativeClose {
                code,
                stale: true,
                veto,
            } => {
                if let Some(s) = self.stale_socket() {
                    let before = self.observe();
                    if veto {
                        self.m.handle_close_and_stop(self.now, s, code, "", false);
                    } else {
                        self.m.handle_close(self.now, s, code, "", false);
                    }
                    self.assert_quiet(&before, s, "close");
                }
            }
            Input::NativeClose {
                code,
                stale: false,
                veto,
            } => {
                if let Some(s) = live {
                    self.native.remove(&s);
                    self.closing.remove(&s);
                    self.dead.insert(s);
                    if veto {
                        self.m.handle_close_and_stop(self.now, s, code, "", false);
                    } else {
                        self.m.handle_close(self.now, s, code, "", false);
                    }
                }
            }
            Input::ConnectError => {
                if let Some(s) = live {
                    if self.native.get(&s) == Some(&false) {
                        self.native.remove(&s);
                        self.dead.insert(s);
                        self.m.handle_connect_error(self.now, s, "no".into());
                    }
                }
            }
            Input::Send => {
                let id = self.next_message;
                self.next_message += 1;
                // The driver skips the clock when this says the send goes straight out.
                let straight = self.m.sends_without_time();
                let result = self.m.send(Message::Text(id.to_string()));
                assert_eq!(
                    straight,
                    matches!(result, Ok(SendOutcome::Transmit { .. })),
                    "sends_without_time() must say exactly when a send is a Transmit"
                );
                match result {
                    Ok(SendOutcome::Transmit { socket, message }) => {
                        self.accepted.insert(id);
                        self.deliver(socket, &message);
                    }
                    Ok(_) => {
                        self.accepted.insert(id);
                    }
                    Err(e) => {
                        assert_eq!(
                            e.into_inner(),
                            Message::Text(id.to_string()),
                            "message handed back"
                        );
                    }
                }
            }
            Input::Close { code } => {
                let waiting = self.m.ready_state() == ReadyState::Connecting && live.is_none();
                if self.m.close(self.now, code, "").is_ok() {
                    self.close_while_waiting |= waiting;
                    self.closed_by_user = true;
                    assert!(matches!(
                        self.m.ready_state(),
                        ReadyState::Closing | ReadyState::Closed
                    ));
                } else {
                    assert!(code.is_some_and(|c| c != 1000 && !(3000..=4999).contains(&c)));
                }
            }
            Input::Reconnect => {
                self.in_reconnect = true;
                self.m.reconnect(self.now, None, "").expect("valid");
                self.closed_by_user = false;
            }
            Input::Resume => self.m.handle_resume(self.now),
        }
        self.drain();
        self.in_reconnect = false;
        assert!(!self.stopped || self.m.ready_state() == ReadyState::Closed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn the_core_keeps_its_invariants_under_any_input_sequence(
        config in config(),
        seed in any::<u64>(),
        inputs in prop::collection::vec(input(), 1..120),
    ) {
        let max_delay = config.max_reconnection_delay;
        let heartbeat = config.heartbeat_interval.is_some();
        let m = Machine::new(config, seed, Instant::ZERO).expect("valid config");
        let mut world = World {
            m,
            now: Instant::ZERO,
            max_delay,
            heartbeat,
            native: BTreeMap::new(),
            closing: BTreeSet::new(),
            dead: BTreeSet::new(),
            ever: BTreeSet::new(),
            closed_by_user: false,
            attempt_closed: true,
            attempt_opened: false,
            close_while_waiting: false,
            stopped: false,
            in_reconnect: false,
            next_message: 0,
            delivered: Vec::new(),
            accepted: BTreeSet::new(),
        };
        world.drain();
        for input in inputs {
            world.step(input);
        }
        // Everything delivered had been accepted, once.
        for id in &world.delivered {
            prop_assert!(world.accepted.contains(id));
        }
    }

    #[test]
    fn queued_messages_are_all_delivered_in_order_on_the_next_open(
        n in 0usize..50,
        failures in 0usize..5,
    ) {
        let mut c = Config::default();
        c.max_enqueued_messages = 1000;
        let mut m: Machine<Message> = Machine::new(c, 3, Instant::ZERO).unwrap();
        let mut now = Instant::ZERO;
        let mut sent = Vec::new();
        for i in 0..n {
            prop_assert_eq!(m.send(Message::Text(i.to_string())).unwrap(), SendOutcome::Queued);
        }
        let mut socket = None;
        for _ in 0..=failures {
            while let Some(a) = m.poll_action() {
                if let Action::Connect { socket: s, .. } = a { socket = Some(s); }
            }
            if let Some(s) = socket.take() { m.handle_close(now, s, 1006, "", false); }
            now = m.poll_timeout().unwrap();
            m.handle_timeout(now);
        }
        while let Some(a) = m.poll_action() {
            if let Action::Connect { socket: s, .. } = a { socket = Some(s); }
        }
        m.handle_open(now, socket.unwrap());
        while let Some(a) = m.poll_action() {
            if let Action::Send { message, .. } = a { sent.push(message); }
        }
        let expected: Vec<Message> = (0..n).map(|i| Message::Text(i.to_string())).collect();
        prop_assert_eq!(sent, expected);
    }
}
