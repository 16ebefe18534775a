//! [`Config`]: every tunable of a connection, its defaults, and its validation.
//!
//! The defaults are the contract's (see the crate docs). Parameters interact:
//!
//! - the delay before retry *n* is `min(max_reconnection_delay,
//!   min_reconnection_delay × reconnection_delay_grow_factor^(n-1))`, then jittered
//!   down by up to `reconnection_jitter` of itself;
//! - the retry count (and so the delay) resets only once a connection has stayed open
//!   for `min_uptime`, so a server that accepts and then drops keeps the delay growing;
//! - `connection_timeout` bounds each attempt, from the moment it starts (URL
//!   resolution included) until the socket opens;
//! - `heartbeat_timeout` only matters when `heartbeat_interval` is set.

use core::fmt;
use core::time::Duration;

/// The settings of one reconnecting socket.
///
/// Build it from [`Config::default`] and change the fields you need:
///
/// ```
/// use std::time::Duration;
/// use steadysocket::Config;
///
/// let mut config = Config::default();
/// config.max_retries = Some(10);
/// config.heartbeat_interval = Some(Duration::from_secs(15));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Delay before the first retry (default 1 s).
    pub min_reconnection_delay: Duration,
    /// Upper bound of any retry delay, and the wait after a 1013 close (default 30 s).
    pub max_reconnection_delay: Duration,
    /// Growth of the delay per retry, at least 1 (default 1.5).
    pub reconnection_delay_grow_factor: f64,
    /// Fraction in `[0, 1]` by which each delay is randomly shortened (default 0.5).
    /// Zero makes the schedule exact.
    pub reconnection_jitter: f64,
    /// Time an attempt may take before it is abandoned (default 4 s).
    pub connection_timeout: Duration,
    /// Time a connection must stay open before the retry count resets (default 5 s).
    pub min_uptime: Duration,
    /// Retries allowed after the first attempt before stopping; `None` is unlimited
    /// (the default). `Some(n)` allows `n + 1` attempts in all.
    pub max_retries: Option<u32>,
    /// Most messages the send queue holds while not open (default 1024).
    pub max_enqueued_messages: usize,
    /// Most bytes the send queue holds while not open (default 16 MiB).
    pub max_enqueued_bytes: usize,
    /// Longest wait for the close handshake after `close()` (default 1 s).
    pub close_timeout: Duration,
    /// Server close codes that stop reconnecting for good (default none). (A
    /// `should_reconnect` predicate, which runs user code, lives in the driver: see
    /// [`Machine::handle_close_and_stop`](super::Machine::handle_close_and_stop).)
    pub stop_on_close_codes: Vec<u16>,
    /// Inbound silence after which a heartbeat message is sent; `None` (the default)
    /// turns the heartbeat off.
    pub heartbeat_interval: Option<Duration>,
    /// Time after a heartbeat message within which *something* must arrive (default 10 s).
    pub heartbeat_timeout: Duration,
    /// The text sent as heartbeat (default `"ping"`).
    pub heartbeat_message: String,
    /// Inbound text that answers the heartbeat and is not delivered (default `"pong"`).
    pub heartbeat_response: String,
    /// Do not connect until `reconnect()` is called (default `false`).
    pub start_closed: bool,
    /// Discard a queued message once it has waited this long (default off).
    pub message_ttl: Option<Duration>,
    /// What a full queue does with a new message (default
    /// [`QueueOverflow::Reject`]).
    pub queue_overflow: QueueOverflow,
    /// Rust API: most unread items each stream keeps (default 4096); a reader that
    /// falls further behind loses the oldest (`Event::Lagged` in `items()`).
    pub max_unread: usize,
    /// Rust API: while open, the `Sink` waits while the browser holds this many
    /// bytes or more unsent (default 1 MiB).
    pub send_high_water: usize,
}

