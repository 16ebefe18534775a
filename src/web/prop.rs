//! A JS property read or written by name, through `Reflect.get` / `Reflect.set`.
//!
//! One import each for every property of every class, where web-sys has one per
//! property and class (and an `instanceof` import before each checked cast). Used
//! off the hot paths only: a close event's fields, the socket's protocol and
//! extensions on open, URL parts, the page's globals.

use wasm_bindgen::JsValue;

/// `target[key]`; `undefined` when `target` is not an object or the getter throws.
pub(crate) fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or_default()
}

/// `target[key]` if it is a string.
pub(crate) fn string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// `target[key] = value`; a throwing setter or a non-object target is ignored.
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}
