//! The connection core's rules (SPEC.md), proven in virtual time on the host.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use std::time::Duration;

use sim::{exact, fail, hb_config, heartbeats, ms, sent_texts, Sim};
use steadysocket::machine::{
    Action, CloseError, CloseInfo, Closer, Delivery, DiscardReason, ErrorKind, Event, Instant,
    Machine, QueueOverflow, ReadyState, SendError, SendOptions, SendOutcome, StopReason,
};
use steadysocket::{Config, Message};

// ----- first attempt, backoff schedule ----------------------------------------------

#[test]
fn the_first_attempt_starts_at_once_with_no_delay() {
    let mut sim = Sim::new(exact());
    let actions = sim.take_actions();
    assert!(matches!(
        actions.as_slice(),
        [Action::Connect { attempt: 0, .. }]
    ));
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
    assert_eq!(sim.take_events(), vec![Event::Connecting { attempt: 0 }]);
}

#[test]
fn start_closed_waits_for_reconnect() {
    let mut c = exact();
    c.start_closed = true;
    let mut sim = Sim::new(c);
    assert!(sim.take_actions().is_empty());
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    assert_eq!(sim.m.poll_timeout(), None);
    // Sends before the start are queued and flushed on the first open.
    assert_eq!(sim.send("early"), SendOutcome::Queued);
    sim.m.reconnect(sim.now, None, "").unwrap();
    let s = sim.connect_and_open();
    assert_eq!(sent_texts(&sim.take_actions(), s), ["early"]);
}

#[test]
fn the_backoff_sequence_is_exact_with_jitter_zero() {
    let mut sim = Sim::new(exact());
    let mut delays = Vec::new();
    for _ in 0..12 {
        fail(&mut sim);
        delays.extend(sim.reconnect_delays());
        sim.next_timeout(); // the backoff wait ends: next attempt
    }
    assert_eq!(
        delays,
        [1000, 1500, 2250, 3375, 5062, 7593, 11390, 17085, 25628, 30000, 30000, 30000]
    );
}

#[test]
fn the_next_attempt_starts_exactly_when_the_delay_ends() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
    sim.advance(ms(999));
    assert!(
        sim.take_actions().is_empty(),
        "nothing before the delay ends"
    );
    sim.advance(ms(1));
    assert!(matches!(
        sim.take_actions().as_slice(),
        [Action::Connect { attempt: 1, .. }]
    ));
}

#[test]
fn jittered_delays_stay_within_the_contracts_bounds() {
    for seed in 0..50 {
        let mut c = Config::default();
        c.reconnection_jitter = 0.5;
        let mut sim = Sim::with_seed(c, seed);
        let mut exact_delay = 1000.0_f64;
        for _ in 0..10 {
            fail(&mut sim);
            let d = sim.reconnect_delays()[0] as f64;
            let cap = exact_delay.min(30_000.0);
            assert!(
                d <= cap && d >= (cap * 0.5).floor(),
                "{d} not in [{}, {cap}]",
                cap * 0.5
            );
            exact_delay *= 1.5;
            sim.next_timeout();
        }
    }
}

#[test]
fn different_seeds_give_different_jitter() {
    let first_delay = |seed| {
        let mut sim = Sim::with_seed(Config::default(), seed);
        fail(&mut sim);
        sim.reconnect_delays()[0]
    };
    let distinct: std::collections::BTreeSet<_> = (0..20).map(first_delay).collect();
    assert!(distinct.len() > 10, "{distinct:?}");
}

#[test]
fn growth_is_capped_at_the_maximum_delay() {
    let mut c = exact();
    c.reconnection_delay_grow_factor = 10.0;
    c.max_reconnection_delay = ms(5000);
    let mut sim = Sim::new(c);
    let mut delays = Vec::new();
    for _ in 0..40 {
        fail(&mut sim);
        delays.extend(sim.reconnect_delays());
        sim.next_timeout();
    }
    assert_eq!(&delays[..3], [1000, 5000, 5000]);
    assert!(delays.iter().all(|d| *d <= 5000));
}

// ----- uptime, flapping ---------------------------------------------------------

#[test]
fn the_retry_count_resets_only_after_min_uptime() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    sim.next_timeout();
    fail(&mut sim);
    sim.next_timeout();
    assert_eq!(sim.m.retry_count(), 2);
    let s = sim.connect_and_open();
    sim.advance(ms(4999));
    assert_eq!(sim.m.retry_count(), 2, "not yet stable");
    sim.advance(ms(1));
    assert_eq!(sim.m.retry_count(), 0, "stable after min_uptime");
    sim.take_events();
    sim.server_close(s, 1006);
    assert_eq!(sim.reconnect_delays(), [1000], "back to the first delay");
}

#[test]
fn the_retry_count_does_not_reset_on_open() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    sim.next_timeout();
    let s = sim.connect_and_open();
    assert_eq!(sim.m.retry_count(), 1);
    sim.advance(ms(100));
    sim.take_events();
    sim.server_close(s, 1000);
    assert_eq!(sim.reconnect_delays(), [1500]);
}

#[test]
fn a_flapping_server_keeps_the_delay_growing() {
    let mut sim = Sim::new(exact());
    let mut delays = Vec::new();
    for _ in 0..5 {
        let s = sim.connect_and_open();
        sim.advance(ms(200)); // accepted, then dropped well before min_uptime
        sim.server_close(s, 1001);
        delays.extend(sim.reconnect_delays());
        sim.next_timeout();
    }
    assert_eq!(delays, [1000, 1500, 2250, 3375, 5062]);
}

// ----- connect timeout ----------------------------------------------------------

#[test]
fn a_connect_timeout_abandons_the_attempt_and_schedules_a_retry() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.take_events();
    sim.advance(ms(3999));
    assert!(sim.take_actions().is_empty());
    sim.advance(ms(1));
    assert_eq!(
        sim.take_actions(),
        vec![Action::Abandon {
            socket: s,
            code: None,
            reason: String::new()
        }]
    );
    assert_eq!(
        sim.take_events(),
        vec![
            Event::Error(ErrorKind::ConnectTimeout),
            Event::Close(CloseInfo {
                code: 1006,
                reason: "connection timeout".into(),
                was_clean: false,
                closer: Closer::ConnectTimeout
            }),
            Event::Reconnecting {
                attempt: 1,
                delay: ms(1000),
                code: 1006,
                reason: "connection timeout".into()
            },
        ]
    );
    // A late open from the abandoned socket changes nothing.
    sim.open(s);
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
    assert!(sim.take_events().is_empty());
    sim.advance(ms(1000));
    assert!(matches!(
        sim.take_actions().as_slice(),
        [Action::Connect { attempt: 1, .. }]
    ));
}

