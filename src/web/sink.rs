//! The `Sink` side of the Rust API: [`Sender`], and `Sink` for [`Socket`].
//!
//! `send().await` on a sink waits for room, hands the message over (to the open
//! socket, or to the queue), and then flushes: it returns once every message this
//! sink queued has been handed to an open native socket. That is not a server
//! acknowledgement; a message handed to a connection that then dies may be lost.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_sink::Sink;
use gloo_timers::callback::Timeout;

use super::socket::{send_error, Socket};
use crate::machine::{Delivery, ReadyState, SendOptions, StopReason};
use crate::{Error, Message};

/// How often a sink waiting on the browser's buffer looks again (the browser fires
/// no event when `bufferedAmount` goes down).
const RECHECK_MS: u32 = 10;

/// One handle's `Sink` progress.
#[derive(Default)]
pub(crate) struct SinkState {
    /// Tracking numbers of the messages this sink queued whose fate is not known.
    pending: Vec<u64>,
    /// Whether one of them was discarded or expired since the last flush.
    lost: bool,
    recheck: Option<Timeout>,
}

impl fmt::Debug for SinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkState")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Sink<Message> for Socket {
    type Error = Error;

    /// Ready when the queue has room and, while open, the browser holds less than
    /// `send_high_water` bytes unsent. `Err(Error::Stopped)` once stopped for good
    /// (use [`Socket::send`], which queues, to send for a later `reconnect()`).
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let driver = self.driver().clone();
        if let Some(reason) = driver.output().stopped() {
            return Poll::Ready(Err(Error::Stopped(reason)));
        }
        match driver.ready_state() {
            ReadyState::Closing => Poll::Ready(Err(Error::Stopped(StopReason::Close))),
            ReadyState::Open => {
                if driver.native_buffered() < driver.send_high_water() {
                    return Poll::Ready(Ok(()));
                }
                let waker = cx.waker().clone();
                self.sink_state().recheck = Some(Timeout::new(RECHECK_MS, move || waker.wake()));
                driver.output().watch(cx); // or a close
                Poll::Pending
            }
            _ if driver.queue_has_room() => Poll::Ready(Ok(())),
            _ => {
                driver.output().watch(cx);
                Poll::Pending
            }
        }
    }

    /// Hands `item` over. `Err(Error::QueueFull(item))` hands it back if another
    /// handle filled the queue since `poll_ready`.
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let driver = self.driver().clone();
        let id = driver.next_track();
        let sent_now = driver
            .send(item, SendOptions::default(), Some(id))
            .map_err(send_error)?;
        if sent_now {
            let _ = driver.output().take_receipt(id);
        } else {
            self.sink_state().pending.push(id);
        }
        Ok(())
    }

    /// Done once every message this sink queued has been handed to an open socket.
    /// `Err(Error::Discarded)` if some were discarded or expired instead;
    /// `Err(Error::Stopped)` if the socket stopped before they could go.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let driver = self.driver().clone();
        let state = self.sink_state();
        let mut stopped = false;
        state
            .pending
            .retain(|id| match driver.output().take_receipt(*id) {
                None => true,
                Some(Delivery::Sent) => false,
                Some(Delivery::Stopped) => {
                    stopped = true;
                    false
                }
                Some(_) => {
                    state.lost = true;
                    false
                }
            });
        if stopped {
            driver.output().forget_receipts(&state.pending);
            state.pending.clear();
            state.lost = false;
            let reason = driver.output().stopped().unwrap_or(StopReason::Close);
            return Poll::Ready(Err(Error::Stopped(reason)));
        }
        if !state.pending.is_empty() {
            driver.output().watch(cx);
            return Poll::Pending;
        }
        Poll::Ready(if std::mem::take(&mut state.lost) {
            Err(Error::Discarded)
        } else {
            Ok(())
        })
    }

    /// Closes with 1000 and waits until the close is complete.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let driver = self.driver().clone();
        if driver.output().stopped().is_some() {
            return Poll::Ready(Ok(()));
        }
        if driver.ready_state() != ReadyState::Closing {
            driver.close(Some(1000), "")?;
            if driver.output().stopped().is_some() {
                return Poll::Ready(Ok(()));
            }
        }
        driver.output().watch(cx);
        Poll::Pending
    }
}

/// The sending half from [`Socket::split`]: a `Sink` of [`Message`]s (see the
/// module docs for what `send().await` waits for). It keeps the socket alive.
///
/// ```no_run
/// # async fn run(socket: steadysocket::Socket) -> Result<(), steadysocket::Error> {
/// use futures::SinkExt;
/// let (mut tx, _rx) = socket.split();
/// tx.send("hello".into()).await?; // returns once handed to an open socket
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Sender {
    socket: Socket,
}

impl Sender {
    pub(crate) fn new(socket: Socket) -> Sender {
        Sender { socket }
    }

    /// The whole socket: `send` without waiting, close, reconnect, state. (The
    /// `Sender` itself has no inherent `send`, so `SinkExt::send` is unambiguous.)
    #[must_use]
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl Sink<Message> for Sender {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_ready(cx)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        Pin::new(&mut self.socket).start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.socket).poll_close(cx)
    }
}
