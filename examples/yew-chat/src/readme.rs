//! The README's Yew snippet, compiled here so it cannot rot (the app itself uses
//! the fuller `hook::use_steadysocket`).
#![allow(dead_code)]

use futures::StreamExt;
use steadysocket::{Event, Socket};
use yew::prelude::*;

#[component]
pub fn Echo() -> Html {
    let socket = use_mut_ref(|| None::<Socket>);
    let lines = use_mut_ref(Vec::<String>::new); // every message, never "the latest"
    let status = use_state(|| "connecting".to_owned());
    let redraw = use_force_update();
    {
        let (socket, lines, status) = (socket.clone(), lines.clone(), status.setter());
        // Runs once per mounted component; the closure it returns runs on unmount.
        use_effect_with((), move |_| {
            if let Ok(s) = Socket::connect("/echo") {
                // Views: they end by themselves when the socket is dropped.
                let (mut messages, mut events) = (s.messages(), s.events());
                *socket.borrow_mut() = Some(s);
                wasm_bindgen_futures::spawn_local(async move {
                    while let Some(message) = messages.next().await {
                        lines.borrow_mut().push(format!("{message:?}"));
                        redraw.force_update();
                    }
                });
                wasm_bindgen_futures::spawn_local(async move {
                    while let Some(event) = events.next().await {
                        match event {
                            Event::Reconnecting { attempt, delay, .. } => {
                                status.set(format!("retry {attempt} in {delay:?}"))
                            }
                            Event::Open => status.set("open".to_owned()),
                            _ => {}
                        }
                    }
                });
            }
            // Unmount: drop the only handle; that closes the connection with 1000.
            move || drop(socket.borrow_mut().take())
        });
    }
    let send = {
        let socket = socket.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(s) = &*socket.borrow() {
                let _ = s.send("hello"); // queued while disconnected, sent once on open
            }
        })
    };
    html! {
        <>
            <p>{ (*status).clone() }</p>
            <button onclick={send}>{ "Send" }</button>
            <ul>{ for lines.borrow().iter().map(|l| html! { <li>{ l }</li> }) }</ul>
        </>
    }
}
