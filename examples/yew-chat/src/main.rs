//! A chat client for the steadysocket demo server's `/chat` room, in Yew.
//!
//! Build: `scripts/build-examples.sh yew`, then open
//! <http://127.0.0.1:8080/examples/yew-chat/> with `npm start` running.
//! `?name=ada` picks the name; `?fast=1` makes reconnects quick (50–200 ms).

mod hooks_test;
mod readme;

use std::time::Duration;

use serde::Deserialize;
use steadysocket_yew::{use_socket_json, Config, Options, Status};
use web_sys::HtmlInputElement;
use yew::prelude::*;

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
                    format!("yew-{}", 1000 + (js_sys::Math::random() * 9000.0) as u32)
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
fn App() -> Html {
    let options = use_memo((), |_| PageOptions::from_page());
    let joined = use_state(|| true);
    let toggle = {
        let joined = joined.clone();
        Callback::from(move |_: MouseEvent| joined.set(!*joined))
    };
    html! {
        <main class="chat">
            <header>
                <h1>{ "Yew chat" }</h1>
                <span class="me">{ "you are " }<strong>{ &options.name }</strong></span>
                <button id="leave" type="button" onclick={toggle}>
                    { if *joined { "Leave" } else { "Join" } }
                </button>
            </header>
            if *joined {
                <ChatRoom name={options.name.clone()} fast={options.fast} />
            } else {
                <p class="left">{ "You left the room: the socket is closed." }</p>
            }
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct ChatRoomProps {
    name: AttrValue,
    fast: bool,
}

/// The room: its socket lives exactly as long as this component.
#[component]
fn ChatRoom(props: &ChatRoomProps) -> Html {
    let url = format!(
        "/chat?name={}",
        String::from(js_sys::encode_uri_component(&props.name))
    );
    // Every message, in order (the hook's `last_message` is only the latest).
    let messages = use_mut_ref(Vec::<ServerMsg>::new);
    let options = Options::default()
        .config(socket_config(props.fast))
        .on_message({
            let messages = messages.clone();
            move |message| messages.borrow_mut().push(message)
        });
    // One socket per mounted room: closed with 1000 when the room unmounts.
    let chat = use_socket_json::<ServerMsg>(url, options);
    let input = use_node_ref();
    let list = use_node_ref();

    // Keep the newest message in view.
    {
        let list = list.clone();
        use_effect_with(messages.borrow().len(), move |_| {
            if let Some(el) = list.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    let onsubmit = {
        let chat = chat.clone();
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(field) = input.cast::<HtmlInputElement>() else {
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
        })
    };

    html! {
        <>
            <StatusLine status={chat.status().clone()} />
            <ul id="messages" class="messages" ref={list}>
                { for messages.borrow().iter().map(render_message) }
            </ul>
            <form id="composer" {onsubmit}>
                <input id="text" ref={input} placeholder="Say something…" autocomplete="off" />
                <button type="submit">{ "Send" }</button>
            </form>
        </>
    }
}

fn render_message(message: &ServerMsg) -> Html {
    match message {
        ServerMsg::Message { from, text, time } => html! {
            <li class="msg">
                <span class="from">{ from }</span>
                <span class="text">{ text }</span>
                <time>{ clock(*time) }</time>
            </li>
        },
        ServerMsg::Welcome { name, users } => html! {
            <li class="sys">{ format!("Welcome, {name}. Online: {}", users.join(", ")) }</li>
        },
        ServerMsg::Join { name } => html! { <li class="sys">{ format!("{name} joined") }</li> },
        ServerMsg::Leave { name } => html! { <li class="sys">{ format!("{name} left") }</li> },
        ServerMsg::Unknown => html! {},
    }
}

/// `HH:MM` in local time, from milliseconds since the epoch.
fn clock(ms: f64) -> String {
    let date = js_sys::Date::new(&ms.into());
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

#[derive(Properties, PartialEq)]
struct StatusLineProps {
    status: Status,
}

#[component]
fn StatusLine(props: &StatusLineProps) -> Html {
    let s = &props.status;
    let phase = s.phase();
    let attempt = match s.next_retry {
        Some(delay) if phase == "reconnecting" => {
            format!("retry {} in {} ms", s.attempt, delay.as_millis())
        }
        _ => format!("attempt {}", s.attempt),
    };
    let rtt = s
        .rtt
        .map_or_else(|| "—".to_owned(), |d| format!("{} ms", d.as_millis()));
    html! {
        <p id="status" class="status" data-state={phase} data-queued={s.queued.to_string()}
            title={s.error.clone().unwrap_or_default()}>
            <span class="dot"></span>
            <span class="state">{ phase }</span>
            <span class="attempt">{ attempt }</span>
            <span class="queued">{ format!("{} queued", s.queued) }</span>
            <span class="rtt">{ "RTT " }{ rtt }</span>
        </p>
    }
}

fn main() {
    if PageOptions::from_page().test {
        yew::Renderer::<hooks_test::HooksTest>::new().render();
    } else {
        yew::Renderer::<App>::new().render();
    }
}
