//! The JS `options` object: reconnecting-websocket's names plus ours, each checked
//! with an error that names it.

use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};

use super::errors::{range_error, type_error};
use crate::machine::{CloseInfo, Config, QueueOverflow};
use crate::web::driver::{js_error_message, Hook, HookCall, Predicate};
use crate::web::prop;

/// The parsed options.
pub(crate) struct Options {
    pub(crate) config: Config,
    pub(crate) should_reconnect: Option<Predicate>,
    pub(crate) constructor: Option<js_sys::Function>,
    pub(crate) on_connect: Option<Hook>,
    pub(crate) share: Option<String>,
}

/// Reads `options` (undefined or null means all defaults).
///
/// # Errors
///
/// `TypeError` for a value of the wrong type (or options that are not an
/// object), `RangeError` for a number out of range; both name the option.
pub(crate) fn parse(options: &JsValue) -> Result<Options, JsValue> {
    let mut c = Config::default();
    if options.is_undefined() || options.is_null() {
        return Ok(Options {
            config: c,
            should_reconnect: None,
            constructor: None,
            on_connect: None,
            share: None,
        });
    }
    if !options.is_object() {
        return Err(type_error("SteadySocket options must be an object"));
    }
    let o = Reader(options);
    let min = o.millis("minReconnectionDelay")?;
    let max = o.millis("maxReconnectionDelay")?;
    // As reconnecting-websocket: one delay set alone moves the other's default out
    // of its way; only both set with min > max is an error (from validate()).
    match (min, max) {
        (Some(min), None) => {
            c.min_reconnection_delay = min;
            c.max_reconnection_delay = c.max_reconnection_delay.max(min);
        }
        (None, Some(max)) => {
            c.max_reconnection_delay = max;
            c.min_reconnection_delay = c.min_reconnection_delay.min(max);
        }
        (min, max) => {
            c.min_reconnection_delay = min.unwrap_or(c.min_reconnection_delay);
            c.max_reconnection_delay = max.unwrap_or(c.max_reconnection_delay);
        }
    }
    if let Some(v) = o.number("reconnectionDelayGrowFactor")? {
        if v < 1.0 {
            return Err(o.range("reconnectionDelayGrowFactor", "must be at least 1", v));
        }
        c.reconnection_delay_grow_factor = v;
    }
    if let Some(v) = o.number("reconnectionJitter")? {
        if !(0.0..=1.0).contains(&v) {
            return Err(o.range("reconnectionJitter", "must be between 0 and 1", v));
        }
        c.reconnection_jitter = v;
    }
    if let Some(v) = o.positive_millis("connectionTimeout")? {
        c.connection_timeout = v;
    }
    if let Some(v) = o.millis("minUptime")? {
        c.min_uptime = v;
    }
    if let Some(v) = o.count("maxRetries")? {
        c.max_retries = v.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(v) = o.count("maxEnqueuedMessages")? {
        c.max_enqueued_messages = v.unwrap_or(usize::MAX);
    }
    if let Some(v) = o.count("maxEnqueuedBytes")? {
        c.max_enqueued_bytes = v.unwrap_or(usize::MAX);
    }
    if let Some(v) = o.positive_millis("closeTimeout")? {
        c.close_timeout = v;
    }
    if let Some(v) = o.millis("heartbeatInterval")? {
        c.heartbeat_interval = (!v.is_zero()).then_some(v);
    }
    if let Some(v) = o.positive_millis("heartbeatTimeout")? {
        c.heartbeat_timeout = v;
    }
    if let Some(v) = o.string("heartbeatMessage")? {
        if v.is_empty() {
            return Err(type_error(
                "SteadySocket option heartbeatMessage must not be empty",
            ));
        }
        c.heartbeat_message = v;
    }
    if let Some(v) = o.string("heartbeatResponse")? {
        c.heartbeat_response = v;
    }
    if let Some(v) = o.millis("messageTtl")? {
        c.message_ttl = Some(v);
    }
    if let Some(v) = o.string("queueOverflow")? {
        c.queue_overflow = match v.as_str() {
            "reject" => QueueOverflow::Reject,
            "drop-oldest" => QueueOverflow::DropOldest,
            _ => {
                return Err(type_error(
                    "SteadySocket option queueOverflow must be \"reject\" or \"drop-oldest\"",
                ))
            }
        };
    }
    if let Some(v) = o.boolean("startClosed")? {
        c.start_closed = v;
    }
    o.boolean("debug")?; // used by the JS shell; checked here with the rest
    if let Some(codes) = o.get("stopOnCloseCodes") {
        c.stop_on_close_codes = close_codes(&codes)?;
    }
    let should_reconnect = match o.get("shouldReconnect") {
        None => None,
        Some(f) => Some(predicate(f)?),
    };
    let constructor = match o.get("WebSocket") {
        None => None,
        Some(f) => Some(f.dyn_into::<js_sys::Function>().map_err(|_| {
            type_error("SteadySocket option WebSocket must be a WebSocket constructor")
        })?),
    };
    let on_connect = match o.get("onConnect") {
        None => None,
        Some(f) => Some(hook(f)?),
    };
    let share = match o.get("share") {
        None => None,
        Some(v) if v.as_bool() == Some(false) => None,
        Some(v) => Some(v.as_string().filter(|s| !s.is_empty()).ok_or_else(|| {
            type_error("SteadySocket option share must be a non-empty string (the share name)")
        })?),
    };
    c.validate().map_err(|e| super::errors::from_config(&e))?;
    Ok(Options {
        config: c,
        should_reconnect,
        constructor,
        on_connect,
        share,
    })
}

struct Reader<'a>(&'a JsValue);