#[test]
fn an_open_in_time_cancels_the_connect_timeout() {
    let mut sim = Sim::new(exact());
    sim.connect_and_open();
    sim.take_events();
    sim.advance(ms(60_000));
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
    assert!(sim.take_actions().is_empty());
    assert!(sim.take_events().is_empty());
}

#[test]
fn a_failing_url_provider_counts_as_a_failed_attempt() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.take_events();
    sim.m
        .handle_connect_error(sim.now, s, "token expired".into());
    let events = sim.take_events();
    assert_eq!(
        events[0],
        Event::Error(ErrorKind::Connect("token expired".into()))
    );
    assert!(matches!(
        &events[1],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::ConnectError,
            ..
        })
    ));
    assert!(matches!(events[2], Event::Reconnecting { attempt: 1, .. }));
}

// ----- heartbeat ----------------------------------------------------------------

#[test]
fn a_heartbeat_goes_out_after_an_interval_of_inbound_silence() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.take_actions();
    sim.advance(ms(999));
    assert_eq!(heartbeats(&sim.take_actions()), 0);
    sim.advance(ms(1));
    assert_eq!(
        sim.take_actions(),
        vec![Action::SendHeartbeat { socket: s }]
    );
}

#[test]
fn any_inbound_message_defers_the_ping() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.take_actions();
    for _ in 0..10 {
        sim.advance(ms(900));
        assert_eq!(
            sim.receive(s, "data").as_ref().and_then(Message::as_text),
            Some("data")
        );
    }
    assert_eq!(
        heartbeats(&sim.take_actions()),
        0,
        "traffic is liveness enough"
    );
    sim.advance(ms(1000));
    assert_eq!(heartbeats(&sim.take_actions()), 1);
}

#[test]
fn a_busy_connection_moves_the_next_deadline_once_per_interval_not_per_message() {
    // The driver re-arms its one browser timer whenever `poll_timeout` changes.
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.take_actions();
    let mut deadlines = vec![sim.m.poll_timeout()];
    for _ in 0..3000 {
        sim.advance(ms(1));
        assert!(sim.receive(s, "data").is_some());
        let next = sim.m.poll_timeout();
        if deadlines.last() != Some(&next) {
            deadlines.push(next);
        }
    }
    assert!(
        deadlines.len() <= 4,
        "{} deadlines in 3 s of traffic",
        deadlines.len()
    );
    // And the ping still goes out exactly one interval after the last message.
    sim.advance(ms(999));
    assert_eq!(heartbeats(&sim.take_actions()), 0);
    sim.advance(ms(1));
    assert_eq!(heartbeats(&sim.take_actions()), 1);
}

#[test]
fn pongs_are_not_delivered_and_report_the_round_trip() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.advance(ms(1000));
    sim.take_events();
    sim.advance(ms(42));
    assert_eq!(sim.receive(s, "pong"), None);
    assert_eq!(sim.take_events(), vec![Event::Heartbeat { rtt: ms(42) }]);
    // Binary "pong" bytes are data, not a heartbeat answer.
    let got = sim
        .m
        .handle_message(sim.now, s, Message::from(&b"pong"[..]));
    assert_eq!(got, Some(Message::Binary(b"pong".to_vec())));
}

#[test]
fn without_a_heartbeat_pong_is_an_ordinary_message() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    assert_eq!(sim.receive(s, "pong"), Some(Message::from("pong")));
    sim.advance(ms(600_000));
    assert_eq!(heartbeats(&sim.take_actions()), 0);
}

#[test]
fn a_heartbeat_timeout_abandons_the_socket_and_schedules_the_next_attempt_at_once() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.advance(ms(1000)); // ping
    sim.take_actions();
    sim.take_events();
    sim.advance(ms(499));
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
    sim.advance(ms(1));
    assert_eq!(
        sim.take_actions(),
        vec![Action::Abandon {
            socket: s,
            code: Some(4000),
            reason: "heartbeat timeout".into()
        }]
    );
    let events = sim.take_events();
    assert_eq!(events[0], Event::Error(ErrorKind::HeartbeatTimeout));
    assert!(matches!(
        &events[1],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::HeartbeatTimeout,
            ..
        })
    ));
    assert!(matches!(events[2], Event::Reconnecting { attempt: 1, .. }));
    // No native close event is awaited: the retry follows the schedule.
    sim.advance(ms(1000));
    let next = sim.expect_connect();
    assert_ne!(next, s);
    // The dead socket's late close is ignored.
    sim.take_events();
    sim.server_close(s, 1006);
    assert!(sim.take_events().is_empty());
    assert_eq!(sim.m.live_socket(), Some(next));
}

#[test]
fn no_pings_while_connecting_in_backoff_or_after_close() {
    let mut sim = Sim::new(hb_config(100, 50));
    sim.take_actions();
    sim.advance(ms(3999)); // connecting, long past the interval
    assert_eq!(heartbeats(&sim.take_actions()), 0);
    sim.advance(ms(1)); // connect timeout: backoff
    sim.advance(ms(900));
    assert_eq!(heartbeats(&sim.take_actions()), 0, "none in backoff");
    sim.advance(ms(100));
    let s = sim.connect_and_open();
    sim.m.close(sim.now, None, "").unwrap();
    sim.m.handle_close(sim.now, s, 1005, "", true);
    sim.advance(ms(10_000));
    let actions = sim.take_actions();
    assert_eq!(heartbeats(&actions), 0, "none after close: {actions:?}");
}

