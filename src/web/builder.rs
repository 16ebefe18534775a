//! [`Builder`]: how a [`Socket`] is set up.

use std::fmt;
use std::future::Future;
use std::rc::Rc;

use web_sys::BinaryType;

use super::driver::{Driver, Hook, HookCall, Predicate, Resolver, Setup, Target};
use super::handshake::{DriverCell, Handshake};
use super::inbox::Inbox;
use super::socket::Socket;
use super::url;
use crate::machine::CloseInfo;
use crate::{Config, Error};

/// Sets up a [`Socket`]: the URL (or how to get one per attempt), subprotocols,
/// [`Config`] and an optional reconnect predicate.
///
/// ```no_run
/// use std::time::Duration;
/// use steadysocket::{Config, Socket};
///
/// let config = Config::default().with_heartbeat_interval(Some(Duration::from_secs(20)));
/// let socket = Socket::builder("wss://example.com/live")
///     .protocols(["v1.json"])
///     .config(config)
///     .should_reconnect(|close| close.code != 4401) // 4401: our "unauthorised"
///     .connect()?;
/// # Ok::<(), steadysocket::Error>(())
/// ```
#[must_use = "a builder does nothing until `connect()`"]
pub struct Builder {
    url: UrlSource,
    protocols: Vec<String>,
    protocols_source: Option<Resolver<Vec<String>>>,
    config: Config,
    should_reconnect: Option<Predicate>,
    on_connect: Option<(Hook, DriverCell)>,
    share: Option<String>,
}

enum UrlSource {
    Fixed(String),
    Dynamic(Resolver<String>),
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
    /// Connect to `url` on every attempt.
    pub fn new(url: impl Into<String>) -> Builder {
        Builder::from_source(UrlSource::Fixed(url.into()))
    }

    /// Ask `f` for the URL before every attempt (with the retry number, 0 first):
    /// for fresh tokens, or a server chosen per attempt.
    pub fn with_url_fn(f: impl Fn(u32) -> String + 'static) -> Builder {
        Builder::from_source(UrlSource::Dynamic(Rc::new(move |n| Target::Ready(f(n)))))
    }

