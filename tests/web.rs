//! The browser glue, tested in headless Chromium against the fault-injecting server
//! (`tests/support/fault-server.mjs`). Behaviour is proven in the core's virtual-time
//! tests; these check that the driver wires it to real sockets, timers and events.
#![cfg(target_arch = "wasm32")]

mod browser;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use browser::{sleep, until, within, Recorder, Server};
use futures::{SinkExt, StreamExt};
use steadysocket::machine::{Closer, ErrorKind, ReadyState};
use steadysocket::{CloseInfo, Config, Error, Event, Item, Message, SendError, Socket, StopReason};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Short, exact timings so faults play out in tens of milliseconds.
fn fast() -> Config {
    let mut c = Config::default();
    c.min_reconnection_delay = ms(50);
    c.max_reconnection_delay = ms(200);
    c.reconnection_jitter = 0.0;
    c.connection_timeout = ms(1500);
    c.min_uptime = ms(500);
    c.close_timeout = ms(500);
    c
}

fn connect(url: &str, config: Config) -> Socket {
    Socket::builder(url)
        .config(config)
        .connect()
        .expect("valid")
}

async fn next_message(socket: &mut Socket) -> Message {
    within(3000, socket.next())
        .await
        .expect("a message within 3 s")
        .expect("the stream has not ended")
}

fn is_open(e: &Event) -> bool {
    matches!(e, Event::Open)
}

// ----- echo ---------------------------------------------------------------------

#[wasm_bindgen_test]
async fn text_and_binary_round_trip_through_the_echo_server() {
    let server = Server::new("").await;
    let mut socket = connect(&server.url, fast());
    within(3000, socket.opened())
        .await
        .expect("opens")
        .expect("no stop");
    assert_eq!(socket.ready_state(), ReadyState::Open);
    socket.send("hello, world").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::from("hello, world")
    );
    let bytes: Vec<u8> = (0..=255).collect();
    socket.send(bytes.clone()).unwrap();
    assert_eq!(next_message(&mut socket).await, Message::Binary(bytes));
    socket.send("é ✓ 😀").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("é ✓ 😀"));
    server.delete().await;
}

#[wasm_bindgen_test]
async fn messages_sent_before_the_first_open_are_queued_and_flushed_in_order() {
    let server = Server::new("").await;
    let mut socket = connect(&server.url, fast());
    for i in 0..5 {
        socket.send(format!("m{i}")).unwrap();
    }
    assert_eq!(socket.queued(), 5);
    for i in 0..5 {
        assert_eq!(
            next_message(&mut socket).await,
            Message::from(format!("m{i}"))
        );
    }
    assert_eq!(
        server.received_texts(0).await,
        ["m0", "m1", "m2", "m3", "m4"]
    );
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_closed_port_reports_an_error_instead_of_hanging() {
    let server = Server::new("").await;
    server.ctl("stop").await; // the port now refuses connections
    let mut config = fast();
    config.max_retries = Some(0);
    let mut socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    // The message stream ends once the socket gives up.
    assert_eq!(within(5000, socket.next()).await, Some(None), "stream ends");
    rec.wait_for(1000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    let events = rec.events();
    assert!(
        events.contains(&Event::Error(ErrorKind::Socket)),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Close(c) if c.code == 1006)));
    assert_eq!(events.last(), Some(&Event::Stop(StopReason::MaxRetries)));
    assert!(matches!(
        socket.opened().await,
        Err(Error::Stopped(StopReason::MaxRetries))
    ));
    server.delete().await;
}

// ----- reconnect and the queue --------------------------------------------------

