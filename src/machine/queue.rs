//! The bounded send queue that holds messages while the socket is not open.
//!
//! Bounded twice, by message count and by bytes. A message that does not fit is
//! handed back and the queue is left unchanged. The queue is drained in order,
//! exactly once, when the next connection opens.

use std::collections::VecDeque;

/// What the core needs to know about a message it holds or inspects.
///
/// Implemented for [`Message`](crate::Message); the JS binding implements it for its
/// own payloads (which include `Blob`s whose bytes live in the browser).
pub trait Payload {
    /// Bytes this message occupies on the wire (UTF-8 length for text). Counts
    /// against `max_enqueued_bytes` and into `buffered_amount`.
    fn byte_len(&self) -> usize;

    /// Whether this is a text message exactly equal to `text` (used to recognise the
    /// heartbeat response).
    fn is_text(&self, text: &str) -> bool;

    /// Called when the message is kept in the queue for later. A payload that
    /// shares memory with its caller (a JS buffer the caller may reuse) copies it
    /// here; the default keeps the message as it is.
    #[must_use]
    fn into_owned(self) -> Self
    where
        Self: Sized,
    {
        self
    }
}

/// Why a message could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Overflow {
    Messages,
    Bytes,
}

/// A FIFO bounded by count and bytes.
#[derive(Debug)]
pub(crate) struct SendQueue<M> {
    /// Each message with its byte length (measured once: for a JS string it costs).
    items: VecDeque<(M, usize)>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    /// Messages ever pushed and ever removed: message n (from 0) is the n-th to
    /// leave, since the queue is FIFO. So a sender can tell when its messages left.
    pushed: u64,
    removed: u64,
    /// The most recent ranges `[from, to)` of removal numbers that were discarded
    /// rather than sent (a few: discards are rare user actions).
    discarded: VecDeque<(u64, u64)>,
}

/// How many discard ranges are remembered.
const DISCARD_MEMORY: usize = 32;

impl<M: Payload> SendQueue<M> {
    pub(crate) fn new(max_messages: usize, max_bytes: usize) -> Self {
        SendQueue {
            items: VecDeque::new(),
            bytes: 0,
            max_messages,
            max_bytes,
            pushed: 0,
            removed: 0,
            discarded: VecDeque::new(),
        }
    }

    /// Appends `msg`, or hands it back with the limit it would break.
    pub(crate) fn push(&mut self, msg: M) -> Result<(), (Overflow, M)> {
        if self.items.len() >= self.max_messages {
            return Err((Overflow::Messages, msg));
        }
        let len = msg.byte_len();
        match self.bytes.checked_add(len) {
            Some(total) if total <= self.max_bytes => {
                self.bytes = total;
                self.items.push_back((msg.into_owned(), len));
                self.pushed += 1;
                Ok(())
            }
            _ => Err((Overflow::Bytes, msg)),
        }
    }

    /// Removes and returns the oldest message.
    pub(crate) fn pop(&mut self) -> Option<M> {
        let (msg, len) = self.items.pop_front()?;
        self.bytes = self.bytes.saturating_sub(len);
        self.removed += 1;
        Some(msg)
    }

    /// Removes and returns every message, oldest first, as discarded.
    pub(crate) fn drain(&mut self) -> Vec<M> {
        self.bytes = 0;
        let drained: Vec<M> = self.items.drain(..).map(|(msg, _)| msg).collect();
        let from = self.removed;
        self.removed += drained.len() as u64;
        if !drained.is_empty() {
            if self.discarded.len() == DISCARD_MEMORY {
                self.discarded.pop_front();
            }
            self.discarded.push_back((from, self.removed));
        }
        drained
    }

