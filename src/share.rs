//! One connection for all tabs: the sans-IO leader/follower protocol behind the
//! `share` option.
//!
//! Every instance sharing a name runs one [`Peer`]. The instance holding the Web
//! Lock `steadysocket:<name>` is the **leader**: it owns the only native socket (a
//! normal [`Machine`](crate::machine::Machine)) and tells the others what happens
//! on it. The others are **followers**: they mirror the leader's state and events
//! and relay their sends to it. The peers talk through one
//! `BroadcastChannel("steadysocket:<name>")`, in [`Frame`]s.
//!
//! Like the connection core, a `Peer` does no I/O and keeps no clock: the driver
//! feeds it what happened (a lock was granted, a frame arrived, the leader's
//! socket produced an event, a relayed message was sent) and performs the
//! [`Out`]puts it returns (post a frame, emit an event, send a message, request
//! or release the lock).
//!
//! ```text
//!  follower F                 channel                    leader L          server
//!      | new: Hello ------------>|---------------------------> |
//!      |<------------------------|<----- State (to F: OPEN) -- |
//!      | (open)                  |                             |
//!      | send(x): Send #1 ------>|---------------------------> | -- x ---------> |
//!      |<------------------------|<---- Ack (to F, upto 1) --- |  (x handed to
//!      |                         |                             |   an OPEN socket)
//!      |<------------------------|<-------- Message y -------- | <-- y --------- |
//!      |                         |          (L's page goes away: the lock passes)
//!      | (close 1006 "leader left", reconnecting)          F' gets the lock
//!      |<------------------------|<-------- Leader F' -------- F' connects
//!      | unacknowledged sends again: Send #2.. ------------->  F'
//! ```
//!
//! # Delivery across a leader change
//!
//! A follower keeps every message it relayed until the leader acknowledges it
//! (an [`Frame::Ack`] says it was handed to an OPEN native socket, or what else
//! became of it). When the leader changes, it relays the unacknowledged ones to
//! the new leader, in order. Each leader accepts a follower's messages only in
//! sequence (a gap asks for a resend, a repeat is ignored), so a message reaches
//! the server once per leader: exactly once, except a message handed to the
//! socket in the instant its leader went away, before the acknowledgement
//! reached the follower, which the next leader sends again (at least once).
//!
//! # Lost frames
//!
//! Frames are not assumed to arrive. A follower with unacknowledged messages
//! calls for a [`Frame::Probe`] on every [`Peer::tick`]; the leader answers with
//! what it has finished and the first message it misses. A follower that sees a
//! message or event from a leader it has no state from asks again with
//! [`Frame::Hello`]. Inbound messages broadcast by the leader that a follower
//! never receives are lost for that follower (there is no replay).

use std::collections::VecDeque;
use std::time::Duration;

use crate::machine::{
    CloseInfo, Closer, Delivery, ErrorKind, Event, Payload, ReadyState, StopReason,
};

/// The reason followers see in the `close` event of a leader change.
pub const LEADER_LEFT: &str = "leader left";

/// At most this many followers are remembered by a leader (the oldest is
/// forgotten first; a forgotten follower is treated as new).
const MAX_FOLLOWERS: usize = 256;

/// The connection as the leader reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The leader's ready state.
    pub ready_state: ReadyState,
    /// Its retry count.
    pub retries: u32,
    /// Why the share stopped, if it did (max retries, a stop code, the predicate).
    pub stopped: Option<StopReason>,
    /// The subprotocol the server chose (empty when none or not open).
    pub protocol: String,
    /// The extensions the server chose.
    pub extensions: String,
}

impl Snapshot {
    fn connecting() -> Snapshot {
        Snapshot {
            ready_state: ReadyState::Connecting,
            retries: 0,
            stopped: None,
            protocol: String::new(),
            extensions: String::new(),
        }
    }
}

