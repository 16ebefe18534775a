//! What the hooks' browser test pages of both examples share (included by
//! `examples/yew-chat/src/hooks_test.rs` and `examples/leptos-chat/src/hooks_test.rs`
//! with `#[path]`; each names its hook crate's `Options` and `Config` as
//! `super::hooks`).

use std::time::Duration;

use super::hooks::{Config, Handshake, Options};

/// A query parameter of the page.
pub(crate) fn param(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
}

/// Quick reconnects, so that a server restart is over in well under a second.
pub(crate) fn options<T>() -> Options<T> {
    Options::default().config(
        Config::default()
            .with_min_reconnection_delay(Duration::from_millis(50))
            .with_max_reconnection_delay(Duration::from_millis(200)),
    )
}

/// `?held=N`: on the first connection, `on_connect` sends `b0`…`b{N-1}` itself and
/// waits 300 ms without reading, so that all their echoes are held back and
/// delivered at once, in one task, at open: the burst a "latest only" hook would
/// show one message of.
pub(crate) fn held<T>(options: Options<T>) -> Options<T> {
    let Some(n) = param("held").and_then(|n| n.parse::<usize>().ok()) else {
        return options;
    };
    options.builder(move |b| {
        b.on_connect(move |conn: Handshake| async move {
            if conn.attempt() == 0 {
                for i in 0..n {
                    conn.send(format!("b{i}")).map_err(|e| format!("{e:?}"))?;
                }
                sleep(300).await;
            }
            Ok::<(), String>(())
        })
    })
}

pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
