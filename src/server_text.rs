//! Text a server wrote — an API `message`, an error page, a webhook's name or last failure as
//! Saleshandy reports it — made safe before it is shown or stored. Every such string passes
//! [`Redactor::clean`] where it enters the tool (the API client, the status check), so the
//! terminal, a CI log, `--format json` and the state all get the same safe text:
//!
//! - every secret the run knows is replaced by `(secret)`, also in the forms a server echoes
//!   it in (percent-encoded, JSON-escaped, HTML-escaped);
//! - control characters (C0, DEL, C1) and invisible format characters (bidirectional
//!   overrides, zero-width spaces) are shown escaped, `\u{1b}`;
//! - line breaks and runs of white space become one space, so the text stays on its line;
//! - `::` and `##` are split (`: :`, `# #`), so that no output can start a CI workflow
//!   command (`::error::…`, `##[error]`, `##vso[…]`), wherever the text is printed;
//! - it is cut at [`MAX_CHARS`] characters.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::secret::REDACTED;

/// The longest server text kept, in characters (escapes included), before `…`.
pub(crate) const MAX_CHARS: usize = 300;

/// RFC 3986's unreserved characters are left as they are by most encoders.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The secrets of a run, in every form they are looked for in server text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Redactor {
    /// Longest first, so that a secret containing another is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor of `secrets` (the API key, each `${VAR}` value, each value built from them).
    /// Empty strings are ignored.
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut needles = Vec::new();
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            needles.extend(forms(secret));
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Redactor { needles }
    }

    /// `raw` with every secret replaced, on one safe line (see the module's rules).
    pub(crate) fn clean(&self, raw: &str) -> String {
        // Redacted before and after: a secret is matched in the text as it came, and again
        // once joined lines or split `::` could have formed one (`a\nb` for a secret `a b`).
        self.redact(&one_line(&self.redact(raw))).into_owned()
    }

    fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let mut text = std::borrow::Cow::Borrowed(text);
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED).into();
            }
        }
        text
    }

    /// `raw` exactly as it came when it holds no secret and is safe text already (a status
    /// keeps its blanks), else [`Redactor::clean`].
    pub(crate) fn clean_kept(&self, raw: &str) -> String {
        match is_safe(raw) && !self.needles.iter().any(|n| raw.contains(n.as_str())) {
            true => raw.to_string(),
            false => self.clean(raw),
        }
    }
}

/// The forms a server may echo `secret` in: as sent, percent-encoded (upper- and lower-case
/// hex, with or without RFC 3986's unreserved characters, `+` for spaces), JSON-escaped (also
/// `\/` and `\uXXXX`) and HTML-escaped.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    for set in [NON_ALPHANUMERIC, UNRESERVED] {
        let upper = utf8_percent_encode(secret, set).to_string();
        out.push(lower_hex_escapes(&upper));
        out.push(upper);
    }
    out.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or_default()
        .to_string();
    out.push(json.replace('/', "\\/"));
    out.push(ascii_json(&json, false));
    out.push(ascii_json(&json, true));
    out.push(json);
    let html = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    out.push(html.replace('\'', "&#39;"));
    out.push(html.replace('\'', "&#x27;"));
    out.retain(|f| !f.is_empty());
    out
}

/// `%2F` → `%2f`: the hex digits of each escape in lower case.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[i + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// JSON-escaped text with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the
/// BMP), as `ensure_ascii` encoders write it, with lower- or upper-case hex.
fn ascii_json(json: &str, upper: bool) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = match upper {
                    true => write!(out, "\\u{unit:04X}"),
                    false => write!(out, "\\u{unit:04x}"),
                };
            }
        }
    }
    out
}

/// Whether `c` changes how text reads without showing itself: a control character, or a
/// format character (bidirectional controls, zero-width characters, tag characters).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// Whether `s` holds a character [`one_line`] would escape or turn into a space other than a
/// plain space: a control, format or line-break character.
pub(crate) fn has_hidden(s: &str) -> bool {
    s.chars()
        .any(|c| is_hidden(c) || c.is_whitespace() && c != ' ')
}

/// Whether `s` is already safe text as it is: [`one_line`] would change nothing but blanks.
pub(crate) fn is_safe(s: &str) -> bool {
    !has_hidden(s) && !s.contains("::") && !s.contains("##") && s.chars().count() <= MAX_CHARS
}

