//! What varies from run to run in the binary's output, replaced by fixed placeholders so that
//! a test can assert the rest exactly: ids, times, ports, temp paths, pids, host names.

use std::sync::OnceLock;

use regex::Regex;

/// One rule: every match of `pattern` becomes `replacement` (`$1` refers to a group).
struct Rule {
    pattern: Regex,
    replacement: &'static str,
}

/// The rules every output goes through, in order (paths first: they may hold digits).
fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // 24 hex characters: a webhook id (the sandbox's and Saleshandy's).
            (r"\b[0-9a-f]{24}\b", "[ID]"),
            // A lineage: a v4 UUID.
            (
                r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                "[UUID]",
            ),
            // RFC 3339 times, to the second or finer.
            (
                r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[TIME]",
            ),
            // A loopback address with a port chosen by the kernel.
            (r"(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}\b", "$1:[PORT]"),
            (r"\bpid \d+\b", "pid [PID]"),
            // How long something took, as the tool prints it.
            (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
        ]
        .into_iter()
        .map(|(pattern, replacement)| Rule {
            pattern: Regex::new(pattern).expect("a valid filter"),
            replacement,
        })
        .collect()
    })
}

/// `text` with every varying part replaced: `dir` (the test's temp dir, also in its canonical
/// form) by `[DIR]`, this machine's host name by `[HOST]`, then the [`rules`].
pub fn apply(text: &str, dir: Option<&std::path::Path>) -> String {
    let mut text = text.to_string();
    if let Some(dir) = dir {
        let mut forms = vec![dir.display().to_string()];
        if let Ok(canonical) = dir.canonicalize() {
            forms.push(canonical.display().to_string());
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        for form in forms {
            text = text.replace(&form, "[DIR]");
        }
    }
    let host = host_name();
    if host.len() >= 3 {
        text = replace_word(&text, &host, "[HOST]");
    }
    for rule in rules() {
        text = rule
            .pattern
            .replace_all(&text, rule.replacement)
            .into_owned();
    }
    text
}

/// This machine's host name, as the tool records it in a lock.
fn host_name() -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default()
    })
    .clone()
}

/// `text` with `word` replaced where it stands as a whole word.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let pattern = Regex::new(&format!(r"\b{}\b", regex::escape(word))).expect("escaped");
    pattern.replace_all(text, by).into_owned()
}