/// One message on the channel. `from` is the sender's id; `to`, where present,
/// the one instance it is for (the others ignore it).
#[derive(Clone, Debug, PartialEq)]
pub enum Frame<P> {
    /// An instance joined (or lost track): the leader answers with [`Frame::State`].
    Hello {
        /// The joining instance.
        from: u64,
    },
    /// The sender holds the lock now.
    Leader {
        /// The new leader.
        from: u64,
    },
    /// The leader's answer to a `Hello`.
    State {
        /// The leader.
        from: u64,
        /// The instance that said hello.
        to: u64,
        /// The connection now.
        state: Snapshot,
    },
    /// A lifecycle event of the leader's connection, with the state after it.
    Event {
        /// The leader.
        from: u64,
        /// The event.
        event: Event,
        /// The connection after it.
        state: Snapshot,
    },
    /// An inbound message.
    Message {
        /// The leader.
        from: u64,
        /// The data, as the native socket delivered it.
        data: P,
    },
    /// A follower's message for the server.
    Send {
        /// The follower.
        from: u64,
        /// The leader it is for.
        to: u64,
        /// The follower's oldest unacknowledged sequence number.
        base: u64,
        /// This message's sequence number.
        seq: u64,
        /// The message.
        data: P,
    },
    /// The leader finished the follower's messages up to `upto` (all of them, in
    /// order); `fate` is what became of message `upto` itself (the earlier ones
    /// were sent, or their own `Ack` said otherwise).
    Ack {
        /// The leader.
        from: u64,
        /// The follower.
        to: u64,
        /// The last sequence number finished.
        upto: u64,
        /// What became of it.
        fate: Delivery,
    },
    /// The leader misses the follower's messages from `seq` on.
    Resend {
        /// The leader.
        from: u64,
        /// The follower.
        to: u64,
        /// The first sequence number it misses.
        seq: u64,
    },
    /// A follower with unacknowledged messages asks where the leader is.
    Probe {
        /// The follower.
        from: u64,
        /// The leader.
        to: u64,
        /// Its oldest unacknowledged sequence number.
        base: u64,
        /// One past its newest.
        top: u64,
    },
    /// A follower's `reconnect()`, for the leader to perform.
    Reconnect {
        /// The follower.
        from: u64,
        /// The leader.
        to: u64,
    },
    /// The sender leaves (`close()`).
    Bye {
        /// The leaving instance.
        from: u64,
    },
}

impl<P> Frame<P> {
    /// The sender.
    pub fn from(&self) -> u64 {
        match self {
            Frame::Hello { from }
            | Frame::Leader { from }
            | Frame::State { from, .. }
            | Frame::Event { from, .. }
            | Frame::Message { from, .. }
            | Frame::Send { from, .. }
            | Frame::Ack { from, .. }
            | Frame::Resend { from, .. }
            | Frame::Probe { from, .. }
            | Frame::Reconnect { from, .. }
            | Frame::Bye { from } => *from,
        }
    }
}

/// What the driver must do for a [`Peer`].
#[derive(Debug, PartialEq)]
pub enum Out<P> {
    /// Post this frame on the channel.
    Post(Frame<P>),
    /// Give this event to this instance's user.
    Event(Event),
    /// Give this inbound message to this instance's user.
    Message(P),
    /// What became of this instance's tracked message `id`.
    Receipt(u64, Delivery),
    /// Request the lock (join the queue for leadership).
    RequestLock,
    /// Release the lock, or give up the request for it.
    ReleaseLock,
    /// This instance leads now: start its connection.
    Lead,
    /// Leader: send a follower's message, and report its fate to
    /// [`Peer::delivered`] with this ticket.
    Transmit {
        /// The ticket for [`Peer::delivered`].
        ticket: u64,
        /// The message.
        data: P,
    },
    /// Leader: this instance's own message, kept while it followed: send it as
    /// its own (tracked with `track`, if given).
    Local {
        /// The message.
        data: P,
        /// The user's tracking number.
        track: Option<u64>,
    },
    /// Leader: a follower asked for `reconnect()`.
    Reconnect,
}

/// The part an instance plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not started (`start_closed`) or closed: in no share.
    Idle,
    /// Waiting for the lock, mirroring a leader (once one is known).
    Follower,
    /// Holding the lock: the native socket is this instance's.
    Leader,
}

/// Limits for what a follower holds unacknowledged (the queue limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many messages.
    pub max_messages: usize,
    /// At most this many bytes.
    pub max_bytes: usize,
}

struct Held<P> {
    seq: u64,
    data: P,
    track: Option<u64>,
    bytes: usize,
}

/// A follower, as its leader tracks it.
#[derive(Clone, Copy)]
struct Track {
    /// The next sequence number expected.
    next: u64,
    /// The last one finished (`next - 1` once everything handed over is done).
    done: Option<u64>,
    /// When it was last heard from (a counter), to forget the oldest.
    seen: u64,
}

/// One instance's side of the share protocol.
pub struct Peer<P> {
    id: u64,
    role: Role,
    limits: Limits,
    /// The leader this instance follows, once known.
    leader: Option<u64>,
    /// Whether a `State` answer (or a leader frame) was seen from `leader`.
    synced: bool,
    /// A `Hello` was posted and not answered yet.
    asked: bool,
    /// The connection as this instance sees it (a follower: mirrored).
    state: Snapshot,
    /// Follower: relayed, not acknowledged, in order.
    held: VecDeque<Held<P>>,
    held_bytes: usize,
    next_seq: u64,
    /// Leader: its followers, by id (a few: a short list, not a hash map, which
    /// would cost the wasm build its hashing and random keys).
    followers: Vec<(u64, Track)>,
    /// Leader: a follower's message handed to the connection, by ticket.
    tickets: VecDeque<(u64, u64, u64)>,
    next_ticket: u64,
    clock: u64,
    out: VecDeque<Out<P>>,
}