#[test]
fn a_throttled_timer_gap_probes_instead_of_failing() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.advance(ms(1000)); // ping out, deadline at 1500
    sim.take_actions();
    sim.take_events();
    // The tab is frozen; the deadline timer fires 60 s late.
    sim.jump(ms(60_000));
    assert_eq!(
        sim.take_actions(),
        vec![Action::SendHeartbeat { socket: s }]
    );
    assert_eq!(sim.m.ready_state(), ReadyState::Open, "no false timeout");
    // The probe is answered: the connection lives on.
    sim.advance(ms(20));
    assert_eq!(sim.receive(s, "pong"), None);
    assert_eq!(sim.take_events(), vec![Event::Heartbeat { rtt: ms(20) }]);
    sim.advance(ms(999));
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
    assert!(sim.take_events().is_empty());
}

#[test]
fn an_unanswered_probe_is_a_real_timeout() {
    let mut sim = Sim::new(hb_config(1000, 500));
    sim.connect_and_open();
    sim.advance(ms(1000));
    sim.jump(ms(60_000)); // probe
    sim.advance(ms(500)); // on time, nothing arrived
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
    assert!(sim
        .take_events()
        .contains(&Event::Error(ErrorKind::HeartbeatTimeout)));
}

#[test]
fn resume_probes_an_open_connection_at_once() {
    let mut sim = Sim::new(hb_config(10_000, 500));
    let s = sim.connect_and_open();
    sim.take_actions();
    sim.advance(ms(100));
    sim.m.handle_resume(sim.now);
    assert_eq!(
        sim.take_actions(),
        vec![Action::SendHeartbeat { socket: s }]
    );
    sim.advance(ms(500));
    assert_eq!(
        sim.m.ready_state(),
        ReadyState::Connecting,
        "probe unanswered: dead"
    );
}

#[test]
fn resume_cuts_a_backoff_wait_short() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    sim.advance(ms(10));
    sim.m.handle_resume(sim.now);
    assert!(matches!(
        sim.take_actions().as_slice(),
        [Action::Connect { attempt: 1, .. }]
    ));
    // Resume without a heartbeat, while open, does nothing.
    sim.m.handle_open(sim.now, sim.m.live_socket().unwrap());
    sim.take_actions();
    sim.m.handle_resume(sim.now);
    assert!(sim.take_actions().is_empty());
}

// ----- close and reconnect ------------------------------------------------------

#[test]
fn close_while_open_is_final_and_ends_with_one_close_and_one_stop() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.connect_and_open();
    sim.take_actions();
    sim.take_events();
    sim.m.close(sim.now, Some(4001), "bye").unwrap();
    assert_eq!(sim.m.ready_state(), ReadyState::Closing);
    assert_eq!(
        sim.take_actions(),
        vec![Action::Close {
            socket: s,
            code: Some(4001),
            reason: "bye".into()
        }]
    );
    sim.m.handle_close(sim.now, s, 4001, "bye", true);
    assert_eq!(
        sim.take_events(),
        vec![
            Event::Close(CloseInfo {
                code: 4001,
                reason: "bye".into(),
                was_clean: true,
                closer: Closer::User
            }),
            Event::Stop(StopReason::Close)
        ]
    );
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    assert_eq!(sim.m.poll_timeout(), None, "no timer left");
    sim.advance(ms(1_000_000));
    assert!(sim.take_actions().is_empty());
}

#[test]
fn close_fires_within_close_timeout_when_the_peer_never_answers() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.close(sim.now, None, "").unwrap();
    sim.take_actions();
    sim.advance(ms(999));
    assert!(sim.take_events().is_empty());
    sim.advance(ms(1));
    assert_eq!(
        sim.take_actions(),
        vec![Action::Abandon {
            socket: s,
            code: None,
            reason: String::new()
        }]
    );
    let events = sim.take_events();
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::User,
            ..
        })
    ));
    assert_eq!(events[1], Event::Stop(StopReason::Close));
    // The native close arriving 60 s later gives nothing more.
    sim.advance(ms(60_000));
    sim.server_close(s, 1006);
    assert!(sim.take_events().is_empty());
}

#[test]
fn close_after_the_attempts_own_error_adds_no_second_error() {
    // The native socket failed (error fired, its close event still to come) and an
    // error handler calls close(): one error for the attempt, as natively.
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.m.handle_error(s);
    sim.take_events();
    sim.m.close(sim.now, None, "").unwrap();
    sim.advance(ms(0));
    let events = sim.take_events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Error(_))),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&Event::Stop(StopReason::Close)));
}

#[test]
fn close_while_connecting_abandons_the_attempt_and_reports_error_then_close_1006() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.take_events();
    sim.m.close(sim.now, None, "bye").unwrap();
    assert_eq!(
        sim.take_actions(),
        vec![Action::Abandon {
            socket: s,
            code: None,
            reason: "bye".to_owned()
        }]
    );
    // CLOSING at once; the events come on the next turn, never inside close().
    assert_eq!(sim.m.ready_state(), ReadyState::Closing);
    assert!(sim.take_events().is_empty());
    assert_eq!(
        sim.m.poll_timeout(),
        Some(sim.now),
        "a zero-delay close timer"
    );
    sim.advance(ms(0));
    let events = sim.take_events();
    // As a browser WebSocket closed while connecting: `error`, then `close` with
    // 1006 and an empty reason (whatever reason was given).
    assert_eq!(
        events,
        vec![
            Event::Error(ErrorKind::Aborted),
            Event::Close(CloseInfo {
                code: 1006,
                reason: String::new(),
                was_clean: false,
                closer: Closer::User,
            }),
            Event::Stop(StopReason::Close),
        ]
    );
    assert_eq!(sim.m.poll_timeout(), None);
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    sim.open(s);
    assert_eq!(
        sim.m.ready_state(),
        ReadyState::Closed,
        "a late open is ignored"
    );
}

#[test]
fn close_during_backoff_cancels_the_wait_for_good() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    sim.take_events();
    sim.m.close(sim.now, Some(1000), "").unwrap();
    assert_eq!(sim.m.ready_state(), ReadyState::Closing);
    assert!(sim.take_events().is_empty(), "no event inside close()");
    sim.advance(ms(0));
    assert_eq!(
        sim.take_events(),
        vec![
            Event::Close(CloseInfo {
                code: 1000,
                reason: String::new(),
                was_clean: false,
                closer: Closer::User
            }),
            Event::Stop(StopReason::Close)
        ]
    );
    assert_eq!(sim.m.poll_timeout(), None);
    sim.advance(ms(100_000));
    assert!(sim.take_actions().is_empty(), "no attempt after close");
}

