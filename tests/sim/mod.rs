//! A virtual-time harness around the sans-IO core, shared by the scenario and
//! property tests. Time only moves when a test moves it.

#![allow(dead_code)]

use std::time::Duration;

use steadysocket::machine::{Action, Event, Instant, Machine, SendOutcome, SocketId};
use steadysocket::{Config, Message};

/// A config with an exact schedule (no jitter) and short, distinct timings.
pub fn exact() -> Config {
    let mut c = Config::default();
    c.reconnection_jitter = 0.0;
    c
}

/// [`exact`] with a heartbeat: `interval` and `timeout` in ms.
pub fn hb_config(interval: u64, timeout: u64) -> Config {
    let mut c = exact();
    c.heartbeat_interval = Some(ms(interval));
    c.heartbeat_timeout = ms(timeout);
    c
}

/// Fails the pending attempt with a server-side refusal (close 1006).
pub fn fail(sim: &mut Sim) {
    let s = sim.expect_connect();
    sim.server_close(s, 1006);
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub struct Sim {
    pub m: Machine<Message>,
    pub now: Instant,
    /// Every action the core asked for, in order, since the last `take_actions`.
    pub actions: Vec<Action<Message>>,
    /// Every event, in order, since the last `take_events`.
    pub events: Vec<Event>,
    /// Messages the core said to transmit straight away (`SendOutcome::Transmit`).
    pub transmitted: Vec<(SocketId, Message)>,
}

impl Sim {
    pub fn new(config: Config) -> Sim {
        Sim::with_seed(config, 1)
    }

    pub fn with_seed(config: Config, seed: u64) -> Sim {
        let m = Machine::new(config, seed, Instant::ZERO).expect("valid config");
        let mut sim = Sim {
            m,
            now: Instant::ZERO,
            actions: Vec::new(),
            events: Vec::new(),
            transmitted: Vec::new(),
        };
        sim.drain();
        sim
    }

    pub fn drain(&mut self) {
        while let Some(a) = self.m.poll_action() {
            self.actions.push(a);
        }
        while let Some(e) = self.m.poll_event() {
            self.events.push(e);
        }
    }

    pub fn take_actions(&mut self) -> Vec<Action<Message>> {
        self.drain();
        std::mem::take(&mut self.actions)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.events)
    }

    pub fn now_ms(&self) -> f64 {
        self.now.as_millis_f64()
    }

    /// Moves time forward by `d`, firing every deadline on the way at its own time.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(at) = self.m.poll_timeout() {
            if at > target {
                break;
            }
            self.now = self.now.max(at);
            self.m.handle_timeout(self.now);
            self.assert_no_timer_left_due();
            self.drain();
        }
        self.now = target;
    }

    /// `handle_timeout(now)` runs everything due at `now`: a timer still due would
    /// make the loops here spin forever, so fail instead of hanging.
    fn assert_no_timer_left_due(&self) {
        assert!(
            self.m.poll_timeout().is_none_or(|t| t > self.now),
            "a timer is still due after handle_timeout({:?}): {:?}",
            self.now,
            self.m.poll_timeout()
        );
    }

    /// Jumps straight to `d` later and fires what is due then, at that one late
    /// time (a throttled or frozen page).
    pub fn jump(&mut self, d: Duration) {
        self.now = self.now + d;
        self.m.handle_timeout(self.now);
        self.assert_no_timer_left_due();
        self.drain();
    }

    /// Moves to the next deadline and fires it. Returns the time it moved to.
    pub fn next_timeout(&mut self) -> Instant {
        let at = self.m.poll_timeout().expect("a timer is armed");
        self.now = self.now.max(at);
        self.m.handle_timeout(self.now);
        self.assert_no_timer_left_due();
        self.drain();
        self.now
    }

    /// The socket of the most recent `Connect` action.
    pub fn last_connect(&self) -> SocketId {
        self.actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::Connect { socket, .. } => Some(*socket),
                _ => None,
            })
            .expect("a Connect action since the last take")
    }

    /// Takes the pending actions and returns the socket of the `Connect` among them.
    pub fn expect_connect(&mut self) -> SocketId {
        let actions = self.take_actions();
        actions
            .iter()
            .find_map(|a| match a {
                Action::Connect { socket, .. } => Some(*socket),
                _ => None,
            })
            .unwrap_or_else(|| panic!("expected a Connect, got {actions:?}"))
    }

    pub fn open(&mut self, socket: SocketId) {
        self.m.handle_open(self.now, socket);
        self.drain();
    }

    /// Connects the pending attempt and opens it.
    pub fn connect_and_open(&mut self) -> SocketId {
        let s = self.expect_connect();
        self.open(s);
        s
    }

    pub fn server_close(&mut self, socket: SocketId, code: u16) {
        self.m
            .handle_close(self.now, socket, code, "", code != 1006);
        self.drain();
    }

    pub fn receive(&mut self, socket: SocketId, text: &str) -> Option<Message> {
        let got = self.m.handle_message(self.now, socket, Message::from(text));
        self.drain();
        got
    }

    pub fn send(&mut self, text: &str) -> SendOutcome<Message> {
        let out = self.m.send(Message::from(text)).expect("send accepted");
        if let SendOutcome::Transmit { socket, message } = &out {
            self.transmitted.push((*socket, message.clone()));
        }
        self.drain();
        out
    }

    /// The delays of the `Reconnecting` events since the last take, in ms.
    pub fn reconnect_delays(&mut self) -> Vec<u128> {
        self.take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Reconnecting { delay, .. } => Some(delay.as_millis()),
                _ => None,
            })
            .collect()
    }
}

/// Messages of `Send` actions on `socket`, as text, in order.
pub fn sent_texts(actions: &[Action<Message>], socket: SocketId) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { socket: s, message } if *s == socket => {
                message.as_text().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

pub fn heartbeats(actions: &[Action<Message>]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::SendHeartbeat { .. }))
        .count()
}
