//! The DOM-style errors the contract names, built for throwing into JS.

use wasm_bindgen::JsValue;

use crate::machine::{CloseError, ConfigError};
use crate::Error;

/// A `DOMException` with `name` (`SyntaxError`, `InvalidAccessError`, …).
pub(crate) fn dom(name: &str, message: &str) -> JsValue {
    web_sys::DomException::new_with_message_and_name(message, name)
        .map_or_else(|e| e, JsValue::from)
}

pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

pub(crate) fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

/// An `Error` whose `name` is `name` (for `QueueFullError`).
pub(crate) fn named(name: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name(name);
    e.into()
}

pub(crate) fn from_close(e: &CloseError) -> JsValue {
    match e {
        CloseError::InvalidCode { .. } => dom("InvalidAccessError", &e.to_string()),
        _ => dom("SyntaxError", &e.to_string()),
    }
}

pub(crate) fn from_config(e: &ConfigError) -> JsValue {
    let option = e.field().js_name();
    let text = e.to_string().replace(e.field().rust_name(), option);
    range_error(&format!("SteadySocket option {option}: {text}"))
}

pub(crate) fn from_error(e: &Error) -> JsValue {
    match e {
        Error::InvalidUrl { .. } | Error::InvalidProtocol { .. } => {
            dom("SyntaxError", &e.to_string())
        }
        Error::Config(c) => from_config(c),
        Error::Close(c) => from_close(c),
        other => named("Error", &other.to_string()),
    }
}