#[test]
fn close_before_a_start_closed_socket_ever_started_only_reports_the_stop() {
    let mut c = exact();
    c.start_closed = true;
    let mut sim = Sim::new(c);
    sim.m.close(sim.now, None, "").unwrap();
    assert_eq!(sim.take_events(), vec![Event::Stop(StopReason::Close)]);
    assert!(sim.take_actions().is_empty());
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
}

#[test]
fn close_twice_gives_one_close_event() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.close(sim.now, None, "").unwrap();
    sim.m.close(sim.now, None, "").unwrap();
    sim.server_close(s, 1005);
    sim.m.close(sim.now, None, "").unwrap();
    let closes = sim
        .take_events()
        .iter()
        .filter(|e| matches!(e, Event::Close(_)))
        .count();
    assert_eq!(closes, 1);
}

#[test]
fn invalid_close_codes_and_reasons_are_refused_and_change_nothing() {
    let mut sim = Sim::new(exact());
    sim.connect_and_open();
    sim.take_actions();
    assert_eq!(
        sim.m.close(sim.now, Some(1001), ""),
        Err(CloseError::InvalidCode { code: 1001 })
    );
    assert_eq!(
        sim.m.close(sim.now, None, &"x".repeat(124)),
        Err(CloseError::ReasonTooLong { len: 124 })
    );
    assert_eq!(
        sim.m.reconnect(sim.now, Some(2000), ""),
        Err(CloseError::InvalidCode { code: 2000 })
    );
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
    assert!(sim.take_actions().is_empty());
}

#[test]
fn reconnect_after_stop_works_and_resets_the_retry_count() {
    let mut c = exact();
    c.max_retries = Some(1);
    let mut sim = Sim::new(c);
    fail(&mut sim);
    sim.next_timeout();
    fail(&mut sim);
    assert_eq!(sim.m.stop_reason(), Some(StopReason::MaxRetries));
    assert_eq!(sim.send("x"), SendOutcome::Queued);
    sim.m.reconnect(sim.now, None, "").unwrap();
    assert_eq!(sim.m.retry_count(), 0);
    let s = sim.connect_and_open();
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
    assert_eq!(sim.m.live_socket(), Some(s));
    assert_eq!(sent_texts(&sim.take_actions(), s), ["x"]);
}

#[test]
fn reconnect_after_close_works() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.m.close(sim.now, None, "").unwrap();
    sim.server_close(s, 1005);
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    sim.m.reconnect(sim.now, None, "").unwrap();
    let s2 = sim.connect_and_open();
    assert_ne!(s, s2);
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
}

#[test]
fn reconnect_while_open_closes_the_socket_and_connects_at_once() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.reconnect(sim.now, Some(4002), "refresh").unwrap();
    let actions = sim.take_actions();
    assert_eq!(
        actions[0],
        Action::Abandon {
            socket: s,
            code: Some(4002),
            reason: "refresh".into()
        }
    );
    assert!(matches!(actions[1], Action::Connect { attempt: 0, .. }));
    let events = sim.take_events();
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo {
            code: 4002,
            closer: Closer::Reconnect,
            ..
        })
    ));
    assert_eq!(events[1], Event::Connecting { attempt: 0 });
}

#[test]
fn reconnect_during_backoff_connects_at_once() {
    let mut sim = Sim::new(exact());
    fail(&mut sim);
    fail_after_wait(&mut sim);
    assert_eq!(sim.m.retry_count(), 2);
    sim.m.reconnect(sim.now, None, "").unwrap();
    assert!(matches!(
        sim.take_actions().as_slice(),
        [Action::Connect { attempt: 0, .. }]
    ));
}

fn fail_after_wait(sim: &mut Sim) {
    sim.next_timeout();
    fail(sim);
}

#[test]
fn reconnect_while_closing_ends_the_close_and_starts_again() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.m.close(sim.now, Some(1000), "").unwrap();
    sim.take_events();
    sim.take_actions();
    sim.m.reconnect(sim.now, None, "").unwrap();
    let actions = sim.take_actions();
    assert!(matches!(actions[0], Action::Abandon { socket, .. } if socket == s));
    assert!(matches!(actions[1], Action::Connect { .. }));
    let events = sim.take_events();
    // The close handshake was given up on: reported as abnormal, as a timeout is.
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::User,
            ..
        })
    ));
    assert_eq!(events[1], Event::Stop(StopReason::Close));
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
}

// ----- queue --------------------------------------------------------------------

#[test]
fn sends_while_open_go_straight_out() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_actions();
    assert!(matches!(sim.send("now"), SendOutcome::Transmit { socket, .. } if socket == s));
}

#[test]
fn a_message_the_closing_native_socket_cannot_take_goes_out_on_the_next_open() {
    // The core is open, but the driver finds the browser's socket already closing
    // (the server's close frame arrived first): it hands the message back.
    let mut config = exact();
    config.max_enqueued_messages = 2;
    let mut sim = Sim::new(config);
    let s = sim.connect_and_open();
    sim.take_actions();
    let SendOutcome::Transmit { message, .. } = sim.m.send(Message::from("late")).unwrap() else {
        panic!("open: transmit");
    };
    sim.m.enqueue(message, None).unwrap();
    assert_eq!(sim.m.queued_messages(), 1);
    assert!(matches!(sim.send("later"), SendOutcome::Transmit { .. }));
    sim.m.enqueue(Message::from("later"), None).unwrap();
    // Bounded like any queued send.
    assert!(matches!(
        sim.m.enqueue(Message::from("over"), None),
        Err(SendError::QueueFull(m)) if m == Message::from("over")
    ));
    sim.server_close(s, 1000);
    sim.next_timeout();
    let s2 = sim.connect_and_open();
    assert_eq!(sent_texts(&sim.take_actions(), s2), ["late", "later"]);
}

