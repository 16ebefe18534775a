//! The README's Leptos snippet, compiled here so it cannot rot (the app itself uses
//! the fuller `socket::use_steadysocket`).
#![allow(dead_code)]

use futures::StreamExt;
use leptos::prelude::*;
use steadysocket::{Event, Socket};

#[component]
pub fn Echo() -> impl IntoView {
    let (lines, set_lines) = signal(Vec::<String>::new()); // every message, never "the latest"
    let (status, set_status) = signal("connecting".to_owned());
    // The component body runs once: one socket per component.
    let socket = Socket::connect("/echo").ok();
    if let Some(s) = &socket {
        // Views: they end by themselves when the socket is dropped.
        let (mut messages, mut events) = (s.messages(), s.events());
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(message) = messages.next().await {
                set_lines.update(|v| v.push(format!("{message:?}")));
            }
        });
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(event) = events.next().await {
                match event {
                    Event::Reconnecting { attempt, delay, .. } => {
                        set_status.set(format!("retry {attempt} in {delay:?}"))
                    }
                    Event::Open => set_status.set("open".to_owned()),
                    _ => {}
                }
            }
        });
    }
    // `Socket` is not Send: keep it in local storage. It is dropped with the
    // component, and that (the only handle) closes the connection with 1000.
    let socket = StoredValue::new_local(socket);
    let send = move |_| {
        socket.with_value(|s| {
            if let Some(s) = s {
                let _ = s.send("hello"); // queued while disconnected, sent once on open
            }
        })
    };
    view! {
        <p>{status}</p>
        <button on:click=send>"Send"</button>
        <ul>
            <For each=move || lines.get().into_iter().enumerate() key=|(i, _)| *i
                children=|(_, line)| view! { <li>{line}</li> } />
        </ul>
    }
}