impl<P: Payload + Clone> Peer<P> {
    /// An instance with the id `id` (unique among the instances of a name: a
    /// random 53-bit number) and the queue `limits`. It joins with
    /// [`join`](Peer::join).
    pub fn new(id: u64, limits: Limits) -> Peer<P> {
        Peer {
            id,
            role: Role::Idle,
            limits,
            leader: None,
            synced: false,
            asked: false,
            state: Snapshot {
                ready_state: ReadyState::Closed,
                ..Snapshot::connecting()
            },
            held: VecDeque::new(),
            held_bytes: 0,
            next_seq: 1,
            followers: Vec::new(),
            tickets: VecDeque::new(),
            next_ticket: 1,
            clock: 0,
            out: VecDeque::new(),
        }
    }

    /// This instance's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The part it plays now.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The leader it follows, if known (itself when leading).
    pub fn leader(&self) -> Option<u64> {
        match self.role {
            Role::Leader => Some(self.id),
            _ => self.leader,
        }
    }

    /// The connection as this instance sees it. For the leader, what it last
    /// reported with [`leader_event`](Peer::leader_event).
    pub fn state(&self) -> &Snapshot {
        &self.state
    }

    /// Messages held unacknowledged (a follower's queue).
    pub fn held_messages(&self) -> usize {
        self.held.len()
    }

    /// Their bytes (a follower's `bufferedAmount`).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Whether a message of `bytes` would fit in what it may hold.
    pub fn has_room(&self, bytes: usize) -> bool {
        self.held.len() < self.limits.max_messages
            && self.held_bytes.saturating_add(bytes) <= self.limits.max_bytes
    }

    /// Whether the driver should call [`tick`](Peer::tick) about once a second: a
    /// follower holding unacknowledged messages, one that sees no open
    /// connection (in case a frame that would have opened it was lost), or one
    /// that asked who leads and has no answer yet.
    pub fn wants_tick(&self) -> bool {
        self.role == Role::Follower
            && ((!self.held.is_empty() && self.leader.is_some())
                || self.state.ready_state == ReadyState::Connecting
                || (!self.synced && self.leader.is_some()))
    }

    /// The next thing to do.
    pub fn poll(&mut self) -> Option<Out<P>> {
        self.out.pop_front()
    }

