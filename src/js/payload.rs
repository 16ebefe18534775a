//! What JS code may send: string, ArrayBuffer, ArrayBufferView, Blob.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::WebSocket;

use super::errors;
use crate::machine::Payload;
use crate::web::driver::Outbound;

#[wasm_bindgen]
extern "C" {
    /// A `WebSocket` seen through a `send` that takes any value.
    type AnySend;

    /// `WebSocket.prototype.send` with any accepted value, passed as-is (no copy
    /// through Rust strings or vectors).
    #[wasm_bindgen(method, catch)]
    fn send(this: &AnySend, data: &JsValue) -> Result<(), JsValue>;
}

/// A JS value checked to be sendable.
pub(crate) struct JsPayload {
    value: JsValue,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Buffer,
    View,
    Blob,
}

impl JsPayload {
    /// Checks `value` as `WebSocket.send` would.
    ///
    /// # Errors
    ///
    /// A `TypeError` for anything but string, ArrayBuffer, ArrayBufferView or Blob.
    pub(crate) fn new(value: JsValue) -> Result<JsPayload, JsValue> {
        let kind = if value.is_string() {
            Kind::Text
        } else if value.is_instance_of::<js_sys::ArrayBuffer>() {
            Kind::Buffer
        } else if js_sys::ArrayBuffer::is_view(&value) {
            Kind::View
        } else if value.is_instance_of::<web_sys::Blob>() {
            Kind::Blob
        } else {
            return Err(errors::type_error(
                "Failed to execute 'send' on 'SteadySocket': the data must be a string, \
                 ArrayBuffer, ArrayBufferView or Blob",
            ));
        };
        Ok(JsPayload { value, kind })
    }
}

impl Payload for JsPayload {
    fn byte_len(&self) -> usize {
        match self.kind {
            Kind::Text => self.value.as_string().map_or(0, |s| s.len()),
            Kind::Buffer => self
                .value
                .unchecked_ref::<js_sys::ArrayBuffer>()
                .byte_length() as usize,
            Kind::View => js_sys::Reflect::get(&self.value, &JsValue::from_str("byteLength"))
                .ok()
                .and_then(|v| v.as_f64())
                .map_or(0, |n| n as usize),
            Kind::Blob => self.value.unchecked_ref::<web_sys::Blob>().size() as usize,
        }
    }

    fn is_text(&self, text: &str) -> bool {
        self.kind == Kind::Text && self.value.as_string().as_deref() == Some(text)
    }

    /// The browser copies buffers when `send` is called; a queued message must not
    /// change if the caller reuses its buffer afterwards, so it is copied here.
    fn into_owned(self) -> Self {
        let copy = match self.kind {
            Kind::Buffer => Some(self.value.unchecked_ref::<js_sys::ArrayBuffer>().slice(0)),
            Kind::View => copy_view(&self.value),
            Kind::Text | Kind::Blob => None,
        };
        match copy {
            Some(buffer) => JsPayload {
                value: buffer.into(),
                kind: Kind::Buffer,
            },
            None => self,
        }
    }
}

/// A copy of exactly the bytes a view shows (`None` for a view on shared memory,
/// which has no `slice` to copy with; it is then sent as it is at send time).
fn copy_view(view: &JsValue) -> Option<js_sys::ArrayBuffer> {
    let number = |k: &str| {
        js_sys::Reflect::get(view, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u32
    };
    let buffer = js_sys::Reflect::get(view, &JsValue::from_str("buffer"))
        .ok()?
        .dyn_into::<js_sys::ArrayBuffer>()
        .ok()?;
    let start = number("byteOffset");
    Some(buffer.slice_with_end(start, start.saturating_add(number("byteLength"))))
}

impl Outbound for JsPayload {
    fn transmit(&self, ws: &WebSocket) -> Result<(), JsValue> {
        ws.unchecked_ref::<AnySend>().send(&self.value)
    }
}
