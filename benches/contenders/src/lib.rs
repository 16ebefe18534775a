//! The Rust contenders of `npm run bench`: the same workloads through steadysocket's
//! `Socket` (Stream/Sink) and through gloo-net's websocket, timed inside wasm with
//! `performance.now()`. Each function connects, waits for open, runs the workload,
//! closes, and returns milliseconds (or a list of round-trip times).

use futures::{SinkExt, StreamExt};
use wasm_bindgen::prelude::*;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn err(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

fn payload(size: u32) -> String {
    "x".repeat(size as usize)
}

// ----- steadysocket -------------------------------------------------------------

async fn steady(url: &str) -> Result<steadysocket::Socket, JsValue> {
    let socket = steadysocket::Socket::connect(url).map_err(err)?;
    socket.opened().await.map_err(err)?;
    Ok(socket)
}

/// With the heartbeat on (1 s of silence; never due while messages flow).
async fn steady_hb(url: &str) -> Result<steadysocket::Socket, JsValue> {
    let mut config = steadysocket::Config::default();
    config.heartbeat_interval = Some(std::time::Duration::from_secs(1));
    let socket = steadysocket::Socket::builder(url)
        .config(config)
        .connect()
        .map_err(err)?;
    socket.opened().await.map_err(err)?;
    Ok(socket)
}

/// `n` text messages of `size` bytes sent back to back, then all echoes received.
#[wasm_bindgen]
pub async fn steady_text(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    text(steady(&url).await?, n, size).await
}

/// `steady_text` with the heartbeat on.
#[wasm_bindgen]
pub async fn steady_text_hb(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    text(steady_hb(&url).await?, n, size).await
}

async fn text(mut socket: steadysocket::Socket, n: u32, size: u32) -> Result<f64, JsValue> {
    let text = payload(size);
    let t0 = now();
    for _ in 0..n {
        socket.send(text.as_str()).map_err(err)?;
    }
    for _ in 0..n {
        socket.next().await.ok_or("stream ended")?;
    }
    let elapsed = now() - t0;
    socket.close(1000, "").map_err(err)?;
    Ok(elapsed)
}

/// `n` binary messages of `size` bytes, pipelined.
#[wasm_bindgen]
pub async fn steady_binary(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    let mut socket = steady(&url).await?;
    let bytes = vec![7u8; size as usize];
    let t0 = now();
    for _ in 0..n {
        socket.send(bytes.as_slice()).map_err(err)?;
    }
    for _ in 0..n {
        socket.next().await.ok_or("stream ended")?;
    }
    let elapsed = now() - t0;
    socket.close(1000, "").map_err(err)?;
    Ok(elapsed)
}

/// `n` sequential round trips; returns each round-trip time in ms.
#[wasm_bindgen]
pub async fn steady_pingpong(url: String, n: u32, size: u32) -> Result<Vec<f64>, JsValue> {
    let mut socket = steady(&url).await?;
    let text = payload(size);
    let mut rtts = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t0 = now();
        socket.send(text.as_str()).map_err(err)?;
        socket.next().await.ok_or("stream ended")?;
        rtts.push(now() - t0);
    }
    socket.close(1000, "").map_err(err)?;
    Ok(rtts)
}

/// Asks the server for a flood of `n` messages (`flood <n> <size>`) and times
/// receiving them all.
#[wasm_bindgen]
pub async fn steady_flood(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    flood(steady(&url).await?, n, size).await
}

/// `steady_flood` with the heartbeat on.
#[wasm_bindgen]
pub async fn steady_flood_hb(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    flood(steady_hb(&url).await?, n, size).await
}

async fn flood(mut socket: steadysocket::Socket, n: u32, size: u32) -> Result<f64, JsValue> {
    let t0 = now();
    socket.send(format!("flood {n} {size}")).map_err(err)?;
    for _ in 0..n {
        socket.next().await.ok_or("stream ended")?;
    }
    let elapsed = now() - t0;
    socket.close(1000, "").map_err(err)?;
    Ok(elapsed)
}

// ----- gloo-net -----------------------------------------------------------------

use gloo_net::websocket::{futures::WebSocket, Message};

async fn gloo(url: &str) -> Result<WebSocket, JsValue> {
    let mut ws = WebSocket::open(url).map_err(err)?;
    // gloo-net's sink is ready once open: wait for it.
    futures::future::poll_fn(|cx| ws.poll_ready_unpin(cx))
        .await
        .map_err(err)?;
    Ok(ws)
}

#[wasm_bindgen]
pub async fn gloo_text(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    let mut ws = gloo(&url).await?;
    let text = payload(size);
    let t0 = now();
    for _ in 0..n {
        ws.feed(Message::Text(text.clone())).await.map_err(err)?;
    }
    ws.flush().await.map_err(err)?;
    for _ in 0..n {
        ws.next().await.ok_or("stream ended")?.map_err(err)?;
    }
    let elapsed = now() - t0;
    let _ = ws.close(None, None);
    Ok(elapsed)
}

#[wasm_bindgen]
pub async fn gloo_binary(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    let mut ws = gloo(&url).await?;
    let bytes = vec![7u8; size as usize];
    let t0 = now();
    for _ in 0..n {
        ws.feed(Message::Bytes(bytes.clone())).await.map_err(err)?;
    }
    ws.flush().await.map_err(err)?;
    for _ in 0..n {
        ws.next().await.ok_or("stream ended")?.map_err(err)?;
    }
    let elapsed = now() - t0;
    let _ = ws.close(None, None);
    Ok(elapsed)
}

#[wasm_bindgen]
pub async fn gloo_pingpong(url: String, n: u32, size: u32) -> Result<Vec<f64>, JsValue> {
    let mut ws = gloo(&url).await?;
    let text = payload(size);
    let mut rtts = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t0 = now();
        ws.send(Message::Text(text.clone())).await.map_err(err)?;
        ws.next().await.ok_or("stream ended")?.map_err(err)?;
        rtts.push(now() - t0);
    }
    let _ = ws.close(None, None);
    Ok(rtts)
}

#[wasm_bindgen]
pub async fn gloo_flood(url: String, n: u32, size: u32) -> Result<f64, JsValue> {
    let mut ws = gloo(&url).await?;
    let t0 = now();
    ws.send(Message::Text(format!("flood {n} {size}")))
        .await
        .map_err(err)?;
    for _ in 0..n {
        ws.next().await.ok_or("stream ended")?.map_err(err)?;
    }
    let elapsed = now() - t0;
    let _ = ws.close(None, None);
    Ok(elapsed)
}
