//! The bounded send queue that holds messages while the socket is not open.
//!
//! Bounded twice, by message count and by bytes. A message that does not fit is
//! handed back and the queue is left unchanged. The queue is drained in order,
//! exactly once, when the next connection opens.

use std::collections::VecDeque;

use super::time::Instant;

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

/// One queued message, with what the queue needs to know about it.
#[derive(Debug)]
pub(crate) struct Entry<M> {
    pub(crate) msg: M,
    /// Its byte length (measured once: for a JS string it costs).
    len: usize,
    /// When it expires (its TTL), if ever.
    pub(crate) expires: Option<Instant>,
    /// The caller's tracking number, for a delivery result.
    pub(crate) track: Option<u64>,
}

/// A FIFO bounded by count and bytes.
#[derive(Debug)]
pub(crate) struct SendQueue<M> {
    items: VecDeque<Entry<M>>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
}

impl<M: Payload> SendQueue<M> {
    pub(crate) fn new(max_messages: usize, max_bytes: usize) -> Self {
        SendQueue {
            items: VecDeque::new(),
            bytes: 0,
            max_messages,
            max_bytes,
        }
    }

    /// Appends `msg`, or hands it back with the limit it would break. With
    /// `drop_oldest`, the oldest messages are removed to make room instead (and
    /// returned); a message larger than the byte limit is still refused.
    pub(crate) fn push(
        &mut self,
        msg: M,
        expires: Option<Instant>,
        track: Option<u64>,
        drop_oldest: bool,
    ) -> Result<Vec<Entry<M>>, (Overflow, M)> {
        let len = msg.byte_len();
        if len > self.max_bytes {
            return Err((Overflow::Bytes, msg));
        }
        if self.max_messages == 0 {
            return Err((Overflow::Messages, msg));
        }
        let full = |q: &Self| q.items.len() >= q.max_messages || q.bytes + len > q.max_bytes;
        let mut dropped = Vec::new();
        if full(self) {
            if !drop_oldest {
                let why = if self.items.len() >= self.max_messages {
                    Overflow::Messages
                } else {
                    Overflow::Bytes
                };
                return Err((why, msg));
            }
            while full(self) {
                match self.pop() {
                    Some(old) => dropped.push(old),
                    None => break,
                }
            }
        }
        self.bytes += len;
        self.items.push_back(Entry {
            msg: msg.into_owned(),
            len,
            expires,
            track,
        });
        Ok(dropped)
    }

    /// Removes and returns the oldest message.
    pub(crate) fn pop(&mut self) -> Option<Entry<M>> {
        let entry = self.items.pop_front()?;
        self.bytes = self.bytes.saturating_sub(entry.len);
        Some(entry)
    }

    /// Removes and returns every message, oldest first.
    pub(crate) fn drain(&mut self) -> Vec<Entry<M>> {
        self.bytes = 0;
        self.items.drain(..).collect()
    }