    /// Ask the async `f` for the URL before every attempt. An `Err` counts as a
    /// failed attempt (an [`Event::Error`](crate::Event::Error), then the backoff schedule). The time it
    /// takes counts against `connection_timeout`.
    pub fn with_async_url<F, Fut, E>(f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<String, E>> + 'static,
        E: fmt::Display,
    {
        Builder::from_source(UrlSource::Dynamic(Rc::new(move |n| {
            let fut = f(n);
            Target::Pending(Box::pin(
                async move { fut.await.map_err(|e| e.to_string()) },
            ))
        })))
    }

    fn from_source(url: UrlSource) -> Builder {
        Builder {
            url,
            protocols: Vec::new(),
            protocols_source: None,
            config: Config::default(),
            should_reconnect: None,
            on_connect: None,
            share: None,
        }
    }

    /// Subprotocols to offer, in order of preference.
    pub fn protocols<I, S>(mut self, protocols: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self.protocols_source = None;
        self
    }

    /// Ask `f` for the subprotocols before every attempt (with the retry number),
    /// e.g. to carry a fresh token in `Sec-WebSocket-Protocol`. A list the browser
    /// would refuse (an empty or repeated entry, a character outside an HTTP
    /// token) counts as a failed attempt.
    pub fn protocols_fn(mut self, f: impl Fn(u32) -> Vec<String> + 'static) -> Builder {
        self.protocols_source = Some(Rc::new(move |n| Target::Ready(f(n))));
        self
    }

    /// Ask the async `f` for the subprotocols before every attempt. An `Err` counts
    /// as a failed attempt; the time it takes counts against `connection_timeout`.
    pub fn async_protocols_fn<F, Fut, E>(mut self, f: F) -> Builder
    where
        F: Fn(u32) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<String>, E>> + 'static,
        E: fmt::Display,
    {
        self.protocols_source = Some(Rc::new(move |n| {
            let fut = f(n);
            Target::Pending(Box::pin(
                async move { fut.await.map_err(|e| e.to_string()) },
            ))
        }));
        self
    }

    /// The reconnect, queue and heartbeat settings.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Called for every close the user did not ask for (with the server's code and
    /// reason); returning `false` stops for good ([`StopReason::CloseCode`](crate::StopReason::CloseCode)).
    pub fn should_reconnect(mut self, f: impl Fn(&CloseInfo) -> bool + 'static) -> Builder {
        self.should_reconnect = Some(Rc::new(f));
        self
    }

    /// Runs `hook` after every native open, before the queue is flushed and
    /// [`Event::Open`](crate::Event::Open) is reported: to authenticate, resubscribe
    /// or resume before anything queued goes out. Meanwhile the socket reports
    /// `Connecting` and `send` queues; the heartbeat already runs. An `Err`, or not
    /// settling within `connection_timeout`, is a failed attempt: the connection is
    /// closed with 1000 "onConnect failed", an `Error` and a `Close` are reported,
    /// and the backoff schedule goes on. See [`Handshake`].
    ///
    /// ```no_run
    /// # fn token() -> String { String::new() }
    /// use steadysocket::{Handshake, Message, Socket};
    /// let socket = Socket::builder("wss://example.com/live")
    ///     .on_connect(|conn: Handshake| async move {
    ///         conn.send(format!("auth {}", token())).map_err(|e| e.to_string())?;
    ///         match conn.next().await {
    ///             Some(Message::Text(ok)) if ok == "ok" => Ok(()),
    ///             other => Err(format!("auth failed: {other:?}")),
    ///         }
    ///     })
    ///     .connect()?;
    /// # Ok::<(), steadysocket::Error>(())
    /// ```
    pub fn on_connect<F, Fut, E>(mut self, hook: F) -> Builder
    where
        F: Fn(Handshake) -> Fut + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display,
    {
        let cell: DriverCell = Rc::default();
        let driver = cell.clone();
        let hook: Hook = Rc::new(move |call: HookCall| {
            let conn = Handshake::new(driver.borrow().clone(), call.attempt, call.protocol);
            let fut = hook(conn);
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
        });
        self.on_connect = Some((hook, cell));
        self
    }

    /// One connection for every socket of this origin with the share `name`,
    /// across tabs, windows, iframes and workers (an empty name: off).
    ///
    /// The instance holding the Web Lock `steadysocket:<name>` leads: it owns
    /// the native socket. The others follow through a
    /// `BroadcastChannel("steadysocket:<name>")`: they see its state and its
    /// events (a leader change shows as a reconnect: `Close` 1006 `"leader
    /// left"`, `Reconnecting`, then `Open`), receive every message, and relay
    /// what they send, holding each message until the leader reports it sent
    /// (relayed again to a new leader otherwise: exactly once, except a message
    /// in flight in the instant a leader went away, at least once then).
    /// `close()` stops this instance only; a stop caused by the connection stops
    /// every instance. Options other than the URL and protocols come from the
    /// leader (instances of one name are expected to pass the same ones). Where
    /// Web Locks or `BroadcastChannel` are missing, the socket connects by itself.
    ///
    /// Needs the `share` cargo feature (on by default).
    #[cfg(feature = "share")]
    pub fn share(mut self, name: impl Into<String>) -> Builder {
        let name = name.into();
        self.share = (!name.is_empty()).then_some(name);
        self
    }

    /// Checks everything and starts the first attempt (unless `start_closed`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::InvalidProtocol`] or [`Error::Config`]; no
    /// socket is created then.
    pub fn connect(self) -> Result<Socket, Error> {
        let protocols: Resolver<Vec<String>> = match self.protocols_source {
            Some(source) => source,
            None => {
                crate::protocols::validate(&self.protocols)?;
                let list = self.protocols;
                Rc::new(move |_| Target::Ready(list.clone()))
            }
        };
        let url: Resolver<String> = match self.url {
            UrlSource::Fixed(url) => {
                let url = url::normalize(&url)?;
                Rc::new(move |_| Target::Ready(url.clone()))
            }
            UrlSource::Dynamic(resolver) => resolver,
        };
        let setup = Setup {
            url,
            protocols,
            config: self.config,
            binary_type: BinaryType::Arraybuffer,
            should_reconnect: self.should_reconnect,
            constructor: None,
            on_connect: self.on_connect.as_ref().map(|(hook, _)| hook.clone()),
            share: self.share,
        };
        let inbox = Inbox::new(setup.config.max_unread);
        let driver = Driver::start(setup, inbox)?;
        if let Some((_, cell)) = &self.on_connect {
            *cell.borrow_mut() = Rc::downgrade(&driver);
        }
        Ok(Socket::from_driver(driver))
    }
}
