//! The Rust `Socket` inside a dedicated Web Worker (no `window`, no `document`), in
//! headless Chromium against the fault server: the echo, a reconnect, and `online` on
//! the worker's global scope cutting a backoff wait short. (`tests/web.rs` runs on a
//! page; its helpers use `window`, so this file has its own.)
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use steadysocket::{Config, Event, Message, Socket};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// The fault server's control API (started by `scripts/with-fault-server.sh`).
const CONTROL: &str = match option_env!("STEADYSOCKET_CONTROL") {
    Some(url) => url,
    None => "http://127.0.0.1:9911",
};

/// GETs a control route with the worker's own `fetch` and returns its JSON.
async fn control(path: &str) -> Value {
    let global = js_sys::global();
    let fetch: js_sys::Function = js_sys::Reflect::get(&global, &JsValue::from_str("fetch"))
        .expect("fetch")
        .dyn_into()
        .expect("fetch is a function");
    let url = format!("{CONTROL}{path}");
    let promise: js_sys::Promise = fetch
        .call1(&global, &JsValue::from_str(&url))
        .expect("fetch()")
        .dyn_into()
        .expect("a promise");
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .unwrap_or_else(|e| panic!("control {url}: {e:?}"))
        .dyn_into()
        .expect("a Response");
    let text = JsFuture::from(response.text().expect("text()"))
        .await
        .expect("body")
        .as_string()
        .unwrap_or_default();
    assert!(response.ok(), "control {url}: {text}");
    serde_json::from_str(&text).expect("JSON")
}

/// Runs `fut` for at most `ms`, else fails naming `what`.
async fn within<T>(ms: u32, what: &str, fut: impl std::future::Future<Output = T>) -> T {
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(gloo_timers::future::TimeoutFuture::new(ms));
    match futures::future::select(fut, timer).await {
        futures::future::Either::Left((v, _)) => v,
        futures::future::Either::Right(_) => panic!("timed out after {ms} ms waiting for {what}"),
    }
}

fn fast() -> Config {
    let mut c = Config::default();
    c.min_reconnection_delay = Duration::from_millis(50);
    c.max_reconnection_delay = Duration::from_millis(200);
    c.reconnection_jitter = 0.0;
    c.connection_timeout = Duration::from_millis(1500);
    c.close_timeout = Duration::from_millis(500);
    c
}

#[wasm_bindgen_test]
async fn in_a_dedicated_worker_a_socket_echoes_reconnects_and_wakes_on_online() {
    assert!(web_sys::window().is_none(), "this runs in a worker");
    let server = control("/instances").await;
    let (id, url) = (
        server["id"].as_str().expect("id"),
        server["url"].as_str().expect("url"),
    );

    let socket = Socket::builder(url)
        .config(fast())
        .connect()
        .expect("valid");
    let mut messages = socket.messages();
    let mut events = socket.events();
    within(3000, "open", socket.opened()).await.expect("open");
    socket.send("in a worker").expect("sent");
    let echoed = within(3000, "the echo", messages.next()).await;
    assert_eq!(echoed, Some(Message::Text("in a worker".into())));

    control(&format!("/instances/{id}/kill")).await;
    let mut seen = Vec::new();
    within(3000, "a reconnect", async {
        while let Some(event) = events.next().await {
            let reopened = matches!(event, Event::Open) && !seen.is_empty();
            seen.push(event);
            if reopened {
                break;
            }
        }
    })
    .await;
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Reconnecting { attempt: 1, .. })),
        "{seen:?}"
    );
    socket.send("after reconnect").expect("sent");
    let echoed = within(3000, "the echo after the reconnect", messages.next()).await;
    assert_eq!(echoed, Some(Message::Text("after reconnect".into())));
    drop((socket, messages, events));

    // A 60 s backoff wait, cut short by `online` on WorkerGlobalScope.
    let mut slow = fast();
    slow.min_reconnection_delay = Duration::from_secs(60);
    slow.max_reconnection_delay = Duration::from_secs(60);
    let socket = Socket::builder(url).config(slow).connect().expect("valid");
    let mut events = socket.events();
    within(3000, "open", socket.opened()).await.expect("open");
    control(&format!("/instances/{id}/stop")).await;
    within(3000, "reconnecting", async {
        while let Some(event) = events.next().await {
            if let Event::Reconnecting { delay, .. } = event {
                assert_eq!(delay, Duration::from_secs(60));
                break;
            }
        }
    })
    .await;
    control(&format!("/instances/{id}/start")).await;
    let scope: web_sys::EventTarget = js_sys::global().unchecked_into();
    let online = web_sys::Event::new("online").expect("an event");
    scope.dispatch_event(&online).expect("dispatched");
    within(2000, "open right after online", socket.opened())
        .await
        .expect("open");
    control(&format!("/instances/{id}/delete")).await;
}