    /// Removes and returns the messages `take` picks, keeping the others in order.
    pub(crate) fn remove_where(&mut self, take: impl Fn(&Entry<M>) -> bool) -> Vec<Entry<M>> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.items.len());
        for entry in self.items.drain(..) {
            if take(&entry) {
                self.bytes = self.bytes.saturating_sub(entry.len);
                taken.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.items = kept;
        taken
    }

    /// The earliest expiry of a queued message.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.items.iter().filter_map(|e| e.expires).min()
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

    type Q = SendQueue<&'static str>;

    fn push(q: &mut Q, m: &'static str) -> Result<(), (Overflow, &'static str)> {
        q.push(m, None, None, false).map(|_| ())
    }

    fn pop(q: &mut Q) -> Option<&'static str> {
        q.pop().map(|e| e.msg)
    }

    fn msgs(entries: Vec<Entry<&'static str>>) -> Vec<&'static str> {
        entries.into_iter().map(|e| e.msg).collect()
    }

    #[test]
    fn messages_come_out_in_the_order_they_went_in() {
        let mut q = SendQueue::new(10, 100);
        for m in ["a", "bb", "ccc"] {
            push(&mut q, m).unwrap();
        }
        assert_eq!((q.len(), q.bytes()), (3, 6));
        assert_eq!(pop(&mut q), Some("a"));
        assert_eq!(pop(&mut q), Some("bb"));
        assert_eq!(q.bytes(), 3);
        assert_eq!(pop(&mut q), Some("ccc"));
        assert_eq!(pop(&mut q), None);
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn a_message_over_the_count_limit_is_handed_back_and_the_queue_is_unchanged() {
        let mut q = SendQueue::new(2, 100);
        push(&mut q, "a").unwrap();
        push(&mut q, "b").unwrap();
        assert_eq!(push(&mut q, "c"), Err((Overflow::Messages, "c")));
        assert_eq!((q.len(), q.bytes()), (2, 2));
    }

    #[test]
    fn a_message_over_the_byte_limit_is_handed_back_but_a_smaller_one_fits() {
        let mut q = SendQueue::new(10, 5);
        push(&mut q, "abc").unwrap();
        assert_eq!(push(&mut q, "abc"), Err((Overflow::Bytes, "abc")));
        assert_eq!(push(&mut q, "ab"), Ok(()));
        assert_eq!(q.bytes(), 5);
        assert_eq!(msgs(q.drain()), ["abc", "ab"]);
        assert_eq!((q.len(), q.bytes()), (0, 0));
    }

    #[test]
    fn drop_oldest_makes_room_but_still_refuses_a_message_larger_than_the_limit() {
        let mut q = SendQueue::new(2, 5);
        push(&mut q, "a").unwrap();
        push(&mut q, "b").unwrap();
        let dropped = q.push("c", None, None, true).unwrap();
        assert_eq!(msgs(dropped), ["a"]);
        let dropped = q.push("dddd", None, None, true).unwrap();
        assert_eq!(
            msgs(dropped),
            ["b"],
            "one out is room enough: 1 + 4 bytes fit"
        );
        let dropped = q.push("ee", None, None, true).unwrap();
        assert_eq!(msgs(dropped), ["c", "dddd"], "the bytes need both gone");
        assert_eq!(
            q.push("eeeeee", None, None, true).map(|_| ()),
            Err((Overflow::Bytes, "eeeeee"))
        );
        assert_eq!(msgs(q.drain()), ["ee"]);
    }

    #[test]
    fn expiries_and_tracking_travel_with_their_message() {
        let mut q = SendQueue::new(10, 100);
        let t = |ms| Instant::from_millis_f64(ms);
        q.push("a", Some(t(30.0)), None, false).unwrap();
        q.push("b", None, Some(7), false).unwrap();
        q.push("c", Some(t(10.0)), None, false).unwrap();
        assert_eq!(q.next_expiry(), Some(t(10.0)));
        let expired = q.remove_where(|e| e.expires.is_some_and(|x| x <= t(20.0)));
        assert_eq!(msgs(expired), ["c"]);
        assert_eq!(q.next_expiry(), Some(t(30.0)));
        let tracked = q.remove_where(|e| e.track.is_some());
        assert_eq!(tracked[0].track, Some(7));
        assert_eq!((q.len(), q.bytes()), (1, 1));
    }

    #[test]
    fn a_zero_sized_queue_accepts_nothing() {
        let mut q = SendQueue::new(0, 100);
        assert!(!q.has_room());
        assert_eq!(push(&mut q, ""), Err((Overflow::Messages, "")));
    }

    #[test]
    fn room_is_below_both_limits() {
        let mut q = SendQueue::new(2, 4);
        assert!(q.has_room());
        push(&mut q, "ab").unwrap();
        assert!(q.has_room());
        push(&mut q, "cd").unwrap();
        assert!(!q.has_room(), "both limits reached");
        let mut q = SendQueue::new(10, 3);
        push(&mut q, "abc").unwrap();
        assert!(!q.has_room(), "byte limit reached");
    }
}
