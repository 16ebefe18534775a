//! The wasm-bindgen exports behind the npm package's `SteadySocket`.
//!
//! Only `Core` is exported: all logic, one per socket. The package's JS shell
//! (`js/socket.js`) is the `EventTarget` users hold; it creates a `Core` and gives
//! it two callbacks that reach the shell through a `WeakRef`, so nothing here keeps
//! a stopped, unreferenced socket alive.

mod errors;
mod options;
mod payload;

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::BinaryType;

use crate::machine::{Delivery, Event, SendOptions};
use crate::web::driver::{js_error_message, Driver, Output, Resolver, Setup, Target};
use crate::web::prop;
use crate::web::url;
use payload::JsPayload;

/// Delivers to the JS shell.
struct JsOutput {
    on_message: js_sys::Function,
    on_event: js_sys::Function,
}

impl Output for JsOutput {
    fn hook_message(&self, data: JsValue) {
        let _ = self.on_event.call2(
            &JsValue::UNDEFINED,
            &JsValue::from_str("hook-message"),
            &data,
        );
    }

    fn hook_end(&self, ok: bool) {
        let _ = self.on_event.call2(
            &JsValue::UNDEFINED,
            &JsValue::from_str("hook-end"),
            &ok.into(),
        );
    }

    fn receipt(&self, id: u64, fate: Delivery) {
        let fate = match fate {
            Delivery::Sent => "sent",
            Delivery::Expired => "expired",
            Delivery::Overflowed => "overflow",
            Delivery::Cleared => "cleared",
            _ => "stopped",
        };
        let detail = js_sys::Array::of2(&(id as f64).into(), &JsValue::from_str(fate));
        let _ = self
            .on_event
            .call2(&JsValue::UNDEFINED, &JsValue::from_str("receipt"), &detail);
    }

    fn message(&self, data: JsValue) {
        // A throwing listener is the shell's business (dispatchEvent reports it).
        let _ = self.on_message.call1(&JsValue::UNDEFINED, &data);
    }

    fn event(&self, event: Event) {
        let detail = js_sys::Object::new();
        let set = |k: &str, v: JsValue| prop::set(&detail, k, &v);
        let kind = match event {
            Event::Connecting { attempt } => {
                set("attempt", attempt.into());
                "connecting"
            }
            Event::Open => "open",
            // A plain `error` event, as the native socket fires (no detail).
            Event::Error(_) => "error",
            Event::Close(close) => {
                set("code", close.code.into());
                set("reason", JsValue::from_str(&close.reason));
                set("wasClean", close.was_clean.into());
                "close"
            }
            Event::Reconnecting {
                attempt,
                delay,
                code,
                reason,
            } => {
                set("attempt", attempt.into());
                set("delay", (delay.as_secs_f64() * 1000.0).into());
                set("code", code.into());
                set("reason", JsValue::from_str(&reason));
                "reconnecting"
            }
            Event::Heartbeat { rtt } => {
                set("rtt", (rtt.as_secs_f64() * 1000.0).into());
                "heartbeat"
            }
            Event::Stop(reason) => {
                set("reason", JsValue::from_str(reason.as_str()));
                "stop"
            }
            Event::Lagged { .. } => return, // never from the core
            Event::Discarded { reason, count } => {
                set("reason", JsValue::from_str(reason.as_str()));
                set("count", (count as f64).into());
                "discard"
            }
        };
        let _ = self
            .on_event
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(kind), &detail);
    }
}

/// The logic of one `SteadySocket`. Created by the package's JS shell; not meant
/// to be used directly.
#[wasm_bindgen]
pub struct Core {
    driver: Rc<Driver<JsPayload, JsOutput>>,
    /// The URL as `SteadySocket.url` reports it before the first attempt.
    initial_url: String,
}