impl Reader<'_> {
    /// The option's value; `None` when absent, undefined or null.
    fn get(&self, name: &str) -> Option<JsValue> {
        Some(prop::get(self.0, name)).filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn range(&self, name: &str, what: &str, value: f64) -> JsValue {
        range_error(&format!(
            "SteadySocket option {name} {what}, got {}",
            super::errors::num(value)
        ))
    }

    fn number(&self, name: &str) -> Result<Option<f64>, JsValue> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n = v
            .as_f64()
            .ok_or_else(|| type_error(&format!("SteadySocket option {name} must be a number")))?;
        if n.is_nan() {
            return Err(self.range(name, "must be a number", n));
        }
        Ok(Some(n))
    }

    fn millis(&self, name: &str) -> Result<Option<Duration>, JsValue> {
        let Some(n) = self.number(name)? else {
            return Ok(None);
        };
        if n < 0.0 {
            return Err(self.range(name, "must not be negative", n));
        }
        Duration::try_from_secs_f64(n / 1000.0)
            .map(Some)
            .map_err(|_| self.range(name, "must be a finite number of milliseconds", n))
    }

    fn positive_millis(&self, name: &str) -> Result<Option<Duration>, JsValue> {
        match self.millis(name)? {
            Some(d) if d.is_zero() => Err(self.range(name, "must be greater than 0", 0.0)),
            other => Ok(other),
        }
    }

    /// A whole number >= 0, or `Infinity` (`Some(None)`: unlimited).
    fn count(&self, name: &str) -> Result<Option<Option<usize>>, JsValue> {
        let Some(n) = self.number(name)? else {
            return Ok(None);
        };
        if n == f64::INFINITY {
            return Ok(Some(None));
        }
        if n < 0.0 || n.fract() != 0.0 || !n.is_finite() {
            return Err(self.range(name, "must be a whole number >= 0 or Infinity", n));
        }
        Ok(Some(Some(n.min(usize::MAX as f64) as usize)))
    }

    fn string(&self, name: &str) -> Result<Option<String>, JsValue> {
        self.get(name)
            .map(|v| {
                v.as_string().ok_or_else(|| {
                    type_error(&format!("SteadySocket option {name} must be a string"))
                })
            })
            .transpose()
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, JsValue> {
        self.get(name)
            .map(|v| {
                v.as_bool().ok_or_else(|| {
                    type_error(&format!("SteadySocket option {name} must be a boolean"))
                })
            })
            .transpose()
    }
}

fn close_codes(value: &JsValue) -> Result<Vec<u16>, JsValue> {
    let bad = || type_error("SteadySocket option stopOnCloseCodes must be an array of close codes");
    let array = value.dyn_ref::<js_sys::Array>().ok_or_else(bad)?;
    array
        .iter()
        .map(|v| {
            let n = v.as_f64().ok_or_else(bad)?;
            if n.fract() != 0.0 || !(1000.0..=4999.0).contains(&n) {
                return Err(range_error(&format!(
                    "SteadySocket option stopOnCloseCodes: {} is not a close code (1000-4999)",
                    super::errors::num(n)
                )));
            }
            Ok(n as u16)
        })
        .collect()
}

/// Wraps the JS `onConnect` (the shell passes a trampoline called with the attempt
/// number and the protocol; it builds `conn` and calls the user's hook): a throw,
/// a rejection or a non-settling promise fails the attempt.
fn hook(f: JsValue) -> Result<Hook, JsValue> {
    let f: js_sys::Function = f
        .dyn_into()
        .map_err(|_| type_error("SteadySocket option onConnect must be a function"))?;
    Ok(Rc::new(move |call: HookCall| {
        let result = f.call2(
            &JsValue::UNDEFINED,
            &call.attempt.into(),
            &JsValue::from_str(&call.protocol),
        );
        Box::pin(async move {
            let value = result.map_err(|e| js_error_message(&e))?;
            if let Ok(promise) = value.dyn_into::<js_sys::Promise>() {
                wasm_bindgen_futures::JsFuture::from(promise)
                    .await
                    .map_err(|e| js_error_message(&e))?;
            }
            Ok(())
        })
    }))
}

/// Wraps a JS `shouldReconnect(closeEvent)` function. A predicate that throws is
/// treated as "reconnect" (the safe choice for a socket that should stay up).
fn predicate(f: JsValue) -> Result<Predicate, JsValue> {
    let f: js_sys::Function = f
        .dyn_into()
        .map_err(|_| type_error("SteadySocket option shouldReconnect must be a function"))?;
    Ok(Rc::new(move |close: &CloseInfo| {
        let event = js_sys::Object::new();
        let set = |k: &str, v: JsValue| prop::set(&event, k, &v);
        set("code", JsValue::from(close.code));
        set("reason", JsValue::from_str(&close.reason));
        set("wasClean", JsValue::from(close.was_clean));
        f.call1(&JsValue::UNDEFINED, &event)
            .map_or(true, |v| v.is_truthy())
    }))
}
