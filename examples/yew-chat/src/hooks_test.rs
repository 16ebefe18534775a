//! The hooks' browser test page, `?test=hooks&ws=ws://…` (`&probe=json` for the
//! typed one, `&burst=N`, `&held=N`), driven by tests/e2e/hooks.test.mjs. It lives in the example so the
//! tests need no wasm build of their own; the chat never shows it.

use serde::Deserialize;
use steadysocket_yew::{use_socket, use_socket_json, Message};
use yew::prelude::*;

/// The hook crate's types, as the shared part names them.
mod hooks {
    pub(crate) use steadysocket_yew::steadysocket::Handshake;
    pub(crate) use steadysocket_yew::{Config, Options};
}

#[path = "../../shared/hooks_test_common.rs"]
mod common;
use common::{held, options, param};

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
