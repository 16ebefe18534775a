//! Helpers for the browser tests: the fault server's control API, time, and an
//! event recorder. The control URL is baked in at compile time by the test script.

#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::StreamExt;
use serde_json::Value;
use steadysocket::{Event, Socket};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The fault server's control API (started by `scripts/test.sh`).
pub const CONTROL: &str = match option_env!("STEADYSOCKET_CONTROL") {
    Some(url) => url,
    None => "http://127.0.0.1:9911",
};

/// GETs a control route and returns its JSON.
pub async fn control(path: &str) -> Value {
    let window = web_sys::window().expect("a window");
    let url = format!("{CONTROL}{path}");
    let response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .unwrap_or_else(|e| panic!("control {url}: {e:?}"));
    let response: web_sys::Response = response.dyn_into().expect("a Response");
    let text = JsFuture::from(response.text().expect("text()"))
        .await
        .expect("body");
    let text = text.as_string().unwrap_or_default();
    assert!(
        response.ok(),
        "control {url} answered {}: {text}",
        response.status()
    );
    serde_json::from_str(&text).expect("JSON from the control API")
}

/// One WebSocket server instance of the fault server, on its own port.
pub struct Server {
    pub id: String,
    pub url: String,
}

impl Server {
    /// A fresh instance; `mode` is a query string such as `"stall=1"` or `""`.
    pub async fn new(mode: &str) -> Server {
        let v = control(&format!("/instances?{mode}")).await;
        Server {
            id: v["id"].as_str().expect("id").to_owned(),
            url: v["url"].as_str().expect("url").to_owned(),
        }
    }

    pub async fn ctl(&self, verb: &str) -> Value {
        control(&format!("/instances/{}/{verb}", self.id)).await
    }

    pub async fn log(&self) -> Value {
        self.ctl("log").await
    }

    /// Texts received on connection `n` (0-based, in connection order).
    pub async fn received_texts(&self, n: usize) -> Vec<String> {
        let log = self.log().await;
        log["connections"][n]["received"]
            .as_array()
            .map(|msgs| {
                msgs.iter()
                    .filter(|m| m["type"] == "text")
                    .filter_map(|m| m["data"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// All texts received on all connections, in order, heartbeats excluded.
    pub async fn all_texts(&self) -> Vec<String> {
        let log = self.log().await;
        let mut out = Vec::new();
        for c in log["connections"].as_array().into_iter().flatten() {
            for m in c["received"].as_array().into_iter().flatten() {
                if m["type"] == "text" && m["data"] != "ping" {
                    out.push(m["data"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        out
    }

    pub async fn connections(&self) -> usize {
        self.log().await["connections"]
            .as_array()
            .map_or(0, Vec::len)
    }

    pub async fn handshakes(&self) -> u64 {
        self.log().await["handshakes"].as_u64().unwrap_or(0)
    }

    /// The close code the server logged for connection `n`, waiting up to 1 s for it
    /// (`Null` if none came).
    pub async fn close_code(&self, n: usize) -> Value {
        for _ in 0..50 {
            let code = self.log().await["connections"][n]["closeCode"].clone();
            if !code.is_null() {
                return code;
            }
            sleep(20).await;
        }
        Value::Null
    }

    pub async fn delete(self) {
        self.ctl("delete").await;
    }
}

/// `performance.now()` in ms.
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Runs `fut` for at most `ms`; `None` on timeout.
pub async fn within<T>(ms: u32, fut: impl Future<Output = T>) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(sleep(ms));
    match futures::future::select(fut, timer).await {
        futures::future::Either::Left((v, _)) => Some(v),
        futures::future::Either::Right(_) => None,
    }
}

/// Polls `cond` every 10 ms until it holds; panics with `what` after `ms`.
pub async fn until(ms: u32, what: &str, mut cond: impl FnMut() -> bool) {
    let start = now();
    while !cond() {
        assert!(
            now() - start < f64::from(ms),
            "timed out after {ms} ms waiting for {what}"
        );
        sleep(10).await;
    }
}

/// Records every lifecycle event of a socket with its time.
#[derive(Clone, Default)]
pub struct Recorder(pub Rc<RefCell<Vec<(f64, Event)>>>);

impl Recorder {
    pub fn start(socket: &Socket) -> Recorder {
        let rec = Recorder::default();
        let log = rec.0.clone();
        let mut events = socket.events();
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(e) = events.next().await {
                log.borrow_mut().push((now(), e));
            }
        });
        rec
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.borrow().iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn count(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.0.borrow().iter().filter(|(_, e)| pred(e)).count()
    }

    /// Time of the first event matching `pred`.
    pub fn time_of(&self, pred: impl Fn(&Event) -> bool) -> Option<f64> {
        self.0
            .borrow()
            .iter()
            .find(|(_, e)| pred(e))
            .map(|(t, _)| *t)
    }

    pub async fn wait_for(&self, ms: u32, what: &str, pred: impl Fn(&Event) -> bool) {
        let rec = self.clone();
        until(ms, what, move || rec.count(&pred) > 0).await;
    }

    pub async fn wait_count(&self, ms: u32, n: usize, what: &str, pred: impl Fn(&Event) -> bool) {
        let rec = self.clone();
        until(ms, what, move || rec.count(&pred) >= n).await;
    }
}
