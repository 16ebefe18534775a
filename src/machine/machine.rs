//! [`Machine`]: the connection core that ties state, timers, backoff, heartbeat,
//! queue and close policy together.

use std::collections::VecDeque;
use std::time::Duration;

use super::backoff::{Backoff, Rng};
use super::config::QueueOverflow;
use super::config::{Config, ConfigError};
use super::event::{
    validate_close, Action, CloseError, CloseInfo, Closer, Delivery, DiscardReason, ErrorKind,
    Event, ReadyState, SendError, SendOptions, SendOutcome, SocketId, StopReason,
};

/// How far the wall clock may run ahead of the monotonic one before it counts as
/// the machine having slept.
const WALL_JUMP_MS: f64 = 5000.0;
/// How often the wall clock is checked while a backoff wait or heartbeat pends.
const CLOCK_CHECK: Duration = Duration::from_secs(1);
use super::heartbeat::{Heartbeat, Timing, Verdict};
use super::queue::{Payload, SendQueue};
use super::state::State;
use super::time::Instant;
use super::timers::{Timer, TimerTable};

/// The sans-IO connection core. It decides; the driver does.
///
/// # Call order
///
/// 1. Create it with [`Machine::new`]; unless `start_closed`, it already wants to
///    connect.
/// 2. After **every** call into it (a command, a `handle_*` input), drain
///    [`poll_action`](Machine::poll_action) and perform each action in order, *then*
///    drain [`poll_event`](Machine::poll_event) and deliver each event, then re-arm
///    the one timer at [`poll_timeout`](Machine::poll_timeout). (Actions first: the
///    queue flush must reach the socket before the `Open` event reaches the user.)
/// 3. When that timer fires, call [`handle_timeout`](Machine::handle_timeout) with
///    the current time.
///
/// Inputs about a socket that is no longer live (abandoned, replaced) are ignored,
/// so a driver that forwards a late event by mistake cannot corrupt the state.
///
/// Nothing in here panics, reads a clock or does I/O, whatever the input sequence.
#[derive(Debug)]
pub struct Machine<M> {
    config: Config,
    backoff: Backoff,
    heartbeat: Option<Timing>,
    rng: Rng,
    state: State,
    queue: SendQueue<M>,
    timers: TimerTable,
    retries: u32,
    last_socket: u64,
    /// Whether the current attempt already reported an `Error` (a `close()` then
    /// adds none of its own).
    attempt_errored: bool,
    actions: VecDeque<Action<M>>,
    events: VecDeque<Event>,
    receipts: VecDeque<(u64, Delivery)>,
    /// The latest time an input brought (for sends that come without one).
    now_hint: Instant,
    /// The last (monotonic, wall-clock ms) pair the driver gave, to notice sleep.
    clock: Option<(Instant, f64)>,
}

impl<M: Payload> Machine<M> {
    /// A core for `config`, with jitter drawn from a generator seeded with `seed`.
    /// Unless `config.start_closed`, the first attempt starts at once.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] from [`Config::validate`].
    pub fn new(config: Config, seed: u64, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let start_closed = config.start_closed;
        let mut machine = Machine {
            backoff: Backoff {
                min: config.min_reconnection_delay,
                max: config.max_reconnection_delay,
                growth: config.reconnection_delay_grow_factor,
                jitter: config.reconnection_jitter,
            },
            heartbeat: config.heartbeat_interval.map(|interval| Timing {
                interval,
                timeout: config.heartbeat_timeout,
            }),
            rng: Rng::new(seed),
            state: State::Idle,
            queue: SendQueue::new(config.max_enqueued_messages, config.max_enqueued_bytes),
            timers: TimerTable::default(),
            retries: 0,
            last_socket: 0,
            attempt_errored: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            receipts: VecDeque::new(),
            now_hint: now,
            clock: None,
            config,
        };
        if !start_closed {
            machine.begin_attempt(now);
        }
        Ok(machine)
    }

    // ----- commands -------------------------------------------------------------