#[wasm_bindgen_test]
async fn after_the_server_kills_the_connection_queued_messages_arrive_once_in_order() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    server.ctl("stop").await; // kill + refuse, so the outage lasts
    rec.wait_for(3000, "reconnecting", |e| {
        matches!(e, Event::Reconnecting { .. })
    })
    .await;
    assert_eq!(socket.ready_state(), ReadyState::Connecting);
    for m in ["a", "b", "c"] {
        socket.send(m).unwrap();
    }
    server.ctl("start").await;
    rec.wait_count(5000, 2, "reopen", is_open).await;
    until(3000, "the flush", || socket.queued() == 0).await;
    sleep(100).await;
    assert_eq!(server.all_texts().await, ["a", "b", "c"]);
    let log = server.log().await;
    let last = log["connections"].as_array().unwrap().len() - 1;
    assert_eq!(server.received_texts(last).await, ["a", "b", "c"]);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn an_abrupt_kill_is_followed_by_a_reconnect_on_the_schedule() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    server.ctl("kill").await;
    rec.wait_count(3000, 2, "reopen after kill", is_open).await;
    let events = rec.events();
    let close = events.iter().find_map(|e| match e {
        Event::Close(c) => Some(c.clone()),
        _ => None,
    });
    assert_eq!(
        close.map(|c| (c.code, c.closer)),
        Some((1006, Closer::Remote))
    );
    assert!(events.contains(&Event::Reconnecting {
        attempt: 1,
        delay: ms(50),
        code: 1006,
        reason: String::new()
    }));
    assert_eq!(server.connections().await, 2);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_connect_timeout_on_a_stalled_handshake_is_followed_by_a_connect_to_the_same_port() {
    let server = Server::new("stall=1").await;
    let mut config = fast();
    config.connection_timeout = ms(300);
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    rec.wait_for(2000, "connect timeout", |e| {
        *e == Event::Error(ErrorKind::ConnectTimeout)
    })
    .await;
    server.ctl("mode?stall=0").await;
    // The abandoned handshake was closed, so Chromium lets the next one through
    // at once (it would otherwise block it for 8 s or more).
    within(3000, socket.opened())
        .await
        .expect("opens soon after the stall ends")
        .unwrap();
    assert!(server.handshakes().await >= 2);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_heartbeat_timeout_on_a_muted_server_is_detected_in_time_and_reconnects() {
    let server = Server::new("").await;
    let mut config = fast();
    config.heartbeat_interval = Some(ms(200));
    config.heartbeat_timeout = ms(300);
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    rec.wait_for(2000, "a heartbeat round trip", |e| {
        matches!(e, Event::Heartbeat { .. })
    })
    .await;
    server.ctl("mode?mute=1").await;
    let muted_at = browser::now();
    rec.wait_for(3000, "heartbeat timeout", |e| {
        *e == Event::Error(ErrorKind::HeartbeatTimeout)
    })
    .await;
    let detected = rec
        .time_of(|e| *e == Event::Error(ErrorKind::HeartbeatTimeout))
        .unwrap();
    let took = detected - muted_at;
    assert!(took <= 200.0 + 300.0 + 250.0, "detected after {took} ms");
    let closer = rec.events().into_iter().find_map(|e| match e {
        Event::Close(c) if c.closer == Closer::HeartbeatTimeout => Some(c.code),
        _ => None,
    });
    assert_eq!(closer, Some(1006));
    server.ctl("mode?mute=0").await;
    rec.wait_count(3000, 2, "reopen after the heartbeat timeout", is_open)
        .await;
    server.delete().await;
}

#[wasm_bindgen_test]
async fn pongs_are_filtered_and_other_messages_delivered() {
    let server = Server::new("").await;
    let mut config = fast();
    config.heartbeat_interval = Some(ms(50));
    let mut socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    rec.wait_count(3000, 3, "three heartbeats", |e| {
        matches!(e, Event::Heartbeat { .. })
    })
    .await;
    socket.send("after").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("after"));
    server.delete().await;
}

// ----- close and stop -----------------------------------------------------------

#[wasm_bindgen_test]
async fn close_while_open_is_final() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    socket.close(4000, "done").unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    rec.wait_for(2000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    sleep(300).await;
    assert_eq!(server.handshakes().await, 1, "no reconnect after close()");
    let log = server.log().await;
    assert_eq!(log["connections"][0]["closeCode"], 4000);
    assert_eq!(rec.count(|e| matches!(e, Event::Close(_))), 1);
    // A send after the stop is queued (nothing sends it) until reconnect().
    socket.send("after close").unwrap();
    assert_eq!(socket.queued(), 1);
    sleep(100).await;
    assert_eq!(server.handshakes().await, 1);
    socket.reconnect().unwrap();
    within(3000, socket.opened())
        .await
        .expect("reopens")
        .expect("no stop");
    sleep(100).await;
    assert_eq!(server.received_texts(1).await, ["after close"]);
    assert_eq!(
        socket.drain_queued(),
        Vec::<Message>::new(),
        "delivered, so not queued"
    );
    server.delete().await;
}

