//! An error's causes, walked one way, for the messages that quote them: the innermost cause
//! alone, or the whole chain on one line.

use std::error::Error;
use std::io;

/// The error, then each of its causes (`source()`), outermost first.
pub(crate) fn causes<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn Error + 'static)| e.source())
}

/// The innermost cause's message: what went wrong underneath, without the outer layers (an
/// HTTP client's outer message quotes the whole URL).
pub(crate) fn root_cause(error: &(dyn Error + 'static)) -> String {
    causes(error).last().unwrap_or(error).to_string()
}

/// The error and its causes on one line, outermost first, joined by `: `.
pub(crate) fn one_line(error: &(dyn Error + 'static)) -> String {
    causes(error)
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// The kind of the first I/O error among the error and its causes.
pub(crate) fn io_kind(error: &(dyn Error + 'static)) -> Option<io::ErrorKind> {
    causes(error).find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request for url (http://127.0.0.1:9/v1/x)")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Middle(#[source] io::Error);

    fn chain() -> Outer {
        Outer(Middle(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        )))
    }

    #[test]
    fn causes_go_from_the_outermost_to_the_innermost() {
        let e = chain();
        let messages: Vec<String> = causes(&e).map(|c| c.to_string()).collect();
        assert_eq!(
            messages,
            [
                "error sending request for url (http://127.0.0.1:9/v1/x)",
                "client error (Connect)",
                "Connection refused (os error 111)"
            ]
        );
    }

    #[test]
    fn the_root_cause_is_the_innermost_message_alone() {
        assert_eq!(root_cause(&chain()), "Connection refused (os error 111)");
        let alone = io::Error::other("alone");
        assert_eq!(root_cause(&alone), "alone");
    }

    #[test]
    fn one_line_joins_every_message() {
        assert_eq!(
            one_line(&chain()),
            "error sending request for url (http://127.0.0.1:9/v1/x): client error (Connect): Connection refused (os error 111)"
        );
        assert_eq!(one_line(&io::Error::other("alone")), "alone");
    }

    #[test]
    fn the_first_io_error_gives_the_kind() {
        assert_eq!(io_kind(&chain()), Some(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            io_kind(&Middle(io::Error::other("x"))),
            Some(io::ErrorKind::Other)
        );
        #[derive(Debug, thiserror::Error)]
        #[error("no io here")]
        struct Plain;
        assert_eq!(io_kind(&Plain), None);
    }
}
