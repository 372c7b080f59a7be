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

/// Greedy word wrap at `width` columns.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
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
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
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