#[wasm_bindgen]
impl Core {
    /// `url`: string, or a function (sync or async) called once per attempt.
    /// `protocols`: string, array of strings, undefined, or a function (sync or
    /// async) called once per attempt returning one of those.
    /// `options`: the flat options object. `on_message(data)` and
    /// `on_event(kind, detail)` receive what happens.
    ///
    /// # Errors
    ///
    /// `SyntaxError` for a bad URL or subprotocol; `TypeError`/`RangeError` naming a
    /// bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: JsValue,
        protocols: JsValue,
        options: JsValue,
        on_message: js_sys::Function,
        on_event: js_sys::Function,
    ) -> Result<Core, JsValue> {
        let protocols = protocols_source(protocols)?;
        let opts = options::parse(&options)?;
        let (url, initial_url) = url_source(url)?;
        let setup = Setup {
            url,
            protocols,
            config: opts.config,
            binary_type: BinaryType::Blob,
            should_reconnect: opts.should_reconnect,
            constructor: opts.constructor,
            on_connect: opts.on_connect,
            share: opts.share,
        };
        let output = JsOutput {
            on_message,
            on_event,
        };
        let driver = Driver::start(setup, output).map_err(|e| errors::from_config(&e))?;
        Ok(Core {
            driver,
            initial_url,
        })
    }

    /// Sends or queues `data`, already checked by the JS shell: `kind` says what it
    /// is (0 string, 1 ArrayBuffer, 2 Uint8Array over a view's bytes, 3 Blob) and
    /// `bytes` its size (ignored for strings). `ttl` (ms; negative: none) limits its
    /// wait in the queue. With `track` > 0 its fate comes as a `receipt` event.
    /// Returns `true` when it was handed to an open native socket, `false` when it
    /// was queued (or discarded at once: a zero TTL).
    ///
    /// # Errors
    ///
    /// `QueueFullError` when the queue is full; `InvalidStateError` for a tracked
    /// send once stopped for good.
    pub fn send(
        &self,
        data: JsValue,
        kind: u8,
        bytes: f64,
        ttl: f64,
        track: f64,
    ) -> Result<bool, JsValue> {
        let payload = JsPayload::new(data, kind, bytes);
        let options = if ttl >= 0.0 {
            SendOptions::ttl(std::time::Duration::from_millis(ttl as u64))
        } else {
            SendOptions::default()
        };
        let track = (track > 0.0).then_some(track as u64);
        self.driver
            .send(payload, options, track)
            .map_err(|e| match e {
                crate::SendError::QueueFull(_) => errors::named(
                    "QueueFullError",
                    "Failed to execute 'send' on 'SteadySocket': the send queue is full \
                 (maxEnqueuedMessages / maxEnqueuedBytes)",
                ),
                _ => errors::dom(
                    "InvalidStateError",
                    "Failed to execute 'sendWithResult' on 'SteadySocket': the socket has \
                 stopped; call reconnect() first",
                ),
            })
    }

    /// `conn.send()` of the connection hook: straight onto the connection being
    /// set up, never queued (arguments as for `send`).
    ///
    /// # Errors
    ///
    /// `InvalidStateError` when the hook's connection is gone or its hook settled.
    #[wasm_bindgen(js_name = hookSend)]
    pub fn hook_send(&self, data: JsValue, kind: u8, bytes: f64) -> Result<(), JsValue> {
        self.driver
            .hook_send(JsPayload::new(data, kind, bytes))
            .map_err(|_| {
                errors::dom(
                    "InvalidStateError",
                    "Failed to execute 'send' on the onConnect connection: it is no longer \
                     open, or onConnect has settled",
                )
            })
    }

    /// Removes and returns everything queued, in order (a `discard` event with
    /// reason `"cleared"` follows when anything was queued).
    #[wasm_bindgen(js_name = drainQueued)]
    pub fn drain_queued(&self) -> js_sys::Array {
        self.driver
            .drain_queued()
            .into_iter()
            .map(JsPayload::into_value)
            .collect()
    }

    /// Closes for good.
    ///
    /// # Errors
    ///
    /// `InvalidAccessError` for a code other than 1000 or 3000–4999, `SyntaxError`
    /// for a reason over 123 UTF-8 bytes; the socket is unchanged then.
    pub fn close(&self, code: JsValue, reason: JsValue) -> Result<(), JsValue> {
        let (code, reason) = close_args(&code, &reason)?;
        self.driver
            .close(code, &reason)
            .map_err(|e| errors::from_close(&e))
    }

    /// Closes the current socket (if any), resets the retry count, connects at once.
    ///
    /// # Errors
    ///
    /// As [`close`](Core::close).
    pub fn reconnect(&self, code: JsValue, reason: JsValue) -> Result<(), JsValue> {
        let (code, reason) = close_args(&code, &reason)?;
        self.driver
            .reconnect(code, &reason)
            .map_err(|e| errors::from_close(&e))
    }

    /// 0 CONNECTING (also while waiting to retry), 1 OPEN, 2 CLOSING, 3 CLOSED.
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        self.driver.ready_state() as u16
    }

    /// The URL of the current or last attempt.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        let url = self.driver.url();
        if url.is_empty() {
            self.initial_url.clone()
        } else {
            url
        }
    }

    /// The subprotocol the server chose.
    #[wasm_bindgen(getter)]
    pub fn protocol(&self) -> String {
        self.driver.opened().protocol
    }

    /// The extensions the server chose.
    #[wasm_bindgen(getter)]
    pub fn extensions(&self) -> String {
        self.driver.opened().extensions
    }

    /// Queued bytes plus the native socket's `bufferedAmount`.
    #[wasm_bindgen(getter, js_name = bufferedAmount)]
    pub fn buffered_amount(&self) -> f64 {
        self.driver.buffered_amount()
    }

    /// Retries since the last connection that stayed up `minUptime`.
    #[wasm_bindgen(getter, js_name = retryCount)]
    pub fn retry_count(&self) -> u32 {
        self.driver.retry_count()
    }

    /// Messages waiting in the send queue.
    #[wasm_bindgen(getter, js_name = queuedMessages)]
    pub fn queued_messages(&self) -> usize {
        self.driver.queued_messages()
    }

    /// `"blob"` or `"arraybuffer"`; kept across reconnects.
    #[wasm_bindgen(getter, js_name = binaryType)]
    pub fn binary_type(&self) -> String {
        match self.driver.binary_type() {
            BinaryType::Arraybuffer => "arraybuffer".to_owned(),
            _ => "blob".to_owned(),
        }
    }

    /// Sets the binary type; other values are ignored, as the browser does.
    #[wasm_bindgen(setter, js_name = binaryType)]
    pub fn set_binary_type(&self, value: JsValue) {
        match value.as_string().as_deref() {
            Some("blob") => self.driver.set_binary_type(BinaryType::Blob),
            Some("arraybuffer") => self.driver.set_binary_type(BinaryType::Arraybuffer),
            _ => {}
        }
    }
}