    fn post(&mut self, frame: Frame<P>) {
        self.out.push_back(Out::Post(frame));
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Out::Event(event));
    }

    // ----- commands -------------------------------------------------------------

    /// Joins the share: asks who leads and requests the lock. A no-op unless idle.
    pub fn join(&mut self) {
        if self.role != Role::Idle {
            return;
        }
        self.role = Role::Follower;
        self.leader = None;
        self.synced = false;
        self.asked = true;
        self.state = Snapshot::connecting();
        self.post(Frame::Hello { from: self.id });
        self.out.push_back(Out::RequestLock);
    }

    /// A follower's (or idle instance's) `send`: held until the leader
    /// acknowledges it, relayed at once when a leader is known.
    ///
    /// # Errors
    ///
    /// The message back when holding it would pass a limit (nothing changes).
    pub fn send(&mut self, data: P, track: Option<u64>) -> Result<(), P> {
        let bytes = data.byte_len();
        if !self.has_room(bytes) {
            return Err(data);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let data = data.into_owned();
        if self.role == Role::Follower {
            if let Some(leader) = self.leader {
                let base = self.held.front().map_or(seq, |h| h.seq);
                self.post(Frame::Send {
                    from: self.id,
                    to: leader,
                    base,
                    seq,
                    data: data.clone(),
                });
            }
        }
        self.held.push_back(Held {
            seq,
            data,
            track,
            bytes,
        });
        self.held_bytes += bytes;
        Ok(())
    }

    /// Takes back everything held, in order (`drainQueuedMessages()`), with the
    /// tracking number of each.
    pub fn drain(&mut self) -> Vec<(P, Option<u64>)> {
        self.held_bytes = 0;
        self.held.drain(..).map(|h| (h.data, h.track)).collect()
    }

    /// `close()` on this instance: it leaves the share (a leader gives up the
    /// lock; the driver closes its socket itself). A follower reports its own
    /// `close` (and `stop`) as a native socket closed by the page would. What it
    /// holds stays held (a later [`reconnect`](Peer::reconnect) relays it), but
    /// for tracked messages, which are reported [`Delivery::Stopped`].
    pub fn close(&mut self, code: Option<u16>, reason: &str) {
        let role = std::mem::replace(&mut self.role, Role::Idle);
        match role {
            Role::Idle => return,
            Role::Leader => {
                self.followers.clear();
                self.tickets.clear();
            }
            Role::Follower => match self.state.ready_state {
                ReadyState::Open => self.emit(Event::Close(CloseInfo {
                    code: code.unwrap_or(1005),
                    reason: reason.to_owned(),
                    was_clean: true,
                    closer: Closer::User,
                })),
                ReadyState::Connecting => {
                    self.emit(Event::Error(ErrorKind::Aborted));
                    self.emit(Event::Close(CloseInfo {
                        code: 1006,
                        reason: String::new(),
                        was_clean: false,
                        closer: Closer::User,
                    }));
                }
                ReadyState::Closing | ReadyState::Closed => {}
            },
        }
        if role == Role::Follower && self.state.ready_state != ReadyState::Closed {
            self.emit(Event::Stop(StopReason::Close));
        }
        // As at a stop of the connection: a tracked message does not wait for a
        // later reconnect(); plain ones stay held for it.
        let mut kept = VecDeque::with_capacity(self.held.len());
        for held in std::mem::take(&mut self.held) {
            match held.track {
                Some(track) => {
                    self.held_bytes = self.held_bytes.saturating_sub(held.bytes);
                    self.out.push_back(Out::Receipt(track, Delivery::Stopped));
                }
                None => kept.push_back(held),
            }
        }
        self.held = kept;
        self.leader = None;
        self.state = Snapshot {
            ready_state: ReadyState::Closed,
            ..Snapshot::connecting()
        };
        self.post(Frame::Bye { from: self.id });
        self.out.push_back(Out::ReleaseLock);
    }

    /// `reconnect()` on a follower: an idle (closed) instance joins again; a
    /// follower asks the leader to reconnect the shared connection. `false` when
    /// there is nobody to ask yet (the request is dropped). A leader reconnects
    /// its own socket (not through here).
    pub fn reconnect(&mut self) -> bool {
        match (self.role, self.leader) {
            (Role::Idle, _) => {
                self.join();
                true
            }
            (Role::Follower, Some(leader)) => {
                self.post(Frame::Reconnect {
                    from: self.id,
                    to: leader,
                });
                true
            }
            _ => false,
        }
    }

    /// About once a second while [`wants_tick`](Peer::wants_tick): a follower
    /// with unacknowledged messages asks the leader how far it is, and one that
    /// sees no open connection asks for its state (recovers from lost frames).
    pub fn tick(&mut self) {
        if !self.wants_tick() {
            return;
        }
        if let (Some(leader), Some(first)) = (self.leader, self.held.front()) {
            let frame = Frame::Probe {
                from: self.id,
                to: leader,
                base: first.seq,
                top: self.next_seq,
            };
            self.post(frame);
        }
        // Connecting, or not sure who leads (its answer may have been lost).
        if self.state.ready_state == ReadyState::Connecting || !self.synced {
            self.post(Frame::Hello { from: self.id });
        }
    }

    // ----- inputs ---------------------------------------------------------------

    /// The lock was granted: this instance leads. Its held messages become its
    /// own (in order, before anything sent later); unless the share was stopped,
    /// it connects at once.
    pub fn lock_granted(&mut self) {
        if self.role != Role::Follower {
            // Closed (or never joined) while the request was queued.
            self.out.push_back(Out::ReleaseLock);
            return;
        }
        let stopped = self.state.stopped;
        if self.leader.is_some() {
            self.leader_left();
        }
        self.role = Role::Leader;
        self.leader = None;
        self.post(Frame::Leader { from: self.id });
        self.state = Snapshot {
            stopped,
            ..Snapshot::connecting()
        };
        if stopped.is_some() {
            self.state.ready_state = ReadyState::Closed;
        } else {
            self.out.push_back(Out::Lead);
        }
        self.held_bytes = 0;
        for held in std::mem::take(&mut self.held) {
            self.out.push_back(Out::Local {
                data: held.data,
                track: held.track,
            });
        }
    }

    /// Leader: its connection produced `event`; `state` is the connection after it.
    /// Events only this instance's user sees (`Lagged`, `Discarded`) stay local.
    pub fn leader_event(&mut self, event: &Event, state: Snapshot) {
        if self.role != Role::Leader {
            return;
        }
        self.state = state;
        if matches!(event, Event::Lagged { .. } | Event::Discarded { .. }) {
            return;
        }
        let frame = Frame::Event {
            from: self.id,
            event: event.clone(),
            state: self.state.clone(),
        };
        self.post(frame);
    }

    /// Leader: an inbound message for everyone.
    pub fn leader_message(&mut self, data: P) {
        if self.role == Role::Leader {
            self.post(Frame::Message {
                from: self.id,
                data,
            });
        }
    }

    /// Leader: what became of the follower message behind `ticket`.
    pub fn delivered(&mut self, ticket: u64, fate: Delivery) {
        // Receipts come in the order the messages were handed over: the first.
        let Some(at) = self.tickets.iter().position(|t| t.0 == ticket) else {
            return;
        };
        let Some((_, follower, seq)) = self.tickets.remove(at) else {
            return;
        };
        if self.role != Role::Leader {
            return;
        }
        if let Some(track) = self.follower(follower) {
            track.done = Some(track.done.map_or(seq, |d| d.max(seq)));
        }
        self.post(Frame::Ack {
            from: self.id,
            to: follower,
            upto: seq,
            fate,
        });
    }

    /// A frame from the channel.
    pub fn handle(&mut self, frame: Frame<P>) {
        if frame.from() == self.id || self.role == Role::Idle {
            return;
        }
        match frame {
            Frame::Hello { from } => {
                if self.role == Role::Leader {
                    let state = self.state.clone();
                    self.post(Frame::State {
                        from: self.id,
                        to: from,
                        state,
                    });
                }
            }
            Frame::Leader { from } => {
                if self.role == Role::Follower && self.leader != Some(from) {
                    // A claim while another leader is known may be the last word of
                    // a page that is gone (frames of different senders arrive in
                    // any order): ask who leads. Only the lock's holder answers,
                    // and its `State` settles it.
                    let switching = self.leader.is_some();
                    self.follow(from, true);
                    if switching {
                        self.synced = false;
                        self.asked = true;
                        self.post(Frame::Hello { from: self.id });
                    }
                }
            }
            Frame::State { from, to, state } => {
                if to == self.id && self.role == Role::Follower {
                    if self.leader != Some(from) {
                        // The leader that answered is the one: what was mirrored
                        // of another ends as a reconnect does.
                        let change = self.leader.is_some();
                        self.follow(from, change);
                    }
                    self.synced = true;
                    self.asked = false;
                    self.apply(state);
                }
            }
            Frame::Event { from, event, state } => {
                if self.mirrors(from) {
                    if matches!(event, Event::Open) && self.state.ready_state == ReadyState::Open {
                        self.state = state; // already open (a State said so)
                        return;
                    }
                    self.emit(event);
                    self.state = state;
                }
            }
            Frame::Message { from, data } => {
                if self.mirrors(from) {
                    if self.state.ready_state != ReadyState::Open {
                        // Its `Open` was lost: the connection is open.
                        self.state.ready_state = ReadyState::Open;
                        self.state.stopped = None;
                        self.emit(Event::Open);
                    }
                    self.out.push_back(Out::Message(data));
                }
            }
            Frame::Send {
                from,
                to,
                base,
                seq,
                data,
            } => {
                if to == self.id && self.role == Role::Leader {
                    self.accept(from, base, seq, data);
                }
            }
            Frame::Probe {
                from,
                to,
                base,
                top,
            } => {
                if to == self.id && self.role == Role::Leader {
                    let track = self.track(from, base);
                    if let Some(done) = track.done.filter(|d| *d >= base) {
                        self.post(Frame::Ack {
                            from: self.id,
                            to: from,
                            upto: done,
                            fate: Delivery::Sent,
                        });
                    }
                    if track.next < top {
                        self.post(Frame::Resend {
                            from: self.id,
                            to: from,
                            seq: track.next,
                        });
                    }
                }
            }
            Frame::Ack {
                from,
                to,
                upto,
                fate,
            } => {
                if to == self.id && self.leader == Some(from) && self.role == Role::Follower {
                    self.acknowledged(upto, fate);
                }
            }
            Frame::Resend { from, to, seq } => {
                if to == self.id && self.leader == Some(from) && self.role == Role::Follower {
                    self.relay_from(seq);
                }
            }
            Frame::Reconnect { to, .. } => {
                if to == self.id && self.role == Role::Leader {
                    self.out.push_back(Out::Reconnect);
                }
            }
            // A leader keeps a follower's track when it leaves: a closed instance
            // still holds its messages and relays them again if it rejoins (the
            // track, bounded in number, is what keeps that from a second copy).
            Frame::Bye { from } => match self.role {
                Role::Leader => {}
                _ if self.leader == Some(from) => {
                    self.leader_left();
                    self.leader = None;
                    self.synced = false;
                }
                _ => {}
            },
        }
    }

    // ----- follower -------------------------------------------------------------

    /// Whether a leader's message or event is for this instance to mirror; learns
    /// the leader from it if none is known, and asks for its state if it has none.
    fn mirrors(&mut self, from: u64) -> bool {
        if self.role != Role::Follower {
            return false;
        }
        match self.leader {
            Some(leader) if leader != from => return false, // a former leader's last words
            Some(_) => {}
            None => self.follow(from, false),
        }
        if !self.synced && !self.asked {
            self.asked = true;
            self.post(Frame::Hello { from: self.id });
        }
        true
    }

    /// `from` leads now. With `change` (it announced itself), what the instance
    /// mirrored of the former leader's connection ends as a reconnect does.
    fn follow(&mut self, from: u64, change: bool) {
        if change && self.leader.is_some() {
            self.leader_left();
        }
        if change {
            // A new leader starts connecting at once (unless the share stopped).
            self.synced = true;
            if self.state.stopped.is_none() {
                self.state.ready_state = ReadyState::Connecting;
            }
        }
        self.leader = Some(from);
        if let Some(first) = self.held.front() {
            let seq = first.seq;
            self.relay_from(seq);
        }
    }

    /// The connection the instance mirrored ended with its leader.
    fn leader_left(&mut self) {
        if !matches!(
            self.state.ready_state,
            ReadyState::Open | ReadyState::Connecting
        ) || self.state.stopped.is_some()
        {
            return;
        }
        let was_open = self.state.ready_state == ReadyState::Open;
        if was_open {
            self.emit(Event::Close(CloseInfo {
                code: 1006,
                reason: LEADER_LEFT.to_owned(),
                was_clean: false,
                closer: Closer::Remote,
            }));
            self.emit(Event::Reconnecting {
                attempt: 1,
                delay: Duration::ZERO,
                code: 1006,
                reason: LEADER_LEFT.to_owned(),
            });
        }
        self.state = Snapshot {
            retries: u32::from(was_open),
            ..Snapshot::connecting()
        };
    }

    /// Mirrors a leader's `State` answer, emitting what a change shows.
    fn apply(&mut self, state: Snapshot) {
        let before = self.state.ready_state;
        let now = state.ready_state;
        let stopped = state.stopped;
        self.state = state;
        match (before, now) {
            (ReadyState::Open, ReadyState::Open) => {}
            (_, ReadyState::Open) => self.emit(Event::Open),
            (ReadyState::Open | ReadyState::Connecting, ReadyState::Closed) => {
                if let Some(reason) = stopped {
                    self.emit(Event::Close(CloseInfo {
                        code: 1006,
                        reason: String::new(),
                        was_clean: false,
                        closer: Closer::Remote,
                    }));
                    self.emit(Event::Stop(reason));
                }
            }
            _ => {}
        }
    }

    fn acknowledged(&mut self, upto: u64, fate: Delivery) {
        while self.held.front().is_some_and(|h| h.seq <= upto) {
            let Some(held) = self.held.pop_front() else {
                break;
            };
            self.held_bytes = self.held_bytes.saturating_sub(held.bytes);
            if let Some(track) = held.track {
                let fate = if held.seq == upto {
                    fate
                } else {
                    Delivery::Sent
                };
                self.out.push_back(Out::Receipt(track, fate));
            }
        }
    }

    /// Relays again, in order, every held message from `seq` on.
    fn relay_from(&mut self, seq: u64) {
        let Some(leader) = self.leader else { return };
        let Some(base) = self.held.front().map(|h| h.seq) else {
            return;
        };
        let frames: Vec<Frame<P>> = self
            .held
            .iter()
            .filter(|h| h.seq >= seq)
            .map(|h| Frame::Send {
                from: self.id,
                to: leader,
                base,
                seq: h.seq,
                data: h.data.clone(),
            })
            .collect();
        for frame in frames {
            self.post(frame);
        }
    }

    // ----- leader ---------------------------------------------------------------

    fn follower(&mut self, id: u64) -> Option<&mut Track> {
        self.followers
            .iter_mut()
            .find(|(f, _)| *f == id)
            .map(|(_, t)| t)
    }

    /// The follower's track (new ones start at `base`), as of a frame that says
    /// its oldest held message is `base`.
    fn track(&mut self, follower: u64, base: u64) -> Track {
        self.clock += 1;
        let clock = self.clock;
        if let Some(track) = self.follower(follower) {
            track.seen = clock;
            // It no longer holds what came before `base` (taken back with
            // `drain`): do not wait for that.
            track.next = track.next.max(base);
            return *track;
        }
        if self.followers.len() >= MAX_FOLLOWERS {
            let oldest =
                (0..self.followers.len()).min_by_key(|&i| self.followers.get(i).map(|f| f.1.seen));
            if let Some(i) = oldest {
                self.followers.swap_remove(i);
            }
        }
        let track = Track {
            next: base,
            done: None,
            seen: clock,
        };
        self.followers.push((follower, track));
        track
    }

    fn accept(&mut self, follower: u64, base: u64, seq: u64, data: P) {
        let track = self.track(follower, base);
        if seq < track.next {
            // A repeat: say again how far it is done.
            if let Some(done) = track.done.filter(|d| *d >= seq) {
                self.post(Frame::Ack {
                    from: self.id,
                    to: follower,
                    upto: done,
                    fate: Delivery::Sent,
                });
            }
            return;
        }
        if seq > track.next {
            // One went missing: ask from there, once per gap (at the message right
            // after it; if that one is lost too, the follower's probe asks).
            if seq == track.next + 1 {
                self.post(Frame::Resend {
                    from: self.id,
                    to: follower,
                    seq: track.next,
                });
            }
            return;
        }
        if let Some(t) = self.follower(follower) {
            t.next = seq + 1;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tickets.push_back((ticket, follower, seq));
        self.out.push_back(Out::Transmit { ticket, data });
    }
}

// ----- the wire format ----------------------------------------------------------

/// The protocol version, the first element of every posted frame. Frames of
/// another version are ignored.
pub const VERSION: f64 = 1.0;

/// A [`Frame`] flattened to numbers, strings and the data, as posted on the
/// channel (the browser side turns it into a JS array, which structured clone
/// copies cheaply). [`Wire::decode`] accepts anything and never panics: a frame
/// that does not decode is ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Wire<P> {
    /// Kind, ids, sequence numbers and event fields (integers below 2^53, or
    /// milliseconds).
    pub nums: [f64; 10],
    /// Protocol, extensions and an event's text.
    pub texts: [String; 3],
    /// The message (`Message`, `Send`).
    pub data: Option<P>,
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn int(n: f64) -> Option<u64> {
    ((0.0..=MAX_SAFE).contains(&n) && n.fract() == 0.0).then_some(n as u64)
}

fn small(n: f64) -> Option<u32> {
    int(n).and_then(|n| u32::try_from(n).ok())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn duration(n: f64) -> Option<Duration> {
    // Whole microseconds, by a saturating cast (no panicking float conversion).
    (0.0..1e15)
        .contains(&n)
        .then(|| Duration::from_micros((n * 1000.0 + 0.5) as u64))
}

const CLOSERS: [Closer; 7] = [
    Closer::Remote,
    Closer::User,
    Closer::Reconnect,
    Closer::ConnectTimeout,
    Closer::HeartbeatTimeout,
    Closer::ConnectError,
    Closer::Hook,
];
const STOPS: [StopReason; 3] = [
    StopReason::Close,
    StopReason::MaxRetries,
    StopReason::CloseCode,
];
const FATES: [Delivery; 5] = [
    Delivery::Sent,
    Delivery::Expired,
    Delivery::Overflowed,
    Delivery::Cleared,
    Delivery::Stopped,
];
const STATES: [ReadyState; 4] = [
    ReadyState::Connecting,
    ReadyState::Open,
    ReadyState::Closing,
    ReadyState::Closed,
];

fn index<T: PartialEq>(all: &[T], value: &T) -> f64 {
    all.iter().position(|v| v == value).unwrap_or(0) as f64
}

fn pick<T: Clone>(all: &[T], n: f64) -> Option<T> {
    int(n).and_then(|i| all.get(usize::try_from(i).ok()?).cloned())
}

impl<P> Wire<P> {
    fn new(kind: u8, from: u64) -> Wire<P> {
        let mut nums = [0.0; 10];
        nums[0] = f64::from(kind);
        nums[1] = from as f64;
        Wire {
            nums,
            texts: [String::new(), String::new(), String::new()],
            data: None,
        }
    }

    fn snapshot(&mut self, state: &Snapshot) {
        self.nums[7] = index(&STATES, &state.ready_state);
        self.nums[8] = f64::from(state.retries);
        self.nums[9] = state.stopped.map_or(0.0, |s| index(&STOPS, &s) + 1.0);
        self.texts[0].clone_from(&state.protocol);
        self.texts[1].clone_from(&state.extensions);
    }

    fn read_snapshot(&self) -> Option<Snapshot> {
        let [.., rs, retries, stopped] = self.nums;
        Some(Snapshot {
            ready_state: pick(&STATES, rs)?,
            retries: small(retries)?,
            stopped: match int(stopped)? {
                0 => None,
                n => Some(pick(&STOPS, (n - 1) as f64)?),
            },
            protocol: self.texts[0].clone(),
            extensions: self.texts[1].clone(),
        })
    }

    /// Flattens `frame`. `None` for a leader event that is never posted
    /// (`Lagged`, `Discarded`).
    pub fn encode(frame: Frame<P>) -> Option<Wire<P>> {
        let wire = match frame {
            Frame::Hello { from } => Wire::new(0, from),
            Frame::Leader { from } => Wire::new(1, from),
            Frame::State { from, to, state } => {
                let mut w = Wire::new(2, from);
                w.nums[2] = to as f64;
                w.snapshot(&state);
                w
            }
            Frame::Event { from, event, state } => {
                let mut w = Wire::new(3, from);
                w.snapshot(&state);
                let (kind, a, b, c, text) = match event {
                    Event::Connecting { attempt } => (0, f64::from(attempt), 0.0, 0.0, None),
                    Event::Open => (1, 0.0, 0.0, 0.0, None),
                    Event::Error(kind) => {
                        let (n, text) = match kind {
                            ErrorKind::Socket => (0, None),
                            ErrorKind::ConnectTimeout => (1, None),
                            ErrorKind::HeartbeatTimeout => (2, None),
                            ErrorKind::Connect(text) => (3, Some(text)),
                            ErrorKind::Aborted => (4, None),
                            ErrorKind::Hook(text) => (5, Some(text)),
                        };
                        (2, f64::from(n), 0.0, 0.0, text)
                    }
                    Event::Close(info) => (
                        3,
                        f64::from(info.code),
                        index(&CLOSERS, &info.closer),
                        f64::from(u8::from(info.was_clean)),
                        Some(info.reason),
                    ),
                    Event::Reconnecting {
                        attempt,
                        delay,
                        code,
                        reason,
                    } => (
                        4,
                        f64::from(attempt),
                        ms(delay),
                        f64::from(code),
                        Some(reason),
                    ),
                    Event::Heartbeat { rtt } => (5, 0.0, ms(rtt), 0.0, None),
                    Event::Stop(reason) => (6, index(&STOPS, &reason), 0.0, 0.0, None),
                    Event::Lagged { .. } | Event::Discarded { .. } => return None,
                };
                w.nums[2] = f64::from(kind);
                w.nums[3] = a;
                w.nums[4] = b;
                w.nums[5] = c;
                w.texts[2] = text.unwrap_or_default();
                w
            }
            Frame::Message { from, data } => {
                let mut w = Wire::new(4, from);
                w.data = Some(data);
                w
            }
            Frame::Send {
                from,
                to,
                base,
                seq,
                data,
            } => {
                let mut w = Wire::new(5, from);
                w.nums[2] = to as f64;
                w.nums[3] = base as f64;
                w.nums[4] = seq as f64;
                w.data = Some(data);
                w
            }
            Frame::Ack {
                from,
                to,
                upto,
                fate,
            } => {
                let mut w = Wire::new(6, from);
                w.nums[2] = to as f64;
                w.nums[3] = upto as f64;
                w.nums[4] = index(&FATES, &fate);
                w
            }
            Frame::Resend { from, to, seq } => {
                let mut w = Wire::new(7, from);
                w.nums[2] = to as f64;
                w.nums[3] = seq as f64;
                w
            }
            Frame::Probe {
                from,
                to,
                base,
                top,
            } => {
                let mut w = Wire::new(8, from);
                w.nums[2] = to as f64;
                w.nums[3] = base as f64;
                w.nums[4] = top as f64;
                w
            }
            Frame::Reconnect { from, to } => {
                let mut w = Wire::new(9, from);
                w.nums[2] = to as f64;
                w
            }
            Frame::Bye { from } => Wire::new(10, from),
        };
        Some(wire)
    }

    /// The frame this is, or `None` for anything malformed.
    pub fn decode(self) -> Option<Frame<P>> {
        let [kind, from, to, a, b, c, ..] = self.nums;
        let from = int(from)?;
        let frame = match int(kind)? {
            0 => Frame::Hello { from },
            1 => Frame::Leader { from },
            2 => Frame::State {
                from,
                to: int(to)?,
                state: self.read_snapshot()?,
            },
            3 => {
                let state = self.read_snapshot()?;
                let [.., text] = self.texts;
                let event = match int(to)? {
                    0 => Event::Connecting { attempt: small(a)? },
                    1 => Event::Open,
                    2 => Event::Error(match int(a)? {
                        0 => ErrorKind::Socket,
                        1 => ErrorKind::ConnectTimeout,
                        2 => ErrorKind::HeartbeatTimeout,
                        3 => ErrorKind::Connect(text),
                        4 => ErrorKind::Aborted,
                        5 => ErrorKind::Hook(text),
                        _ => return None,
                    }),
                    3 => Event::Close(CloseInfo {
                        code: u16::try_from(int(a)?).ok()?,
                        reason: text,
                        was_clean: int(c)? != 0,
                        closer: pick(&CLOSERS, b)?,
                    }),
                    4 => Event::Reconnecting {
                        attempt: small(a)?,
                        delay: duration(b)?,
                        code: u16::try_from(int(c)?).ok()?,
                        reason: text,
                    },
                    5 => Event::Heartbeat { rtt: duration(b)? },
                    6 => Event::Stop(pick(&STOPS, a)?),
                    _ => return None,
                };
                Frame::Event { from, event, state }
            }
            4 => Frame::Message {
                from,
                data: self.data?,
            },
            5 => Frame::Send {
                from,
                to: int(to)?,
                base: int(a)?,
                seq: int(b)?,
                data: self.data?,
            },
            6 => Frame::Ack {
                from,
                to: int(to)?,
                upto: int(a)?,
                fate: pick(&FATES, b)?,
            },
            7 => Frame::Resend {
                from,
                to: int(to)?,
                seq: int(a)?,
            },
            8 => Frame::Probe {
                from,
                to: int(to)?,
                base: int(a)?,
                top: int(b)?,
            },
            9 => Frame::Reconnect { from, to: int(to)? },
            10 => Frame::Bye { from },
            _ => return None,
        };
        Some(frame)
    }
}
