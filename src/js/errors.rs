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

/// A number as JS prints it (no Rust float formatting in the wasm: it is big).
pub(crate) fn num(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map_or_else(|_| String::from("?"), String::from)
}

pub(crate) fn from_config(e: &ConfigError) -> JsValue {
    let option = e.field().js_name();
    let ms = |d: std::time::Duration| num(d.as_secs_f64() * 1000.0);
    let what = match e {
        ConfigError::NotFinite { value, .. } => {
            format!("must be a finite number, got {}", num(*value))
        }
        ConfigError::Negative { value, .. } => format!("must not be negative, got {}", num(*value)),
        ConfigError::Zero { .. } => "must be greater than 0".to_owned(),
        ConfigError::GrowFactorBelowOne { value } => {
            format!("must be at least 1, got {}", num(*value))
        }
        ConfigError::JitterOutOfRange { value } => {
            format!("must be between 0 and 1, got {}", num(*value))
        }
        ConfigError::MinAboveMax { min, max } => format!(
            "({} ms) is larger than maxReconnectionDelay ({} ms)",
            ms(*min),
            ms(*max)
        ),
        ConfigError::InvalidStopCode { code } => {
            format!("contains {code}, which is not a close code (1000-4999)")
        }
        ConfigError::Empty { .. } => "must not be empty".to_owned(),
    };
    range_error(&format!("SteadySocket option {option} {what}"))
}

/// Only the variants the JS binding can meet; each formatted here, not through
/// `Display`, which would link Rust's float formatting into the wasm.
pub(crate) fn from_error(e: &Error) -> JsValue {
    match e {
        Error::InvalidUrl { url, reason } => dom(
            "SyntaxError",
            &format!("Failed to construct 'SteadySocket': the URL '{url}' is invalid: {reason}"),
        ),
        Error::InvalidProtocol { protocol, reason } => dom(
            "SyntaxError",
            &format!(
                "Failed to construct 'SteadySocket': the subprotocol '{protocol}' is invalid: {reason}"
            ),
        ),
        Error::Config(c) => from_config(c),
        Error::Close(c) => from_close(c),
        _ => named("Error", "steadysocket: unexpected error"),
    }
}
