//! The core's timers: a small enum and a table of deadlines with one "next".
//!
//! Each timer is either armed at an [`Instant`] or not. The driver keeps exactly one
//! real timer, armed at [`TimerTable::next`] (surfaced as
//! [`Machine::poll_timeout`](super::Machine::poll_timeout)).

use super::time::Instant;

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The current attempt must open by then.
    Connect,
    /// The backoff wait ends; the next attempt starts.
    Backoff,
    /// The connection has been open `min_uptime`; the retry count resets.
    Uptime,
    /// Inbound silence reached `heartbeat_interval`; send a heartbeat.
    HeartbeatPing,
    /// Nothing arrived within `heartbeat_timeout` of a heartbeat.
    HeartbeatDeadline,
    /// The close handshake took longer than `close_timeout`.
    Close,
    /// A queued message's TTL runs out.
    Expiry,
    /// Time to compare the wall clock with the monotonic one (a machine that slept).
    ClockCheck,
}

impl Timer {
    /// Every timer, in the order ties are resolved (earlier wins).
    pub(crate) const ALL: [Timer; 8] = [
        Timer::Close,
        Timer::Connect,
        Timer::HeartbeatDeadline,
        Timer::Uptime,
        Timer::HeartbeatPing,
        Timer::Backoff,
        Timer::Expiry,
        Timer::ClockCheck,
    ];
}

/// One optional deadline per [`Timer`].
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable {
    connect: Option<Instant>,
    backoff: Option<Instant>,
    uptime: Option<Instant>,
    heartbeat_ping: Option<Instant>,
    heartbeat_deadline: Option<Instant>,
    close: Option<Instant>,
    expiry: Option<Instant>,
    clock_check: Option<Instant>,
}

impl TimerTable {
    fn slot(&mut self, timer: Timer) -> &mut Option<Instant> {
        match timer {
            Timer::Connect => &mut self.connect,
            Timer::Backoff => &mut self.backoff,
            Timer::Uptime => &mut self.uptime,
            Timer::HeartbeatPing => &mut self.heartbeat_ping,
            Timer::HeartbeatDeadline => &mut self.heartbeat_deadline,
            Timer::Close => &mut self.close,
            Timer::Expiry => &mut self.expiry,
            Timer::ClockCheck => &mut self.clock_check,
        }
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        match timer {
            Timer::Connect => self.connect,
            Timer::Backoff => self.backoff,
            Timer::Uptime => self.uptime,
            Timer::HeartbeatPing => self.heartbeat_ping,
            Timer::HeartbeatDeadline => self.heartbeat_deadline,
            Timer::Close => self.close,
            Timer::Expiry => self.expiry,
            Timer::ClockCheck => self.clock_check,
        }
    }

    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        *self.slot(timer) = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        *self.slot(timer) = None;
    }

    /// Disarms every timer of the connection; the queue's expiry stays (the queue
    /// outlives connections).
    pub(crate) fn stop_all(&mut self) {
        *self = TimerTable {
            expiry: self.expiry,
            ..TimerTable::default()
        };
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        Timer::ALL.iter().filter_map(|t| self.get(*t)).min()
    }

    /// The earliest timer due at `now`, disarmed and returned with its deadline.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<(Timer, Instant)> {
        let (timer, at) = Timer::ALL
            .iter()
            .filter_map(|t| self.get(*t).map(|at| (*t, at)))
            .filter(|(_, at)| *at <= now)
            .min_by_key(|(_, at)| *at)?;
        self.stop(timer);
        Some((timer, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_armed_deadline() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Backoff, Instant::from_millis(30));
        t.set(Timer::Uptime, Instant::from_millis(10));
        assert_eq!(t.next(), Some(Instant::from_millis(10)));
        t.stop(Timer::Uptime);
        assert_eq!(t.next(), Some(Instant::from_millis(30)));
        t.set(Timer::Expiry, Instant::from_millis(40));
        t.stop_all();
        assert_eq!(
            t.next(),
            Some(Instant::from_millis(40)),
            "the queue's expiry stays"
        );
    }

    #[test]
    fn expired_timers_come_out_earliest_first_and_once() {
        let mut t = TimerTable::default();
        t.set(Timer::HeartbeatPing, Instant::from_millis(20));
        t.set(Timer::Connect, Instant::from_millis(10));
        t.set(Timer::Close, Instant::from_millis(99));
        let now = Instant::from_millis(50);
        assert_eq!(
            t.take_expired(now),
            Some((Timer::Connect, Instant::from_millis(10)))
        );
        assert_eq!(
            t.take_expired(now),
            Some((Timer::HeartbeatPing, Instant::from_millis(20)))
        );
        assert_eq!(t.take_expired(now), None);
        assert_eq!(t.get(Timer::Close), Some(Instant::from_millis(99)));
    }

    #[test]
    fn ties_resolve_in_a_fixed_order() {
        let mut t = TimerTable::default();
        let at = Instant::from_millis(5);
        t.set(Timer::Backoff, at);
        t.set(Timer::Close, at);
        assert_eq!(t.take_expired(at), Some((Timer::Close, at)));
        assert_eq!(t.take_expired(at), Some((Timer::Backoff, at)));
    }
}
