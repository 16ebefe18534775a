//! [`Handshake`]: the connection being set up, as [`Builder::on_connect`]'s hook
//! sees it.
//!
//! [`Builder::on_connect`]: crate::Builder::on_connect

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::driver::Driver;
use super::inbox::Inbox;
use crate::{Message, SendError};

/// Where the hook finds its driver (set once the socket exists).
pub(crate) type DriverCell = Rc<RefCell<Weak<Driver<Message, Inbox>>>>;

/// The connection being set up, handed to the hook of
/// [`Builder::on_connect`](crate::Builder::on_connect) after every native open,
/// before the queue is flushed and [`Event::Open`](crate::Event::Open) is reported.
///
/// It talks to this one connection: [`send`](Handshake::send) goes straight out
/// (never queued), [`next`](Handshake::next) reads what this connection receives.
/// Once the hook's future has settled, or the connection is gone, `send` fails and
/// `next` gives `None`. Messages the hook did not read are delivered to the
/// socket's readers right after `Open`; those it read never are.
#[derive(Debug)]
pub struct Handshake {
    driver: Weak<Driver<Message, Inbox>>,
    attempt: u32,
    protocol: String,
}

impl Handshake {
    pub(crate) fn new(
        driver: Weak<Driver<Message, Inbox>>,
        attempt: u32,
        protocol: String,
    ) -> Self {
        Handshake {
            driver,
            attempt,
            protocol,
        }
    }

    /// The retry number of this attempt (0 for the first).
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The subprotocol the server chose.
    #[must_use]
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Sends on this connection now (never queued).
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] with the message when the connection is gone or the
    /// hook has settled.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError<Message>> {
        let message = message.into();
        match self.driver.upgrade() {
            Some(driver) => driver.hook_send(message).map_err(SendError::Closed),
            None => Err(SendError::Closed(message)),
        }
    }

    /// The next message this connection receives (in order; heartbeat answers
    /// never reach it), or `None` once the connection closed or the hook settled.
    /// Cancel-safe: a dropped future loses no message.
    pub fn next(&self) -> HandshakeNext {
        HandshakeNext {
            driver: self.driver.clone(),
        }
    }

    /// Discards what is queued (e.g. the user changed) and returns how many; it is
    /// reported as an [`Event::Discarded`](crate::Event::Discarded) with reason
    /// `Cleared`.
    pub fn clear_queue(&self) -> usize {
        self.driver
            .upgrade()
            .map_or(0, |driver| driver.drain_queued().len())
    }
}

/// The future of [`Handshake::next`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct HandshakeNext {
    driver: Weak<Driver<Message, Inbox>>,
}

impl Future for HandshakeNext {
    type Output = Option<Message>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        match self.driver.upgrade() {
            Some(driver) => driver.output().poll_hook(cx),
            None => Poll::Ready(None),
        }
    }
}
