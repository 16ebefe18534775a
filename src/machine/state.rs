//! The lifecycle state: one enum carrying what each state needs, with predicates
//! named by intent.

use super::event::{CloseInfo, ReadyState, SocketId, StopReason};
use super::heartbeat::Heartbeat;

/// Where a connection is in its life. See the diagram in the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Created with `start_closed`; nothing started yet. Sends are queued.
    Idle,
    /// Waiting out the backoff delay before the next attempt.
    Waiting,
    /// An attempt is under way on `socket`.
    Connecting { socket: SocketId },
    /// Connected on `socket`. With `handshake`, the user's connection hook is
    /// still running: to the user the socket is still connecting (sends queue,
    /// no `Open` yet), while the heartbeat already runs.
    Open {
        socket: SocketId,
        heartbeat: Heartbeat,
        handshake: bool,
    },
    /// The user called `close()`. With an open `socket`, waiting for its close
    /// event (or the close timeout); without one, for the next turn (a zero-delay
    /// close timer), so the close event never fires inside the `close()` call.
    /// `report` is the close reported if no native close event ends the wait;
    /// `aborted` (the close interrupted an attempt) puts an error before it, as a
    /// browser `WebSocket` closed while connecting fires `error`, then `close`.
    Closing {
        socket: Option<SocketId>,
        report: CloseInfo,
        aborted: bool,
    },
    /// Stopped for good until `reconnect()`.
    Stopped(StopReason),
}

impl State {
    pub(crate) fn ready_state(&self) -> ReadyState {
        match self {
            State::Waiting | State::Connecting { .. } => ReadyState::Connecting,
            State::Open {
                handshake: true, ..
            } => ReadyState::Connecting,
            State::Open { .. } => ReadyState::Open,
            State::Closing { .. } => ReadyState::Closing,
            State::Idle | State::Stopped(_) => ReadyState::Closed,
        }
    }

    /// The native socket that is connecting, open or closing, if any.
    pub(crate) fn live_socket(&self) -> Option<SocketId> {
        match self {
            State::Connecting { socket } | State::Open { socket, .. } => Some(*socket),
            State::Closing { socket, .. } => *socket,
            State::Idle | State::Waiting | State::Stopped(_) => None,
        }
    }

    /// Whether `socket` is the live socket.
    pub(crate) fn is_live(&self, socket: SocketId) -> bool {
        self.live_socket() == Some(socket)
    }

    /// Whether a heartbeat may go out (only while open).
    pub(crate) fn open_socket(&self) -> Option<SocketId> {
        match self {
            State::Open {
                socket,
                handshake: false,
                ..
            } => Some(*socket),
            _ => None,
        }
    }
}
