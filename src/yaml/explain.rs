//! The YAML parser's common errors said as what to fix, at the line to fix: a tab in the
//! indentation, an item or a key indented differently from its neighbours, `key:value`
//! without a space, two `-` on one line, an unclosed quote, list or mapping.

use super::Span;

/// A parse error as a user reads it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Explained {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

/// One line of the text: where it starts, its indentation and what follows it.
struct Line<'a> {
    start: usize,
    indent: &'a str,
    content: &'a str,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.content.is_empty() || self.content.starts_with('#')
    }

    /// Where the content starts, as a span of one character.
    fn content_span(&self) -> Span {
        let at = self.start + self.indent.len();
        let len = self.content.chars().next().map_or(0, char::len_utf8);
        Span::new(at, at + len)
    }

    /// The column of the line's first key: after `- ` for a list item.
    fn key_column(&self) -> usize {
        let mut rest = self.content;
        let mut column = self.indent.len();
        while let Some(after) = rest.strip_prefix('-') {
            let spaces = after.len() - after.trim_start_matches(' ').len();
            if spaces == 0 {
                break;
            }
            column += 1 + spaces;
            rest = &after[spaces..];
        }
        column
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let content = line.trim_start_matches([' ', '\t']);
        out.push(Line {
            start,
            indent: &line[..line.len() - content.len()],
            content,
        });
        start += raw.len();
    }
    out
}

/// Explains the parser's `info` for an error found at byte `at` of `text`.
pub(super) fn explain(text: &str, info: &str, at: usize) -> Explained {
    let lines = lines(text);
    if lines.is_empty() {
        return Explained {
            message: info.to_string(),
            span: Span::new(at, at),
            help: None,
        };
    }
    let here = lines
        .iter()
        .rposition(|l| l.start <= at)
        .unwrap_or_default();
    let near = |back: usize| (here.saturating_sub(back)..=here).rev();
    let plain = |message: &str, span: Span, help: &str| Explained {
        message: message.to_string(),
        span,
        help: Some(help.to_string()),
    };

    // A tab in the indentation, on this line or the next (a scalar reads on into it).
    let tabbed = (0..lines.len().min(here + 2)).find(|&i| lines[i].indent.contains('\t'));
    if let Some(i) = tabbed {
        let l = &lines[i];
        let tab = l.start + l.indent.find('\t').unwrap_or(0);
        return plain(
            "a tab in the indentation: YAML does not allow tabs; use spaces",
            Span::new(tab, tab + 1),
            "indent with spaces only, aligned with the lines around it",
        );
    }
    if info.contains("tab") {
        return plain(
            "a tab here: YAML does not allow tabs; use spaces",
            Span::new(at, at),
            "replace the tab with a space",
        );
    }
    if info.contains("quoted scalar") {
        return plain(
            "this quoted string is not closed",
            one_char(text, at),
            "close it with the same quote on the same line, or remove the opening quote",
        );
    }
    // `key:value`: one string to YAML, and the line after it does not fit.
    if let Some(l) = near(2)
        .map(|i| &lines[i])
        .find(|l| no_space_after_key(l.content))
    {
        let item = l.content.trim_start_matches(['-', ' ']);
        let key = item.split(':').next().unwrap_or_default();
        let colon = l.start + l.indent.len() + (l.content.len() - item.len()) + key.len();
        return plain(
            &format!("`{key}:` needs a space after its colon: without one, YAML reads `{key}:…` as a single string"),
            Span::new(colon, colon + 1),
            &format!("write `{key}: VALUE`, with a space after the colon"),
        );
    }
    if let Some((i, open)) = near(8).find_map(|i| unclosed_flow(lines[i].content).map(|o| (i, o))) {
        let l = &lines[i];
        let col = l.content.rfind(open).unwrap_or(0);
        let at = l.start + l.indent.len() + col;
        let (what, close, example) = match open {
            '[' => ("list", ']', "`events: [email-sent, email-opened]`"),
            _ => ("mapping", '}', "`headers: {X-Source: saleshandy}`"),
        };
        return plain(
            &format!("this `{open}` {what} is not closed by `{close}`"),
            Span::new(at, at + 1),
            &format!("close it on the same line, e.g. {example}, or write one entry per line without brackets"),
        );
    }
    if info.contains("misplaced bracket") {
        return plain(
            "a closing bracket without an opening one",
            one_char(text, at),
            "remove it, or add the `[` or `{` it closes",
        );
    }
    if let Some(l) = near(1)
        .map(|i| &lines[i])
        .find(|l| l.content.starts_with("- -"))
    {
        return plain(
            "two `-` on one line: this starts a list inside a list",
            l.content_span(),
            "write one `-` per item, e.g. `- name: …`",
        );
    }
    if info.contains("flow mapping") || info.contains("flow sequence") {
        let (what, close) = match info.contains("flow mapping") {
            true => ("mapping", '}'),
            false => ("list", ']'),
        };
        return plain(
            &format!("expected `,` or `{close}` here, inside a bracketed {what}"),
            Span::new(at, at),
            "separate the entries with commas, and put a value that holds `: `, `,` or a bracket in quotes",
        );
    }
    let indentation = info.contains("block") || info.contains("mapping values are not allowed");
    let line = &lines[here];
    if indentation && !line.is_blank() {
        let above = lines[..here].iter().rev().find(|l| !l.is_blank());
        let item = line.content == "-" || line.content.starts_with("- ");
        if item {
            let items = lines[..here]
                .iter()
                .rev()
                .find(|l| l.content.starts_with("- ") && l.indent.len() != line.indent.len());
            let help = match items {
                Some(l) => format!(
                    "align its `-` with the other items of the list (indented by {}), or remove the `-` if it belongs to the item above",
                    spaces(l.indent.len())
                ),
                None => "align its `-` with the other items of the list".to_string(),
            };
            return plain(
                "this list item is indented differently from the items before it",
                line.content_span(),
                &help,
            );
        }
        let help = match above {
            Some(a) => format!(
                "indent it like the key above it (by {}), or move it under the item it belongs to",
                spaces(a.key_column())
            ),
            None => "indent it like the other keys of the same mapping".to_string(),
        };
        return plain(
            "this line is indented differently from the keys above it",
            line.content_span(),
            &help,
        );
    }
    Explained {
        message: info.to_string(),
        span: Span::new(at, at),
        help: None,
    }
}