    /// `(pushed, removed)`: messages ever queued, and ever taken out (sent or
    /// discarded). Message number `n` (counting pushes from 0) has left the queue
    /// once `removed > n`.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.pushed, self.removed)
    }

    /// Whether any message numbered in `[from, to)` was discarded rather than sent
    /// (`None` when that is too long ago to know).
    pub(crate) fn discarded_in(&self, from: u64, to: u64) -> Option<bool> {
        if let Some(&(oldest, _)) = self.discarded.front() {
            if self.discarded.len() == DISCARD_MEMORY && from < oldest {
                return None;
            }
        }
        Some(self.discarded.iter().any(|&(a, b)| a < to && from < b))
    }

    pub(crate) fn has_room(&self) -> bool {
        self.items.len() < self.max_messages && self.bytes < self.max_bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Payload for &'static str {
        fn byte_len(&self) -> usize {
            self.len()
        }
        fn is_text(&self, text: &str) -> bool {
            *self == text
        }
    }

    #[test]
    fn messages_come_out_in_the_order_they_went_in() {
        let mut q = SendQueue::new(10, 100);
        for m in ["a", "bb", "ccc"] {
            q.push(m).unwrap();
        }
        assert_eq!((q.len(), q.bytes()), (3, 6));
        assert_eq!(q.pop(), Some("a"));
        assert_eq!(q.pop(), Some("bb"));
        assert_eq!(q.bytes(), 3);
        assert_eq!(q.pop(), Some("ccc"));
        assert_eq!(q.pop(), None);
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn a_message_over_the_count_limit_is_handed_back_and_the_queue_is_unchanged() {
        let mut q = SendQueue::new(2, 100);
        q.push("a").unwrap();
        q.push("b").unwrap();
        assert_eq!(q.push("c"), Err((Overflow::Messages, "c")));
        assert_eq!((q.len(), q.bytes()), (2, 2));
    }

    #[test]
    fn a_message_over_the_byte_limit_is_handed_back_but_a_smaller_one_fits() {
        let mut q = SendQueue::new(10, 5);
        q.push("abc").unwrap();
        assert_eq!(q.push("abc"), Err((Overflow::Bytes, "abc")));
        assert_eq!(q.push("ab"), Ok(()));
        assert_eq!(q.bytes(), 5);
        assert_eq!(q.drain(), ["abc", "ab"]);
        assert_eq!((q.len(), q.bytes()), (0, 0));
    }

    #[test]
    fn counts_number_every_message_and_remember_which_were_discarded() {
        let mut q = SendQueue::new(10, 100);
        for m in ["a", "b", "c"] {
            q.push(m).unwrap();
        }
        assert_eq!(q.counts(), (3, 0));
        assert_eq!(q.pop(), Some("a")); // message 0 sent
        assert_eq!(q.drain(), ["b", "c"]); // 1 and 2 discarded
        q.push("d").unwrap();
        assert_eq!(q.pop(), Some("d")); // 3 sent
        assert_eq!(q.counts(), (4, 4));
        assert_eq!(q.discarded_in(0, 1), Some(false));
        assert_eq!(q.discarded_in(1, 2), Some(true));
        assert_eq!(q.discarded_in(0, 4), Some(true));
        assert_eq!(q.discarded_in(3, 4), Some(false));
        assert_eq!(q.discarded_in(2, 3), Some(true));
        // Long ago: unknown once more discards than remembered came after.
        for _ in 0..DISCARD_MEMORY {
            q.push("x").unwrap();
            q.drain();
        }
        assert_eq!(q.discarded_in(0, 1), None);
        assert_eq!(q.discarded_in(q.counts().1 - 1, q.counts().1), Some(true));
    }

    #[test]
    fn a_zero_sized_queue_accepts_nothing() {
        let mut q = SendQueue::new(0, 100);
        assert!(!q.has_room());
        assert_eq!(q.push(""), Err((Overflow::Messages, "")));
    }

    #[test]
    fn room_is_below_both_limits() {
        let mut q = SendQueue::new(2, 4);
        assert!(q.has_room());
        q.push("ab").unwrap();
        assert!(q.has_room());
        q.push("cd").unwrap();
        assert!(!q.has_room(), "both limits reached");
        let mut q = SendQueue::new(10, 3);
        q.push("abc").unwrap();
        assert!(!q.has_room(), "byte limit reached");
    }
}
