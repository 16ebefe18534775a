//! URL checks, done before a URL reaches the browser's `WebSocket` constructor.
//!
//! Like the constructor in current browsers: relative URLs resolve against the
//! page, `http:`/`https:` become `ws:`/`wss:`, anything else (or a fragment) is
//! refused.

use wasm_bindgen::JsValue;

use crate::Error;

/// The absolute `ws:`/`wss:` form of `url`.
///
/// # Errors
///
/// [`Error::InvalidUrl`] naming the URL and what is wrong.
pub(crate) fn normalize(url: &str) -> Result<String, Error> {
    check(url).map_err(|reason| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    })
}

/// As [`normalize`], with only the reason as the error (no `Error` formatting
/// machinery on this path: the driver checks every provider's URL with it).
pub(crate) fn check(url: &str) -> Result<String, String> {
    let bad = |reason: &str| reason.to_owned();
    let parsed = match base() {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    }
    .map_err(|_| bad("it is not a valid URL"))?;
    match parsed.protocol().as_str() {
        "ws:" | "wss:" => {}
        "http:" => parsed.set_protocol("ws:"),
        "https:" => parsed.set_protocol("wss:"),
        other => return Err(bad(&format!("the scheme must be ws: or wss:, not {other}"))),
    }
    if url.bytes().any(|b| b == b'#') {
        return Err(bad("a WebSocket URL may not have a fragment"));
    }
    Ok(parsed.href())
}

/// The page's URL, to resolve relative URLs against (none in a bare worker).
fn base() -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    js_sys::Reflect::get(&location, &JsValue::from_str("href"))
        .ok()?
        .as_string()
}
