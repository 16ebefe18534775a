//! [`NativeSocket`]: one browser `WebSocket` with its four listeners, owned.
//!
//! Dropping it removes the listeners (so none of its late events can reach us) and
//! closes the socket if it is still connecting or open. That is how an attempt is
//! abandoned: closed *and* detached, so Chromium does not hold up the next
//! handshake to the same host:port behind it.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::listener::Listener;

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

pub(crate) struct NativeSocket {
    ws: WebSocket,
    _listeners: [Option<Listener>; 4],
}

impl NativeSocket {
    /// Opens `url` with `protocols`, forwarding each event to `on_event`.
    ///
    /// # Errors
    ///
    /// The browser's exception (a `SyntaxError` for a URL or protocol it refuses).
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        binary_type: BinaryType,
        on_event: impl Fn(NativeEvent) + Clone + 'static,
    ) -> Result<NativeSocket, JsValue> {
        let ws = if protocols.is_empty() {
            WebSocket::new(url)?
        } else {
            let list: js_sys::Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
            WebSocket::new_with_str_sequence(url, &list)?
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
            let (code, reason, was_clean) = match e.dyn_ref::<CloseEvent>() {
                Some(c) => (c.code(), c.reason(), c.was_clean()),
                None => (1006, String::new(), false),
            };
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
        let _ = match code {
            Some(code) => self.ws.close_with_code_and_reason(code, reason),
            None => self.ws.close(),
        };
    }
}

impl Drop for NativeSocket {
    fn drop(&mut self) {
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            let _ = self.ws.close_with_code(1000);
        }
        // `_listeners` drop after this: each removes itself, then frees its closure.
    }
}