#[test]
fn the_queue_flushes_in_order_exactly_once_before_the_open_event() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    for m in ["a", "b", "c"] {
        assert_eq!(sim.send(m), SendOutcome::Queued);
    }
    assert_eq!(sim.m.queued_messages(), 3);
    assert_eq!(sim.m.queued_bytes(), 3);
    sim.take_events();
    sim.m.handle_open(sim.now, s);
    // The flush is in the action queue before the Open event is polled.
    let mut flushed = Vec::new();
    while let Some(a) = sim.m.poll_action() {
        flushed.push(a);
    }
    assert_eq!(sent_texts(&flushed, s), ["a", "b", "c"]);
    assert_eq!(sim.m.poll_event(), Some(Event::Open));
    assert_eq!(sim.m.queued_messages(), 0);
    // A later drop and reopen sends nothing again.
    sim.server_close(s, 1006);
    sim.next_timeout();
    let s2 = sim.connect_and_open();
    assert!(sent_texts(&sim.take_actions(), s2).is_empty());
}

#[test]
fn a_send_while_the_flush_is_pending_keeps_its_place() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    let _ = sim.send("first");
    sim.m.handle_open(sim.now, s);
    // The driver has not drained actions yet when user code sends again.
    assert_eq!(
        sim.m.send(Message::from("second")).unwrap(),
        SendOutcome::Pending
    );
    assert_eq!(sent_texts(&sim.take_actions(), s), ["first", "second"]);
}

#[test]
fn queued_messages_survive_several_failed_attempts() {
    let mut sim = Sim::new(exact());
    let _ = sim.send("kept");
    fail(&mut sim);
    fail_after_wait(&mut sim);
    sim.next_timeout();
    let s = sim.connect_and_open();
    assert_eq!(sent_texts(&sim.take_actions(), s), ["kept"]);
}

#[test]
fn queue_overflow_hands_the_message_back_and_keeps_the_queue() {
    let mut c = exact();
    c.max_enqueued_messages = 2;
    c.max_enqueued_bytes = 5;
    let mut sim = Sim::new(c);
    let s = sim.expect_connect();
    let _ = sim.send("ab");
    let _ = sim.send("cd");
    assert_eq!(
        sim.m.send(Message::from("e")),
        Err(SendError::QueueFull(Message::from("e")))
    );
    sim.m.handle_open(sim.now, s);
    assert_eq!(sent_texts(&sim.take_actions(), s), ["ab", "cd"]);
    let mut c = exact();
    c.max_enqueued_bytes = 5;
    let mut sim = Sim::new(c);
    let _ = sim.send("abcd");
    assert_eq!(
        sim.m.send(Message::from("ef")),
        Err(SendError::QueueFull(Message::from("ef")))
    );
    assert_eq!(sim.m.queued_bytes(), 4);
}

#[test]
fn send_after_close_is_queued_and_only_reconnect_delivers_it() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.m.close(sim.now, None, "").unwrap();
    sim.take_actions();
    assert_eq!(sim.send("while-closing"), SendOutcome::Queued);
    sim.server_close(s, 1005);
    assert_eq!(sim.m.stop_reason(), Some(StopReason::Close));
    assert_eq!(sim.send("after-stop"), SendOutcome::Queued);
    assert_eq!(sim.m.queued_messages(), 2);
    // Nothing else delivers it: no timer, no attempt.
    assert_eq!(sim.m.poll_timeout(), None);
    assert!(sim.take_actions().is_empty());
    sim.m.reconnect(sim.now, None, "").unwrap();
    let s2 = sim.connect_and_open();
    assert_eq!(
        sent_texts(&sim.take_actions(), s2),
        ["while-closing", "after-stop"]
    );
}

#[test]
fn sends_after_a_stop_are_bounded_like_any_queued_send() {
    let mut c = exact();
    c.max_enqueued_messages = 1;
    let mut sim = Sim::new(c);
    sim.connect_and_open();
    sim.m.close(sim.now, None, "").unwrap();
    assert_eq!(sim.send("one"), SendOutcome::Queued);
    assert_eq!(
        sim.m.send(Message::from("two")),
        Err(SendError::QueueFull(Message::from("two")))
    );
}

#[test]
fn close_keeps_the_queue_for_a_later_reconnect() {
    let mut sim = Sim::new(exact());
    let _ = sim.send("kept");
    sim.m.close(sim.now, None, "").unwrap();
    assert_eq!(sim.m.queued_messages(), 1);
    sim.advance(ms(0));
    assert_eq!(sim.m.stop_reason(), Some(StopReason::Close));
    sim.take_actions();
    sim.m.reconnect(sim.now, None, "").unwrap();
    let s = sim.connect_and_open();
    assert_eq!(sent_texts(&sim.take_actions(), s), ["kept"]);
}

#[test]
fn drain_queued_takes_everything_back_in_order_and_reports_one_discard() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    for m in ["a", "bb", "ccc"] {
        assert_eq!(sim.send(m), SendOutcome::Queued);
    }
    sim.take_events();
    assert_eq!(
        sim.m.drain_queued(),
        [
            Message::from("a"),
            Message::from("bb"),
            Message::from("ccc")
        ]
    );
    assert_eq!((sim.m.queued_messages(), sim.m.queued_bytes()), (0, 0));
    assert_eq!(
        sim.take_events(),
        [Event::Discarded {
            reason: DiscardReason::Cleared,
            count: 3
        }]
    );
    // Draining an empty queue reports nothing; nothing is flushed on open.
    assert!(sim.m.drain_queued().is_empty());
    assert!(sim.take_events().is_empty());
    sim.open(s);
    assert!(sent_texts(&sim.take_actions(), s).is_empty());
}

// ----- close codes and retries --------------------------------------------------

#[test]
fn close_1013_waits_the_maximum_delay_jittered_and_counts_as_a_retry() {
    // Exact without jitter.
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.server_close(s, 1013);
    assert_eq!(
        sim.reconnect_delays(),
        [exact().max_reconnection_delay.as_millis()]
    );
    assert_eq!(sim.m.retry_count(), 1);
    // With the default jitter (0.5): within [15 s, 30 s], and not one value for all
    // the clients a shedding server closes at once.
    let mut waits = std::collections::BTreeSet::new();
    for seed in 0..50 {
        let mut sim = Sim::with_seed(Config::default(), seed);
        let s = sim.connect_and_open();
        sim.take_events();
        sim.server_close(s, 1013);
        let [d] = sim.reconnect_delays()[..] else {
            panic!("one delay")
        };
        assert!((15_000..=30_000).contains(&d), "{d}");
        waits.insert(d);
    }
    assert!(waits.len() > 40, "{} distinct waits of 50", waits.len());
}

