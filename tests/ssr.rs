//! The Rust API where there is no browser (server-side rendering, native tests).
//!
//! The first part is component code as an app shares it between the browser and the
//! server: it names every public method and type of the browser API. It is compiled
//! for both targets (`cargo test` here; `cargo clippy --all-targets --target
//! wasm32-unknown-unknown` for the browser), so the host API cannot drift from the
//! browser's. The tests at the end run on the host: what the API does there.

use std::future::Future;
use std::time::Duration;

use futures::{SinkExt, Stream, StreamExt};
use steadysocket::{
    Builder, CloseInfo, Config, Error, Event, Events, Handshake, HandshakeNext, Item, Items, Json,
    Message, Messages, OpenedFuture, ReadyState, SendError, SendOptions, Sender, Socket, Tracked,
    WeakSocket,
};

fn stream<S: Stream<Item = T> + Unpin, T>(_: &S) {}
fn future<F: Future<Output = T>, T>(_: &F) {}

/// What a chat component's body does with a socket, on either target.
#[allow(dead_code)]
async fn component(socket: Socket) -> Result<(), Error> {
    let _: Result<(), SendError<Message>> = socket.send("hello");
    socket.send_json(&["a", "b"])?;
    let _: ReadyState = socket.ready_state();
    let _: (u32, usize, u64) = (
        socket.retry_count(),
        socket.queued(),
        socket.buffered_amount(),
    );
    let _: (String, String, String) = (socket.url(), socket.protocol(), socket.extensions());
    let tracked: Tracked = socket.send_tracked("x", SendOptions::ttl(Duration::from_secs(1)));
    future::<_, Result<(), SendError<Message>>>(&tracked);
    let opened: OpenedFuture = socket.opened();
    future::<_, Result<(), Error>>(&opened);
    let items: Items = socket.items();
    stream::<_, Item>(&items);
    let events: Events = socket.events();
    stream::<_, Event>(&events);
    let messages: Messages = socket.messages();
    stream::<_, Message>(&messages);
    let json: Json<Vec<String>> = socket.json();
    stream::<_, Result<Vec<String>, Error>>(&json);
    let weak: WeakSocket = socket.downgrade();
    let _: Option<Socket> = weak.upgrade();
    let _: Vec<Message> = socket.drain_queued();
    socket.reconnect()?;
    socket.reconnect_with(4000, "again")?;
    socket.close(1000, "bye")?;
    let (mut tx, mut rx): (Sender, Socket) = socket.clone().split();
    let _: &Socket = tx.socket();
    tx.send(Message::from("via the sink")).await?;
    let _: Option<Message> = rx.next().await;
    let mut socket = socket;
    SinkExt::send(&mut socket, Message::from("socket sink")).await?;
    Ok(())
}

#[allow(dead_code)]
async fn hook(conn: Handshake) -> Result<(), String> {
    let _: (u32, &str) = (conn.attempt(), conn.protocol());
    conn.send("auth").map_err(|e| e.to_string())?;
    let next: HandshakeNext = conn.next();
    let _: Option<Message> = next.await;
    let _: usize = conn.clear_queue();
    Ok(())
}

/// Every builder call, as the browser takes them.
#[allow(dead_code)] // used by the host tests only
fn builder() -> Builder {
    Socket::builder("/chat")
        .protocols(["v1.json"])
        .config(Config::default().with_heartbeat_interval(Some(Duration::from_secs(15))))
        .should_reconnect(|close: &CloseInfo| close.code != 4401)
        .on_connect(hook)
        .share("chat")
}

#[allow(dead_code)]
fn other_builders() -> [Builder; 4] {
    [
        Builder::new("wss://example.com/live"),
        Builder::with_url_fn(|n| format!("wss://example.com/live?try={n}")),
        Builder::with_async_url(|n| async move { Ok::<_, String>(format!("wss://x/{n}")) }),
        Builder::new("wss://x")
            .protocols_fn(|_| vec!["v1".to_owned()])
            .async_protocols_fn(|_| async { Ok::<_, String>(vec!["v2".to_owned()]) }),
    ]
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use super::*;

    #[test]
    fn connect_on_the_host_fails_with_no_browser() {
        assert_eq!(
            Socket::connect("wss://example.com/live").err(),
            Some(Error::NoBrowser)
        );
        assert_eq!(
            Socket::connect("/relative/too").err(),
            Some(Error::NoBrowser)
        );
        assert_eq!(builder().connect().err(), Some(Error::NoBrowser));
        for b in other_builders() {
            assert_eq!(b.connect().err(), Some(Error::NoBrowser));
        }
    }

    #[test]
    fn the_no_browser_error_says_what_it_means() {
        let text = Error::NoBrowser.to_string();
        assert!(
            text.contains("no browser") && text.contains("wasm32"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_config_or_subprotocol_list_is_reported_as_in_the_browser() {
        let mut config = Config::default();
        config.reconnection_delay_grow_factor = 0.5;
        let err = Socket::builder("wss://x").config(config).connect().err();
        assert!(matches!(err, Some(Error::Config(_))), "{err:?}");
        let err = Socket::builder("wss://x")
            .protocols(["a", "a"])
            .connect()
            .err();
        assert!(
            matches!(err, Some(Error::InvalidProtocol { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn shared_component_code_as_leptos_writes_it_renders_without_a_socket() {
        // The README's Leptos component on the server: no socket, nothing spawned.
        let socket = Socket::connect("/echo").ok();
        let mut status = "connecting".to_owned();
        if let Some(s) = &socket {
            status = format!("{:?}", s.ready_state());
        }
        assert!(socket.is_none());
        assert_eq!(status, "connecting");
    }
}
