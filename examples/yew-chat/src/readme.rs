//! The README's Yew snippets, compiled here so they cannot rot.
#![allow(dead_code)]

use steadysocket_yew::{use_socket, use_socket_json, Message, Options};
use yew::prelude::*;

#[component]
pub fn Echo() -> Html {
    let ws = use_socket("/echo", Options::default()); // the one line
    let send = {
        let ws = ws.clone();
        Callback::from(move |_: MouseEvent| {
            let _ = ws.send("hello"); // queued while disconnected, sent once on open
        })
    };
    html! {
        <>
            <p>{ ws.status().phase() }</p> // connecting, open, reconnecting, …
            <button onclick={send}>{ "Send" }</button>
            <p>{ ws.last_message().and_then(Message::as_text).unwrap_or_default() }</p>
        </>
    }
}

#[component]
pub fn Log() -> Html {
    // Every message, in order: `on_message` (the last message is only the latest).
    let lines = use_mut_ref(Vec::<String>::new);
    let on_message = {
        let lines = lines.clone();
        move |m: Message| lines.borrow_mut().push(format!("{m:?}"))
    };
    let _ws = use_socket("/echo", Options::default().on_message(on_message));
    html! { <ul>{ for lines.borrow().iter().map(|l| html! { <li>{ l }</li> }) }</ul> }
}

#[derive(Clone, serde::Deserialize)]
struct Price {
    symbol: String,
    cents: u64,
}

#[component]
pub fn Ticker() -> Html {
    let ws = use_socket_json::<Price>("/prices", Options::default()); // typed JSON
    html! { <p>{ ws.last_message().map(|p| format!("{} {}", p.symbol, p.cents)) }</p> }
}