#[wasm_bindgen_test]
async fn close_while_connecting_and_during_backoff_is_final() {
    let stalled = Server::new("stall=1").await;
    let socket = connect(&stalled.url, fast());
    let rec = Recorder::start(&socket);
    sleep(100).await;
    socket.close(1000, "").unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    rec.wait_for(1000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    sleep(300).await;
    assert_eq!(stalled.handshakes().await, 1);

    let down = Server::new("reject=503").await;
    let socket = connect(&down.url, fast());
    let rec = Recorder::start(&socket);
    rec.wait_for(2000, "backoff", |e| matches!(e, Event::Reconnecting { .. }))
        .await;
    socket.close(1000, "").unwrap();
    // CLOSING at once, as a browser WebSocket; CLOSED with the stop, a turn later.
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    rec.wait_for(1000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    let seen = down.handshakes().await;
    sleep(400).await;
    assert_eq!(down.handshakes().await, seen, "no attempt after close()");
    assert_eq!(rec.events().last(), Some(&Event::Stop(StopReason::Close)));
    stalled.delete().await;
    down.delete().await;
}

#[wasm_bindgen_test]
async fn close_completes_within_close_timeout_when_the_server_never_answers() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    server.ctl("mode?mute=1").await; // the close frame is never answered
    let t0 = browser::now();
    socket.close(1000, "").unwrap();
    rec.wait_for(3000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    let took = rec.time_of(|e| matches!(e, Event::Stop(_))).unwrap() - t0;
    assert!(took < 500.0 + 250.0, "close took {took} ms");
    server.delete().await;
}

#[wasm_bindgen_test]
async fn max_retries_stops_after_n_plus_one_attempts() {
    let server = Server::new("reject=503").await;
    let mut config = fast();
    config.max_retries = Some(2);
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    rec.wait_for(4000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    sleep(300).await;
    assert_eq!(server.handshakes().await, 3);
    assert_eq!(
        rec.count(|e| matches!(e, Event::Stop(StopReason::MaxRetries))),
        1
    );
    // reconnect() starts again.
    server.ctl("mode?reject=0").await;
    socket.reconnect().unwrap();
    within(3000, socket.opened()).await.unwrap().unwrap();
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_stop_close_code_from_the_server_stops_for_good() {
    let server = Server::new("").await;
    let mut config = fast();
    config.stop_on_close_codes = vec![4001];
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    server.ctl("close?code=4001&reason=banned").await;
    rec.wait_for(2000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    assert!(rec.events().contains(&Event::Close(CloseInfo {
        code: 4001,
        reason: "banned".into(),
        was_clean: true,
        closer: Closer::Remote
    })));
    assert_eq!(
        rec.events().last(),
        Some(&Event::Stop(StopReason::CloseCode))
    );
    sleep(300).await;
    assert_eq!(server.handshakes().await, 1);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn the_should_reconnect_predicate_sees_the_close_and_can_stop() {
    let server = Server::new("").await;
    let socket = Socket::builder(&server.url)
        .config(fast())
        .should_reconnect(|c| c.reason != "go away")
        .connect()
        .unwrap();
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    server.ctl("close?code=4002&reason=later").await;
    rec.wait_count(3000, 2, "reopen", is_open).await;
    server.ctl("close?code=4002&reason=go%20away").await;
    rec.wait_for(2000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    assert_eq!(
        rec.events().last(),
        Some(&Event::Stop(StopReason::CloseCode))
    );
    server.delete().await;
}

#[wasm_bindgen_test]
async fn the_url_provider_is_called_once_per_attempt() {
    let server = Server::new("reject=503").await;
    let calls = Rc::new(Cell::new(0u32));
    let counted = calls.clone();
    let url = server.url.clone();
    let mut config = fast();
    config.max_retries = Some(3);
    let socket = steadysocket::Builder::with_url_fn(move |attempt| {
        assert_eq!(attempt, counted.get(), "attempt numbers count up from 0");
        counted.set(counted.get() + 1);
        format!("{url}/?token={attempt}")
    })
    .config(config)
    .connect()
    .unwrap();
    let rec = Recorder::start(&socket);
    rec.wait_for(5000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    assert_eq!(calls.get(), 4);
    assert_eq!(server.handshakes().await, 4);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_url_provider_may_call_back_into_its_own_socket_and_close_it() {
    let server = Server::new("reject=503").await;
    let url = server.url.clone();
    let me: Rc<std::cell::RefCell<Option<steadysocket::WeakSocket>>> = Rc::default();
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let (inside, log) = (me.clone(), seen.clone());
    let socket = steadysocket::Builder::with_url_fn(move |attempt| {
        if let Some(socket) = inside.borrow().as_ref().and_then(|w| w.upgrade()) {
            log.borrow_mut()
                .push((attempt, socket.retry_count(), socket.ready_state()));
            socket.send("from the provider").unwrap();
            if attempt == 2 {
                socket.close(1000, "").unwrap();
            }
        }
        url.clone()
    })
    .config(fast())
    .connect()
    .unwrap();
    *me.borrow_mut() = Some(socket.downgrade());
    let rec = Recorder::start(&socket);
    rec.wait_for(5000, "stop", |e| matches!(e, Event::Stop(_)))
        .await;
    sleep(300).await;
    assert_eq!(
        *seen.borrow(),
        [
            (1, 1, ReadyState::Connecting),
            (2, 2, ReadyState::Connecting)
        ]
    );
    assert_eq!(
        server.handshakes().await,
        2,
        "the closed attempt is not made"
    );
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn protocols_providers_are_asked_once_per_attempt_and_a_bad_list_fails_the_attempt() {
    let server = Server::new("").await;
    let calls = Rc::new(Cell::new(0u32));
    let counted = calls.clone();
    let mut socket = Socket::builder(&server.url)
        .protocols_fn(move |attempt| {
            counted.set(counted.get() + 1);
            if counted.get() == 1 {
                vec!["dup".into(), "dup".into()] // refused: a failed attempt
            } else {
                vec![format!("v{attempt}")]
            }
        })
        .config(fast())
        .connect()
        .unwrap();
    within(3000, socket.opened())
        .await
        .expect("opens")
        .expect("no stop");
    // The refused list failed attempt 0 (inside connect(), before any reader could
    // see its error); retry 1 was asked again and opened.
    assert_eq!(calls.get(), 2);
    assert_eq!(socket.protocol(), "v1");
    assert_eq!(server.handshakes().await, 1);
    socket.close(1000, "").unwrap();
    let _ = within(1000, socket.next()).await;

    let socket = Socket::builder(&server.url)
        .async_protocols_fn(|attempt| async move { Ok::<_, String>(vec![format!("a{attempt}")]) })
        .config(fast())
        .connect()
        .unwrap();
    within(3000, socket.opened())
        .await
        .expect("opens")
        .expect("no stop");
    assert_eq!(socket.protocol(), "a0");
    server.delete().await;
}

#[wasm_bindgen_test]
async fn an_async_url_provider_that_fails_counts_as_a_failed_attempt() {
    let server = Server::new("").await;
    let url = server.url.clone();
    let socket = steadysocket::Builder::with_async_url(move |attempt| {
        let url = url.clone();
        async move {
            sleep(10).await;
            if attempt == 0 {
                Err("token service down")
            } else {
                Ok(url)
            }
        }
    })
    .config(fast())
    .connect()
    .unwrap();
    let rec = Recorder::start(&socket);
    within(3000, socket.opened()).await.unwrap().unwrap();
    assert!(rec.events().contains(&Event::Error(ErrorKind::Connect(
        "token service down".into()
    ))));
    assert_eq!(server.handshakes().await, 1);
    server.delete().await;
}

// ----- page lifecycle -------------------------------------------------------------

fn fire_on_window(kind: &str) {
    let window = web_sys::window().expect("a window");
    let event = web_sys::Event::new(kind).expect("an event");
    window.dispatch_event(&event).expect("dispatched");
}

/// With a backoff wait far longer than the test, a `kind` event on `target` must
/// start the next attempt at once.
async fn resume_cut_on(target: &web_sys::EventTarget, kind: &str) {
    let server = Server::new("reject=503").await;
    let mut config = fast();
    config.min_reconnection_delay = ms(60_000); // far longer than the test
    config.max_reconnection_delay = ms(60_000);
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    rec.wait_for(2000, "backoff", |e| matches!(e, Event::Reconnecting { .. }))
        .await;
    server.ctl("mode?reject=0").await;
    let event = web_sys::Event::new(kind).expect("an event");
    target.dispatch_event(&event).expect("dispatched");
    within(2000, socket.opened())
        .await
        .unwrap_or_else(|| panic!("`{kind}` did not start the next attempt"))
        .unwrap();
    socket.close(1000, "").unwrap();
    server.delete().await;
}

#[wasm_bindgen_test]
async fn online_and_pageshow_cut_a_long_backoff_wait_short() {
    let window = web_sys::window().expect("a window");
    for kind in ["online", "pageshow"] {
        resume_cut_on(&window, kind).await;
    }
}

#[wasm_bindgen_test]
async fn visibilitychange_to_visible_and_resume_cut_a_long_backoff_wait_short() {
    let document = web_sys::window()
        .expect("a window")
        .document()
        .expect("a document");
    // A headless page is visible: its `visibilitychange` is the one to a visible page.
    assert_eq!(
        document.visibility_state(),
        web_sys::VisibilityState::Visible
    );
    for kind in ["visibilitychange", "resume"] {
        resume_cut_on(&document, kind).await;
    }
}

#[wasm_bindgen_test]
async fn resuming_probes_an_open_connection_with_a_heartbeat_at_once() {
    let server = Server::new("").await;
    let mut config = fast();
    config.heartbeat_interval = Some(ms(60_000)); // no ping on its own in this test
    let socket = connect(&server.url, config);
    let rec = Recorder::start(&socket);
    socket.opened().await.unwrap();
    fire_on_window("online");
    rec.wait_for(2000, "the probe's round trip", |e| {
        matches!(e, Event::Heartbeat { .. })
    })
    .await;
    assert_eq!(server.received_texts(0).await, ["ping"]);
    socket.close(1000, "").unwrap();
    server.delete().await;
}

// ----- typed JSON, Sink, drop ---------------------------------------------------

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Chat {
    from: String,
    text: String,
}

#[wasm_bindgen_test]
async fn typed_json_round_trips_and_a_malformed_message_is_an_error_item() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let mut chats = socket.json::<Chat>();
    let hi = Chat {
        from: "ann".into(),
        text: "hi".into(),
    };
    socket.send_json(&hi).unwrap();
    socket.send("{not json").unwrap();
    socket.send(r#"{"from":"bob","text":"yo"}"#).unwrap();
    let first = within(3000, chats.next()).await.unwrap().unwrap();
    assert_eq!(first, Ok(hi));
    let second = within(3000, chats.next()).await.unwrap().unwrap();
    assert!(matches!(second, Err(Error::Json(_))), "{second:?}");
    let third = within(3000, chats.next()).await.unwrap().unwrap();
    assert_eq!(third.unwrap().from, "bob", "the stream goes on");
    server.delete().await;
}

#[wasm_bindgen_test]
async fn the_sink_waits_while_the_queue_is_full_and_flushes_on_open() {
    let server = Server::new("").await;
    server.ctl("stop").await;
    let mut config = fast();
    config.max_enqueued_messages = 2;
    let socket = connect(&server.url, config);
    let (mut tx, _rx) = socket.clone().split();
    tx.feed(Message::from("1")).await.unwrap();
    tx.feed(Message::from("2")).await.unwrap();
    assert_eq!(socket.queued(), 2);
    // The third must wait for room: it is pending while the server is down.
    let third = within(300, tx.send(Message::from("3"))).await;
    assert!(
        third.is_none(),
        "the sink should not be ready while the queue is full"
    );
    assert!(matches!(socket.send("4"), Err(SendError::QueueFull(_))));
    server.ctl("start").await;
    within(3000, tx.send(Message::from("3")))
        .await
        .unwrap()
        .unwrap();
    within(3000, tx.flush()).await.unwrap().unwrap();
    sleep(100).await;
    assert_eq!(server.all_texts().await, ["1", "2", "3"]);
    within(2000, tx.close()).await.unwrap().unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn dropping_the_last_handle_closes_with_1000() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    socket.opened().await.unwrap();
    let clone = socket.clone();
    drop(socket);
    sleep(200).await;
    assert!(
        server.log().await["connections"][0]["closedAt"].is_null(),
        "a remaining handle keeps the socket"
    );
    // Views (events, messages, json) do not keep it alive, and end with it.
    let mut events = clone.events();
    let mut messages = clone.messages();
    let mut chats = clone.json::<Chat>();
    drop(clone);
    assert_eq!(within(2000, events.next()).await, Some(None), "events end");
    assert_eq!(
        within(2000, messages.next()).await,
        Some(None),
        "messages end"
    );
    assert!(
        within(2000, chats.next()).await.unwrap().is_none(),
        "json ends"
    );
    assert_eq!(server.close_code(0).await, 1000);
    sleep(300).await;
    assert_eq!(server.handshakes().await, 1, "no reconnect after drop");
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_weak_socket_upgrades_only_while_a_handle_lives_and_does_not_keep_it_open() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    socket.opened().await.unwrap();
    let weak = socket.downgrade();
    assert_eq!(
        weak.upgrade().map(|s| s.ready_state()),
        Some(ReadyState::Open)
    );
    drop(socket);
    assert!(weak.upgrade().is_none());
    assert_eq!(server.close_code(0).await, 1000);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_reader_task_blocked_on_a_view_is_woken_and_ends_when_the_socket_is_dropped() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    socket.opened().await.unwrap();
    let ended = Rc::new(Cell::new(false));
    let flag = ended.clone();
    let mut events = socket.events();
    wasm_bindgen_futures::spawn_local(async move {
        while events.next().await.is_some() {}
        flag.set(true);
    });
    sleep(50).await;
    assert!(!ended.get());
    drop(socket);
    until(1000, "the reader task to end", || ended.get()).await;
    server.delete().await;
}

// ----- bad input ----------------------------------------------------------------

#[wasm_bindgen_test]
fn bad_urls_protocols_and_close_arguments_are_errors_not_panics() {
    for url in [
        "ws://[bad",
        "ftp://example.com",
        "ws://127.0.0.1:1/#frag",
        "ws://",
    ] {
        let err = Socket::connect(url).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err:?}");
    }
    for protocols in [vec!["a b"], vec!["x", "x"], vec![""]] {
        let err = Socket::builder("ws://127.0.0.1:1")
            .protocols(protocols)
            .connect()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidProtocol { .. }));
    }
    let mut config = Config::default();
    config.reconnection_delay_grow_factor = 0.5;
    assert!(matches!(
        Socket::builder("ws://127.0.0.1:1").config(config).connect(),
        Err(Error::Config(_))
    ));
    let mut c = Config::default();
    c.start_closed = true;
    let socket = Socket::builder("ws://127.0.0.1:1")
        .config(c)
        .connect()
        .unwrap();
    assert!(matches!(socket.close(1001, ""), Err(Error::Close(_))));
    assert!(matches!(
        socket.close(1000, &"x".repeat(124)),
        Err(Error::Close(_))
    ));
    // http(s) and relative URLs are accepted, as browsers do.
    assert!(Socket::builder("http://127.0.0.1:1/x")
        .config(c_closed())
        .connect()
        .is_ok());
    assert!(Socket::builder("/relative")
        .config(c_closed())
        .connect()
        .is_ok());
}

fn c_closed() -> Config {
    let mut c = Config::default();
    c.start_closed = true;
    c
}

// ----- leaks --------------------------------------------------------------------

#[wasm_bindgen_test]
async fn hundreds_of_reconnect_cycles_leave_wasm_memory_flat() {
    use wasm_bindgen::JsCast;
    let server = Server::new("closeOnOpen=4000&record=0").await;
    let mut config = fast();
    config.min_reconnection_delay = ms(0);
    config.max_reconnection_delay = ms(0);
    let socket = connect(&server.url, config);
    // Count opens without keeping the events (a growing log would be the leak).
    let opens = Rc::new(Cell::new(0u32));
    let counter = opens.clone();
    let mut events = socket.events();
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(e) = events.next().await {
            if is_open(&e) {
                counter.set(counter.get() + 1);
            }
        }
    });
    let memory = || {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length()
    };
    until(30_000, "100 cycles", || opens.get() >= 100).await;
    let at_100 = memory();
    until(60_000, "500 cycles", || opens.get() >= 500).await;
    let at_500 = memory();
    assert!(
        at_500 <= at_100,
        "wasm memory grew from {at_100} to {at_500} bytes between cycles 100 and 500"
    );
    socket.close(1000, "").unwrap();
    server.delete().await;
}

// ----- the Rust API's streams and sink --------------------------------------------

#[wasm_bindgen_test]
async fn every_reader_gets_every_message_clones_and_views_alike() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast());
    let mut a = socket.clone();
    let mut b = socket.clone();
    let mut view = socket.messages();
    socket.opened().await.unwrap();
    for text in ["one", "two", "three"] {
        socket.send(text).unwrap();
    }
    for reader in [&mut a, &mut b] {
        for text in ["one", "two", "three"] {
            assert_eq!(next_message(reader).await, Message::from(text));
        }
    }
    for text in ["one", "two", "three"] {
        let got = within(3000, view.next()).await.flatten();
        assert_eq!(got, Some(Message::from(text)));
    }
    server.delete().await;
}

#[wasm_bindgen_test]
async fn a_reader_that_falls_behind_loses_the_oldest_and_is_told_how_many() {
    let server = Server::new("").await;
    let socket = connect(&server.url, fast().with_max_unread(4));
    let mut items = socket.items();
    socket.opened().await.unwrap();
    for n in 0..10 {
        socket.send(format!("m{n}")).unwrap();
    }
    // Wait until all ten echoes arrived, without reading `items`.
    let mut all = socket.messages();
    for _ in 0..10 {
        within(3000, all.next()).await.expect("an echo");
    }
    let mut got = Vec::new();
    while let Some(Some(item)) = within(200, items.next()).await {
        got.push(item);
    }
    // `items` began before Open: Open + 10 messages = 11 items, of which 4 are kept.
    assert_eq!(
        got,
        [
            Item::Event(Event::Lagged { missed: 7 }),
            Item::Message(Message::from("m6")),
            Item::Message(Message::from("m7")),
            Item::Message(Message::from("m8")),
            Item::Message(Message::from("m9")),
        ]
    );
    server.delete().await;
}

#[wasm_bindgen_test]
async fn views_outlive_a_stop_and_a_reconnect_and_the_sockets_own_stream_is_fused() {
    let server = Server::new("").await;
    let mut socket = connect(&server.url, fast());
    let mut items = socket.items();
    let mut messages = socket.messages();
    socket.opened().await.unwrap();
    socket.send("before").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("before"));
    socket.close(1000, "").unwrap();
    // The Socket's own stream ends at the stop...
    assert_eq!(within(2000, socket.next()).await, Some(None));
    socket.reconnect().unwrap();
    socket.opened().await.unwrap();
    socket.send("after").unwrap();
    // ...and stays ended (fused); the views go on.
    assert_eq!(within(300, socket.next()).await, Some(None));
    let mut seen = Vec::new();
    while let Some(Some(m)) = within(1000, messages.next()).await {
        seen.push(m);
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, [Message::from("before"), Message::from("after")]);
    // In `items()` the stop is one item in order, not the end.
    let mut kinds = Vec::new();
    while let Some(Some(item)) = within(300, items.next()).await {
        kinds.push(match item {
            Item::Message(m) => m.as_text().unwrap_or("?").to_owned(),
            Item::Event(Event::Open) => "open".into(),
            Item::Event(Event::Stop(_)) => "stop".into(),
            Item::Event(Event::Close(_)) => "close".into(),
            _ => continue,
        });
    }
    assert_eq!(
        kinds,
        ["open", "before", "close", "stop", "open", "after"],
        "{kinds:?}"
    );
    // A select over two views keeps working across the stop (the examples' shape).
    let mut both = Box::pin(futures::stream::select(
        socket
            .messages()
            .map(|m| format!("m:{}", m.as_text().unwrap_or(""))),
        socket
            .events()
            .filter_map(|e| async move { matches!(e, Event::Open).then(|| "open".to_owned()) }),
    ));
    socket.close(1000, "").unwrap();
    socket.reconnect().unwrap();
    socket.opened().await.unwrap();
    socket.send("third").unwrap();
    let mut got = Vec::new();
    while let Some(Some(x)) = within(1000, both.next()).await {
        got.push(x);
        if got.len() == 2 {
            break;
        }
    }
    assert_eq!(got, ["open", "m:third"]);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn the_sink_waits_while_the_browser_holds_the_high_water_mark_unsent() {
    let server = Server::new("echo=0&record=0").await;
    let socket = connect(&server.url, fast().with_send_high_water(256 * 1024));
    socket.opened().await.unwrap();
    server.ctl("pause").await; // the server stops reading
    let (mut tx, _rx) = socket.clone().split();
    let chunk = vec![7u8; 64 * 1024];
    let mut accepted = 0u32;
    // 400 × 64 KiB = 25 MiB: far more than the kernel buffers hold.
    while accepted < 400 {
        match within(500, tx.feed(Message::Binary(chunk.clone()))).await {
            Some(result) => result.unwrap(),
            None => break, // waiting: backpressure
        }
        accepted += 1;
    }
    assert!(accepted < 400, "the sink never waited");
    assert!(
        socket.buffered_amount() < 256 * 1024 + 64 * 1024,
        "{} bytes held by the browser",
        socket.buffered_amount()
    );
    socket.close(1000, "").unwrap();
    server.delete().await;
}

#[wasm_bindgen_test]
async fn errors_hand_the_message_back_and_flush_reports_discarded_messages() {
    let server = Server::new("").await;
    let config = fast().with_start_closed(true).with_max_enqueued_messages(2);
    let socket = connect(&server.url, config);
    socket.send("a").unwrap();
    let (mut tx, _rx) = socket.clone().split();
    tx.feed(Message::from("b")).await.unwrap();
    assert_eq!(
        socket.send_json(&"c"),
        Err(Error::QueueFull(Message::from("\"c\"")))
    );
    // The queue is taken back before anything was sent: flush says so.
    assert_eq!(socket.drain_queued().len(), 2);
    assert_eq!(tx.flush().await, Err(Error::Discarded));
    // A later send that goes out flushes fine.
    tx.feed(Message::from("d")).await.unwrap();
    socket.reconnect().unwrap();
    assert_eq!(within(3000, tx.flush()).await, Some(Ok(())));
    server.delete().await;
}

#[wasm_bindgen_test]
async fn opened_does_not_keep_the_socket_alive() {
    let server = Server::new("stall=1").await;
    let socket = connect(&server.url, fast());
    let opened = socket.opened();
    drop(socket);
    assert_eq!(
        within(1000, opened).await,
        Some(Err(Error::Stopped(StopReason::Close)))
    );
    server.delete().await;
}

// ----- the connection hook ----------------------------------------------------------

#[wasm_bindgen_test]
async fn on_connect_authenticates_before_the_queue_flushes_and_a_rejection_is_a_failed_attempt() {
    let server = Server::new("auth=secret&echo=0").await;
    let tokens = Rc::new(Cell::new(0u32));
    let used = tokens.clone();
    let socket = Socket::builder(&server.url)
        .config(fast())
        .on_connect(move |conn: steadysocket::Handshake| {
            used.set(used.get() + 1);
            async move {
                let token = if conn.attempt() == 0 {
                    "wrong"
                } else {
                    "secret"
                };
                conn.send(format!("auth {token}"))
                    .map_err(|e| e.to_string())?;
                match conn.next().await {
                    Some(Message::Text(ok)) if ok == "ok" => Ok(()),
                    other => Err(format!("auth failed: {other:?}")),
                }
            }
        })
        .connect()
        .unwrap();
    let rec = Recorder::start(&socket);
    socket.send("queued").unwrap();
    within(5000, socket.opened())
        .await
        .expect("opens")
        .expect("no stop");
    sleep(100).await;
    assert_eq!(tokens.get(), 2);
    assert_eq!(server.received_texts(0).await, ["auth wrong"]);
    assert_eq!(server.received_texts(1).await, ["auth secret", "queued"]);
    let events = rec.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Error(ErrorKind::Hook(m)) if m.contains("denied"))),
        "{events:?}"
    );
    assert_eq!(socket.retry_count(), 1);
    server.delete().await;
}

