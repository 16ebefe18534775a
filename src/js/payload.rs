//! What JS code may send: string, ArrayBuffer, ArrayBufferView, Blob.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::WebSocket;

use crate::machine::Payload;
use crate::web::driver::Outbound;
use crate::web::native;
use crate::web::share::Shared;

#[wasm_bindgen]
extern "C" {
    /// An `ArrayBuffer`, for its built-in `slice`.
    #[wasm_bindgen(js_name = ArrayBuffer)]
    type Buffer;

    /// `ArrayBuffer.prototype.slice`, called as the built-in (an own `slice` on
    /// the caller's object is never run) and with a throw turned into an `Err`.
    #[wasm_bindgen(method, final, catch, js_class = "ArrayBuffer", js_name = slice)]
    fn copy(this: &Buffer) -> Result<JsValue, JsValue>;

    /// A `Uint8Array`, for its built-in `slice`.
    #[wasm_bindgen(js_name = Uint8Array)]
    type Bytes;

    /// `Uint8Array.prototype.slice`, likewise.
    #[wasm_bindgen(method, final, catch, js_class = "Uint8Array", js_name = slice)]
    fn copy(this: &Bytes) -> Result<JsValue, JsValue>;
}

/// A JS value the shell checked to be sendable (see `js/socket.js`, `kindOf`):
/// a string, a live ArrayBuffer, a `Uint8Array` the shell made over a view's
/// bytes, or a Blob. Nothing here runs user code or can throw: the core holds
/// payloads while it is borrowed.
pub(crate) struct JsPayload {
    value: JsValue,
    kind: Kind,
    /// The size in bytes the shell measured (strings are measured here, lazily).
    bytes: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Buffer,
    Bytes,
    Blob,
}

impl JsPayload {
    /// Wraps what the shell checked; `kind` as in `Core::send`.
    pub(crate) fn new(value: JsValue, kind: u8, bytes: f64) -> JsPayload {
        let kind = match kind {
            1 => Kind::Buffer,
            2 => Kind::Bytes,
            3 => Kind::Blob,
            _ => Kind::Text,
        };
        // Saturating float-to-int: NaN gives 0.
        JsPayload {
            value,
            kind,
            bytes: bytes as usize,
        }
    }

    /// The value as the user gets it back (a queued view is a copy of its bytes).
    pub(crate) fn into_value(self) -> JsValue {
        self.value
    }
}

impl Payload for JsPayload {
    fn byte_len(&self) -> usize {
        match self.kind {
            // A primitive string (the shell checked `typeof`): no user code runs.
            Kind::Text => self.value.as_string().map_or(0, |s| s.len()),
            Kind::Buffer | Kind::Bytes | Kind::Blob => self.bytes,
        }
    }

    fn is_text(&self, text: &str) -> bool {
        self.kind == Kind::Text && self.value.as_string().as_deref() == Some(text)
    }

    /// The browser copies buffers when `send` is called; a queued message must not
    /// change if the caller reuses its buffer afterwards, so it is copied here.
    fn into_owned(self) -> Self {
        let copy = match self.kind {
            Kind::Buffer => self.value.unchecked_ref::<Buffer>().copy().ok(),
            Kind::Bytes => self.value.unchecked_ref::<Bytes>().copy().ok(),
            Kind::Text | Kind::Blob => None,
        };
        match copy {
            Some(value) => JsPayload { value, ..self },
            None => self,
        }
    }
}

impl Outbound for JsPayload {
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue> {
        native::send_value(ws, &self.value)
    }

    fn share(self) -> Shared {
        Shared::new(self.into_owned().value)
    }

    fn unshare(shared: Shared) -> Option<JsPayload> {
        let value = shared.value;
        // Structured clones the browser made: no user code behind these checks.
        let kind = if value.is_string() {
            0
        } else if value.is_instance_of::<js_sys::ArrayBuffer>() {
            1
        } else if value.is_instance_of::<js_sys::Uint8Array>() {
            2
        } else if value.is_instance_of::<web_sys::Blob>() {
            3
        } else {
            return None;
        };
        let bytes = shared.bytes as f64;
        Some(JsPayload::new(value, kind, bytes))
    }
}
