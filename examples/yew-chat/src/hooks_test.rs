//! The hooks' browser test page, `?test=hooks&ws=ws://…` (`&probe=json` for the
//! typed one, `&burst=N`, `&held=N`), driven by tests/e2e/hooks.test.mjs. It lives in the example so the
//! tests need no wasm build of their own; the chat never shows it.

use std::time::Duration;

use serde::Deserialize;
use steadysocket_yew::steadysocket::Handshake;
use steadysocket_yew::{use_socket, use_socket_json, Config, Message, Options};
use yew::prelude::*;

/// A query parameter of the page.
fn param(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
}

/// Quick reconnects, so that a server restart is over in well under a second.
fn options<T>() -> Options<T> {
    Options::default().config(
        Config::default()
            .with_min_reconnection_delay(Duration::from_millis(50))
            .with_max_reconnection_delay(Duration::from_millis(200)),
    )
}

/// `?held=N`: on the first connection, `on_connect` sends `b0`…`b{N-1}` itself and
/// waits 300 ms without reading, so that all their echoes are held back and
/// delivered at once, in one task, at open: the burst a "latest only" hook would
/// show one message of.
fn held<T>(options: Options<T>) -> Options<T> {
    let Some(n) = param("held").and_then(|n| n.parse::<usize>().ok()) else {
        return options;
    };
    options.builder(move |b| {
        b.on_connect(move |conn: Handshake| async move {
            if conn.attempt() == 0 {
                for i in 0..n {
                    conn.send(format!("b{i}")).map_err(|e| format!("{e:?}"))?;
                }
                sleep(300).await;
            }
            Ok::<(), String>(())
        })
    })
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// What the server pushes to the typed probe.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Push {
    kind: String,
    n: u32,
}

#[derive(Properties, PartialEq)]
struct ProbeProps {
    url: AttrValue,
}

/// The page: a button that mounts and unmounts one probe.
#[component]
pub fn HooksTest() -> Html {
    let url: AttrValue = param("ws").unwrap_or_default().into();
    let json = param("probe").is_some_and(|p| p == "json");
    let mounted = use_state(|| true);
    let toggle = {
        let mounted = mounted.clone();
        Callback::from(move |_: MouseEvent| mounted.set(!*mounted))
    };
    html! {
        <main>
            <button id="toggle" onclick={toggle}>{ if *mounted { "unmount" } else { "mount" } }</button>
            if *mounted {
                if json { <JsonProbe {url} /> } else { <Probe {url} /> }
            }
        </main>
    }
}

/// `use_socket`: status, every message (`on_message`) and the last one, commands.
#[component]
fn Probe(props: &ProbeProps) -> Html {
    let log = use_mut_ref(Vec::<String>::new);
    let on_message = {
        let log = log.clone();
        move |m: Message| {
            log.borrow_mut()
                .push(m.as_text().unwrap_or("<binary>").to_owned())
        }
    };
    let ws = use_socket(
        props.url.to_string(),
        held(options().on_message(on_message)),
    );
    let burst: usize = param("burst").and_then(|b| b.parse().ok()).unwrap_or(1000);
    let click = |f: fn(&steadysocket_yew::UseSocketHandle, usize)| {
        let ws = ws.clone();
        Callback::from(move |_: MouseEvent| f(&ws, burst))
    };
    let url = props.url.to_string();
    let restart = {
        let ws = ws.clone();
        Callback::from(move |_: MouseEvent| ws.restart_with(url.clone(), options()))
    };
    let s = ws.status();
    let last = ws
        .last_message()
        .and_then(Message::as_text)
        .unwrap_or_default()
        .to_owned();
    html! {
        <div id="probe" data-state={s.phase()} data-attempt={s.attempt.to_string()}
            data-queued={s.queued.to_string()} data-count={log.borrow().len().to_string()}
            data-last={last}>
            <button id="burst" onclick={click(|ws, n| for i in 0..n { let _ = ws.send(format!("b{i}")); })}>{ "burst" }</button>
            <button id="send-one" onclick={click(|ws, _| { let _ = ws.send("one"); })}>{ "send one" }</button>
            <button id="close" onclick={click(|ws, _| ws.close())}>{ "close" }</button>
            <button id="reconnect" onclick={click(|ws, _| ws.reconnect())}>{ "reconnect" }</button>
            <button id="restart" onclick={restart}>{ "restart" }</button>
            <output id="log">{ log.borrow().join(" ") }</output>
        </div>
    }
}

/// `use_socket_json`: what the server pushes, as a typed value.
#[component]
fn JsonProbe(props: &ProbeProps) -> Html {
    let ws = use_socket_json::<Push>(props.url.to_string(), options());
    let s = ws.status();
    let last = ws
        .last_message()
        .map(|p| format!("{}:{}", p.kind, p.n))
        .unwrap_or_default();
    html! {
        <div id="json" data-state={s.phase()} data-last={last.clone()}
            data-error={s.error.clone().unwrap_or_default()}>{ last }</div>
    }
}
