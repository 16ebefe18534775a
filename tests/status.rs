//! `Status`: the status-line state UIs keep, built from lifecycle events.
use std::time::Duration;

use steadysocket::machine::{CloseInfo, Closer, ErrorKind};
use steadysocket::{Event, ReadyState, Status, StopReason};

#[test]
fn a_reconnect_as_a_status_line_shows_it() {
    let mut s = Status::default();
    assert_eq!((s.phase(), s.attempt), ("connecting", 0));
    s.apply(&Event::Open, ReadyState::Open, 0);
    assert!(s.is_open());
    let close = CloseInfo {
        code: 1006,
        reason: String::new(),
        was_clean: false,
        closer: Closer::Remote,
    };
    s.apply(&Event::Close(close), ReadyState::Connecting, 0);
    s.apply(
        &Event::Reconnecting {
            attempt: 1,
            delay: Duration::from_secs(1),
            code: 1006,
            reason: String::new(),
        },
        ReadyState::Connecting,
        2,
    );
    assert_eq!(s.phase(), "reconnecting");
    assert_eq!(s.next_retry, Some(Duration::from_secs(1)));
    assert_eq!(s.queued, 2);
    s.apply(&Event::Error(ErrorKind::Socket), ReadyState::Connecting, 2);
    assert!(s.error.is_some());
    s.apply(&Event::Connecting { attempt: 1 }, ReadyState::Connecting, 2);
    assert_eq!(s.next_retry, None);
    s.apply(&Event::Open, ReadyState::Open, 0);
    assert_eq!((s.phase(), s.error.clone(), s.queued), ("open", None, 0));
    s.apply(
        &Event::Heartbeat {
            rtt: Duration::from_millis(12),
        },
        ReadyState::Open,
        0,
    );
    assert_eq!(s.rtt, Some(Duration::from_millis(12)));
    assert!(s.snapshot(ReadyState::Open, 1));
    assert!(!s.snapshot(ReadyState::Open, 1));
    s.apply(&Event::Stop(StopReason::MaxRetries), ReadyState::Closed, 1);
    assert_eq!(
        (s.phase(), s.stopped),
        ("closed", Some(StopReason::MaxRetries))
    );
    let failed = Status::failed("no".into());
    assert_eq!(
        (failed.phase(), failed.error.as_deref()),
        ("closed", Some("no"))
    );
}