/// A protocols value (string, array of strings, undefined) as a list.
fn parse_protocols(value: &JsValue) -> Result<Vec<String>, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if let Some(p) = value.as_string() {
        return Ok(vec![p]);
    }
    let bad = || "protocols must be a string or an array of strings".to_owned();
    let array = value.dyn_ref::<js_sys::Array>().ok_or_else(bad)?;
    array
        .iter()
        .map(|p| p.as_string().ok_or_else(bad))
        .collect()
}

/// How to get the protocols of each attempt: a fixed list (checked now) or a
/// provider (checked per attempt).
fn protocols_source(value: JsValue) -> Result<Resolver<Vec<String>>, JsValue> {
    if let Some(f) = value.dyn_ref::<js_sys::Function>() {
        let f = f.clone();
        return Ok(Rc::new(move |attempt| {
            call_provider(&f, attempt, "protocols", parse_protocols)
        }));
    }
    let protocols = parse_protocols(&value)
        .map_err(|m| errors::dom("SyntaxError", &format!("SteadySocket {m}")))?;
    crate::protocols::validate(&protocols).map_err(|e| errors::from_error(&e))?;
    Ok(Rc::new(move |_| Target::Ready(protocols.clone())))
}

/// How to get the URL of each attempt, and what `url` says before the first.
fn url_source(url: JsValue) -> Result<(Resolver<String>, String), JsValue> {
    if let Some(f) = url.dyn_ref::<js_sys::Function>() {
        let f = f.clone();
        let resolver: Resolver<String> = Rc::new(move |attempt| {
            call_provider(&f, attempt, "URL", |v| {
                v.as_string()
                    .ok_or_else(|| "the URL provider did not give a string".to_owned())
            })
        });
        return Ok((resolver, String::new()));
    }
    let text = url.as_string().ok_or_else(|| {
        errors::dom(
            "SyntaxError",
            "SteadySocket url must be a string or a function returning one",
        )
    })?;
    let url = url::normalize(&text).map_err(|e| errors::from_error(&e))?;
    let shown = url.clone();
    Ok((Rc::new(move |_| Target::Ready(url.clone())), shown))
}

/// Calls a provider (user code: the driver calls this with nothing borrowed):
/// a value now, a promise of one later, or a failure. A throw is a value here.
fn call_provider<T: 'static>(
    f: &js_sys::Function,
    attempt: u32,
    what: &'static str,
    convert: fn(&JsValue) -> Result<T, String>,
) -> Target<T> {
    match f.call1(&JsValue::UNDEFINED, &attempt.into()) {
        Err(e) => Target::Failed(format!(
            "the {what} provider threw {}",
            js_error_message(&e)
        )),
        Ok(v) => match v.dyn_into::<js_sys::Promise>() {
            Ok(promise) => Target::Pending(Box::pin(async move {
                let v = wasm_bindgen_futures::JsFuture::from(promise)
                    .await
                    .map_err(|e| {
                        format!("the {what} provider rejected: {}", js_error_message(&e))
                    })?;
                convert(&v)
            })),
            Err(v) => convert(&v).map_or_else(Target::Failed, Target::Ready),
        },
    }
}

fn close_args(code: &JsValue, reason: &JsValue) -> Result<(Option<u16>, String), JsValue> {
    let code = if code.is_undefined() {
        None
    } else {
        // WebIDL `unsigned short` with [Clamp]: out-of-range numbers are refused.
        let n = code.as_f64().unwrap_or(f64::NAN);
        if !(0.0..=65535.0).contains(&n) || n.fract() != 0.0 {
            return Err(errors::dom(
                "InvalidAccessError",
                &format!(
                    "close code {} is not allowed: use 1000 or 3000-4999",
                    errors::num(n)
                ),
            ));
        }
        Some(n as u16)
    };
    let reason = if reason.is_undefined() {
        String::new()
    } else {
        reason
            .as_string()
            .unwrap_or_else(|| js_sys::JsString::from(reason.clone()).into())
    };
    Ok((code, reason))
}

/// The npm package's allocator: a sorted free list that merges neighbours
/// (`lol_alloc`), about 1 KB of code where Rust's default (dlmalloc) is 7 KB, which
/// is 3.2 KB less gzipped wasm for every page that loads the package. The price,
/// measured by `npm run bench -- --only memory`: a grown queue leaves more memory
/// (3.6 MiB after 10,000 queued-then-flushed messages, 2.8 MiB with dlmalloc), the
/// same on every later round. The package's wasm runs on one thread, so the lock
/// never waits. Only the `js` feature (the npm package's own build) sets it: a Rust
/// app keeps its own choice of allocator.
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
