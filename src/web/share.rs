//! The browser side of `share` (see [`crate::share`] for the protocol): the Web
//! Lock `steadysocket:<name>`, held by the leader, and the
//! `BroadcastChannel("steadysocket:<name>")` the instances talk through.
//!
//! The Web Locks API is bound here (web-sys has it only behind
//! `--cfg=web_sys_unstable_apis`, which every user would have to set). Every call
//! that can throw is bound with `catch`. The lock is held by returning a promise
//! from the request's callback that is resolved to release it; a request still
//! waiting is given up through its `AbortSignal`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, BroadcastChannel};

use super::listener::Listener;
use super::prop;
use crate::machine::Payload;
use crate::share::{Frame, Wire, VERSION};

#[wasm_bindgen]
extern "C" {
    /// An `ArrayBuffer` or a typed array: one `byteLength` import for both.
    type Bytes;

    #[wasm_bindgen(method, getter, js_name = byteLength)]
    fn byte_length(this: &Bytes) -> f64;

    /// `navigator.locks`.
    type Locks;

    #[wasm_bindgen(method, catch)]
    fn request(
        this: &Locks,
        name: &str,
        options: &JsValue,
        callback: &js_sys::Function,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// A message crossing the channel: what the native socket delivered, or what an
/// instance relays, as a structured-cloneable JS value (string, ArrayBuffer,
/// Uint8Array or Blob) with its size.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) value: JsValue,
    pub(crate) bytes: usize,
}

impl Shared {
    /// Wraps a value the browser made (a native message, a structured clone).
    pub(crate) fn new(value: JsValue) -> Shared {
        let bytes = if let Some(s) = value.as_string() {
            s.len()
        } else if value.is_instance_of::<js_sys::ArrayBuffer>()
            || value.is_instance_of::<js_sys::Uint8Array>()
        {
            value.unchecked_ref::<Bytes>().byte_length() as usize
        } else if let Some(b) = value.dyn_ref::<web_sys::Blob>() {
            b.size() as usize
        } else {
            0
        };
        Shared { value, bytes }
    }
}

impl Payload for Shared {
    fn byte_len(&self) -> usize {
        self.bytes
    }

    fn is_text(&self, text: &str) -> bool {
        self.value.as_string().as_deref() == Some(text)
    }
}

/// Whether this global has what sharing needs: `navigator.locks.request` and
/// `BroadcastChannel` (a page, or a worker). Without them each instance
/// connects by itself.
pub(crate) fn supported() -> bool {
    let global = js_sys::global();
    let locks = prop::get(&prop::get(&global, "navigator"), "locks");
    prop::get(&locks, "request").is_function()
        && prop::get(&global, "BroadcastChannel").is_function()
}

/// A lock request of one generation: waiting, or granted (held until `release`).
struct Request {
    controller: Option<AbortController>,
    /// Resolving it releases a granted lock (set by the grant callback).
    release: Rc<RefCell<Option<js_sys::Function>>>,
    _callback: Closure<dyn FnMut(JsValue) -> js_sys::Promise>,
}

/// The lock and the channel of one instance.
pub(crate) struct ShareIo {
    name: String,
    locks: Locks,
    channel: BroadcastChannel,
    /// Removed when this drops, after the channel is closed.
    _on_message: Listener,
    request: RefCell<Option<Request>>,
    generation: Cell<u32>,
    /// Posted on drop (best effort), so that the others know at once.
    bye: Option<js_sys::Array>,
}

impl ShareIo {
    /// The lock and channel for share `name`, if this global has Web Locks and
    /// BroadcastChannel (`None`: the instance connects by itself). `on_frame` gets
    /// what arrives on the channel, undecoded.
    #[cfg(feature = "share")]
    pub(crate) fn open(
        name: &str,
        id: u64,
        on_frame: impl FnMut(JsValue) + 'static,
    ) -> Option<ShareIo> {
        let global = js_sys::global();
        let locks = prop::get(&prop::get(&global, "navigator"), "locks");
        if !locks.is_object() {
            return None;
        }
        let name = ["steadysocket:", name].concat();
        let channel = BroadcastChannel::new(&name).ok()?;
        let mut on_frame = on_frame;
        // A listener like the native socket's: one closure type for both.
        let on_message = Listener::new(channel.as_ref(), "message", move |e| {
            on_frame(e.unchecked_ref::<web_sys::MessageEvent>().data());
        })?;
        let bye = encode(Frame::Bye { from: id }, |s: &Shared| s.value.clone());
        Some(ShareIo {
            name,
            locks: locks.unchecked_into(),
            channel,
            _on_message: on_message,
            request: RefCell::new(None),
            generation: Cell::new(0),
            bye,
        })
    }

    /// Posts a frame (a clone failure or a closed channel is dropped: the
    /// protocol recovers from lost frames).
    pub(crate) fn post(&self, frame: &js_sys::Array) {
        let _ = self.channel.post_message(frame);
    }

    /// Requests the lock; `on_grant(generation)` runs when it is granted. A
    /// request already made is given up first.
    pub(crate) fn request(&self, on_grant: impl Fn(u32) + 'static) {
        self.release();
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        let controller = AbortController::new().ok();
        let options = js_sys::Object::new();
        if let Some(c) = &controller {
            prop::set(&options, "signal", &c.signal());
        }
        let release = Rc::new(RefCell::new(None));
        let cell = release.clone();
        let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock| {
            let held = js_sys::Promise::new(&mut |resolve, _reject| {
                *cell.borrow_mut() = Some(resolve);
            });
            on_grant(generation);
            held
        });
        let promise = self
            .locks
            .request(&self.name, &options, callback.as_ref().unchecked_ref());
        // The request's own promise settles when the lock is released or the
        // request given up (an AbortError): nothing to do, but a rejection must
        // not go unhandled. A `JsFuture` handles both and frees its callbacks then.
        if let Ok(p) = promise {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
            });
        }
        *self.request.borrow_mut() = Some(Request {
            controller,
            release,
            _callback: callback,
        });
    }

    /// Whether `generation` is the request still wanted (its grant callback
    /// runs); the request can no longer be given up, only released.
    pub(crate) fn granted(&self, generation: u32) -> bool {
        let current = generation == self.generation.get();
        if current {
            if let Some(req) = self.request.borrow_mut().as_mut() {
                req.controller = None;
            }
        }
        current
    }

    /// Releases the lock, or gives up the request.
    pub(crate) fn release(&self) {
        let request = self.request.borrow_mut().take();
        if let Some(req) = request {
            if let Some(c) = &req.controller {
                c.abort();
            }
            let release = req.release.borrow_mut().take();
            if let Some(f) = release {
                // `resolve(undefined)`: `call1`, which other paths use too.
                let _ = f.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED);
            }
        }
    }
}

