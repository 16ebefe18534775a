//! [`Builder`] on the host: the same calls as in the browser; `connect` checks what
//! it can and then fails with [`Error::NoBrowser`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::rc::Rc;

use super::{Handshake, Socket};
use crate::machine::CloseInfo;
use crate::{Config, Error};

/// Sets up a [`Socket`]: the URL (or how to get one per attempt), subprotocols,
/// [`Config`] and an optional reconnect predicate.
///
/// On this target (not `wasm32`: server-side rendering, native tests) there is no
/// browser: every method exists so that shared code compiles, and
/// [`connect`](Builder::connect) returns [`Error::NoBrowser`] (or the error the
/// browser would report first for a bad [`Config`] or subprotocol list). The
/// functions given to it are dropped unused.
///
/// ```
/// use steadysocket::{Error, Socket};
///
/// assert_eq!(Socket::builder("/live").protocols(["v1"]).connect().err(), Some(Error::NoBrowser));
/// ```
#[must_use = "a builder does nothing until `connect()`"]
pub struct Builder {
    protocols: Vec<String>,
    protocols_fn: bool,
    config: Config,
    /// Not `Send`, as in the browser (where it holds `Rc` callbacks).
    _local: PhantomData<Rc<()>>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("protocols", &self.protocols)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Connect to `url` on every attempt. (Not checked on the host: a relative URL
    /// resolves against the page, which only the browser has.)
    pub fn new(url: impl Into<String>) -> Builder {
        let _ = url.into();
        Builder::empty()
    }

    /// Ask `f` for the URL before every attempt (with the retry number, 0 first).
    pub fn with_url_fn(f: impl Fn(u32) -> String + 'static) -> Builder {
        drop(f);
        Builder::empty()
    }

    /// Ask the async `f` for the URL before every attempt.
    pub fn with_async_url<F, Fut, E>(f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<String, E>> + 'static,
        E: fmt::Display,
    {
        drop(f);
        Builder::empty()
    }

    fn empty() -> Builder {
        Builder {
            protocols: Vec::new(),
            protocols_fn: false,
            config: Config::default(),
            _local: PhantomData,
        }
    }

    /// Subprotocols to offer, in order of preference.
    pub fn protocols<I, S>(mut self, protocols: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self.protocols_fn = false;
        self
    }

    /// Ask `f` for the subprotocols before every attempt.
    pub fn protocols_fn(mut self, f: impl Fn(u32) -> Vec<String> + 'static) -> Builder {
        drop(f);
        self.protocols_fn = true;
        self
    }

    /// Ask the async `f` for the subprotocols before every attempt.
    pub fn async_protocols_fn<F, Fut, E>(mut self, f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<String>, E>> + 'static,
        E: fmt::Display,
    {
        drop(f);
        self.protocols_fn = true;
        self
    }

    /// The reconnect, queue and heartbeat settings.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Called for every close the user did not ask for; `false` stops for good.
    pub fn should_reconnect(self, f: impl Fn(&CloseInfo) -> bool + 'static) -> Builder {
        drop(f);
        self
    }

    /// Runs `hook` after every native open, before the queue is flushed (in the
    /// browser; see [`Handshake`]).
    pub fn on_connect<F, Fut, E>(self, hook: F) -> Builder
    where
        F: Fn(Handshake) -> Fut + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display,
    {
        drop(hook);
        self
    }

    /// One connection for every socket of this origin with the share `name` (in
    /// the browser; see the browser build's docs). Needs the `share` feature.
    #[cfg(feature = "share")]
    pub fn share(self, name: impl Into<String>) -> Builder {
        drop(name.into());
        self
    }

    /// Checks the settings and the subprotocols as the browser build does, then
    /// fails: there is no browser to connect in.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidProtocol`] or [`Error::Config`] as in the browser, else
    /// always [`Error::NoBrowser`]. Create sockets in code that runs only in the
    /// browser (an effect, an event handler), or handle the error (`.ok()`).
    pub fn connect(self) -> Result<Socket, Error> {
        if !self.protocols_fn {
            crate::protocols::validate(&self.protocols)?;
        }
        self.config.validate()?;
        Err(Error::NoBrowser)
    }
}
