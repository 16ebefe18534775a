//! URL checks, done before a URL reaches the browser's `WebSocket` constructor.
//!
//! Like the constructor in current browsers: relative URLs resolve against the
//! page, `http:`/`https:` become `ws:`/`wss:`, anything else (or a fragment) is
//! refused.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use super::prop;

#[wasm_bindgen]
extern "C" {
    /// A `URL`, made by the one constructor below.
    #[wasm_bindgen(js_name = URL)]
    type Parsed;

    /// `new URL(url, base)`, `base` `undefined` when `None` (a missing argument):
    /// one import where web-sys has two constructors.
    #[wasm_bindgen(catch, constructor, js_class = URL)]
    fn new(url: &str, base: Option<&str>) -> Result<Parsed, JsValue>;
}

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
    let parsed: JsValue = Parsed::new(url, base().as_deref())
        .map_err(|_| bad("it is not a valid URL"))?
        .into();
    let scheme = |s: &str| prop::set(&parsed, "protocol", &JsValue::from_str(s));
    match prop::string(&parsed, "protocol")
        .unwrap_or_default()
        .as_str()
    {
        "ws:" | "wss:" => {}
        "http:" => scheme("ws:"),
        "https:" => scheme("wss:"),
        other => return Err(bad(&format!("the scheme must be ws: or wss:, not {other}"))),
    }
    if url.bytes().any(|b| b == b'#') {
        return Err(bad("a WebSocket URL may not have a fragment"));
    }
    Ok(prop::string(&parsed, "href").unwrap_or_default())
}

/// The page's URL, to resolve relative URLs against (none in a bare worker).
fn base() -> Option<String> {
    prop::string(&prop::get(&js_sys::global(), "location"), "href")
}
