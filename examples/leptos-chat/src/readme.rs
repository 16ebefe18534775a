//! The README's Leptos snippets, compiled here so they cannot rot.
#![allow(dead_code)]

use leptos::prelude::*;
use steadysocket_leptos::{use_socket, use_socket_json, Message, Options};

#[component]
pub fn Echo() -> impl IntoView {
    let ws = use_socket("/echo", Options::default()); // the one line
    view! {
        <p>{move || ws.status.with(|s| s.phase())}</p> // connecting, open, reconnecting, …
        // Queued while disconnected, sent once on open.
        <button on:click=move |_| { let _ = ws.send("hello"); }>"Send"</button>
        <p>{move || ws.message.with(|m| m.as_ref().and_then(Message::as_text).map(str::to_owned))}</p>
    }
}

#[component]
pub fn Log() -> impl IntoView {
    // Every message, in order: `on_message` (the `message` signal is only the latest).
    let (lines, set_lines) = signal(Vec::<String>::new());
    let options = Options::default().on_message(move |m: Message| {
        set_lines.update(|v| v.push(format!("{m:?}")));
    });
    let _ws = use_socket("/echo", options);
    view! {
        <ul>
            <For each=move || lines.get().into_iter().enumerate() key=|(i, _)| *i
                children=|(_, line)| view! { <li>{line}</li> } />
        </ul>
    }
}

#[derive(Clone, serde::Deserialize)]
struct Price {
    symbol: String,
    cents: u64,
}

#[component]
pub fn Ticker() -> impl IntoView {
    let ws = use_socket_json::<Price>("/prices", Options::default()); // typed JSON
    view! { <p>{move || ws.message.get().map(|p| format!("{} {}", p.symbol, p.cents))}</p> }
}