/// Builder-style setters, one per field (the fields stay public to read):
///
/// ```
/// use std::time::Duration;
/// use steadysocket::Config;
///
/// let config = Config::default()
///     .with_max_retries(Some(10))
///     .with_heartbeat_interval(Some(Duration::from_secs(15)));
/// assert_eq!(config.max_retries, Some(10));
/// ```
macro_rules! setters {
    ($($field:ident: $ty:ty => $with:ident;)*) => {
        impl Config {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Config::", stringify!($field), ").")]
                #[must_use]
                pub fn $with(mut self, value: $ty) -> Config {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters! {
    min_reconnection_delay: Duration => with_min_reconnection_delay;
    max_reconnection_delay: Duration => with_max_reconnection_delay;
    reconnection_delay_grow_factor: f64 => with_reconnection_delay_grow_factor;
    reconnection_jitter: f64 => with_reconnection_jitter;
    connection_timeout: Duration => with_connection_timeout;
    min_uptime: Duration => with_min_uptime;
    max_retries: Option<u32> => with_max_retries;
    max_enqueued_messages: usize => with_max_enqueued_messages;
    max_enqueued_bytes: usize => with_max_enqueued_bytes;
    close_timeout: Duration => with_close_timeout;
    stop_on_close_codes: Vec<u16> => with_stop_on_close_codes;
    heartbeat_interval: Option<Duration> => with_heartbeat_interval;
    heartbeat_timeout: Duration => with_heartbeat_timeout;
    heartbeat_message: String => with_heartbeat_message;
    heartbeat_response: String => with_heartbeat_response;
    start_closed: bool => with_start_closed;
    message_ttl: Option<Duration> => with_message_ttl;
    queue_overflow: QueueOverflow => with_queue_overflow;
    max_unread: usize => with_max_unread;
    send_high_water: usize => with_send_high_water;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_reconnection_delay: Duration::from_millis(1000),
            max_reconnection_delay: Duration::from_millis(30_000),
            reconnection_delay_grow_factor: 1.5,
            reconnection_jitter: 0.5,
            connection_timeout: Duration::from_millis(4000),
            min_uptime: Duration::from_millis(5000),
            max_retries: None,
            max_enqueued_messages: 1024,
            max_enqueued_bytes: 16 * 1024 * 1024,
            close_timeout: Duration::from_millis(1000),
            stop_on_close_codes: Vec::new(),
            heartbeat_interval: None,
            heartbeat_timeout: Duration::from_millis(10_000),
            heartbeat_message: "ping".to_owned(),
            heartbeat_response: "pong".to_owned(),
            start_closed: false,
            message_ttl: None,
            queue_overflow: QueueOverflow::Reject,
            max_unread: 4096,
            send_high_water: 1024 * 1024,
        }
    }
}

/// What a full send queue does with a new message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueOverflow {
    /// Refuse it (JS: `QueueFullError`); the queue is unchanged.
    #[default]
    Reject,
    /// Discard the oldest queued messages to make room (a message larger than
    /// the byte limit is still refused).
    DropOldest,
}

/// The option a [`ConfigError`] is about, with its Rust and JS spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the option of the same name
pub enum Field {
    MinReconnectionDelay,
    MaxReconnectionDelay,
    ReconnectionDelayGrowFactor,
    ReconnectionJitter,
    ConnectionTimeout,
    MinUptime,
    MaxRetries,
    MaxEnqueuedMessages,
    MaxEnqueuedBytes,
    CloseTimeout,
    StopOnCloseCodes,
    HeartbeatInterval,
    HeartbeatTimeout,
    HeartbeatMessage,
    HeartbeatResponse,
    MaxUnread,
}

