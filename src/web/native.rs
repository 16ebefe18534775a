//! [`NativeSocket`]: one browser `WebSocket` with its four listeners, owned.
//!
//! Dropping it removes the listeners (so none of its late events can reach us) and
//! closes the socket if it is still connecting or open. That is how an attempt is
//! abandoned: closed *and* detached, so Chromium does not hold up the next
//! handshake to the same host:port behind it.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use super::listener::Listener;
use super::prop;

#[wasm_bindgen]
extern "C" {
    /// A `WebSocket` seen through one `send` and one `close` that take what they
    /// are given: one import each, where web-sys has one per argument list.
    type AnySocket;

    /// `send` with any value the browser accepts, passed as it is (no copy
    /// through Rust strings or vectors).
    #[wasm_bindgen(method, catch)]
    fn send(this: &AnySocket, data: &JsValue) -> Result<(), JsValue>;

    /// `close(code, reason)`; `None` is passed as `undefined`, which WebIDL reads
    /// as a missing argument (`close()` sends a close frame without a code).
    #[wasm_bindgen(method, catch)]
    fn close(this: &AnySocket, code: Option<u16>, reason: Option<&str>) -> Result<(), JsValue>;
}

/// `send(data)` on `ws`, whatever `data` is.
pub(crate) fn send_value(ws: &WebSocket, data: &JsValue) -> Result<(), JsValue> {
    ws.unchecked_ref::<AnySocket>().send(data)
}

/// What a native socket reported.
pub(crate) enum NativeEvent {
    Open,
    Message(JsValue),
    Error,
    Close {
        code: u16,
        reason: String,
        was_clean: bool,
    },
}

/// `code`, `reason` and `wasClean` of a close event, read by name (a browser's
/// `CloseEvent` or the event of a user's `WebSocket` class alike; 1006 and no reason
/// where they are missing).
fn close_fields(e: &JsValue) -> (u16, String, bool) {
    let code = prop::get(e, "code")
        .as_f64()
        .filter(|c| (0.0..=65535.0).contains(c))
        .map_or(1006, |c| c as u16);
    let reason = prop::string(e, "reason").unwrap_or_default();
    (code, reason, prop::get(e, "wasClean").is_truthy())
}

pub(crate) struct NativeSocket {
    ws: WebSocket,
    _listeners: [Option<Listener>; 4],
}

impl NativeSocket {
    /// Opens `url` with `protocols`, forwarding each event to `on_event`. With a
    /// `constructor` (a user's `WebSocket` class: a polyfill or a test double) the
    /// socket is made by it; everything on it is then used by name, as on a
    /// browser `WebSocket`.
    ///
    /// # Errors
    ///
    /// The browser's exception (a `SyntaxError` for a URL or protocol it refuses),
    /// or whatever the user's constructor threw.
    pub(crate) fn open(
        constructor: Option<&js_sys::Function>,
        url: &str,
        protocols: &[String],
        binary_type: BinaryType,
        on_event: impl Fn(NativeEvent) + Clone + 'static,
    ) -> Result<NativeSocket, JsValue> {
        let list = || -> js_sys::Array { protocols.iter().map(|p| JsValue::from_str(p)).collect() };
        let ws = match constructor {
            Some(ctor) => {
                let args = js_sys::Array::of1(&JsValue::from_str(url));
                if !protocols.is_empty() {
                    args.push(&list());
                }
                js_sys::Reflect::construct(ctor, &args)?.unchecked_into::<WebSocket>()
            }
            // An empty list is what the constructor assumes without one.
            None => WebSocket::new_with_str_sequence(url, &list())?,
        };
        ws.set_binary_type(binary_type);
        let target: &web_sys::EventTarget = ws.as_ref();
        let f = on_event.clone();
        let open = Listener::new(target, "open", move |_| f(NativeEvent::Open));
        let f = on_event.clone();
        // A WebSocket's `message` events are always MessageEvents: no `instanceof`
        // check on this hot path (a wrong type would only give `undefined` data).
        let message = Listener::new(target, "message", move |e| {
            f(NativeEvent::Message(
                e.unchecked_ref::<MessageEvent>().data(),
            ));
        });
        let f = on_event.clone();
        let error = Listener::new(target, "error", move |_| f(NativeEvent::Error));
        let f = on_event;
        let close = Listener::new(target, "close", move |e| {
            let (code, reason, was_clean) = close_fields(&e);
            f(NativeEvent::Close {
                code,
                reason,
                was_clean,
            });
        });
        Ok(NativeSocket {
            ws,
            _listeners: [open, message, error, close],
        })
    }

    pub(crate) fn ws(&self) -> &WebSocket {
        &self.ws
    }

    pub(crate) fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    /// Starts the close handshake. The listeners stay until this value drops: to
    /// abandon a socket, the driver closes it and then drops it.
    pub(crate) fn close(&self, code: Option<u16>, reason: &str) {
        let reason = code.map(|_| reason);
        let _ = self.ws.unchecked_ref::<AnySocket>().close(code, reason);
    }
}

impl Drop for NativeSocket {
    fn drop(&mut self) {
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            self.close(Some(1000), "");
        }
        // `_listeners` drop after this: each removes itself, then frees its closure.
    }
}
