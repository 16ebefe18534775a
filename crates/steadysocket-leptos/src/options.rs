//! [`Options`]: how [`use_socket`](crate::use_socket) sets up its socket, and the
//! callbacks it calls.

use std::fmt;
use std::rc::Rc;

use steadysocket::{Builder, Config, Event, Message};

/// What [`use_socket`](crate::use_socket) / [`use_socket_json`](crate::use_socket_json)
/// connect with (a [`Config`], subprotocols, anything else a steadysocket
/// [`Builder`] takes) and the callbacks they call (user code: it may use the
/// handle, e.g. send a reply).
///
/// They are read once, by [`use_socket`](crate::use_socket) (the component body
/// runs once) and by [`restart_with`](crate::UseSocket::restart_with), the only way
/// to change them.
///
/// ```no_run
/// use std::time::Duration;
/// use steadysocket_leptos::{Config, Message, Options};
///
/// let options = Options::default()
///     .config(Config::default().with_heartbeat_interval(Some(Duration::from_secs(15))))
///     .protocols(["chat.v1"])
///     .builder(|b| b.should_reconnect(|close| close.code != 4401))
///     .on_message(|message: Message| show(message));
/// # fn show(_: Message) {}
/// ```
pub struct Options<T = Message> {
    pub(crate) config: Config,
    pub(crate) protocols: Vec<String>,
    pub(crate) builder: Option<Rc<dyn Fn(Builder) -> Builder>>,
    pub(crate) on_message: Option<Rc<dyn Fn(T)>>,
    pub(crate) on_event: Option<Rc<dyn Fn(Event)>>,
}

impl<T> Options<T> {
    /// The defaults: [`Config::default`], no subprotocols, no callbacks.
    pub fn new() -> Self {
        Options {
            config: Config::default(),
            protocols: Vec::new(),
            builder: None,
            on_message: None,
            on_event: None,
        }
    }

    /// The reconnect, heartbeat and queue settings.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Subprotocols to offer, in order of preference.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Anything else the steadysocket [`Builder`] offers (`on_connect`,
    /// `should_reconnect`, `protocols_fn`, …): `f` gets the builder after the URL,
    /// `config` and `protocols` were set, and returns it.
    #[must_use]
    pub fn builder(mut self, f: impl Fn(Builder) -> Builder + 'static) -> Self {
        self.builder = Some(Rc::new(f));
        self
    }

    /// Called with every message, in arrival order, exactly once each, however
    /// fast they come (the [`message`](crate::UseSocket::message) signal holds
    /// only the latest, and effects may run once for several). With [`use_socket_json`](crate::use_socket_json),
    /// every message that decodes.
    #[must_use]
    pub fn on_message(mut self, f: impl Fn(T) + 'static) -> Self {
        self.on_message = Some(Rc::new(f));
        self
    }

    /// Called with every lifecycle [`Event`] (open, close, reconnecting,
    /// heartbeat, stop, …), in order.
    #[must_use]
    pub fn on_event(mut self, f: impl Fn(Event) + 'static) -> Self {
        self.on_event = Some(Rc::new(f));
        self
    }

    /// The steadysocket builder these options describe, for `url`.
    pub(crate) fn to_builder(&self, url: String) -> Builder {
        let builder = Builder::new(url)
            .protocols(self.protocols.iter().cloned())
            .config(self.config.clone());
        match &self.builder {
            Some(f) => f(builder),
            None => builder,
        }
    }
}

impl<T> Default for Options<T> {
    fn default() -> Self {
        Options::new()
    }
}

impl<T> Clone for Options<T> {
    fn clone(&self) -> Self {
        Options {
            config: self.config.clone(),
            protocols: self.protocols.clone(),
            builder: self.builder.clone(),
            on_message: self.on_message.clone(),
            on_event: self.on_event.clone(),
        }
    }
}

impl<T> fmt::Debug for Options<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("config", &self.config)
            .field("protocols", &self.protocols)
            .field("builder", &self.builder.is_some())
            .field("on_message", &self.on_message.is_some())
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}
