//! The hooks' browser test page, `?test=hooks&ws=ws://…` (`&probe=json` for the
//! typed one, `&burst=N`, `&held=N`), driven by tests/e2e/hooks.test.mjs. It lives in the example so the
//! tests need no wasm build of their own; the chat never shows it.

use leptos::prelude::*;
use serde::Deserialize;
use steadysocket_leptos::{use_socket, use_socket_json, Message};

/// The hook crate's types, as the shared part names them.
mod hooks {
    pub(crate) use steadysocket_leptos::steadysocket::Handshake;
    pub(crate) use steadysocket_leptos::{Config, Options};
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

/// The page: a button that mounts and unmounts one probe.
#[component]
pub fn HooksTest() -> impl IntoView {
    let url = param("ws").unwrap_or_default();
    let json = param("probe").is_some_and(|p| p == "json");
    let (mounted, set_mounted) = signal(true);
    view! {
        <main>
            <button id="toggle" on:click=move |_| set_mounted.update(|m| *m = !*m)>
                {move || if mounted.get() { "unmount" } else { "mount" }}
            </button>
            <Show when=move || mounted.get()>
                {
                    let url = url.clone();
                    move || if json {
                        view! { <JsonProbe url=url.clone() /> }.into_any()
                    } else {
                        view! { <Probe url=url.clone() /> }.into_any()
                    }
                }
            </Show>
        </main>
    }
}

/// `use_socket`: status, every message (`on_message`) and the last one, commands.
#[component]
fn Probe(url: String) -> impl IntoView {
    let (log, set_log) = signal(Vec::<String>::new());
    let on_message = move |m: Message| {
        let text = m.as_text().unwrap_or("<binary>").to_owned();
        set_log.update(|v| v.push(text));
    };
    let ws = use_socket(url.clone(), held(options().on_message(on_message)));
    let burst: usize = param("burst").and_then(|b| b.parse().ok()).unwrap_or(1000);
    let status = move |f: fn(&steadysocket_leptos::Status) -> String| move || ws.status.with(f);
    view! {
        <div id="probe" data-state=status(|s| s.phase().to_owned())
            data-attempt=status(|s| s.attempt.to_string())
            data-queued=status(|s| s.queued.to_string())
            data-count=move || log.with(|l| l.len().to_string())
            data-last=move || ws.message.with(|m| m.as_ref().and_then(Message::as_text).unwrap_or_default().to_owned())>
            <button id="burst" on:click=move |_| for i in 0..burst { let _ = ws.send(format!("b{i}")); }>"burst"</button>
            <button id="send-one" on:click=move |_| { let _ = ws.send("one"); }>"send one"</button>
            <button id="close" on:click=move |_| ws.close()>"close"</button>
            <button id="reconnect" on:click=move |_| ws.reconnect()>"reconnect"</button>
            <button id="restart" on:click=move |_| ws.restart_with(url.clone(), options().on_message(on_message))>"restart"</button>
            <output id="log">{move || log.with(|l| l.join(" "))}</output>
        </div>
    }
}

/// `use_socket_json`: what the server pushes, as a typed value.
#[component]
fn JsonProbe(url: String) -> impl IntoView {
    let ws = use_socket_json::<Push>(url, options());
    let last = move || {
        ws.message
            .with(|m| m.as_ref().map(|p| format!("{}:{}", p.kind, p.n)))
            .unwrap_or_default()
    };
    view! {
        <div id="json" data-state=move || ws.status.with(|s| s.phase()) data-last=last
            data-error=move || ws.status.with(|s| s.error.clone().unwrap_or_default())>
            {last}
        </div>
    }
}