#[test]
fn a_stop_close_code_stops_for_good() {
    let mut c = exact();
    c.stop_on_close_codes = vec![4001, 4003];
    let mut sim = Sim::new(c);
    let s = sim.connect_and_open();
    sim.take_events();
    sim.server_close(s, 4003);
    let events = sim.take_events();
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo { code: 4003, .. })
    ));
    assert_eq!(events[1], Event::Stop(StopReason::CloseCode));
    assert_eq!(events.len(), 2);
    assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    assert_eq!(sim.m.poll_timeout(), None);
}

#[test]
fn other_close_codes_reconnect() {
    let mut c = exact();
    c.stop_on_close_codes = vec![4001];
    let mut sim = Sim::new(c);
    let s = sim.connect_and_open();
    sim.server_close(s, 4002);
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
}

#[test]
fn a_vetoed_close_stops_with_the_close_code_reason() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.handle_close_and_stop(sim.now, s, 1000, "done", true);
    let events = sim.take_events();
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo { code: 1000, .. })
    ));
    assert_eq!(events[1], Event::Stop(StopReason::CloseCode));
}

#[test]
fn max_retries_gives_exactly_n_plus_one_attempts_then_one_stop_event() {
    for n in [0u32, 1, 3] {
        let mut c = exact();
        c.max_retries = Some(n);
        let mut sim = Sim::new(c);
        let mut all_events = Vec::new();
        let mut connects = 0;
        for _ in 0..20 {
            let actions = sim.take_actions();
            connects += actions
                .iter()
                .filter(|a| matches!(a, Action::Connect { .. }))
                .count();
            if let Some(s) = sim.m.live_socket() {
                sim.server_close(s, 1006);
            }
            all_events.extend(sim.take_events());
            if sim.m.poll_timeout().is_none() {
                break;
            }
            sim.next_timeout();
        }
        assert_eq!(connects as u32, n + 1, "attempts with max_retries {n}");
        let stops: Vec<_> = all_events
            .iter()
            .filter(|e| matches!(e, Event::Stop(_)))
            .collect();
        assert_eq!(stops, [&Event::Stop(StopReason::MaxRetries)]);
        assert_eq!(
            all_events.last(),
            Some(&Event::Stop(StopReason::MaxRetries))
        );
        assert_eq!(sim.m.ready_state(), ReadyState::Closed);
    }
}

#[test]
fn events_of_a_socket_that_is_not_live_are_ignored() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.reconnect(sim.now, None, "").unwrap();
    sim.take_events();
    sim.m.handle_error(s);
    assert_eq!(sim.m.handle_message(sim.now, s, Message::from("old")), None);
    sim.m.handle_close(sim.now, s, 1000, "", true);
    sim.m.handle_connect_error(sim.now, s, "x".into());
    sim.open(s);
    assert!(sim.take_events().is_empty());
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
}

#[test]
fn a_native_error_is_reported_before_its_close() {
    let mut sim = Sim::new(exact());
    let s = sim.connect_and_open();
    sim.take_events();
    sim.m.handle_error(s);
    sim.server_close(s, 1006);
    let events = sim.take_events();
    assert_eq!(events[0], Event::Error(ErrorKind::Socket));
    assert!(matches!(events[1], Event::Close(_)));
}

#[test]
fn an_invalid_config_is_refused_at_creation() {
    let mut c = Config::default();
    c.reconnection_delay_grow_factor = 0.5;
    assert!(Machine::<Message>::new(c, 0, Instant::ZERO).is_err());
}

#[test]
fn every_attempt_ends_in_exactly_one_close_event() {
    let mut c = hb_config(300, 200);
    c.connection_timeout = ms(500);
    let mut sim = Sim::new(c);
    // A mix of endings: timeout, refusal, drop after open, heartbeat timeout.
    sim.advance(ms(500));
    sim.advance(Duration::from_secs(2));
    fail(&mut sim);
    sim.advance(Duration::from_secs(3));
    let s = sim.connect_and_open();
    sim.advance(ms(10));
    sim.server_close(s, 1001);
    sim.advance(Duration::from_secs(4));
    sim.connect_and_open();
    sim.advance(Duration::from_secs(1));
    sim.drain();
    let events = sim.take_events();
    let connecting = events
        .iter()
        .filter(|e| matches!(e, Event::Connecting { .. }))
        .count();
    let closes = events
        .iter()
        .filter(|e| matches!(e, Event::Close(_)))
        .count();
    assert_eq!(connecting, 5);
    assert_eq!(closes, 4, "{events:#?}");
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
}

// ----- queue policy: expiry, overflow, delivery results ----------------------------

fn tracked(sim: &mut Sim, text: &str, ttl: Option<u64>, id: u64) -> SendOutcome<Message> {
    let options = match ttl {
        Some(t) => SendOptions::ttl(ms(t)),
        None => SendOptions::default(),
    };
    let out = sim
        .m
        .send_with(sim.now, Message::from(text), options, Some(id))
        .expect("accepted");
    sim.drain();
    out
}

fn receipts(sim: &mut Sim) -> Vec<(u64, Delivery)> {
    std::iter::from_fn(|| sim.m.poll_receipt()).collect()
}

#[test]
fn a_queued_message_expires_after_its_ttl_and_is_reported_once() {
    let mut config = exact();
    config.message_ttl = Some(ms(500));
    let mut sim = Sim::new(config);
    let s = sim.expect_connect();
    assert_eq!(sim.send("old"), SendOutcome::Queued);
    sim.advance(ms(300));
    let young = sim.m.send_with(
        sim.now,
        Message::from("young"),
        SendOptions::default(),
        None,
    );
    assert_eq!(young, Ok(SendOutcome::Queued));
    sim.take_events();
    sim.advance(ms(200)); // "old" has waited 500 ms
    assert_eq!(
        sim.take_events(),
        [Event::Discarded {
            reason: DiscardReason::Ttl,
            count: 1
        }]
    );
    assert_eq!(sim.m.queued_messages(), 1);
    sim.open(s);
    assert_eq!(sent_texts(&sim.take_actions(), s), ["young"]);
}