#[wasm_bindgen_test]
async fn messages_the_hook_left_unread_come_right_after_open() {
    let server = Server::new("sendOnOpen=hello").await;
    let mut socket = Socket::builder(&server.url)
        .config(fast())
        .on_connect(|conn: steadysocket::Handshake| async move {
            let first = conn.next().await; // "hello": read by the hook
            conn.send("one").map_err(|e| e.to_string())?; // echoed while the hook runs
            sleep(100).await;
            if first == Some(Message::from("hello")) {
                Ok(())
            } else {
                Err("no hello".to_owned())
            }
        })
        .connect()
        .unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("one"));
    socket.send("two").unwrap();
    assert_eq!(next_message(&mut socket).await, Message::from("two"));
    server.delete().await;
}

#[wasm_bindgen_test]
async fn send_tracked_resolves_once_handed_over_and_hands_the_message_back_when_not() {
    use steadysocket::{QueueOverflow, SendOptions};
    let server = Server::new("").await;
    let config = fast()
        .with_start_closed(true)
        .with_max_enqueued_messages(1)
        .with_queue_overflow(QueueOverflow::DropOldest);
    let socket = connect(&server.url, config);
    let dropped = socket.send_tracked("first", SendOptions::default());
    let expiring = socket.send_tracked("second", SendOptions::ttl(ms(50))); // drops "first"
    assert_eq!(
        dropped.await,
        Err(SendError::Dropped(Message::from("first")))
    );
    assert_eq!(
        within(1000, expiring).await,
        Some(Err(SendError::Expired(Message::from("second"))))
    );
    let cleared = socket.send_tracked("third", SendOptions::default());
    assert_eq!(socket.drain_queued(), [Message::from("third")]);
    assert_eq!(
        cleared.await,
        Err(SendError::Dropped(Message::from("third")))
    );
    let queued = socket.send_tracked("fourth", SendOptions::default());
    socket.reconnect().unwrap();
    assert_eq!(within(3000, queued).await, Some(Ok(())));
    assert_eq!(
        socket.send_tracked("live", SendOptions::default()).await,
        Ok(())
    );
    socket.close(1000, "").unwrap();
    let _ = within(1000, socket.opened()).await;
    assert_eq!(
        socket.send_tracked("late", SendOptions::default()).await,
        Err(SendError::Closed(Message::from("late")))
    );
    server.delete().await;
}

