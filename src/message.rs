//! [`Message`]: what goes over the socket.

use crate::machine::Payload;

/// A WebSocket message: text or binary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// The text, if this is a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The message's bytes (UTF-8 for text).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }
}

impl Message {
    /// The message decoded as JSON (text or binary).
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json) if it is not a `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        serde_json::from_slice(self.as_bytes()).map_err(crate::Error::from)
    }
}

impl Payload for Message {
    fn byte_len(&self) -> usize {
        self.as_bytes().len()
    }

    fn is_text(&self, text: &str) -> bool {
        self.as_text() == Some(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_report_their_wire_size_and_text() {
        let t = Message::from("héllo");
        assert_eq!(t.byte_len(), 6);
        assert!(t.is_text("héllo"));
        assert!(!t.is_text("hello"));
        let b = Message::from(vec![1, 2, 3]);
        assert_eq!(b.byte_len(), 3);
        assert_eq!(b.as_text(), None);
        assert!(!Message::from(&b"pong"[..]).is_text("pong"));
        assert_eq!(Message::from(String::from("x")).as_bytes(), b"x");
    }

    #[test]
    fn a_message_decodes_as_json_or_says_why_not() {
        assert_eq!(Message::from("[1,2]").json::<Vec<u8>>(), Ok(vec![1, 2]));
        assert_eq!(Message::from(&b"7"[..]).json::<u8>(), Ok(7));
        assert!(matches!(
            Message::from("nope").json::<u8>(),
            Err(crate::Error::Json(_))
        ));
    }
}
