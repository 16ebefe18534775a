//! The heartbeat rules for one open connection.
//!
//! ```text
//!  inbound ──┐            interval of silence          timeout
//!            ▼ ◄──────────────────────────────────► ◄──────────────►
//!  ──────────●──────────────────────────────────────ping────────────✗ dead
//!                                                     │
//!                     any inbound message here ───────┴─► alive: the deadline is
//!                     (the response, or anything)         cleared, the silence
//!                                                         interval starts again
//! ```
//!
//! An inbound message only records when it arrived: the ping timer is not moved
//! on every message (a busy connection would re-arm a browser timer thousands of
//! times a second). When the ping timer fires and something arrived since it was
//! set, it is set again for one interval after that arrival instead; so the ping
//! still goes out exactly one interval of silence after the last inbound message.
//!
//! Deadlines are computed from the `now` given, never from counted ticks. A
//! deadline that fires much later than it was due means the page's timers were
//! throttled or frozen: the connection gets one fresh probe instead of a false
//! timeout.

use core::time::Duration;

use super::time::Instant;
use super::timers::{Timer, TimerTable};

/// How late (past its deadline) a heartbeat deadline may fire and still be trusted.
/// Later than this, the page was throttled or frozen and we probe once instead.
pub(crate) const LATE_TIMER_SLACK: Duration = Duration::from_millis(1000);

/// What an expired heartbeat deadline means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send a fresh heartbeat and wait again (the timer was late).
    Probe,
    /// The connection is dead.
    Dead,
}

/// Per-connection heartbeat state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    /// When the last unanswered heartbeat went out (for the round-trip time).
    ping_sent: Option<Instant>,
    /// Whether the current deadline already replaced a late one.
    probed: bool,
    /// When the last inbound message arrived (or the connection opened).
    last_inbound: Instant,
}

/// The two heartbeat durations, copied from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

impl Heartbeat {
    /// The connection just opened: the silence interval starts now.
    pub(crate) fn start(now: Instant, t: Timing, timers: &mut TimerTable) -> Self {
        timers.set(Timer::HeartbeatPing, now + t.interval);
        Heartbeat {
            last_inbound: now,
            ..Heartbeat::default()
        }
    }

    /// Something arrived. Returns the round-trip time if it answers a heartbeat.
    pub(crate) fn on_inbound(
        &mut self,
        now: Instant,
        is_response: bool,
        t: Timing,
        timers: &mut TimerTable,
    ) -> Option<Duration> {
        self.last_inbound = now;
        if timers.get(Timer::HeartbeatDeadline).is_some() {
            // A heartbeat was out: answered (by this or anything). The silence
            // interval starts again; timers move once per heartbeat, not per message.
            timers.stop(Timer::HeartbeatDeadline);
            timers.set(Timer::HeartbeatPing, now + t.interval);
        }
        self.probed = false;
        if is_response {
            self.ping_sent
                .take()
                .map(|sent| now.saturating_duration_since(sent))
        } else {
            None
        }
    }

    /// The ping timer fired at `now`. Returns whether the silence interval really
    /// ran out (send a heartbeat); otherwise the timer is set again for one
    /// interval after the last inbound message.
    pub(crate) fn ping_due(&self, now: Instant, t: Timing, timers: &mut TimerTable) -> bool {
        let due = self.last_inbound + t.interval;
        if now < due {
            timers.set(Timer::HeartbeatPing, due);
            false
        } else {
            true
        }
    }

    /// A heartbeat goes out now (the silence interval ran out, or a probe).
    pub(crate) fn sent(&mut self, now: Instant, t: Timing, timers: &mut TimerTable) {
        self.ping_sent = Some(now);
        timers.stop(Timer::HeartbeatPing);
        timers.set(Timer::HeartbeatDeadline, now + t.timeout);
    }

    /// The deadline set for `due` expired at `now`.
    pub(crate) fn on_deadline(
        &mut self,
        now: Instant,
        due: Instant,
        t: Timing,
        timers: &mut TimerTable,
    ) -> Verdict {
        let late = now.saturating_duration_since(due) > LATE_TIMER_SLACK;
        if late && !self.probed {
            self.sent(now, t, timers);
            self.probed = true;
            Verdict::Probe
        } else {
            Verdict::Dead
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(50),
    };

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn a_ping_is_due_one_interval_after_the_last_inbound_message() {
        let mut timers = TimerTable::default();
        let mut hb = Heartbeat::start(ms(0), T, &mut timers);
        assert_eq!(timers.get(Timer::HeartbeatPing), Some(ms(100)));
        assert_eq!(hb.on_inbound(ms(70), false, T, &mut timers), None);
        // The timer is not moved per message; at 100 it finds the silence shorter
        // than an interval and moves itself to 170.
        assert_eq!(timers.get(Timer::HeartbeatPing), Some(ms(100)));
        assert!(!hb.ping_due(ms(100), T, &mut timers));
        assert_eq!(timers.get(Timer::HeartbeatPing), Some(ms(170)));
        assert!(!hb.ping_due(ms(169), T, &mut timers));
        assert!(hb.ping_due(ms(170), T, &mut timers));
    }

    #[test]
    fn messages_between_pings_move_no_timer() {
        let mut timers = TimerTable::default();
        let mut hb = Heartbeat::start(ms(0), T, &mut timers);
        for at in 1..100 {
            hb.on_inbound(ms(at), false, T, &mut timers);
            assert_eq!(timers.get(Timer::HeartbeatPing), Some(ms(100)));
        }
        // An answer to an outstanding ping does restart the interval.
        hb.sent(ms(200), T, &mut timers);
        hb.on_inbound(ms(210), true, T, &mut timers);
        assert_eq!(timers.get(Timer::HeartbeatDeadline), None);
        assert_eq!(timers.get(Timer::HeartbeatPing), Some(ms(310)));
    }

    #[test]
    fn the_response_reports_the_round_trip_and_any_message_clears_the_deadline() {
        let mut timers = TimerTable::default();
        let mut hb = Heartbeat::start(ms(0), T, &mut timers);
        hb.sent(ms(100), T, &mut timers);
        assert_eq!(timers.get(Timer::HeartbeatDeadline), Some(ms(150)));
        assert_eq!(timers.get(Timer::HeartbeatPing), None);
        assert_eq!(hb.on_inbound(ms(110), false, T, &mut timers), None);
        assert_eq!(timers.get(Timer::HeartbeatDeadline), None);
        assert_eq!(
            hb.on_inbound(ms(120), true, T, &mut timers),
            Some(Duration::from_millis(20))
        );
        // A second, unsolicited response has nothing to measure.
        assert_eq!(hb.on_inbound(ms(130), true, T, &mut timers), None);
    }

    #[test]
    fn a_deadline_on_time_is_death_but_a_late_one_earns_one_probe() {
        let mut timers = TimerTable::default();
        let mut hb = Heartbeat::start(ms(0), T, &mut timers);
        hb.sent(ms(100), T, &mut timers);
        assert_eq!(
            hb.clone()
                .on_deadline(ms(151), ms(150), T, &mut timers.clone()),
            Verdict::Dead
        );
        // Fired 60 s late: probe, with a deadline from now.
        assert_eq!(
            hb.on_deadline(ms(60_150), ms(150), T, &mut timers),
            Verdict::Probe
        );
        assert_eq!(timers.get(Timer::HeartbeatDeadline), Some(ms(60_200)));
        // Late again without anything arriving: dead this time.
        assert_eq!(
            hb.on_deadline(ms(90_000), ms(60_200), T, &mut timers),
            Verdict::Dead
        );
    }
}
