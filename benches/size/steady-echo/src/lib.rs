//! The smallest useful steadysocket app: connect, send, log what comes back.
use futures::StreamExt;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn echo(url: &str) -> Result<(), JsValue> {
    let mut socket =
        steadysocket::Socket::connect(url).map_err(|e| JsValue::from_str(&e.to_string()))?;
    socket
        .send("hello")
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(message) = socket.next().await {
            if let Some(text) = message.as_text() {
                web_sys::console::log_1(&text.into());
            }
        }
    });
    Ok(())
}

#[cfg(feature = "small-alloc")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
