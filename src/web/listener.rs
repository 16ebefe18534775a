//! [`Listener`]: a JS event listener owned by a Rust value.
//!
//! Dropping it removes the listener from its target *before* the closure is freed
//! (the reverse order lets the browser call into a freed closure). No `forget`.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

/// One `addEventListener` registration; removed on drop.
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Registers `f` for `kind` events on `target`. Returns `None` if the browser
    /// refused (it never does for these targets, but no panic either way).
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(Event) + 'static,
    ) -> Option<Listener> {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(Listener {
            target: target.clone(),
            kind,
            callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Remove first; the closure is freed after this, when the field drops.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