impl Field {
    /// The field's name on [`Config`].
    // Two matches, not one table of pairs: an app that uses only one kind of name
    // (a Rust app, or the npm package) links only that one's strings.
    #[must_use]
    pub fn rust_name(self) -> &'static str {
        match self {
            Field::MinReconnectionDelay => "min_reconnection_delay",
            Field::MaxReconnectionDelay => "max_reconnection_delay",
            Field::ReconnectionDelayGrowFactor => "reconnection_delay_grow_factor",
            Field::ReconnectionJitter => "reconnection_jitter",
            Field::ConnectionTimeout => "connection_timeout",
            Field::MinUptime => "min_uptime",
            Field::MaxRetries => "max_retries",
            Field::MaxEnqueuedMessages => "max_enqueued_messages",
            Field::MaxEnqueuedBytes => "max_enqueued_bytes",
            Field::CloseTimeout => "close_timeout",
            Field::StopOnCloseCodes => "stop_on_close_codes",
            Field::HeartbeatInterval => "heartbeat_interval",
            Field::HeartbeatTimeout => "heartbeat_timeout",
            Field::HeartbeatMessage => "heartbeat_message",
            Field::HeartbeatResponse => "heartbeat_response",
            Field::MaxUnread => "max_unread",
        }
    }

    /// The option's name in the JS `options` object.
    #[must_use]
    pub fn js_name(self) -> &'static str {
        match self {
            Field::MinReconnectionDelay => "minReconnectionDelay",
            Field::MaxReconnectionDelay => "maxReconnectionDelay",
            Field::ReconnectionDelayGrowFactor => "reconnectionDelayGrowFactor",
            Field::ReconnectionJitter => "reconnectionJitter",
            Field::ConnectionTimeout => "connectionTimeout",
            Field::MinUptime => "minUptime",
            Field::MaxRetries => "maxRetries",
            Field::MaxEnqueuedMessages => "maxEnqueuedMessages",
            Field::MaxEnqueuedBytes => "maxEnqueuedBytes",
            Field::CloseTimeout => "closeTimeout",
            Field::StopOnCloseCodes => "stopOnCloseCodes",
            Field::HeartbeatInterval => "heartbeatInterval",
            Field::HeartbeatTimeout => "heartbeatTimeout",
            Field::HeartbeatMessage => "heartbeatMessage",
            Field::HeartbeatResponse => "heartbeatResponse",
            Field::MaxUnread => "maxUnread",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rust_name())
    }
}

/// A [`Config`] value that cannot work, naming the field.
///
/// Fix the named field; nothing was started.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A number that must be finite is NaN or infinite (JS only: Rust durations are
    /// always finite).
    // The Display texts print no floats: Rust's float formatting would add ~20 KB
    // to every wasm app that shows an error. The values are in the fields.
    #[error("{field} must be a finite number")]
    NotFinite {
        /// The option.
        field: Field,
        /// The value given.
        value: f64,
    },
    /// A number that must not be negative is (JS only).
    #[error("{field} must not be negative")]
    Negative {
        /// The option.
        field: Field,
        /// The value given.
        value: f64,
    },
    /// A duration that must be positive is zero.
    #[error("{field} must be greater than zero")]
    Zero {
        /// The option.
        field: Field,
    },
    /// `reconnection_delay_grow_factor` is below 1 (or not finite).
    #[error("reconnection_delay_grow_factor must be a finite number >= 1")]
    GrowFactorBelowOne {
        /// The value given.
        value: f64,
    },
    /// `reconnection_jitter` is outside `[0, 1]` (or NaN).
    #[error("reconnection_jitter must be between 0 and 1")]
    JitterOutOfRange {
        /// The value given.
        value: f64,
    },
    /// `min_reconnection_delay` is larger than `max_reconnection_delay`.
    #[error(
        "min_reconnection_delay ({} ms) is larger than max_reconnection_delay ({} ms)",
        whole_millis(*.min),
        whole_millis(*.max)
    )]
    MinAboveMax {
        /// The minimum given.
        min: Duration,
        /// The maximum given.
        max: Duration,
    },
    /// A close code in `stop_on_close_codes` is not a valid close code (1000–4999).
    #[error("stop_on_close_codes contains {code}, which is not a close code (1000-4999)")]
    InvalidStopCode {
        /// The code given.
        code: u16,
    },
    /// A text that must not be empty is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The option.
        field: Field,
    },
}