/// `raw` on one safe line, without redaction: for text that holds no secret of this run but
/// may hold anything else (server text read back from a state file).
pub(crate) fn one_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_CHARS * 2));
    let mut shown = 0usize;
    let mut gap = false;
    let mut last = ' ';
    for c in raw.chars() {
        if c.is_whitespace() && !is_hidden(c) || matches!(c, '\t' | '\n' | '\r' | '\u{85}') {
            gap = true;
            continue;
        }
        let mut piece = String::new();
        if gap && !out.is_empty() {
            piece.push(' ');
        }
        gap = false;
        if is_hidden(c) {
            let _ = write!(piece, "\\u{{{:x}}}", c as u32);
        } else {
            // `::` and `##` never appear, so no line can hold a workflow command.
            if (c == ':' || c == '#') && last == c && !piece.starts_with(' ') {
                piece.push(' ');
            }
            piece.push(c);
        }
        let width = piece.chars().count();
        if shown + width > MAX_CHARS {
            out.push('…');
            return out;
        }
        shown += width;
        last = piece.chars().last().unwrap_or(' ');
        out.push_str(&piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_format_characters_are_shown_escaped() {
        assert_eq!(
            one_line("a\u{1b}]52;c;ZWNobw==\u{7}b\u{1b}[2J"),
            "a\\u{1b}]52;c;ZWNobw==\\u{7}b\\u{1b}[2J"
        );
        assert_eq!(one_line("c1\u{9b}31m del\u{7f}"), "c1\\u{9b}31m del\\u{7f}");
        assert_eq!(
            one_line("rtl\u{202e}txt\u{200b}"),
            "rtl\\u{202e}txt\\u{200b}"
        );
        assert_eq!(one_line("plain, é€ 😀"), "plain, é€ 😀");
    }

    #[test]
    fn line_breaks_and_blanks_become_one_space() {
        assert_eq!(one_line("  a\r\n\n b\tc\u{2028}d\u{85}e  "), "a b c d e");
        assert_eq!(one_line(""), "");
        assert_eq!(one_line(" \n "), "");
    }

    #[test]
    fn no_workflow_command_survives() {
        assert_eq!(
            one_line("bad\n::error title=X::y"),
            "bad : :error title=X: :y"
        );
        assert_eq!(one_line(":::warning"), ": : :warning");
        assert_eq!(
            one_line("##[error]x ##vso[task.setvariable]"),
            "# #[error]x # #vso[task.setvariable]"
        );
        assert_eq!(one_line("a: b # c"), "a: b # c");
        for text in [
            "\n::add-mask::x",
            "x\r::stop-commands::t",
            "  ::set-output name=a::b",
        ] {
            let shown = one_line(text);
            assert!(!shown.contains("::"), "{shown}");
        }
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let shown = one_line(&"x".repeat(10_000));
        assert_eq!(shown, format!("{}…", "x".repeat(MAX_CHARS)));
        let escapes = one_line(&"\u{1b}".repeat(1000));
        assert!(escapes.chars().count() <= MAX_CHARS + 1, "{escapes}");
        assert!(escapes.ends_with("\\u{1b}…"), "{escapes}");
    }

    #[test]
    fn every_form_of_a_secret_is_redacted() {
        let r = Redactor::new(["s3cr/t+ü \"x\"", "KEY123"]);
        for echoed in [
            "token=s3cr/t+ü \"x\" in the body",
            "token=s3cr%2Ft%2B%C3%BC%20%22x%22",
            "token=s3cr%2ft%2b%c3%bc%20%22x%22",
            "token=s3cr%2Ft%2B%C3%BC+%22x%22",
            r#"{"url":"https://h/?t=s3cr/t+ü \"x\""}"#,
            r#"{"url":"https://h/?t=s3cr\/t+ü \"x\""}"#,
            r#"{"url":"https://h/?t=s3cr/t+\u00fc \"x\""}"#,
            r#"{"url":"https://h/?t=s3cr/t+\u00FC \"x\""}"#,
            "<p>s3cr/t+ü &quot;x&quot;</p>",
        ] {
            let shown = r.clean(echoed);
            assert!(shown.contains("(secret)"), "{echoed} → {shown}");
            assert!(!shown.contains("s3cr"), "{echoed} → {shown}");
        }
        assert_eq!(r.clean("key KEY123 refused"), "key (secret) refused");
        assert_eq!(r.clean("nothing here"), "nothing here");
    }

    #[test]
    fn a_secret_split_by_a_line_break_is_redacted_before_the_text_is_joined() {
        // Redaction runs on the text as it came, so a secret is matched before escapes and
        // joined lines could change it.
        let r = Redactor::new(["abc\ndef"]);
        assert_eq!(r.clean("x abc\ndef y"), "x (secret) y");
    }

    #[test]
    fn a_secret_formed_by_joining_lines_or_splitting_colons_is_redacted_too() {
        let r = Redactor::new(["tok en", "a: :b"]);
        assert_eq!(r.clean("x tok\nen y"), "x (secret) y");
        assert_eq!(r.clean("x a::b y"), "x (secret) y");
    }

    #[test]
    fn a_secret_longer_than_the_cut_is_redacted_whole() {
        let long = "z".repeat(MAX_CHARS * 2);
        let r = Redactor::new([long.as_str()]);
        assert_eq!(r.clean(&format!("a {long} b")), "a (secret) b");
    }
}