#[test]
fn expiry_is_checked_at_the_flush_too_and_a_per_message_ttl_overrides_the_default() {
    let mut config = exact();
    config.message_ttl = Some(ms(10_000));
    let mut sim = Sim::new(config);
    let s = sim.expect_connect();
    let _ = tracked(&mut sim, "short", Some(100), 1);
    let _ = tracked(&mut sim, "long", None, 2);
    sim.take_events();
    // Opening exactly at the short one's expiry, before its timer ran.
    sim.now = sim.now + ms(100);
    sim.m.handle_open(sim.now, s);
    sim.drain();
    assert_eq!(sent_texts(&sim.take_actions(), s), ["long"]);
    assert_eq!(
        receipts(&mut sim),
        [(1, Delivery::Expired), (2, Delivery::Sent)]
    );
}

#[test]
fn a_ttl_of_zero_means_only_now() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.take_events();
    assert_eq!(
        tracked(&mut sim, "now?", Some(0), 1),
        SendOutcome::Discarded
    );
    assert_eq!(sim.m.queued_messages(), 0);
    assert_eq!(receipts(&mut sim), [(1, Delivery::Expired)]);
    assert_eq!(
        sim.take_events(),
        [Event::Discarded {
            reason: DiscardReason::Ttl,
            count: 1
        }]
    );
    sim.open(s);
    assert!(matches!(
        tracked(&mut sim, "now!", Some(0), 2),
        SendOutcome::Transmit { .. }
    ));
}

#[test]
fn drop_oldest_discards_the_oldest_to_make_room_and_reports_it() {
    let mut config = exact();
    config.max_enqueued_messages = 2;
    config.queue_overflow = QueueOverflow::DropOldest;
    let mut sim = Sim::new(config);
    let s = sim.expect_connect();
    let _ = tracked(&mut sim, "a", None, 1);
    let _ = sim.send("b");
    sim.take_events();
    assert_eq!(sim.send("c"), SendOutcome::Queued);
    assert_eq!(
        sim.take_events(),
        [Event::Discarded {
            reason: DiscardReason::Overflow,
            count: 1
        }]
    );
    assert_eq!(receipts(&mut sim), [(1, Delivery::Overflowed)]);
    sim.open(s);
    assert_eq!(sent_texts(&sim.take_actions(), s), ["b", "c"]);
}

#[test]
fn tracked_messages_learn_their_fate_and_never_wait_for_a_reconnect() {
    let mut config = exact();
    config.max_retries = Some(0);
    let mut sim = Sim::new(config);
    let s = sim.expect_connect();
    let _ = tracked(&mut sim, "cleared", None, 1);
    let _ = sim.m.drain_queued();
    assert_eq!(receipts(&mut sim), [(1, Delivery::Cleared)]);
    let _ = tracked(&mut sim, "stopped", None, 2);
    let _ = sim.send("untracked waits");
    sim.server_close(s, 1006); // no retries left: stop
    assert_eq!(sim.m.stop_reason(), Some(StopReason::MaxRetries));
    assert_eq!(receipts(&mut sim), [(2, Delivery::Stopped)]);
    assert_eq!(sim.m.queued_messages(), 1, "the untracked one waits");
    assert!(matches!(
        sim.m.send_with(
            sim.now,
            Message::from("late"),
            SendOptions::default(),
            Some(3)
        ),
        Err(SendError::Closed(_))
    ));
}

// ----- resume signals: a wall-clock jump ----------------------------------------

#[test]
fn a_wall_clock_jump_beyond_the_monotonic_clock_cuts_a_backoff_wait_short() {
    let mut config = exact();
    config.min_reconnection_delay = ms(60_000);
    config.max_reconnection_delay = ms(60_000);
    let mut sim = Sim::new(config);
    let s = sim.connect_and_open();
    sim.m.handle_wall_clock(sim.now, 1_000_000.0);
    sim.server_close(s, 1006);
    sim.take_actions();
    // A check at least once a second while waiting.
    assert_eq!(sim.m.poll_timeout(), Some(sim.now + ms(1000)));
    // One second later, the wall clock agrees: nothing happens.
    sim.now = sim.now + ms(1000);
    sim.m.handle_wall_clock(sim.now, 1_001_000.0);
    sim.m.handle_timeout(sim.now);
    sim.drain();
    assert!(sim.take_actions().is_empty());
    // The machine slept 2 minutes: the wall clock jumps, the monotonic one not.
    sim.now = sim.now + ms(1000);
    sim.m.handle_wall_clock(sim.now, 1_122_000.0);
    sim.drain();
    assert!(
        sim.take_actions()
            .iter()
            .any(|a| matches!(a, Action::Connect { .. })),
        "an attempt at once"
    );
}

#[test]
fn a_small_wall_clock_drift_is_not_a_sleep() {
    let mut config = exact();
    config.min_reconnection_delay = ms(60_000);
    config.max_reconnection_delay = ms(60_000);
    let mut sim = Sim::new(config);
    let s = sim.connect_and_open();
    sim.m.handle_wall_clock(sim.now, 0.0);
    sim.server_close(s, 1006);
    sim.take_actions();
    sim.now = sim.now + ms(1000);
    sim.m.handle_wall_clock(sim.now, 5_999.0); // 4.999 s ahead: drift, not sleep
    sim.drain();
    assert!(sim.take_actions().is_empty());
}

// ----- the connection hook (onConnect) ---------------------------------------------

#[test]
fn with_a_hook_the_queue_flushes_and_open_fires_only_once_the_hook_succeeds() {
    let mut sim = Sim::new(hb_config(1000, 500));
    let s = sim.expect_connect();
    let _ = sim.send("queued");
    sim.take_events();
    sim.m.handle_open_with_hook(sim.now, s);
    sim.drain();
    assert_eq!(sim.m.ready_state(), ReadyState::Connecting);
    assert!(
        sent_texts(&sim.take_actions(), s).is_empty(),
        "no flush yet"
    );
    assert!(sim.take_events().is_empty(), "no open yet");
    // Sends during the hook queue; messages still come out (the driver routes them).
    assert_eq!(sim.send("during"), SendOutcome::Queued);
    assert_eq!(
        sim.receive(s, "auth-challenge"),
        Some(Message::from("auth-challenge"))
    );
    // The heartbeat already runs.
    sim.advance(ms(1000));
    assert_eq!(heartbeats(&sim.take_actions()), 1);
    sim.m.handle_hook_done(sim.now, s, Ok(()));
    sim.drain();
    assert_eq!(sent_texts(&sim.take_actions(), s), ["queued", "during"]);
    assert_eq!(sim.take_events(), [Event::Open]);
    assert_eq!(sim.m.ready_state(), ReadyState::Open);
}