/// The character at byte `at`, as a span (empty at the end of the text).
fn one_char(text: &str, at: usize) -> Span {
    let len = text
        .get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    Span::new(at, at + len)
}

fn spaces(n: usize) -> String {
    match n {
        1 => "1 space".to_string(),
        n => format!("{n} spaces"),
    }
}

/// `key:value` (after any `- `): a word, a colon, then neither a space nor the end.
fn no_space_after_key(content: &str) -> bool {
    let item = content.trim_start_matches(['-', ' ']);
    let key_len = item
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(item.len());
    let (key, rest) = item.split_at(key_len);
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.starts_with(':')
        && rest[1..].starts_with(|c: char| !c.is_whitespace() && c != ':' && c != '/')
}

/// The bracket a line opens and does not close (outside quotes), if any.
fn unclosed_flow(content: &str) -> Option<char> {
    let mut open: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    for c in content.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => break,
            (None, '[' | '{') => open.push(c),
            (None, ']' | '}') => {
                open.pop();
            }
            _ => {}
        }
    }
    open.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_and_place_is_explained_without_a_panic() {
        for text in [
            "",
            "\n",
            "\t",
            "- -",
            "a:b",
            "[",
            "é:\t\u{feff}",
            "\"\"\u{fffd}",
            "  -\n\t- x: [\"{",
        ] {
            for at in 0..=text.len() {
                let e = explain(
                    text,
                    "did not find expected key, block, flow mapping, tab",
                    at,
                );
                if text.is_char_boundary(at) {
                    assert!(e.span.end <= text.len(), "{text:?} at {at}");
                    assert!(text.is_char_boundary(e.span.end), "{text:?} at {at}");
                }
            }
        }
    }
}
