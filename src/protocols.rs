//! Subprotocol validation, as the browser's `WebSocket` constructor does it.

use crate::Error;

/// Checks a list of subprotocols: each a non-empty HTTP token, none twice.
///
/// # Errors
///
/// [`Error::InvalidProtocol`] naming the first bad or repeated entry.
pub(crate) fn validate(protocols: &[String]) -> Result<(), Error> {
    for (i, p) in protocols.iter().enumerate() {
        let bad = |reason: &str| Error::InvalidProtocol {
            protocol: p.clone(),
            reason: reason.to_owned(),
        };
        if p.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(c) = p.chars().find(|c| !is_token_char(*c)) {
            return Err(bad(&format!("'{c}' is not allowed in a token")));
        }
        if protocols.iter().take(i).any(|q| q == p) {
            return Err(bad("it appears more than once"));
        }
    }
    Ok(())
}

/// RFC 7230 `tchar`.
fn is_token_char(c: char) -> bool {
    // A `matches!`, not `str::contains`: a string search links core's searcher
    // and its panic formatting into the wasm.
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '.'
                | '^'
                | '_'
                | '`'
                | '|'
                | '~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Result<(), Error> {
        validate(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn tokens_are_accepted() {
        assert_eq!(v(&[]), Ok(()));
        assert_eq!(v(&["chat", "v2.json", "a_b-c~"]), Ok(()));
    }

    #[test]
    fn empty_spaced_separator_and_duplicate_protocols_are_refused() {
        for bad in [
            &[""][..],
            &["a b"],
            &["a,b"],
            &["é"],
            &["x", "y", "x"],
            &["(x)"],
        ] {
            let e = v(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidProtocol { .. }), "{bad:?}");
        }
        let e = v(&["chat", "chat"]).unwrap_err();
        assert!(e.to_string().contains("more than once"), "{e}");
    }
}
