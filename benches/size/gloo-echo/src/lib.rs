//! The same minimal echo app on gloo-net.
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn echo(url: &str) -> Result<(), JsValue> {
    let mut ws = WebSocket::open(url).map_err(|e| JsValue::from_str(&e.to_string()))?;
    wasm_bindgen_futures::spawn_local(async move {
        let _ = ws.send(Message::Text("hello".into())).await;
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
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
