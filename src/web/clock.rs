//! The one place the library reads the time: `performance.now()`.
//!
//! Works on the main thread and in workers (it looks `performance` up on the
//! global object). Falls back to `Date.now()` where there is no `performance`.

use std::cell::OnceCell;

use wasm_bindgen::JsCast;
use web_sys::Performance;

use super::prop;
use crate::machine::Instant;

thread_local! {
    static PERFORMANCE: OnceCell<Option<Performance>> = const { OnceCell::new() };
}

/// Now, in the core's terms.
pub(crate) fn now() -> Instant {
    let ms = PERFORMANCE.with(|cell| {
        cell.get_or_init(|| {
            // Anything with a `now` method (no `instanceof` import for it).
            let p = prop::get(&js_sys::global(), "performance");
            prop::get(&p, "now")
                .is_function()
                .then(|| p.unchecked_into::<Performance>())
        })
        .as_ref()
        .map_or_else(js_sys::Date::now, Performance::now)
    });
    Instant::from_millis_f64(ms)
}