#[test]
fn a_failing_hook_is_a_failed_attempt_that_keeps_the_queue_and_the_retry_count() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    let _ = sim.send("kept");
    sim.take_events();
    sim.m.handle_open_with_hook(sim.now, s);
    sim.m
        .handle_hook_done(sim.now, s, Err("rejected: bad token".into()));
    sim.drain();
    assert!(sim.take_actions().contains(&Action::Abandon {
        socket: s,
        code: Some(1000),
        reason: "onConnect failed".into()
    }));
    let events = sim.take_events();
    assert!(matches!(&events[0], Event::Error(ErrorKind::Hook(m)) if m.contains("bad token")));
    assert!(matches!(
        &events[1],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::Hook,
            ..
        })
    ));
    assert!(matches!(events[2], Event::Reconnecting { attempt: 1, .. }));
    assert_eq!(sim.m.queued_messages(), 1);
    // The next connection's hook succeeds: the queue goes out then.
    sim.next_timeout();
    let s2 = sim.expect_connect();
    sim.m.handle_open_with_hook(sim.now, s2);
    sim.m.handle_hook_done(sim.now, s2, Ok(()));
    sim.drain();
    assert_eq!(sent_texts(&sim.take_actions(), s2), ["kept"]);
    assert_eq!(sim.m.retry_count(), 1, "not reset until min_uptime");
}

#[test]
fn a_hook_that_never_settles_fails_after_connection_timeout() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.advance(ms(100));
    sim.m.handle_open_with_hook(sim.now, s);
    sim.take_events();
    let opened = sim.now;
    sim.next_timeout();
    assert_eq!(sim.now, opened + exact().connection_timeout);
    let events = sim.take_events();
    assert!(matches!(&events[0], Event::Error(ErrorKind::Hook(_))));
    // A late settle of the abandoned hook changes nothing.
    sim.m.handle_hook_done(sim.now, s, Ok(()));
    sim.drain();
    assert!(!sim.take_events().contains(&Event::Open));
}

#[test]
fn the_server_dropping_during_the_hook_is_an_ordinary_lost_connection() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.m.handle_open_with_hook(sim.now, s);
    sim.take_events();
    sim.server_close(s, 1006);
    let events = sim.take_events();
    assert!(matches!(
        &events[0],
        Event::Close(CloseInfo {
            code: 1006,
            closer: Closer::Remote,
            ..
        })
    ));
    assert!(matches!(events[1], Event::Reconnecting { .. }));
    sim.m.handle_hook_done(sim.now, s, Ok(()));
    sim.drain();
    assert!(
        sim.take_events().is_empty(),
        "the old hook's result is ignored"
    );
}

#[test]
fn close_during_the_hook_is_a_close_while_connecting() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    sim.m.handle_open_with_hook(sim.now, s);
    sim.take_events();
    sim.m.close(sim.now, Some(1000), "").unwrap();
    sim.advance(ms(0));
    assert_eq!(
        sim.take_events(),
        [
            Event::Error(ErrorKind::Aborted),
            Event::Close(CloseInfo {
                code: 1006,
                reason: String::new(),
                was_clean: false,
                closer: Closer::User
            }),
            Event::Stop(StopReason::Close)
        ]
    );
}

#[test]
fn the_wall_clock_counts_as_a_sleep_only_beyond_five_seconds_ahead_of_the_monotonic_one() {
    let mut config = exact();
    config.min_reconnection_delay = ms(600_000);
    config.max_reconnection_delay = ms(600_000);
    let mut sim = Sim::new(config);
    let s = sim.connect_and_open();
    sim.m.handle_wall_clock(sim.now, 0.0);
    sim.server_close(s, 1006);
    sim.take_actions();
    // 10 s of monotonic time, 14 s of wall time: 4 s of drift, no sleep.
    sim.now = sim.now + ms(10_000);
    sim.m.handle_wall_clock(sim.now, 14_000.0);
    sim.drain();
    assert!(sim.take_actions().is_empty());
    // Exactly 5 s ahead is still not a sleep.
    sim.now = sim.now + ms(1000);
    sim.m.handle_wall_clock(sim.now, 20_000.0);
    sim.drain();
    assert!(sim.take_actions().is_empty());
    // A hair more is.
    sim.now = sim.now + ms(1000);
    sim.m.handle_wall_clock(sim.now, 26_001.0);
    sim.drain();
    assert!(sim
        .take_actions()
        .iter()
        .any(|a| matches!(a, Action::Connect { .. })));
}

#[test]
fn the_clock_check_also_runs_while_open_with_a_heartbeat_but_not_without() {
    let mut sim = Sim::new(hb_config(10_000, 5_000));
    sim.connect_and_open();
    sim.m.handle_wall_clock(sim.now, 0.0);
    assert_eq!(sim.m.poll_timeout(), Some(sim.now + ms(1000)));
    let mut sim = Sim::new(exact());
    sim.connect_and_open();
    sim.m.handle_wall_clock(sim.now, 0.0);
    assert_ne!(sim.m.poll_timeout(), Some(sim.now + ms(1000)));
}

#[test]
fn hook_socket_names_the_connection_whose_hook_runs() {
    let mut sim = Sim::new(exact());
    let s = sim.expect_connect();
    assert_eq!(sim.m.hook_socket(), None);
    sim.m.handle_open_with_hook(sim.now, s);
    assert_eq!(sim.m.hook_socket(), Some(s));
    sim.m.handle_hook_done(sim.now, s, Ok(()));
    assert_eq!(sim.m.hook_socket(), None);
    assert_eq!(sim.m.live_socket(), Some(s));
}