impl ConfigError {
    /// The option this error is about.
    #[must_use]
    pub fn field(&self) -> Field {
        match self {
            ConfigError::NotFinite { field, .. }
            | ConfigError::Negative { field, .. }
            | ConfigError::Zero { field }
            | ConfigError::Empty { field } => *field,
            ConfigError::GrowFactorBelowOne { .. } => Field::ReconnectionDelayGrowFactor,
            ConfigError::JitterOutOfRange { .. } => Field::ReconnectionJitter,
            ConfigError::MinAboveMax { .. } => Field::MinReconnectionDelay,
            ConfigError::InvalidStopCode { .. } => Field::StopOnCloseCodes,
        }
    }
}

impl Config {
    /// Checks that the settings can work together.
    ///
    /// # Errors
    ///
    /// The first problem found, naming its field: a growth factor below 1, a jitter
    /// outside `[0, 1]`, a zero timeout, a minimum delay above the maximum, a stop code
    /// outside 1000–4999, or an empty heartbeat text while the heartbeat is on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let growth = self.reconnection_delay_grow_factor;
        if !(growth.is_finite() && growth >= 1.0) {
            return Err(ConfigError::GrowFactorBelowOne { value: growth });
        }
        let jitter = self.reconnection_jitter;
        if !(0.0..=1.0).contains(&jitter) {
            return Err(ConfigError::JitterOutOfRange { value: jitter });
        }
        if self.min_reconnection_delay > self.max_reconnection_delay {
            return Err(ConfigError::MinAboveMax {
                min: self.min_reconnection_delay,
                max: self.max_reconnection_delay,
            });
        }
        if self.max_unread == 0 {
            return Err(ConfigError::Zero {
                field: Field::MaxUnread,
            });
        }
        for (field, value) in [
            (Field::ConnectionTimeout, self.connection_timeout),
            (Field::CloseTimeout, self.close_timeout),
            (Field::HeartbeatTimeout, self.heartbeat_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Zero { field });
            }
        }
        if let Some(interval) = self.heartbeat_interval {
            if interval.is_zero() {
                return Err(ConfigError::Zero {
                    field: Field::HeartbeatInterval,
                });
            }
            if self.heartbeat_message.is_empty() {
                return Err(ConfigError::Empty {
                    field: Field::HeartbeatMessage,
                });
            }
        }
        if let Some(&code) = self
            .stop_on_close_codes
            .iter()
            .find(|c| !(1000..=4999).contains(*c))
        {
            return Err(ConfigError::InvalidStopCode { code });
        }
        Ok(())
    }
}

/// Whole milliseconds as a `u64` (saturating): `Duration::as_millis` is a `u128`,
/// and formatting one links u128 formatting into every app that shows an error.
fn whole_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)] // users outside the crate must write it so
mod tests {
    use super::*;

    fn err(change: impl FnOnce(&mut Config)) -> ConfigError {
        let mut c = Config::default();
        change(&mut c);
        c.validate().unwrap_err()
    }

