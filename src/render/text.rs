//! Small text pieces shared by the renderers: terminal colours, word wrap, Markdown escaping.

pub(crate) const GREEN: &str = "\x1b[32m";
pub(crate) const YELLOW: &str = "\x1b[33m";
pub(crate) const RED: &str = "\x1b[31m";
pub(crate) const MAGENTA: &str = "\x1b[35m";
pub(crate) const BOLD: &str = "\x1b[1m";
pub(crate) const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Colours text when colour is on, and leaves it plain otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Painter(pub bool);

impl Painter {
    pub(crate) fn paint(&self, style: &str, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// `n` and the noun, plural unless `n` is 1: "1 webhook", "2 webhooks".
pub(crate) fn count(n: usize, noun: &str) -> String {
    format!("{n} {}", plural(n, noun))
}

/// The noun, plural unless `n` is 1.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

/// Greedy word wrap at `width` columns (None: one line), never inside a word or a `command`
/// in backticks.
pub(crate) fn wrap(text: &str, width: Option<usize>) -> Vec<String> {
    let words = words(text);
    let Some(width) = width else {
        return vec![words.join(" ")];
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The units wrapping keeps whole: words, a text in backticks counting as one.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c == '`' {
            quoted = !quoted;
        }
        match (c.is_whitespace() && !quoted, start) {
            (true, Some(s)) => {
                out.push(&text[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// `text` as lines that each start with `indent`, wrapped to `width` columns in all.
pub(crate) fn paragraph(text: &str, indent: &str, width: Option<usize>) -> String {
    let inner = width.map(|w| w.saturating_sub(indent.chars().count()).max(20));
    wrap(text, inner)
        .into_iter()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

/// Escapes text so that it cannot break a Markdown table or inject markup.
pub(crate) fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '[' | ']' | '#' | '\\' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code fence longer than any run of backticks in `body`.
pub(crate) fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_word_boundaries() {
        assert_eq!(wrap("aa bb cc dd", Some(5)), ["aa bb", "cc dd"]);
        assert_eq!(
            wrap("averyveryverylongword x", Some(5)),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn a_command_in_backticks_is_never_broken_and_no_width_is_one_line() {
        let text = "then run `saleshandy-webhooks state rm \"Email Sent\"` and apply again";
        assert_eq!(
            wrap(text, Some(20)),
            [
                "then run",
                "`saleshandy-webhooks state rm \"Email Sent\"`",
                "and apply again"
            ]
        );
        assert_eq!(wrap(text, None), [text]);
        assert_eq!(
            paragraph("aa bb cc", "  ", Some(7)),
            "  aa bb cc\n",
            "at least 20 columns of text"
        );
        assert_eq!(paragraph("aa bb", "  ", None), "  aa bb\n");
    }

    #[test]
    fn counts_are_singular_for_one_only() {
        assert_eq!(count(0, "webhook"), "0 webhooks");
        assert_eq!(count(1, "account"), "1 account");
        assert_eq!(count(2, "error"), "2 errors");
    }

    #[test]
    fn markdown_escaping_and_fences() {
        assert_eq!(escape_markdown("a|b <i>`x`"), "a\\|b &lt;i&gt;\\`x\\`");
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(fence_for("has ```` four"), "`````");
    }

    #[test]
    fn painting_is_off_without_colour() {
        assert_eq!(Painter(false).paint(GREEN, "x"), "x");
        assert_eq!(Painter(true).paint(GREEN, "x"), "\x1b[32mx\x1b[0m");
    }
}
