//! [`Status`]: what a connection is doing, as a status line shows it (the state a
//! UI keeps; the Yew and Leptos hooks hold one).

use std::time::Duration;

use crate::{Event, ReadyState, StopReason};

/// What the connection is doing: state, retry attempt, the wait before the next
/// retry, heartbeat round trip, queued messages and the last error.
///
/// Built from the socket's lifecycle [`Event`]s with [`apply`](Status::apply), one
/// update per event (none is skipped), and after every send with
/// [`snapshot`](Status::snapshot) (for `queued`). Framework integrations keep one
/// per socket as reactive state.
///
/// ```text
///  events     Connecting{0}  Open  Close  Reconnecting{1, 1 s}  Connecting{1}  Open   Heartbeat{12 ms}
///  phase()    connecting     open  open   reconnecting          reconnecting   open   open
///  attempt    0              0     0      1                     1              1      1
///  next_retry None           None  None   Some(1 s)             None           None   None
///  rtt        None                                                                    Some(12 ms)
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Status {
    /// As `WebSocket.readyState`: `Connecting` also while waiting to retry,
    /// `Closed` once stopped for good (or when the socket could not be created).
    pub ready_state: ReadyState,
    /// The retry number of the current or scheduled attempt (0 for the first).
    pub attempt: u32,
    /// While waiting to retry: the wait before the next attempt, as scheduled when
    /// the retry was (not a live countdown).
    pub next_retry: Option<Duration>,
    /// The last heartbeat round trip (needs `Config::with_heartbeat_interval`).
    pub rtt: Option<Duration>,
    /// Messages waiting in the send queue for the next open.
    pub queued: usize,
    /// The last error: one the socket reported, a message that did not decode
    /// (typed JSON), or why the socket could not be created. Cleared on open.
    pub error: Option<String>,
    /// Why the socket stopped for good, once it has (cleared when it connects again).
    pub stopped: Option<StopReason>,
}

impl Default for Status {
    /// A socket that was just created: connecting, first attempt.
    fn default() -> Self {
        Status {
            ready_state: ReadyState::Connecting,
            attempt: 0,
            next_retry: None,
            rtt: None,
            queued: 0,
            error: None,
            stopped: None,
        }
    }
}

impl Status {
    /// One word for display (and CSS): `"connecting"`, `"reconnecting"` (a retry
    /// attempt, or waiting for one), `"open"`, `"closing"` or `"closed"`.
    #[must_use]
    pub fn phase(&self) -> &'static str {
        match self.ready_state {
            ReadyState::Connecting if self.attempt > 0 => "reconnecting",
            ReadyState::Connecting => "connecting",
            ReadyState::Open => "open",
            ReadyState::Closing => "closing",
            ReadyState::Closed => "closed",
        }
    }

    /// Whether messages go straight out now.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.ready_state == ReadyState::Open
    }

    /// The status of a socket that could not be created (closed, with `error`).
    #[must_use]
    pub fn failed(error: String) -> Status {
        Status {
            ready_state: ReadyState::Closed,
            error: Some(error),
            ..Status::default()
        }
    }

    /// Takes in one lifecycle event and the socket's state just after it
    /// (`socket.ready_state()`, `socket.queued()`).
    pub fn apply(&mut self, event: &Event, ready_state: ReadyState, queued: usize) {
        self.ready_state = ready_state;
        self.queued = queued;
        match event {
            Event::Connecting { attempt } => {
                self.attempt = *attempt;
                self.next_retry = None;
                self.stopped = None;
            }
            Event::Reconnecting { attempt, delay, .. } => {
                self.attempt = *attempt;
                self.next_retry = Some(*delay);
            }
            Event::Open => {
                self.next_retry = None;
                self.error = None;
            }
            Event::Heartbeat { rtt } => self.rtt = Some(*rtt),
            Event::Error(kind) => self.error = Some(kind.to_string()),
            Event::Stop(reason) => {
                self.next_retry = None;
                self.stopped = Some(*reason);
            }
            Event::Lagged { missed } => {
                self.error = Some(format!("fell {missed} items behind and lost them"));
            }
            _ => {}
        }
    }

    /// The state after a send (or anything else that can change the queue).
    /// `false` if nothing changed.
    pub fn snapshot(&mut self, ready_state: ReadyState, queued: usize) -> bool {
        let changed = self.ready_state != ready_state || self.queued != queued;
        self.ready_state = ready_state;
        self.queued = queued;
        changed
    }
}