    #[test]
    fn the_defaults_are_the_contracts_and_valid() {
        let c = Config::default();
        assert_eq!(c.min_reconnection_delay, Duration::from_secs(1));
        assert_eq!(c.max_reconnection_delay, Duration::from_secs(30));
        assert!((c.reconnection_delay_grow_factor - 1.5).abs() < f64::EPSILON);
        assert!((c.reconnection_jitter - 0.5).abs() < f64::EPSILON);
        assert_eq!(c.connection_timeout, Duration::from_secs(4));
        assert_eq!(c.min_uptime, Duration::from_secs(5));
        assert_eq!(c.max_retries, None);
        assert_eq!(c.max_enqueued_messages, 1024);
        assert_eq!(c.max_enqueued_bytes, 16 << 20);
        assert_eq!(c.close_timeout, Duration::from_secs(1));
        assert_eq!(c.heartbeat_interval, None);
        assert_eq!(c.heartbeat_timeout, Duration::from_secs(10));
        assert_eq!(c.heartbeat_message, "ping");
        assert_eq!(c.heartbeat_response, "pong");
        assert!(!c.start_closed);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn each_bad_value_is_rejected_naming_its_field() {
        let e = err(|c| c.reconnection_delay_grow_factor = 0.9);
        assert_eq!(e, ConfigError::GrowFactorBelowOne { value: 0.9 });
        assert_eq!(e.field(), Field::ReconnectionDelayGrowFactor);
        assert!(e.to_string().contains("reconnection_delay_grow_factor"));
        let e = err(|c| c.reconnection_delay_grow_factor = f64::NAN);
        assert_eq!(e.field(), Field::ReconnectionDelayGrowFactor);
        let e = err(|c| c.reconnection_delay_grow_factor = f64::INFINITY);
        assert_eq!(e.field(), Field::ReconnectionDelayGrowFactor);
        let e = err(|c| c.reconnection_jitter = -0.1);
        assert_eq!(e, ConfigError::JitterOutOfRange { value: -0.1 });
        let e = err(|c| c.reconnection_jitter = f64::NAN);
        assert_eq!(e.field(), Field::ReconnectionJitter);
        assert_eq!(
            err(|c| c.reconnection_jitter = 1.5).field(),
            Field::ReconnectionJitter
        );
        let e = err(|c| c.min_reconnection_delay = Duration::from_secs(31));
        assert_eq!(e.field(), Field::MinReconnectionDelay);
        assert_eq!(
            err(|c| c.connection_timeout = Duration::ZERO),
            ConfigError::Zero {
                field: Field::ConnectionTimeout
            }
        );
        assert_eq!(
            err(|c| c.close_timeout = Duration::ZERO).field(),
            Field::CloseTimeout
        );
        assert_eq!(
            err(|c| c.heartbeat_timeout = Duration::ZERO).field(),
            Field::HeartbeatTimeout
        );
        assert_eq!(
            err(|c| c.heartbeat_interval = Some(Duration::ZERO)).field(),
            Field::HeartbeatInterval
        );
        let e = err(|c| {
            c.heartbeat_interval = Some(Duration::from_secs(1));
            c.heartbeat_message.clear();
        });
        assert_eq!(e.field(), Field::HeartbeatMessage);
        assert_eq!(
            err(|c| c.stop_on_close_codes = vec![4000, 999]),
            ConfigError::InvalidStopCode { code: 999 }
        );
    }

    #[test]
    fn edge_values_that_can_work_are_accepted() {
        let mut c = Config::default();
        c.reconnection_delay_grow_factor = 1.0;
        c.reconnection_jitter = 0.0;
        c.min_reconnection_delay = Duration::ZERO;
        c.max_reconnection_delay = Duration::ZERO;
        c.max_enqueued_messages = 0;
        c.max_retries = Some(0);
        c.stop_on_close_codes = vec![1000, 4999];
        assert_eq!(c.validate(), Ok(()));
        c.reconnection_jitter = 1.0;
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn every_field_has_a_rust_and_a_js_name() {
        assert_eq!(Field::MaxRetries.js_name(), "maxRetries");
        assert_eq!(Field::MaxRetries.rust_name(), "max_retries");
        assert_eq!(Field::MinUptime.to_string(), "min_uptime");
        // The two lists agree: each JS name is its Rust name in camelCase.
        let all = [
            Field::MinReconnectionDelay,
            Field::MaxReconnectionDelay,
            Field::ReconnectionDelayGrowFactor,
            Field::ReconnectionJitter,
            Field::ConnectionTimeout,
            Field::MinUptime,
            Field::MaxRetries,
            Field::MaxEnqueuedMessages,
            Field::MaxEnqueuedBytes,
            Field::CloseTimeout,
            Field::StopOnCloseCodes,
            Field::HeartbeatInterval,
            Field::HeartbeatTimeout,
            Field::HeartbeatMessage,
            Field::HeartbeatResponse,
            Field::MaxUnread,
        ];
        for field in all {
            let mut camel = String::new();
            let mut upper = false;
            for c in field.rust_name().chars() {
                match c {
                    '_' => upper = true,
                    c if upper => {
                        camel.push(c.to_ascii_uppercase());
                        upper = false;
                    }
                    c => camel.push(c),
                }
            }
            assert_eq!(field.js_name(), camel, "{field:?}");
        }
    }
}
