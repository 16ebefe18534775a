//! The README's Rust example, compiled by the test suite (`clippy --all-targets`
//! on wasm32). Build it into a page with wasm-bindgen to run it.

#[cfg(target_arch = "wasm32")]
fn main() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            web_sys::console::error_1(&e.to_string().into());
        }
    });
}

#[cfg(target_arch = "wasm32")]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    use futures::StreamExt;
    use std::time::Duration;
    use steadysocket::{Config, Event, Socket};

    let log = |s: &str| web_sys::console::log_1(&s.into());

    let config = Config::default().with_heartbeat_interval(Some(Duration::from_secs(15)));
    let mut socket = Socket::builder("ws://127.0.0.1:8080/echo")
        .config(config)
        .connect()?;

    socket.send("hello")?; // queued until open, then sent once
    let mut events = socket.events(); // lifecycle, if you want it
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(event) = events.next().await {
            if let Event::Reconnecting { attempt, delay, .. } = event {
                log(&format!("retry {attempt} in {delay:?}"));
            }
        }
    });
    while let Some(message) = socket.next().await {
        // Stream<Item = Message>; ends at the first stop (close, max retries).
        log(&format!("{message:?}"));
    }
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("this example runs in a browser: build it for wasm32-unknown-unknown");
}