    /// Sends `message`: straight out while open, queued otherwise: while connecting
    /// or waiting, before the first start with `start_closed`, and also once stopped
    /// for good (`close()`, max retries, a stop code), where only a later
    /// [`reconnect`](Machine::reconnect) delivers it (as reconnecting-websocket and
    /// partysocket do; a late send from a cleanup timer must not fail).
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] when the queue is at a limit (the queue is
    /// unchanged); the message is handed back.
    pub fn send(&mut self, message: M) -> Result<SendOutcome<M>, SendError<M>> {
        self.send_with(self.now_hint, message, SendOptions::default(), None)
    }

    /// [`send`](Machine::send) with per-message [`SendOptions`] (a TTL) and, for a
    /// delivery result, a tracking number of the caller's choosing: its fate then
    /// comes out of [`poll_receipt`](Machine::poll_receipt) (at once for a
    /// [`Transmit`](SendOutcome::Transmit): the caller hands it over, so it is
    /// [`Delivery::Sent`] by then, and the core does not report it).
    ///
    /// A TTL of zero means "only now": sent if open, else discarded at once. A
    /// queued message is discarded once its TTL has passed (`Discarded { Ttl }`).
    /// With [`QueueOverflow::DropOldest`], a full queue discards its oldest
    /// messages to make room (`Discarded { Overflow }`).
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] when the queue is at a limit (and, with
    /// `DropOldest`, for a message larger than the byte limit); a tracked send
    /// while closing or stopped gives [`SendError::Closed`] (a tracked message
    /// never waits for a `reconnect()`). Both hand the message back.
    pub fn send_with(
        &mut self,
        now: Instant,
        message: M,
        options: SendOptions,
        track: Option<u64>,
    ) -> Result<SendOutcome<M>, SendError<M>> {
        self.now_hint = self.now_hint.max(now);
        if track.is_some() && matches!(self.state, State::Stopped(_) | State::Closing { .. }) {
            return Err(SendError::Closed(message));
        }
        if let Some(socket) = self.state.open_socket() {
            if self.actions.is_empty() {
                return Ok(SendOutcome::Transmit { socket, message });
            }
            self.actions.push_back(Action::Send { socket, message });
            if let Some(id) = track {
                self.receipts.push_back((id, Delivery::Sent));
            }
            return Ok(SendOutcome::Pending);
        }
        let ttl = options.ttl.or(self.config.message_ttl);
        if ttl == Some(Duration::ZERO) {
            self.discarded(DiscardReason::Ttl, track.into_iter(), 1, Delivery::Expired);
            return Ok(SendOutcome::Discarded);
        }
        self.enqueue_with(now, message, ttl, track)
            .map(|()| SendOutcome::Queued)
    }

    fn enqueue_with(
        &mut self,
        now: Instant,
        message: M,
        ttl: Option<Duration>,
        track: Option<u64>,
    ) -> Result<(), SendError<M>> {
        let drop_oldest = self.config.queue_overflow == QueueOverflow::DropOldest;
        let expires = ttl.map(|t| now + t);
        match self.queue.push(message, expires, track, drop_oldest) {
            Ok(dropped) => {
                if !dropped.is_empty() {
                    let n = dropped.len();
                    let tracked: Vec<u64> = dropped.iter().filter_map(|e| e.track).collect();
                    self.discarded(
                        DiscardReason::Overflow,
                        tracked.into_iter(),
                        n,
                        Delivery::Overflowed,
                    );
                }
                self.arm_expiry();
                Ok(())
            }
            Err((_, message)) => Err(SendError::QueueFull(message)),
        }
    }

    /// One discard step: the event, and a receipt for each tracked message.
    fn discarded(
        &mut self,
        reason: DiscardReason,
        tracked: impl Iterator<Item = u64>,
        count: usize,
        fate: Delivery,
    ) {
        self.receipts.extend(tracked.map(|id| (id, fate)));
        if count > 0 {
            self.events.push_back(Event::Discarded { reason, count });
        }
    }

    fn arm_expiry(&mut self) {
        match self.queue.next_expiry() {
            Some(at) => self.timers.set(Timer::Expiry, at),
            None => self.timers.stop(Timer::Expiry),
        }
    }

    /// Discards the queued messages whose TTL has passed at `now`.
    fn expire(&mut self, now: Instant) {
        let expired = self
            .queue
            .remove_where(|e| e.expires.is_some_and(|at| at <= now));
        let tracked: Vec<u64> = expired.iter().filter_map(|e| e.track).collect();
        self.discarded(
            DiscardReason::Ttl,
            tracked.into_iter(),
            expired.len(),
            Delivery::Expired,
        );
        self.arm_expiry();
    }

    /// Keeps `message` for the next connection, at the back of the send queue
    /// (tracked with `track`, if it was).
    ///
    /// For a driver that was told to [`Transmit`](SendOutcome::Transmit) (or to
    /// perform a flush [`Send`](Action::Send)) but found the browser's socket no
    /// longer open: the server's close frame has arrived and the close event is
    /// still to come. Nothing is dropped inside the library; the message goes out
    /// on the next open like any message sent while not open.
    ///
    /// # Errors
    ///
    /// [`SendError::QueueFull`] when the queue is at a limit (the queue is
    /// unchanged); the message is handed back.
    pub fn enqueue(&mut self, message: M, track: Option<u64>) -> Result<(), SendError<M>> {
        self.enqueue_with(self.now_hint, message, None, track)
    }

    /// Removes and returns everything queued, oldest first (to persist it, or send
    /// it another way). Reported as one [`Event::Discarded`] with
    /// [`DiscardReason::Cleared`] when anything was queued.
    pub fn drain_queued(&mut self) -> Vec<M> {
        let drained = self.queue.drain();
        let tracked: Vec<u64> = drained.iter().filter_map(|e| e.track).collect();
        self.discarded(
            DiscardReason::Cleared,
            tracked.into_iter(),
            drained.len(),
            Delivery::Cleared,
        );
        self.arm_expiry();
        drained.into_iter().map(|e| e.msg).collect()
    }

    /// Removes and returns, oldest first and with their tracking numbers, the
    /// queued messages whose tracking number `take` picks, keeping the others in
    /// order. Unlike [`drain_queued`](Machine::drain_queued) nothing is reported:
    /// the messages are handed over, not discarded (a shared socket's instance
    /// that stops leading keeps its own messages and gives up its followers').
    pub fn take_queued_where(
        &mut self,
        take: impl Fn(Option<u64>) -> bool,
    ) -> Vec<(M, Option<u64>)> {
        let taken = self.queue.remove_where(|e| take(e.track));
        self.arm_expiry();
        taken.into_iter().map(|e| (e.msg, e.track)).collect()
    }

    /// Closes for good: cancels every timer and pending attempt, and ends with
    /// exactly one `Close` and one `Stop(Close)` event: when the
    /// handshake ends or `close_timeout` passes if a socket is open, else on the next
    /// [`handle_timeout`](Machine::handle_timeout) (a zero-delay timer), so the ready
    /// state is `Closing` in between, as with a browser `WebSocket`. A socket that
    /// was never started only reports `Stop(Close)`. A no-op when already closing or
    /// closed.
    ///
    /// # Errors
    ///
    /// [`CloseError`] for a code other than 1000 or 3000–4999, or a reason over 123
    /// bytes; nothing changes then.
    pub fn close(
        &mut self,
        now: Instant,
        code: Option<u16>,
        reason: &str,
    ) -> Result<(), CloseError> {
        validate_close(code, reason)?;
        let (socket, report, wait, aborted) = match std::mem::replace(&mut self.state, State::Idle)
        {
            // To the user a connection still in its hook is connecting.
            State::Connecting { socket }
            | State::Open {
                socket,
                handshake: true,
                ..
            } => {
                // As the browser does for a socket closed while connecting: `error`,
                // then `close` with 1006 and no reason.
                self.abandon(socket, code, reason);
                let report = CloseInfo::abnormal("", Closer::User);
                (None, report, Duration::ZERO, !self.attempt_errored)
            }
            State::Open { socket, .. } => {
                self.actions.push_back(Action::Close {
                    socket,
                    code,
                    reason: reason.to_owned(),
                });
                let report = CloseInfo::abnormal("", Closer::User);
                (Some(socket), report, self.config.close_timeout, false)
            }
            State::Waiting => {
                let report = CloseInfo {
                    code: code.unwrap_or(1005),
                    reason: reason.to_owned(),
                    was_clean: false,
                    closer: Closer::User,
                };
                (None, report, Duration::ZERO, false)
            }
            State::Idle => {
                self.stop(StopReason::Close);
                return Ok(());
            }
            other @ (State::Closing { .. } | State::Stopped(_)) => {
                self.state = other;
                return Ok(());
            }
        };
        self.timers.stop_all();
        self.timers.set(Timer::Close, now + wait);
        self.state = State::Closing {
            socket,
            report,
            aborted,
        };
        Ok(())
    }

    /// Closes the current socket (if any) with `code` and `reason`, resets the retry
    /// count and connects at once. Works in every state, also after `close()` or
    /// after giving up; the send queue is kept.
    ///
    /// # Errors
    ///
    /// [`CloseError`] as for [`close`](Machine::close); nothing changes then.
    pub fn reconnect(
        &mut self,
        now: Instant,
        code: Option<u16>,
        reason: &str,
    ) -> Result<(), CloseError> {
        validate_close(code, reason)?;
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Connecting { socket }
            | State::Open {
                socket,
                handshake: true,
                ..
            } => {
                self.abandon(socket, code, reason);
                self.events
                    .push_back(Event::Close(CloseInfo::abnormal(reason, Closer::Reconnect)));
            }
            State::Open { socket, .. } => {
                self.abandon(socket, code, reason);
                self.events.push_back(Event::Close(CloseInfo {
                    code: code.unwrap_or(1005),
                    reason: reason.to_owned(),
                    was_clean: false,
                    closer: Closer::Reconnect,
                }));
            }
            State::Closing {
                socket,
                report,
                aborted,
            } => {
                if let Some(socket) = socket {
                    self.abandon(socket, None, "");
                }
                if aborted {
                    self.events.push_back(Event::Error(ErrorKind::Aborted));
                }
                self.finish_user_close(report);
            }
            State::Idle | State::Waiting | State::Stopped(_) => {}
        }
        self.timers.stop_all();
        self.retries = 0;
        self.begin_attempt(now);
        Ok(())
    }

    // ----- inputs ---------------------------------------------------------------

    /// The native socket `socket` opened. Flushes the queue (as `Send` actions, in
    /// order) and then emits `Open`.
    pub fn handle_open(&mut self, now: Instant, socket: SocketId) {
        if self.state != (State::Connecting { socket }) {
            return;
        }
        self.timers.stop(Timer::Connect);
        let heartbeat = match self.heartbeat {
            Some(t) => Heartbeat::start(now, t, &mut self.timers),
            None => Heartbeat::default(),
        };
        self.state = State::Open {
            socket,
            heartbeat,
            handshake: false,
        };
        self.opened(now, socket);
    }

    /// The native socket `socket` opened and the user's connection hook runs now
    /// (JS `onConnect`, Rust `Builder::on_connect`): to the user the socket is
    /// still connecting (sends queue, no `Open`), the heartbeat already runs, and
    /// the hook has `connection_timeout` from now to settle. Report how it ended
    /// with [`handle_hook_done`](Machine::handle_hook_done); messages arriving
    /// meanwhile come out of [`handle_message`](Machine::handle_message) as usual
    /// (the driver hands them to the hook, or delivers them after `Open`).
    pub fn handle_open_with_hook(&mut self, now: Instant, socket: SocketId) {
        if self.state != (State::Connecting { socket }) {
            return;
        }
        self.timers
            .set(Timer::Connect, now + self.config.connection_timeout);
        let heartbeat = match self.heartbeat {
            Some(t) => Heartbeat::start(now, t, &mut self.timers),
            None => Heartbeat::default(),
        };
        self.state = State::Open {
            socket,
            heartbeat,
            handshake: true,
        };
        self.arm_clock_check(now);
    }

    /// The connection hook on `socket` settled: `Ok` opens for the user (the queue
    /// flushes, then `Open`); `Err` is a failed attempt: the connection is closed
    /// with 1000 "onConnect failed", the user sees an `Error` and a `Close` (1006)
    /// as for a connect timeout, and the backoff schedule goes on (the retry count
    /// is not reset). The queue is kept either way.
    pub fn handle_hook_done(&mut self, now: Instant, socket: SocketId, result: Result<(), String>) {
        let State::Open {
            socket: live,
            handshake: true,
            ..
        } = &mut self.state
        else {
            return;
        };
        if *live != socket {
            return;
        }
        match result {
            Ok(()) => {
                self.timers.stop(Timer::Connect);
                if let State::Open { handshake, .. } = &mut self.state {
                    *handshake = false;
                }
                self.opened(now, socket);
            }
            Err(message) => self.hook_failed(now, socket, &message),
        }
    }

    fn hook_failed(&mut self, now: Instant, socket: SocketId, why: &str) {
        self.abandon(socket, Some(1000), "onConnect failed");
        self.events
            .push_back(Event::Error(ErrorKind::Hook(why.to_owned())));
        let info = CloseInfo::abnormal("onConnect failed", Closer::Hook);
        self.connection_ended(now, info, false);
    }

    /// Open for the user: the uptime clock starts, the queue flushes, `Open`.
    fn opened(&mut self, now: Instant, socket: SocketId) {
        self.timers.set(Timer::Uptime, now + self.config.min_uptime);
        self.expire(now);
        while let Some(entry) = self.queue.pop() {
            self.actions.push_back(Action::Send {
                socket,
                message: entry.msg,
            });
            if let Some(id) = entry.track {
                self.receipts.push_back((id, Delivery::Sent));
            }
        }
        self.arm_expiry();
        self.arm_clock_check(now);
        self.events.push_back(Event::Open);
    }

    /// A message arrived on `socket`. Returns it if the user should get it: `None`
    /// for a stale socket, and for the heartbeat response while the heartbeat is on.
    /// Any message counts as liveness.
    #[must_use]
    ///
    /// The inbound type may differ from the outbound one (the browser driver passes
    /// the raw event data); only [`Payload::is_text`] is used. `now` is only read
    /// when the heartbeat is on ([`Machine::uses_time_on_message`]).
    pub fn handle_message<I: Payload>(
        &mut self,
        now: Instant,
        socket: SocketId,
        message: I,
    ) -> Option<I> {
        match &mut self.state {
            State::Open {
                socket: live,
                heartbeat,
                ..
            } if *live == socket => {
                let Some(t) = self.heartbeat else {
                    return Some(message);
                };
                let is_response = message.is_text(&self.config.heartbeat_response);
                if let Some(rtt) = heartbeat.on_inbound(now, is_response, t, &mut self.timers) {
                    self.events.push_back(Event::Heartbeat { rtt });
                }
                (!is_response).then_some(message)
            }
            State::Closing {
                socket: Some(live), ..
            } if *live == socket => {
                let filtered =
                    self.heartbeat.is_some() && message.is_text(&self.config.heartbeat_response);
                (!filtered).then_some(message)
            }
            _ => None,
        }
    }

    /// The native socket `socket` fired `error`. A `handle_close` is expected next.
    pub fn handle_error(&mut self, socket: SocketId) {
        if self.state.is_live(socket) {
            self.attempt_errored = true;
            self.events.push_back(Event::Error(ErrorKind::Socket));
        }
    }

    /// The native socket `socket` fired `close`. Reconnects per the policy, or stops
    /// for a code in `stop_on_close_codes`, or after `max_retries`; ends a user close.
    pub fn handle_close(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
        reason: &str,
        was_clean: bool,
    ) {
        self.native_close(now, socket, code, reason, was_clean, false);
    }

    /// As [`handle_close`](Machine::handle_close), when the user's `should_reconnect`
    /// predicate said no: stops for good with [`StopReason::CloseCode`].
    ///
    /// The predicate is user code, so the driver calls it *before* entering the
    /// core (never while holding the core borrowed), and only while the socket is
    /// connecting or open ([`ready_state`](Machine::ready_state)).
    pub fn handle_close_and_stop(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
        reason: &str,
        was_clean: bool,
    ) {
        self.native_close(now, socket, code, reason, was_clean, true);
    }

    /// The attempt on `socket` failed before a native socket existed (the URL
    /// provider failed, or the browser refused the URL). Counts as a failed attempt.
    pub fn handle_connect_error(&mut self, now: Instant, socket: SocketId, message: String) {
        if self.state != (State::Connecting { socket }) {
            return;
        }
        self.events
            .push_back(Event::Error(ErrorKind::Connect(message.clone())));
        self.connection_ended(
            now,
            CloseInfo::abnormal(&message, Closer::ConnectError),
            false,
        );
    }

    /// The page became visible, went `online` or fired `pageshow`: a backoff wait is
    /// cut short, and an open connection with a heartbeat is probed at once.
    pub fn handle_resume(&mut self, now: Instant) {
        match &mut self.state {
            State::Waiting => {
                self.timers.stop(Timer::Backoff);
                self.begin_attempt(now);
            }
            State::Open {
                socket, heartbeat, ..
            } => {
                if let Some(t) = self.heartbeat {
                    heartbeat.sent(now, t, &mut self.timers);
                    self.actions
                        .push_back(Action::SendHeartbeat { socket: *socket });
                }
            }
            _ => {}
        }
    }

    /// The wall clock (`Date.now()`, ms) at `now`. The driver gives it before
    /// every [`handle_timeout`](Machine::handle_timeout) and resume. When it has
    /// advanced more than 5 s beyond the monotonic clock since the last one, the
    /// machine slept: handled as a [resume](Machine::handle_resume). While a backoff
    /// wait or a heartbeat is pending, a check timer makes sure this happens at
    /// least once a second (a frozen page runs it when it thaws).
    pub fn handle_wall_clock(&mut self, now: Instant, wall_ms: f64) {
        self.now_hint = self.now_hint.max(now);
        let jumped = self.clock.is_some_and(|(then, wall_then)| {
            let mono = now.saturating_duration_since(then).as_secs_f64() * 1000.0;
            wall_ms - wall_then > mono + WALL_JUMP_MS
        });
        self.clock = Some((now, wall_ms));
        if jumped {
            self.handle_resume(now);
        }
        self.arm_clock_check(now);
    }

    fn arm_clock_check(&mut self, now: Instant) {
        let pending = match &self.state {
            State::Waiting => true,
            State::Open { .. } => self.heartbeat.is_some(),
            _ => false,
        };
        if pending && self.clock.is_some() {
            self.timers.set(Timer::ClockCheck, now + CLOCK_CHECK);
        } else {
            self.timers.stop(Timer::ClockCheck);
        }
    }

    /// The fate of a tracked message (see [`send_with`](Machine::send_with)).
    #[must_use]
    pub fn poll_receipt(&mut self) -> Option<(u64, Delivery)> {
        self.receipts.pop_front()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now_hint = self.now_hint.max(now);
        while let Some((timer, due)) = self.timers.take_expired(now) {
            self.on_timer(now, timer, due);
        }
    }

    // ----- outputs and queries --------------------------------------------------

    /// Whether [`handle_message`](Machine::handle_message) reads its `now` (only
    /// with a heartbeat): a driver may skip reading the clock per message otherwise.
    #[must_use]
    pub fn uses_time_on_message(&self) -> bool {
        self.heartbeat.is_some()
    }

    /// Whether [`send_with`](Machine::send_with) would hand a message straight to
    /// the open socket now ([`SendOutcome::Transmit`]), which does not read its
    /// `now`: a driver may skip reading the clock per send then.
    #[must_use]
    pub fn sends_without_time(&self) -> bool {
        self.state.open_socket().is_some() && self.actions.is_empty()
    }

    /// The next thing the driver must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action<M>> {
        self.actions.pop_front()
    }

    /// The next thing the user should hear about.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Machine::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The state in `WebSocket.readyState` terms.
    #[must_use]
    pub fn ready_state(&self) -> ReadyState {
        self.state.ready_state()
    }

    /// Retries since the last connection that stayed open `min_uptime`.
    #[must_use]
    pub fn retry_count(&self) -> u32 {
        self.retries
    }

    /// Messages waiting in the send queue.
    #[must_use]
    pub fn queued_messages(&self) -> usize {
        self.queue.len()
    }

    /// Whether the send queue is below both of its limits (a message of any size may
    /// still be refused by the byte limit).
    #[must_use]
    pub fn queue_has_room(&self) -> bool {
        self.queue.has_room()
    }

    /// Bytes waiting in the send queue.
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        self.queue.bytes()
    }

    /// The socket whose connection hook is running, if one is.
    #[must_use]
    pub fn hook_socket(&self) -> Option<SocketId> {
        match self.state {
            State::Open {
                socket,
                handshake: true,
                ..
            } => Some(socket),
            _ => None,
        }
    }

    /// The native socket that is connecting, open or closing.
    #[must_use]
    pub fn live_socket(&self) -> Option<SocketId> {
        self.state.live_socket()
    }

    /// The validated configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Why the core stopped, while it is stopped for good.
    #[must_use]
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.state {
            State::Stopped(reason) => Some(reason),
            _ => None,
        }
    }

    // ----- internals ------------------------------------------------------------

    fn begin_attempt(&mut self, now: Instant) {
        self.last_socket = self.last_socket.saturating_add(1);
        let socket = SocketId(self.last_socket);
        self.state = State::Connecting { socket };
        self.attempt_errored = false;
        self.timers
            .set(Timer::Connect, now + self.config.connection_timeout);
        self.actions.push_back(Action::Connect {
            socket,
            attempt: self.retries,
        });
        self.events.push_back(Event::Connecting {
            attempt: self.retries,
        });
    }

    fn abandon(&mut self, socket: SocketId, code: Option<u16>, reason: &str) {
        self.actions.push_back(Action::Abandon {
            socket,
            code,
            reason: reason.to_owned(),
        });
    }

    fn native_close(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
        reason: &str,
        was_clean: bool,
        vetoed: bool,
    ) {
        let closer = match &self.state {
            State::Closing {
                socket: Some(s), ..
            } if *s == socket => Closer::User,
            State::Connecting { socket: s } | State::Open { socket: s, .. } if *s == socket => {
                Closer::Remote
            }
            _ => return,
        };
        let info = CloseInfo {
            code,
            reason: reason.to_owned(),
            was_clean,
            closer,
        };
        if closer == Closer::User {
            self.finish_user_close(info);
        } else {
            self.connection_ended(now, info, vetoed);
        }
    }

    fn finish_user_close(&mut self, info: CloseInfo) {
        self.events.push_back(Event::Close(info));
        self.stop(StopReason::Close);
    }

    /// A connection or attempt ended without the user asking: emit `Close`, then
    /// either stop for good or schedule the next attempt.
    fn connection_ended(&mut self, now: Instant, info: CloseInfo, vetoed: bool) {
        self.timers.stop_all();
        let stop_code =
            info.closer == Closer::Remote && self.config.stop_on_close_codes.contains(&info.code);
        let try_again_later = info.closer == Closer::Remote && info.code == 1013;
        let (code, reason) = (info.code, info.reason.clone());
        self.events.push_back(Event::Close(info));
        if vetoed || stop_code {
            self.stop(StopReason::CloseCode);
            return;
        }
        if self
            .config
            .max_retries
            .is_some_and(|max| self.retries >= max)
        {
            self.stop(StopReason::MaxRetries);
            return;
        }
        self.retries = self.retries.saturating_add(1);
        // 1013 "try again later" waits about the maximum, jittered like any delay:
        // a server shedding load sends it to many clients at once, and an identical
        // wait would bring them all back in one burst.
        let base = if try_again_later {
            self.backoff.max
        } else {
            self.backoff.base_delay(self.retries)
        };
        let delay = self.backoff.jittered(base, &mut self.rng);
        self.state = State::Waiting;
        self.timers.set(Timer::Backoff, now + delay);
        self.arm_clock_check(now);
        self.events.push_back(Event::Reconnecting {
            attempt: self.retries,
            delay,
            code,
            reason,
        });
    }

    fn stop(&mut self, reason: StopReason) {
        self.timers.stop_all();
        self.state = State::Stopped(reason);
        // A tracked message never waits for a reconnect(): it fails now.
        let tracked = self.queue.remove_where(|e| e.track.is_some());
        self.receipts.extend(
            tracked
                .iter()
                .filter_map(|e| e.track)
                .map(|id| (id, Delivery::Stopped)),
        );
        self.arm_expiry();
        self.events.push_back(Event::Stop(reason));
    }

    fn on_timer(&mut self, now: Instant, timer: Timer, due: Instant) {
        match (timer, &mut self.state) {
            (Timer::Connect, State::Connecting { socket }) => {
                let socket = *socket;
                self.abandon(socket, None, "");
                self.events
                    .push_back(Event::Error(ErrorKind::ConnectTimeout));
                let info = CloseInfo::abnormal("connection timeout", Closer::ConnectTimeout);
                self.connection_ended(now, info, false);
            }
            (Timer::Expiry, _) => self.expire(now),
            (Timer::Backoff, State::Waiting) => self.begin_attempt(now),
            (Timer::Uptime, State::Open { .. }) => self.retries = 0,
            (
                Timer::Connect,
                State::Open {
                    socket,
                    handshake: true,
                    ..
                },
            ) => {
                let socket = *socket;
                self.hook_failed(now, socket, "it did not settle within connection_timeout");
            }
            (
                Timer::HeartbeatPing,
                State::Open {
                    socket, heartbeat, ..
                },
            ) => {
                if let Some(t) = self
                    .heartbeat
                    .filter(|&t| heartbeat.ping_due(now, t, &mut self.timers))
                {
                    heartbeat.sent(now, t, &mut self.timers);
                    self.actions
                        .push_back(Action::SendHeartbeat { socket: *socket });
                }
            }
            (
                Timer::HeartbeatDeadline,
                State::Open {
                    socket, heartbeat, ..
                },
            ) => {
                let socket = *socket;
                let Some(t) = self.heartbeat else { return };
                match heartbeat.on_deadline(now, due, t, &mut self.timers) {
                    Verdict::Probe => self.actions.push_back(Action::SendHeartbeat { socket }),
                    Verdict::Dead => {
                        self.abandon(socket, Some(4000), "heartbeat timeout");
                        self.events
                            .push_back(Event::Error(ErrorKind::HeartbeatTimeout));
                        let info =
                            CloseInfo::abnormal("heartbeat timeout", Closer::HeartbeatTimeout);
                        self.connection_ended(now, info, false);
                    }
                }
            }
            (
                Timer::Close,
                State::Closing {
                    socket,
                    report,
                    aborted,
                },
            ) => {
                let (socket, report, aborted) = (*socket, report.clone(), *aborted);
                if let Some(socket) = socket {
                    self.abandon(socket, None, "");
                }
                if aborted {
                    self.events.push_back(Event::Error(ErrorKind::Aborted));
                }
                self.finish_user_close(report);
            }
            // The clock check only makes the driver call in (with the wall clock,
            // before this). Any other timer that does not belong to the current
            // state: transitions disarm their timers, so that is only reachable
            // through a bug; ignore it.
            _ => {}
        }
    }
}