impl Drop for ShareIo {
    fn drop(&mut self) {
        if let Some(bye) = &self.bye {
            self.post(bye);
        }
        self.release();
        self.channel.close();
    }
}

/// A frame as posted: `[VERSION, ...nums, ...texts, data]`.
pub(crate) fn encode<P>(frame: Frame<P>, data: impl Fn(&P) -> JsValue) -> Option<js_sys::Array> {
    let wire = Wire::encode(frame)?;
    let out = js_sys::Array::new_with_length(15);
    out.set(0, VERSION.into());
    for (i, n) in wire.nums.iter().enumerate() {
        out.set(1 + i as u32, (*n).into());
    }
    for (i, t) in wire.texts.iter().enumerate() {
        out.set(11 + i as u32, t.as_str().into());
    }
    if let Some(d) = &wire.data {
        out.set(14, data(d));
    }
    Some(out)
}

/// What arrived on the channel, if it is a frame of this version.
#[cfg(feature = "share")]
pub(crate) fn decode(value: &JsValue) -> Option<Frame<Shared>> {
    let array = value.dyn_ref::<js_sys::Array>()?;
    if array.length() != 15 || array.get(0).as_f64() != Some(VERSION) {
        return None;
    }
    let mut nums = [f64::NAN; 10];
    for (i, n) in nums.iter_mut().enumerate() {
        *n = array.get(1 + i as u32).as_f64().unwrap_or(f64::NAN);
    }
    let text = |i: u32| array.get(i).as_string().unwrap_or_default();
    let data = array.get(14);
    let wire = Wire {
        nums,
        texts: [text(11), text(12), text(13)],
        data: (!data.is_undefined()).then(|| Shared::new(data)),
    };
    wire.decode()
}
