//! A chat client for the steadysocket demo server's `/chat` room, in Leptos (CSR).
//!
//! Build: `scripts/build-examples.sh leptos`, then open
//! <http://127.0.0.1:8080/examples/leptos-chat/> with `npm start` running.
//! `?name=ada` picks the name; `?fast=1` makes reconnects quick (50–200 ms).

mod hooks_test;
mod readme;

use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use serde::Deserialize;
use steadysocket_leptos::{use_socket_json, Config, Options, Status};

/// What the `/chat` room sends (JSON with a `type` tag).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ServerMsg {
    /// To us, once per connection: our name as the server cleaned it up.
    Welcome {
        name: String,
        users: Vec<String>,
    },
    Join {
        name: String,
    },
    Leave {
        name: String,
    },
    Message {
        from: String,
        text: String,
        time: f64,
    },
    #[serde(other)]
    Unknown,
}

/// Settings read once from the page's query string.
#[derive(Clone, Debug, PartialEq)]
struct PageOptions {
    name: String,
    fast: bool,
    /// `?test=hooks`: the hooks' test page (tests/e2e/hooks.test.mjs) instead.
    test: bool,
}

impl PageOptions {
    fn from_page() -> Self {
        let params = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok());
        let get = |key: &str| params.as_ref().and_then(|p| p.get(key));
        PageOptions {
            test: get("test").is_some_and(|v| v == "hooks"),
            name: get("name")
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| {
                    format!("leptos-{}", 1000 + (js_sys::Math::random() * 9000.0) as u32)
                }),
            fast: get("fast").is_some_and(|v| v == "1"),
        }
    }
}

/// The socket settings: a heartbeat (for the RTT), and short delays with `?fast=1`.
fn socket_config(fast: bool) -> Config {
    if fast {
        Config::default()
            .with_min_reconnection_delay(Duration::from_millis(50))
            .with_max_reconnection_delay(Duration::from_millis(200))
            .with_heartbeat_interval(Some(Duration::from_millis(500)))
    } else {
        Config::default().with_heartbeat_interval(Some(Duration::from_secs(5)))
    }
}

#[component]
fn App() -> impl IntoView {
    let PageOptions { name, fast, .. } = PageOptions::from_page();
    let (joined, set_joined) = signal(true);
    let room_name = name.clone();
    view! {
        <main class="chat">
            <header>
                <h1>"Leptos chat"</h1>
                <span class="me">"you are " <strong>{name}</strong></span>
                <button id="leave" type="button" on:click=move |_| set_joined.update(|j| *j = !*j)>
                    {move || if joined.get() { "Leave" } else { "Join" }}
                </button>
            </header>
            <Show
                when=move || joined.get()
                fallback=|| view! { <p class="left">"You left the room: the socket is closed."</p> }
            >
                <ChatRoom name=room_name.clone() fast=fast />
            </Show>
        </main>
    }
}

/// The room: its socket lives exactly as long as this component.
#[component]
fn ChatRoom(name: String, fast: bool) -> impl IntoView {
    let url = format!(
        "/chat?name={}",
        String::from(js_sys::encode_uri_component(&name))
    );
    // Every message, in order (the hook's `message` signal is only the latest).
    let (messages, set_messages) = signal(Vec::<ServerMsg>::new());
    let options = Options::default()
        .config(socket_config(fast))
        .on_message(move |message| set_messages.update(|v| v.push(message)));
    // One socket per room: closed with 1000 when the room is unmounted.
    let chat = use_socket_json::<ServerMsg>(url, options);
    let input = NodeRef::<html::Input>::new();
    let list = NodeRef::<html::Ul>::new();

    // Keep the newest message in view.
    Effect::new(move |_| {
        messages.with(|m| m.len());
        if let Some(el) = list.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(field) = input.get() else {
            return;
        };
        let text = field.value();
        if text.trim().is_empty() {
            return;
        }
        // Queued while disconnected, sent once on the next open. On an error
        // (queue full, stopped) the text stays in the field.
        if chat.send(text).is_ok() {
            field.set_value("");
        }
    };

    view! {
        <StatusLine status=chat.status />
        <ul id="messages" class="messages" node_ref=list>
            <For
                each=move || messages.get().into_iter().enumerate()
                key=|(i, _)| *i
                children=|(_, message)| render_message(message)
            />
        </ul>
        <form id="composer" on:submit=on_submit>
            <input id="text" node_ref=input placeholder="Say something…" autocomplete="off" />
            <button type="submit">"Send"</button>
        </form>
    }
}

fn render_message(message: ServerMsg) -> AnyView {
    match message {
        ServerMsg::Message { from, text, time } => view! {
            <li class="msg">
                <span class="from">{from}</span>
                <span class="text">{text}</span>
                <time>{clock(time)}</time>
            </li>
        }
        .into_any(),
        ServerMsg::Welcome { name, users } => {
            let line = format!("Welcome, {name}. Online: {}", users.join(", "));
            view! { <li class="sys">{line}</li> }.into_any()
        }
        ServerMsg::Join { name } => {
            view! { <li class="sys">{format!("{name} joined")}</li> }.into_any()
        }
        ServerMsg::Leave { name } => {
            view! { <li class="sys">{format!("{name} left")}</li> }.into_any()
        }
        ServerMsg::Unknown => ().into_any(),
    }
}

/// `HH:MM` in local time, from milliseconds since the epoch.
fn clock(ms: f64) -> String {
    let date = js_sys::Date::new(&ms.into());
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

#[component]
fn StatusLine(status: Signal<Status>) -> impl IntoView {
    let phase = move || status.with(Status::phase);
    let attempt = move || {
        status.with(|s| match s.next_retry {
            Some(delay) if s.phase() == "reconnecting" => {
                format!("retry {} in {} ms", s.attempt, delay.as_millis())
            }
            _ => format!("attempt {}", s.attempt),
        })
    };
    let queued = move || status.with(|s| s.queued);
    let rtt = move || {
        status.with(|s| {
            s.rtt
                .map_or_else(|| "—".to_owned(), |d| format!("{} ms", d.as_millis()))
        })
    };
    let error = move || status.with(|s| s.error.clone().unwrap_or_default());
    view! {
        <p id="status" class="status" data-state=phase data-queued=move || queued().to_string() title=error>
            <span class="dot"></span>
            <span class="state">{phase}</span>
            <span class="attempt">{attempt}</span>
            <span class="queued">{move || format!("{} queued", queued())}</span>
            <span class="rtt">"RTT " {rtt}</span>
        </p>
    }
}

fn main() {
    if PageOptions::from_page().test {
        leptos::mount::mount_to_body(hooks_test::HooksTest);
    } else {
        leptos::mount::mount_to_body(App);
    }
}