// ----- share --------------------------------------------------------------------

#[wasm_bindgen_test]
async fn two_shared_sockets_use_one_connection_and_the_follower_takes_over() {
    let server = Server::new("").await;
    let name = format!("rust-{}", js_sys::Math::random());
    let shared = |config| {
        Socket::builder(&server.url)
            .config(config)
            .share(name.clone())
            .connect()
            .expect("valid")
    };
    let leader = shared(fast());
    leader.opened().await.unwrap();
    let mut follower = shared(fast());
    let rec = Recorder::start(&follower);
    within(3000, follower.opened())
        .await
        .expect("the follower opens")
        .unwrap();
    assert_eq!(follower.ready_state(), ReadyState::Open);
    assert_eq!(
        server.handshakes().await,
        1,
        "one connection for two sockets"
    );

    // The follower's sends go out through the leader's connection, in order; the
    // echoes reach both.
    for m in ["a", "b", "c"] {
        follower.send(m).unwrap();
    }
    follower.send(Message::Binary(vec![1, 2, 3])).unwrap();
    for want in ["a", "b", "c"] {
        assert_eq!(
            next_message(&mut follower).await,
            Message::Text(want.into())
        );
    }
    assert_eq!(
        next_message(&mut follower).await,
        Message::Binary(vec![1, 2, 3])
    );
    until(3000, "nothing held", || follower.queued() == 0).await;
    assert_eq!(server.all_texts().await, ["a", "b", "c"]);

    // The leader closes: the follower leads and reconnects, as a reconnect looks.
    leader.close(1000, "bye").unwrap();
    rec.wait_count(3000, 2, "reopen", is_open).await;
    let events = rec.events();
    let at = events
        .iter()
        .position(|e| matches!(e, Event::Close(c) if c.code == 1006 && c.reason == "leader left"))
        .expect("close 1006 \"leader left\"");
    assert!(matches!(
        events.get(at + 1),
        Some(Event::Reconnecting { .. })
    ));
    follower.send("after").unwrap();
    assert_eq!(
        next_message(&mut follower).await,
        Message::Text("after".into())
    );
    assert_eq!(server.handshakes().await, 2);
    server.delete().await;
}
